"""What stack_cups and place_cups share: cups that nest (stack_cups), and mugs with loop handles
and a mug tree with pegs (place_cups), all built from primitives.

A nesting cup is :func:`vlapro_bench.sim.objects.tools.nesting_bowl` made tall and narrow: a
floor disc and a wall of flat slabs leaning outward, so one cup slides down into another and
centres itself there. Its body origin is the centre of its bottom face.
"""

from __future__ import annotations

import math

import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.objects.tools import bowl_geoms, nesting_bowl
from vlapro_bench.sim.physics import Simulation

#: Nesting cup: rim and floor radius (wall mid-line), height and wall thickness (m). The outer
#: rim is 6.6 cm across, inside the Panda's 8 cm opening.
CUP_RIM_RADIUS = 0.031
CUP_BOTTOM_RADIUS = 0.022
CUP_HEIGHT = 0.08
CUP_WALL = 0.004
CUP_FOOT = 0.002
CUP_MASS = 0.05
CUP_SEGMENTS = 16
CUP_RINGS = 2
#: The cup's top above its body origin (foot, floor and slanted wall).
CUP_TOP = CUP_FOOT + CUP_WALL + CUP_HEIGHT


def nesting_cup(scene: SceneBuilder, name: str) -> list[str]:
    """A free cup that nests in another one; returns the geoms that take its colour."""
    nesting_bowl(scene, name, radius=CUP_RIM_RADIUS, bottom_radius=CUP_BOTTOM_RADIUS, height=CUP_HEIGHT,
                 wall=CUP_WALL, foot=CUP_FOOT, foot_radius=CUP_BOTTOM_RADIUS - 0.002, segments=CUP_SEGMENTS,
                 rings=CUP_RINGS, mass=CUP_MASS)
    return bowl_geoms(name, CUP_SEGMENTS, CUP_RINGS)


def cup_tilt(sim: Simulation, body: str) -> float:
    """Angle (rad) between a body's z axis and the world's vertical."""
    return math.acos(float(np.clip(sim.body_mat(body)[2, 2], -1.0, 1.0)))


# -- place_cups: mugs with loop handles and a mug tree -----------------------------------------
#: Mug body radius and height; handle: bar radius, reach from the wall, heights of its top and
#: bottom bars (m). The handle points along the mug's local +x; its loop opens along local y.
MUG_RADIUS, MUG_HEIGHT, MUG_MASS = 0.032, 0.085, 0.08
#: Mug wall and floor thickness and the number of flat wall slabs.
MUG_WALL, MUG_FLOOR, MUG_SEGMENTS = 0.004, 0.005, 16
HANDLE_BAR, HANDLE_REACH, HANDLE_TOP, HANDLE_BOTTOM = 0.0045, 0.05, 0.07, 0.025
#: Middle of the handle's loop in the mug's frame.
HANDLE_POINT = np.array([MUG_RADIUS + (HANDLE_REACH - HANDLE_BAR) / 2, 0.0, (HANDLE_TOP + HANDLE_BOTTOM) / 2])
MUG_RGBA = (0.93, 0.93, 0.9, 1.0)
#: Mug tree: base disc, post radius and top, spoke radius, length from the post's axis, upward
#: slant, and the spokes' headings (in the tree's frame) and root heights.
TREE_BASE_RADIUS, TREE_BASE_HALF = 0.07, 0.008
POST_RADIUS, POST_TOP = 0.01, 0.205
SPOKE_RADIUS, SPOKE_LENGTH, SPOKE_SLANT = 0.005, 0.085, math.radians(20)
SPOKE_HEADINGS = (0.0, 2 * math.pi / 3, -2 * math.pi / 3)
SPOKE_HEIGHTS = (0.2, 0.2, 0.2)
TREE_RGBA = (0.55, 0.38, 0.22, 1.0)
#: Spoke friction (sliding, torsional, rolling; condim 6): the rolling term stands for the
#: wood's drag on a handle turning on it, so a mug let go stops swinging within a second.
SPOKE_FRICTION = (1.0, 0.02, 0.005)
_X_TO_Z = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)  # a capsule's axis along x


def handle_site(name: str) -> str:
    return f"{name}_handle_point"


