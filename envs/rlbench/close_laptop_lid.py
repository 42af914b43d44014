"""close_laptop_lid: push the open lid of a laptop shut.

Description:
    A laptop stands on the table with its lid open. The Panda closes its gripper, comes down
    behind the lid, pushes it forward past upright and presses it down onto the keyboard
    (RLBench ``close_laptop_lid``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
Success:
    RLBench's ``JointCondition(Joint('joint'), 1.79)``: the lid hinge has turned more than
    1.79 rad from where the episode started it. From our 110 degree start that leaves the lid
    less than 7.4 degrees (0.13 rad) open.
Starting state:
    RLBench's ``close_laptop_lid.ttm`` is not in the reference data, so the laptop is ours, with
    a 13-inch laptop's sizes: base 0.30 x 0.21 x 0.016 m (fixed to the table, as a static
    RLBench model is), lid 0.30 x 0.20 x 0.006 m (0.3 kg) on a hinge along the base's back
    edge, open 110 degrees (1.92 rad). The hinge holds the lid where it is left, as a real
    laptop's does: 0.3 N m of friction, and the lid's weight (0.1 N m) is compensated, because
    MuJoCo's joint friction is soft and let the loaded lid creep open by about 0.1 degree a
    step. The task base is placed with x 0.15..0.35, y -0.2..0.2 and a yaw in [-pi, pi] (RLBench's default bounds);
    placements whose push waypoints the arm cannot reach without touching the laptop are drawn
    again (RLBench's validation).
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 190 control steps (9.5 s at 20 Hz; the expert needed at most 94 on seeds
    0-49). A random arm that knocks the lid can shut part of it; it shut it in none of 100
    seeds.
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, hinge_push_waypoints, reachable, sample_frame

X_RANGE = (0.15, 0.35)
Y_RANGE = (-0.2, 0.2)
#: Laptop frame: x toward the front edge, y along the hinge, z up; origin at the base's centre
#: on the table.
BASE_HALF = (0.105, 0.15, 0.008)
LID_LENGTH, LID_HALF_WIDTH, LID_HALF_THICKNESS = 0.20, 0.15, 0.003
HINGE = (-BASE_HALF[0], 0.0, 2 * BASE_HALF[2])
LID_MASS = 0.3
HINGE_FRICTION = 0.3  # N m
HINGE_DAMPING = 0.5
OPEN_ANGLE = math.radians(110.0)
JOINT_RANGE = (0.0, math.radians(135.0))
CLOSED_TRAVEL = 1.79  # RLBench's JointCondition threshold (rad)
#: Expert, in the laptop frame relative to the hinge (fingertip positions): come down behind the
#: lid to PUSH_HEIGHT, push forward to PUSH_REACH (the lid then stands at about 45 degrees and
#: touches the fingertips' front edge), then press straight down until the lid is shut.
PUSH_HEIGHT = 0.13
BEHIND = 0.10
PUSH_REACH = 0.13
CLEARANCE = 0.08  # above the open lid's top edge
PRESS_BELOW_SHUT = 0.004
SILVER = (0.72, 0.73, 0.75, 1.0)
SCREEN = (0.05, 0.06, 0.08, 1.0)
KEYS = (0.12, 0.12, 0.13, 1.0)


@register_task
class CloseLaptopLid(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="close_laptop_lid",
        max_episode_steps=190,
        procedure=ProceduralAnnotation("push", "hinged_lid", "downward", "lid_edge"),
        description="Push the open laptop lid shut.",
    )
    instructions = {
        "seen": (
            "close laptop lid",
            "close the laptop",
            "shut the laptop lid",
            "close the lid of the laptop",
            "push the laptop screen down until it is shut",
        ),
        "unseen": (
            "fold the notebook computer closed",
            "flip the computer's display down onto its keyboard",
        ),
    }
    variation_count = 1
    tracked_bodies = ("laptop", "laptop_lid")

    def build_scene(self, scene: SceneBuilder) -> None:
        root = scene.body("laptop", pos=(0.25, 0.0, 0.752))
        scene.box(root, "laptop_base", BASE_HALF, SILVER, pos=(0.0, 0.0, BASE_HALF[2]))
        scene.box(root, "laptop_keyboard", (0.06, 0.13, 0.0005), KEYS, pos=(-0.02, 0.0, 2 * BASE_HALF[2]),
                  collide=False)
        lid = scene.body("laptop_lid", pos=HINGE, parent=root)
        lid.gravcomp = 1.0
        scene.hinge(lid, "joint", axis=(0, -1, 0), range_=JOINT_RANGE, damping=HINGE_DAMPING,
                    frictionloss=HINGE_FRICTION)
        centre = (LID_LENGTH / 2, 0.0, LID_HALF_THICKNESS + 0.0005)
        scene.box(lid, "laptop_lid", (LID_LENGTH / 2, LID_HALF_WIDTH, LID_HALF_THICKNESS), SILVER, pos=centre,
                  mass=LID_MASS)
        scene.box(lid, "laptop_screen", (LID_LENGTH / 2 - 0.012, LID_HALF_WIDTH - 0.012, 0.0005), SCREEN,
                  pos=(LID_LENGTH / 2, 0.0, 0.0), collide=False)
        scene.site(lid, "lid_edge", pos=(LID_LENGTH, 0.0, 2 * LID_HALF_THICKNESS + 0.0005))
        scene.exclude("laptop", "laptop_lid")

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, x_range=X_RANGE, y_range=Y_RANGE)
            sim.set_body_pose("laptop", self.frame.pos, self.frame.quat)
            sim.set_joint_qpos("joint", OPEN_ANGLE)
            sim.forward()
            if reachable(sim, self._waypoints(sim), ignore=["laptop_lid"]):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        self.start_angle = OPEN_ANGLE
        return self.variation_placeholders(0)

    def _hinge_point(self, x: float, z: float) -> np.ndarray:
        """World point at ``x`` forward of and ``z`` above the hinge line (laptop frame)."""
        return self.frame.point((HINGE[0] + x, 0.0, HINGE[2] + z))

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        """TCP poses: above and behind the lid, behind it at push height, pushed, pressed shut."""
        top = LID_LENGTH * math.sin(OPEN_ANGLE) + CLEARANCE
        shut = 2 * LID_HALF_THICKNESS - PRESS_BELOW_SHUT
        points = [(-BEHIND, top), (-BEHIND, PUSH_HEIGHT), (PUSH_REACH, PUSH_HEIGHT), (PUSH_REACH, shut)]
        return hinge_push_waypoints(sim, self.arm, self.frame, self._hinge_point, points)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(lid_closed=abs(sim.joint_qpos("joint") - self.start_angle) > CLOSED_TRAVEL)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        (above, quat), (behind, _), (pushed, _), (shut, _) = self._waypoints(sim)
        yield from motion.move(self.arm, above, quat, steps=30, gripper=motion.robot.gripper_closed)
        yield from motion.line(self.arm, behind, quat, steps=12, segments=2)
        yield from motion.line(self.arm, pushed, quat, steps=25, segments=5)
        yield from motion.line(self.arm, shut, quat, steps=20, segments=4)
        yield from motion.wait(5)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        stage = "push" if sim.gripper_touches(self.arm, "laptop_lid") else "reach_lid"
        return self.state_from_spec(sim, sim.site_pos("lid_edge"), stage)
