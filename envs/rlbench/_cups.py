"""Cup props of the RLBench suite, built from primitives: cups that nest (stack_cups).

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

