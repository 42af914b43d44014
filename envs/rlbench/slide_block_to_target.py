"""slide_block_to_target: push the red block across the table onto the green target.

Description:
    A red 0.05625 m block stands on the table 0.175 m from a green 0.10 x 0.10 m target
    square. The Panda closes its gripper, puts it down behind the block and slides the block
    along the table onto the target (RLBench ``slide_block_to_target``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the block and the target.
Success:
    RLBench's ``DetectedCondition(block, success)``: the block enters the success sensor, a
    0.01 x 0.01 m volume 0.01 m tall on the target's centre (an exact box-overlap test), i.e.
    the block covers the centre of the target.
Starting state:
    Geometry from ``slide_block_to_target.ttm`` (``rlbench_geometry.json``): block 0.05625 m,
    0.356 kg, at (0.025, -0.025) in the task-base frame; target at (0.025, 0.15). Nothing is
    sampled inside the task: the base is placed in the workspace (x 0.05..0.45, y -0.3..0.3)
    with a yaw in [-pi, pi] (RLBench's default bounds), drawn again when the push's start and
    end points leave the area the Panda reaches pointing down or have no collision-free IK
    solution (RLBench's placement check).
Variations:
    1 (RLBench has one).
Episode end:
    Success, or 200 control steps (10 s at 20 Hz; the expert needs at most 100 on seeds 0-49).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, rgba, sample_frame
from ._pick_and_carry import BoxSensor, body_detected, in_reach, table_point

BLOCK = "block"
TARGET = "target"
BLOCK_HALF = 0.028125
BLOCK_MASS = 0.356
BLOCK_XY = (0.025, -0.025)
TARGET_XY = (0.025, 0.15)
TARGET_HALF = 0.05
SENSOR = BoxSensor(origin=(0.025, 0.15, 0.001), footprint=(0.01, 0.01), range=0.01)
YAW_BOUNDS = (-math.pi, math.pi)
#: The closed fingers reach this far from the TCP along the finger axis (measured on the model).
FINGER_FACE = 0.0265
#: The fingertips slide this high above the table.
TIP_HEIGHT = 0.008
#: The fingers come down this far behind the block, and stop pushing this far past the target
#: centre (block centre).
STANDOFF = 0.03
OVERSHOOT = 0.004
APPROACH = 0.10
#: Sliding friction of the block on the table and against the fingers (wood on wood, about 0.5;
#: RLBench's value is not in the reference). With the engine's grasp friction (1.5) a 5.6 cm
#: block pushed low tips over once the push acts above 1.9 cm (half width / friction).
BLOCK_FRICTION = (0.5, 0.005, 0.0001)
_BLOCK = (BLOCK_HALF,) * 3


def add_block(scene: SceneBuilder) -> None:
    """The red block (free body ``block``)."""
    body = scene.body(BLOCK, pos=(0.25, 0.0, TABLE_TOP_Z + BLOCK_HALF), free=True)
    geom = scene.box(body, BLOCK, _BLOCK, rgba("red"), mass=BLOCK_MASS, friction=BLOCK_FRICTION)
    geom.priority = 1  # its friction, not the larger of the pair's, governs its contacts


def add_target(scene: SceneBuilder, name: str, color: tuple[float, float, float, float]) -> None:
    """A flat, non-colliding TARGET_HALF-square target pad (fixed body ``name``)."""
    target = scene.body(name, pos=(0.25, 0.0, TABLE_TOP_Z))
    scene.box(target, name, (TARGET_HALF, TARGET_HALF, 0.0005), color, pos=(0.0, 0.0, 0.0005), collide=False)


@register_task
class SlideBlockToTarget(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="slide_block_to_target",
        max_episode_steps=200,
        procedure=ProceduralAnnotation("push", "cuboid", "downward", "side_face"),
        description="Slide the red block along the table onto the green target.",
    )
    instructions = {
        "seen": (
            "slide the block to target",
            "slide the block onto the target",
            "push the block until it is sitting on top of the target",
            "slide the block towards the green target",
            "cover the target with the block by pushing the block in its direction",
        ),
        "unseen": (
            "shove the red cube across the table so it ends up on the green square",
            "nudge the block over the table until it covers the green patch",
        ),
    }
    variation_count = 1
    tracked_bodies = (BLOCK, TARGET)

    def build_scene(self, scene: SceneBuilder) -> None:
        add_block(scene)
        add_target(scene, TARGET, (0.0, 0.453, 0.0, 1.0))

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS)
            sim.set_body_pose(TARGET, table_point(frame, TARGET_XY, 0.0), frame.quat)
            sim.set_free_pose(BLOCK, table_point(frame, BLOCK_XY, BLOCK_HALF + 0.001), frame.quat)
            sim.forward()
            waypoints = self._waypoints(sim)
            if all(in_reach(p) for p, _ in waypoints) and reachable(sim, waypoints):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _direction(self) -> np.ndarray:
        return self.frame.direction((0.0, 1.0, 0.0))

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """Above the push start, the push start behind the block, the push end (TCP, gripper
        down with the fingers' flat side facing the push)."""
        direction = self._direction()
        yaw = nearest_symmetric_yaw(math.atan2(direction[1], direction[0]), sim.robot.natural_yaw[self.arm])
        quat = gripper_down_quat(yaw)
        height = TIP_HEIGHT + sim.robot.fingertip_below_tcp
        block_pos = sim.body_pos(BLOCK)
        start = block_pos - (BLOCK_HALF + FINGER_FACE + STANDOFF) * direction
        start[2] = TABLE_TOP_Z + height
        end = table_point(self.frame, TARGET_XY, height) - (BLOCK_HALF + FINGER_FACE - OVERSHOOT) * direction
        return [(start + (0.0, 0.0, APPROACH), quat), (start, quat), (end, quat)]

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(block_on_target=body_detected(sim, BLOCK, _BLOCK, SENSOR, self.frame))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        (above, quat), (start, _), (end, _) = self._waypoints(sim)
        yield from motion.gripper(self.arm, motion.robot.gripper_closed, steps=8)
        yield from motion.move(self.arm, above, quat, steps=30)
        yield from motion.line(self.arm, start, quat, steps=16, segments=2)
        distance = float(np.linalg.norm(end - start))
        yield from motion.line(self.arm, end, quat, steps=int(distance / 0.005), segments=max(2, int(distance / 0.04)))
        yield from motion.wait(5)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.gripper_touches(self.arm, BLOCK):
            return self.state_from_spec(sim, table_point(self.frame, TARGET_XY, BLOCK_HALF))
        back = sim.body_pos(BLOCK) - BLOCK_HALF * self._direction()
        return self.state_from_spec(sim, back, "reach")
