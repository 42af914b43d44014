"""A torus drawn as one mesh, for rings built from capsules (basketball_in_hoop's rim,
beat_the_buzz's wand).

A ring of capsules collides well but renders slowly on a software renderer: sixteen capsules
halved the frame rate of basketball_in_hoop's five cameras (15 against 32 observations/s
without them). The tasks keep the capsules for contact, invisible (geom group 3, which the
cameras do not draw), and draw this mesh in their place.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from vlapro_bench.sim.builder import SceneBuilder, Vec

#: Geom group the cameras do not draw: collision-only geoms.
HIDDEN_GROUP = 3
MESH = mujoco.mjtGeom.mjGEOM_MESH  # pyright: ignore[reportAttributeAccessIssue]  # enum missing from the stubs


def torus_mesh(scene: SceneBuilder, name: str, major: float, minor: float, major_segments: int = 24,
               minor_segments: int = 6) -> str:
    """Register a torus mesh about the local z axis (centre at the origin); returns its name."""
    vertices = []
    for i in range(major_segments):
        u = 2 * math.pi * i / major_segments
        for j in range(minor_segments):
            v = 2 * math.pi * j / minor_segments
            radius = major + minor * math.cos(v)
            vertices.append((radius * math.cos(u), radius * math.sin(u), minor * math.sin(v)))
    faces = []
    for i in range(major_segments):
        for j in range(minor_segments):
            a = i * minor_segments + j
            b = ((i + 1) % major_segments) * minor_segments + j
            c = ((i + 1) % major_segments) * minor_segments + (j + 1) % minor_segments
            d = i * minor_segments + (j + 1) % minor_segments
            faces += [(a, b, c), (a, c, d)]
    return scene.mesh(name, np.array(vertices), np.array(faces))


def drawn_torus(scene: SceneBuilder, body, name: str, major: float, minor: float, rgba: Vec,
                pos: Vec = (0, 0, 0), quat: Vec = (1, 0, 0, 0)) -> None:
    """A drawn-only torus geom ``name`` on ``body`` (its axis along the geom's local z)."""
    torus_mesh(scene, name, major, minor)
    scene.geom(body, name, MESH, (1.0, 1.0, 1.0), rgba, pos=pos, quat=quat, mesh=name, collide=False)
