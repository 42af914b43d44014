"""A tabletop barbecue grill with a hinged lid, shared by open_grill and meat_off_grill.

RLBench's grill models (``open_grill.ttm``, ``meat_off_grill.ttm``) are not in the reference
data, so the grill is ours, sized like a small tabletop charcoal grill the Panda can work
over. In the task-base frame (origin on the table under the grill's centre, front toward -x,
the robot's side; metres): four 6 cm legs carry an open-topped firebox 0.26 deep (x) by 0.40
wide (y) from z 0.06 to 0.20, charcoal black, with a steel grate 1.5 cm below its rim. The lid
is a 9 cm deep shell (a top and four walls) hinged along the firebox's back rim (axis
along y at x 0.13, z 0.20) and opens by lifting its front; a horizontal bar handle 18 cm long
stands 4.5 cm proud of the lid's front wall. The lid weighs 0.5 kg and its hinge has 0.3 N m
of dry friction: let go below about 60 degrees it falls back shut, past upright it rests on its
100-degree stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.physics import Simulation

from ._common import TaskFrame

DEPTH, WIDTH = 0.26, 0.40
LEG_HEIGHT = 0.06
RIM_Z = 0.20
WALL = 0.012
#: The grate's top, below the rim.
GRATE_Z = RIM_Z - 0.015
LID_HEIGHT = 0.09
LID_MASS = 0.5
LID_RANGE = (0.0, math.radians(100))
LID_DAMPING, LID_FRICTION = 0.5, 0.3
#: The hinge axis (along y) in the task-base frame.
HINGE = (DEPTH / 2, 0.0, RIM_Z)
#: Handle bar: centre 4.5 cm in front of the lid's front wall, at its mid-height; 18 cm long.
HANDLE_STANDOFF = 0.045
HANDLE_RADIUS = 0.008
HANDLE_HALF_LENGTH = 0.09
HANDLE_LOCAL = (-DEPTH / 2 - WALL / 2 - HANDLE_STANDOFF, 0.0, RIM_Z + LID_HEIGHT / 2)
BLACK = (0.1, 0.1, 0.11, 1.0)
LID_RGBA = (0.16, 0.16, 0.18, 1.0)
STEEL = (0.62, 0.63, 0.66, 1.0)
ASH = (0.25, 0.24, 0.23, 1.0)
WOOD = (0.45, 0.3, 0.18, 1.0)
SMOOTH = (0.3, 0.005, 0.0001)
#: The handle is grippy, so a pinch holds it while the lid swings.
GRIP = (1.2, 0.01, 0.0002)


@dataclass(frozen=True)
class Grill:
    """Names in the compiled scene."""

    root: str
    lid: str
    joint: str
    handle: str  # the handle bar's geom

    def place(self, sim: Simulation, frame: TaskFrame, lid_angle: float = 0.0) -> None:
        """Put the grill's base at ``frame`` with the lid at ``lid_angle`` (0 = shut)."""
        sim.set_body_pose(self.root, frame.pos, frame.quat)
        sim.set_joint_qpos(self.joint, lid_angle)
        sim.forward()


def lid_point(frame: TaskFrame, local: tuple[float, float, float] | np.ndarray, angle: float) -> np.ndarray:
    """World position of a point of the lid given in the task-base frame with the lid shut,
    for the lid at ``angle`` (the lid turns about the hinge, lifting its front)."""
    offset = np.asarray(local, float) - HINGE
    c, s = math.cos(angle), math.sin(angle)
    turned = np.array([c * offset[0] + s * offset[2], offset[1], -s * offset[0] + c * offset[2]])
    return frame.point(np.asarray(HINGE) + turned)


def lid_direction(frame: TaskFrame, local: tuple[float, float, float], angle: float) -> np.ndarray:
    """World direction of a lid-fixed vector (task-base frame, lid shut) for the lid at ``angle``."""
    c, s = math.cos(angle), math.sin(angle)
    x, y, z = local
    return frame.direction((c * x + s * z, y, -s * x + c * z))