def mug(scene: SceneBuilder, name: str) -> tuple[str, ...]:
    """A free, open mug: a floor disc and a wall of ``MUG_SEGMENTS`` flat slabs around a hollow
    (so a finger fits inside and the fingers pinch a flat piece of wall), and a loop handle on
    local +x made of three capsules, so the loop is open and a spoke can pass through it.
    Returns its geoms."""
    body = scene.body(name, pos=(0.0, 0.5, 0.0), free=True)
    geoms = [scene.cylinder(body, f"{name}_bottom", MUG_RADIUS, MUG_FLOOR / 2, MUG_RGBA, pos=(0, 0, MUG_FLOOR / 2),
                            mass=MUG_MASS * 0.3).name]
    scene.cylinder(body, f"{name}_inside", MUG_RADIUS - MUG_WALL, 0.0005, (0.12, 0.1, 0.09, 1),
                   pos=(0, 0, MUG_FLOOR + 0.0005), collide=False)
    middle = MUG_RADIUS - MUG_WALL / 2
    half_width = middle * math.tan(math.pi / MUG_SEGMENTS) * 1.05
    half_height = (MUG_HEIGHT - MUG_FLOOR) / 2
    for i in range(MUG_SEGMENTS):
        a = 2 * math.pi * (i + 0.5) / MUG_SEGMENTS  # a slab's middle faces away from the handle
        slab = scene.box(body, f"{name}_wall{i}", (half_width, MUG_WALL / 2, half_height), MUG_RGBA,
                         pos=(middle * math.cos(a), middle * math.sin(a), MUG_FLOOR + half_height),
                         quat=(math.cos((a + math.pi / 2) / 2), 0.0, 0.0, math.sin((a + math.pi / 2) / 2)),
                         mass=MUG_MASS * 0.7 / MUG_SEGMENTS)
        slab.condim = 6
        geoms.append(slab.name)
    half_bar = (HANDLE_REACH + 0.002) / 2
    for part, z in (("top", HANDLE_TOP), ("bottom", HANDLE_BOTTOM)):
        geoms.append(scene.capsule(body, f"{name}_handle_{part}", HANDLE_BAR, half_bar, MUG_RGBA,
                                   pos=(MUG_RADIUS + HANDLE_REACH / 2 - 0.002, 0, z), quat=_X_TO_Z, mass=0.004).name)
    geoms.append(scene.capsule(body, f"{name}_handle_outer", HANDLE_BAR, (HANDLE_TOP - HANDLE_BOTTOM) / 2, MUG_RGBA,
                               pos=(MUG_RADIUS + HANDLE_REACH, 0, (HANDLE_TOP + HANDLE_BOTTOM) / 2), mass=0.004).name)
    scene.site(body, handle_site(name), pos=tuple(HANDLE_POINT))
    return tuple(geoms)


def spoke_direction(heading: float) -> np.ndarray:
    """Unit vector of a spoke in the tree's frame: out along ``heading``, tilted up."""
    c = math.cos(SPOKE_SLANT)
    return np.array([c * math.cos(heading), c * math.sin(heading), math.sin(SPOKE_SLANT)])


def spoke_point(index: int, along: float) -> np.ndarray:
    """A point on spoke ``index``'s axis, ``along`` metres out from the post's axis (tree frame)."""
    return np.array([0.0, 0.0, SPOKE_HEIGHTS[index]]) + along * spoke_direction(SPOKE_HEADINGS[index])


def mug_tree(scene: SceneBuilder, name: str) -> tuple[str, ...]:
    """A fixed mug tree: a heavy disc, an upright post and three spokes slanting up, each with a
    ball on its tip. The spoke geoms are ``{name}_spoke{i}``. Returns every geom."""
    body = scene.body(name, pos=(0.25, 0.0, 0.0))
    geoms = [
        scene.cylinder(body, f"{name}_base", TREE_BASE_RADIUS, TREE_BASE_HALF, TREE_RGBA, pos=(0, 0, TREE_BASE_HALF)),
        scene.cylinder(body, f"{name}_post", POST_RADIUS, (POST_TOP - 2 * TREE_BASE_HALF) / 2, TREE_RGBA,
                       pos=(0, 0, (POST_TOP + 2 * TREE_BASE_HALF) / 2)),
        scene.sphere(body, f"{name}_post_top", POST_RADIUS + 0.003, TREE_RGBA, pos=(0, 0, POST_TOP)),
    ]
    for i, heading in enumerate(SPOKE_HEADINGS):
        d = spoke_direction(heading)
        # Turn a capsule's z axis onto d: about the horizontal axis z x d.
        axis = np.cross((0.0, 0.0, 1.0), d)
        axis = axis / np.linalg.norm(axis)
        angle = math.acos(float(d[2]))
        quat = (math.cos(angle / 2), *(math.sin(angle / 2) * axis))
        geoms.append(scene.capsule(body, f"{name}_spoke{i}", SPOKE_RADIUS, SPOKE_LENGTH / 2, TREE_RGBA,
                                   pos=tuple(spoke_point(i, SPOKE_LENGTH / 2)), quat=quat, friction=SPOKE_FRICTION))
        geoms.append(scene.sphere(body, f"{name}_spoke{i}_tip", SPOKE_RADIUS + 0.002, TREE_RGBA,
                                  pos=tuple(spoke_point(i, SPOKE_LENGTH)), friction=SPOKE_FRICTION))
        geoms[-2].condim = geoms[-1].condim = 6
    return tuple(g.name for g in geoms)


def through_loop(a: np.ndarray, b: np.ndarray, slack: float = 0.003) -> bool:
    """Whether the segment from ``a`` to ``b`` (in a mug's frame) passes through its handle's
    loop: it crosses the loop's plane (local y = 0) inside the opening between the bars, grown
    by ``slack``."""
    if a[1] * b[1] > 0.0 or a[1] == b[1]:
        return False
    p = a + (b - a) * (a[1] / (a[1] - b[1]))
    inner = MUG_RADIUS - slack, MUG_RADIUS + HANDLE_REACH - HANDLE_BAR + slack
    low, high = HANDLE_BOTTOM + HANDLE_BAR - slack, HANDLE_TOP - HANDLE_BAR + slack
    return bool(inner[0] < p[0] < inner[1] and low < p[2] < high)
