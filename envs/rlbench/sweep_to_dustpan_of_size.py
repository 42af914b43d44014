"""sweep_to_dustpan_of_size: sweep the dirt into the tall or the short dustpan, as named.

Description:
    ``sweep_to_dustpan``'s broom, stand and five cubes of dirt, with two dustpans on either
    side of the dirt: a tall one (0.6 m handle) beyond the dirt away from the stand, and a
    short one (0.36 m handle, a smaller pan) toward the stand. The Panda grips the broom's
    stick, lifts it off the stand, sets its head down behind the dirt and sweeps the dirt into
    the dustpan the instruction names (RLBench PerAct fork ``sweep_to_dustpan_of_size``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
Success:
    RLBench's five ``DetectedCondition(dirt_i, success_<size>)``: every dirt cube overlaps the
    named dustpan's sensor, for the tall one a 0.25 x 0.15 m box 0.05 m tall, for the short
    one a 0.15 x 0.09 m box 0.03 m tall (each cube's centre within the box grown by the cube's
    half size).
    **Fidelity:** RLBench: the five cubes detected by the named pan's pyramid sensor; ours: the
    same boxes, except that the short pan's sensor, tilted 3.5 degrees in the ``.ttm``, is
    level here (its far end is 5 mm higher in RLBench, within the dirt's size).
Starting state:
    As ``sweep_to_dustpan`` (stand, broom, dirt and placement: x 0.15..0.35, y -0.1..0.1, yaw
    in [-2 pi/3, pi/3], placements whose grasp and sweep the arm cannot reach without touching
    a prop drawn again), with the fork's two dustpans (``rlbench_geometry.json``, task-base
    frame): the tall pan of ``sweep_to_dustpan`` 0.025 m nearer the dirt (centre y -0.301,
    sensor at (0, -0.275)); the short pan 0.166 x 0.131 m (back wall 0.06 m high, sides
    0.04 m), centred (0.044, 0.203), open toward the dirt, its upright 0.36 m handle at
    (0.050, 0.221) and its sensor at (0.041, 0.1875). Both pans are visual only, as RLBench makes them non-respondable.
Geometry:
    The head's centre sweeps along the base's y at x 0.025: from y 0.06 to -0.255 toward the
    tall pan (the tall pan's sensor is 0.025 m nearer than in ``sweep_to_dustpan``), from
    -0.11 to 0.15 toward the short pan, which leaves the dirt 2.5 cm in front of the head, on
    the short pan's sensor.
Variations:
    2 (as the fork): the dustpan, tall or short.
Episode end:
    Success, or 400 control steps (20 s at 20 Hz; the expert needed at most 222 on seeds 0-49
    and on seeds 100000-100049).
Version history:
    v0: first version.
"""

from __future__ import annotations

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.physics import Simulation

from .sweep_to_dustpan import (
    DUSTPAN_RGBA,
    HANDLE_RGBA,
    SENSOR_BOTTOM,
    SENSOR_HALF,
    SENSOR_HEIGHT,
    SWEEP_START,
    SweepToDustpan,
)

SIZES = ("tall", "short")
#: The tall pan is sweep_to_dustpan's, this much nearer the dirt along the base's y.
TALL_SHIFT = 0.025
TALL_SENSOR_CENTRE = (0.0, -0.275)
TALL_SWEEP_END = -0.255
#: The short pan (task-base frame): floor centre and half sizes, wall height, handle.
SHORT_CENTRE, SHORT_HALF = (0.0435, 0.2033), (0.083, 0.0655)
SHORT_WALL = 0.06
SHORT_HANDLE_POS, SHORT_HANDLE_RADIUS, SHORT_HANDLE_LENGTH = (0.0497, 0.2206, 0.2306), 0.0117, 0.3576
SHORT_SENSOR_CENTRE, SHORT_SENSOR_HALF = (0.0412, 0.1875), (0.075, 0.045)
SHORT_SENSOR_BOTTOM, SHORT_SENSOR_HEIGHT = -0.0011, 0.03
SHORT_SWEEP = (-0.11, 0.15)


@register_task
class SweepToDustpanOfSize(SweepToDustpan):
    spec = SweepToDustpan.spec_for(
        name="sweep_to_dustpan_of_size",
        max_episode_steps=400,
        procedure=ProceduralAnnotation("sweep", "broom", "tilted", "handle"),
        description="Take the broom from its stand and sweep the dirt into the named dustpan.",
    )
    instructions = {
        "seen": (
            "sweep the dirt into the {size} dustpan",
            "brush the dirt up into the {size} dustpan",
            "with the broom, sweep the dirt into the {size} dustpan",
            "clean the dirt away using the {size} pan",
            "take the broom and sweep all the dirt into the {size} dustpan",
        ),
        "unseen": (
            "gather the crumbs on the table into the {size} scoop with the brush",
            "push every speck of debris over to the {size} pan using the brush",
        ),
    }
    variation_count = len(SIZES)

    def build_scene(self, scene: SceneBuilder) -> None:
        super().build_scene(scene)  # the broom, stand, dirt and the tall pan (body ``dustpan``)
        pan = scene.body("dustpan_short", pos=(0.0, 0.4, 1.0))
        (x, y), (hx, hy) = SHORT_CENTRE, SHORT_HALF
        for name, pos, half in (
            ("dustpan_short_floor", (x, y, 0.001), (hx, hy, 0.001)),
            ("dustpan_short_back", (x, y + hy, SHORT_WALL / 2), (hx, 0.002, SHORT_WALL / 2)),
            ("dustpan_short_left", (x - hx, y, SHORT_WALL / 3), (0.002, hy, SHORT_WALL / 3)),
            ("dustpan_short_right", (x + hx, y, SHORT_WALL / 3), (0.002, hy, SHORT_WALL / 3)),
        ):
            scene.box(pan, name, half, DUSTPAN_RGBA, pos=pos, collide=False)
        scene.cylinder(pan, "dustpan_short_handle", SHORT_HANDLE_RADIUS, SHORT_HANDLE_LENGTH / 2, HANDLE_RGBA,
                       pos=SHORT_HANDLE_POS, collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        super().initialize_episode(sim, rng)  # draws the variation first, then the placement
        return self.variation_placeholders(self.variation)

    def _place_dustpans(self, sim: Simulation) -> None:
        sim.set_body_pose("dustpan", self.frame.point((0.0, TALL_SHIFT, 0.0)), self.frame.quat)
        sim.set_body_pose("dustpan_short", self.frame.pos, self.frame.quat)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"size": SIZES[index]}

    def _sweep_span(self) -> tuple[float, float]:
        return (SWEEP_START, TALL_SWEEP_END) if self.variation == 0 else SHORT_SWEEP

    def _sensor_box(self) -> tuple[tuple[float, float], tuple[float, float], float, float]:
        if self.variation == 0:
            return TALL_SENSOR_CENTRE, SENSOR_HALF, SENSOR_BOTTOM, SENSOR_HEIGHT
        return SHORT_SENSOR_CENTRE, SHORT_SENSOR_HALF, SHORT_SENSOR_BOTTOM, SHORT_SENSOR_HEIGHT