def build_grill(scene: SceneBuilder, name: str = "grill") -> Grill:
    """Add the grill as a fixed body (placed at reset with :meth:`Grill.place`) with its lid."""
    root = scene.body(name, pos=(0.3, 0.0, 0.752))
    hd, hw, t = DEPTH / 2, WIDTH / 2, WALL / 2
    for i, (x, y) in enumerate(((-1, -1), (-1, 1), (1, -1), (1, 1))):
        scene.cylinder(root, f"{name}_leg{i}", 0.012, LEG_HEIGHT / 2, STEEL,
                       pos=(x * (hd - 0.03), y * (hw - 0.03), LEG_HEIGHT / 2), friction=SMOOTH, mass=0.05)
    box_mid, box_half = (LEG_HEIGHT + RIM_Z) / 2, (RIM_Z - LEG_HEIGHT) / 2
    for part, half, pos in (
        ("bottom", (hd, hw, t), (0, 0, LEG_HEIGHT + t)),
        ("front", (t, hw, box_half), (-hd + t, 0, box_mid)),
        ("back", (t, hw, box_half), (hd - t, 0, box_mid)),
        ("left", (hd, t, box_half), (0, hw - t, box_mid)),
        ("right", (hd, t, box_half), (0, -hw + t, box_mid)),
    ):
        scene.box(root, f"{name}_{part}", half, BLACK, pos=pos, friction=SMOOTH, mass=0.5)
    # Ash bed (visual) and an invisible solid under the grate: the grate is what things rest on.
    scene.box(root, f"{name}_ash", (hd - WALL, hw - WALL, 0.002), ASH, pos=(0, 0, LEG_HEIGHT + WALL + 0.002),
              collide=False)
    scene.box(root, f"{name}_grate", (hd - WALL, hw - WALL, 0.003), ASH, pos=(0, 0, GRATE_Z - 0.003),
              friction=(1.0, 0.005, 0.0001), mass=0.3, group=3)
    for i, y in enumerate(np.linspace(-hw + 0.03, hw - 0.03, 13)):
        scene.cylinder(root, f"{name}_bar{i}", 0.003, hd - WALL, STEEL, pos=(0, float(y), GRATE_Z - 0.003),
                       quat=(math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0), collide=False)
    # Side shelves (wooden slats) on the firebox's left and right, as on many small grills.
    for side in (-1, 1):
        scene.box(root, f"{name}_shelf{'rl'[side > 0]}", (hd * 0.8, 0.03, 0.006), WOOD,
                  pos=(0, side * (hw + 0.03), RIM_Z - 0.03), friction=SMOOTH, mass=0.1)

    lid = scene.body(f"{name}_lid", pos=HINGE, parent=root)
    scene.exclude(name, f"{name}_lid")
    joint = scene.hinge(lid, f"{name}_lid_joint", axis=(0, 1, 0), range_=LID_RANGE, damping=LID_DAMPING,
                        frictionloss=LID_FRICTION)
    joint.armature = 0.005
    joint.solref_limit = [0.005, 1.0]
    # Lid geoms, positioned relative to the hinge (the lid body's origin).
    hx, hz = HINGE[0], HINGE[2]
    top_z = RIM_Z + LID_HEIGHT - t
    wall_mid, wall_half = RIM_Z + (LID_HEIGHT - WALL) / 2, (LID_HEIGHT - WALL) / 2
    lid_mass = LID_MASS / 5
    for part, half, pos in (
        ("top", (hd, hw, t), (0, 0, top_z)),
        ("front", (t, hw, wall_half), (-hd + t, 0, wall_mid)),
        ("back", (t, hw, wall_half), (hd - t, 0, wall_mid)),
        ("left", (hd - WALL, t, wall_half), (0, hw - t, wall_mid)),
        ("right", (hd - WALL, t, wall_half), (0, -hw + t, wall_mid)),
    ):
        geom = scene.box(lid, f"{name}_lid_{part}", half, LID_RGBA, pos=(pos[0] - hx, pos[1], pos[2] - hz),
                         friction=SMOOTH, mass=lid_mass)
        geom.priority = 1
    # A vent on the top (visual).
    scene.cylinder(lid, f"{name}_vent", 0.03, 0.004, STEEL, pos=(-hx, 0, top_z + t + 0.004 - hz), collide=False)
    hx_, _, hz_ = HANDLE_LOCAL
    bar = scene.capsule(lid, f"{name}_handle", HANDLE_RADIUS, HANDLE_HALF_LENGTH, STEEL,
                        pos=(hx_ - hx, 0, hz_ - hz), quat=(math.cos(math.pi / 4), math.sin(math.pi / 4), 0, 0),
                        friction=GRIP, mass=0.03)
    bar.priority = 1
    for i, y in enumerate((-HANDLE_HALF_LENGTH + 0.01, HANDLE_HALF_LENGTH - 0.01)):
        scene.box(lid, f"{name}_handle_post{i}", (HANDLE_STANDOFF / 2, 0.005, 0.005), STEEL,
                  pos=(-hd - HANDLE_STANDOFF / 2 - hx, y, hz_ - hz), friction=SMOOTH, mass=0.01)
    return Grill(root=name, lid=f"{name}_lid", joint=f"{name}_lid_joint", handle=f"{name}_handle")
