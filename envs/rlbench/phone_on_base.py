"""phone_on_base: pick up the cordless phone and lay it in its charging base.

Description:
    A cordless phone handset lies on the table beside its charging base. The Panda grasps the
    handset from above across its width, carries it over the base and lays it in the base's
    cradle between the two end stops, then lets go (RLBench ``phone_on_base``, an AGNOSTOS
    level-1 unseen task).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the phone and the base.
Success:
    The phone is detected in the base's sensor, a box over the cradle floor (the 17 x 6.5 cm
    cradle, 2 cm up from its floor), and no finger touches the phone.
    **Fidelity:** RLBench: ``DetectedCondition(phone, success)`` and ``NothingGrasped``; ours:
    the sensor's volume is ours (the model's is not in the reference data), "detected" means the
    phone's centre is over the cradle and its bottom within 2 cm of the cradle floor (it lies in
    the cradle, not in passing above it), and "nothing grasped" means no finger touches the
    phone (stricter than RLBench's attachment flag: the hand must have let go and opened).
Starting state:
    The phone and the base sit on two fixed spots of the task base (RLBench's model places both
    and samples nothing inside the task): the phone 12 cm to the base frame's left, the base's
    centre 10 cm to its right, both lengthwise along the frame's x. The task base is placed at
    x 0.05..0.30, y -0.15..0.15 with a yaw in [-pi, pi] (RLBench's default bounds), drawn again
    while a spot leaves the area the Panda reaches pointing down or the grasp and place
    waypoints have no collision-free IK solution (RLBench's placement check).
Geometry:
    RLBench's ``phone_on_base.ttm`` is not in the reference data, so the sizes are ours, those of
    a cordless DECT phone: a handset 15 x 5 x 2.5 cm (0.12 kg, a screen and keypad drawn on its
    face) and a charging base 20 x 9 cm, its cradle floor 1.8 cm above the table, with 1 cm end
    stops leaving 7.5 mm of play at each end of the handset, two charging contacts and a
    power light.
Variations:
    1 (RLBench has one).
Episode end:
    Success, or 300 control steps (15 s at 20 Hz; the expert needs at most 170 on seeds 0-49 and 100000-100049).
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
from vlapro_bench.sim.geometry import gripper_down_quat, quat_yaw
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import grasp_yaw
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import grasp_from_above, in_reach, place_held, table_point

PHONE = "phone"
BASE = "phone_base"
#: Spots (task-base x, y) of the phone's centre and of the base's centre.
PHONE_XY = (0.0, 0.12)
BASE_XY = (0.0, -0.10)
PHONE_HALF = (0.075, 0.025, 0.0125)
PHONE_MASS = 0.12
PHONE_RGBA = (0.12, 0.12, 0.13, 1.0)
#: The base: a plinth with its cradle floor this high, end stops at both ends of the cradle.
BASE_HALF = (0.10, 0.045)
CRADLE_Z = 0.018
CRADLE_HALF = (0.085, 0.0325)
STOP_HEIGHT = 0.01
BASE_RGBA = (0.86, 0.86, 0.84, 1.0)
#: Sensor: over the cradle floor, this tall (the phone's bottom must be within it).
SENSOR_HEIGHT = 0.02
YAW_BOUNDS = (-math.pi, math.pi)
X_RANGE = (0.05, 0.30)
Y_RANGE = (-0.15, 0.15)
#: The TCP closes this far above the phone's centre: the fingertips stay 7 mm clear of the table.
GRASP_ABOVE_CENTRE = 0.019
#: Finger opening the gripper is driven to on the 5 cm handset (a moderate squeeze).
CLOSE_TO = 0.02
#: The handset is let go with its bottom this far above the cradle floor.
RELEASE_GAP = 0.004
HOVER = 0.06
LIFT = 0.10
LIFT_STEPS = 24
CARRY_STEPS = 40


@register_task
class PhoneOnBase(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="phone_on_base",
        max_episode_steps=300,
        procedure=ProceduralAnnotation("pick_place", "thin_slab", "downward", "stand_top"),
        description="Pick up the cordless phone and lay it in its charging base.",
    )
    instructions = {
        "seen": (
            "put the phone on its base",
            "set the phone down on the base",
            "pick up the phone and put it on its stand",
            "place the handset onto the base",
            "put the phone back on the base",
        ),
        "unseen": (
            "dock the cordless handset in its charging cradle",
            "lift the receiver and rest it in the charger",
        ),
    }
    variation_count = 1
    tracked_bodies = (PHONE, BASE)

    def build_scene(self, scene: SceneBuilder) -> None:
        phone = scene.body(PHONE, pos=(0.25, 0.3, 1.0), free=True)
        hx, hy, hz = PHONE_HALF
        scene.box(phone, f"{PHONE}_case", PHONE_HALF, PHONE_RGBA, mass=PHONE_MASS)
        face = hz + 0.0003
        scene.box(phone, f"{PHONE}_screen", (0.022, hy - 0.006, 0.0004), (0.2, 0.35, 0.45, 1.0),
                  pos=(hx - 0.032, 0.0, face), collide=False)
        scene.box(phone, f"{PHONE}_earpiece", (0.002, 0.008, 0.0004), (0.4, 0.4, 0.42, 1.0),
                  pos=(hx - 0.005, 0.0, face), collide=False)
        for row in range(4):
            for col in range(3):
                scene.box(phone, f"{PHONE}_key{row}{col}", (0.004, 0.0045, 0.0004), (0.55, 0.56, 0.58, 1.0),
                          pos=(-0.008 - 0.013 * row, 0.012 * (col - 1), face), collide=False)
        base = scene.body(BASE, pos=(0.25, -0.3, TABLE_TOP_Z))
        bx, by = BASE_HALF
        scene.box(base, f"{BASE}_plinth", (bx, by, CRADLE_Z / 2), BASE_RGBA, pos=(0.0, 0.0, CRADLE_Z / 2))
        stop = (bx - CRADLE_HALF[0]) / 2
        for sign, side in ((1, "front"), (-1, "back")):
            scene.box(base, f"{BASE}_stop_{side}", (stop, by, STOP_HEIGHT / 2), BASE_RGBA,
                      pos=(sign * (bx - stop), 0.0, CRADLE_Z + STOP_HEIGHT / 2))
            scene.box(base, f"{BASE}_contact_{side}", (0.004, 0.006, 0.0008), (0.8, 0.65, 0.2, 1.0),
                      pos=(sign * 0.03, 0.0, CRADLE_Z + 0.0008), collide=False)
        scene.box(base, f"{BASE}_light", (0.004, 0.004, 0.002), (0.1, 0.8, 0.2, 1.0),
                  pos=(bx - stop, by - 0.01, CRADLE_Z + STOP_HEIGHT), collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)

        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_body_pose(BASE, table_point(frame, BASE_XY, 0.0), frame.quat)
            sim.set_free_pose(PHONE, table_point(frame, PHONE_XY, PHONE_HALF[2] + 0.001), frame.quat)
            sim.forward()
            on_table = [frame.point((*xy, 0.0)) for xy in (PHONE_XY, BASE_XY)]
            if all(in_reach(p) for p in on_table) and reachable(sim, self._waypoints(sim)):
                return frame
            return None

        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _place_point(self) -> np.ndarray:
        """Where the phone's centre is let go: over the cradle's centre, just above its floor."""
        return table_point(self.frame, BASE_XY, CRADLE_Z + PHONE_HALF[2] + RELEASE_GAP)

    def _grasp_yaw(self, sim: Simulation) -> float:
        """Fingers closing across the handset's width, near the arm's natural yaw."""
        return grasp_yaw(self.arm, quat_yaw(sim.body_quat(PHONE)), symmetry=math.pi)

    def _place_yaw(self, sim: Simulation) -> float:
        """The finger yaw that lays the handset lengthwise in the cradle, nearest the grasp's."""
        return grasp_yaw(self.arm, self.frame.yaw, symmetry=math.pi)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        grasp_quat = gripper_down_quat(self._grasp_yaw(sim))
        place_quat = gripper_down_quat(self._place_yaw(sim))
        grasp = sim.body_pos(PHONE) + (0.0, 0.0, GRASP_ABOVE_CENTRE)
        place = self._place_point() + (0.0, 0.0, GRASP_ABOVE_CENTRE)
        return [(grasp + (0, 0, 0.1), grasp_quat), (grasp, grasp_quat), (grasp + (0, 0, LIFT), grasp_quat),
                (place + (0, 0, HOVER), place_quat), (place, place_quat)]

    def on_base(self, sim: Simulation) -> bool:
        """RLBench's sensor: the phone's centre over the cradle and its bottom near the floor."""
        local = self.frame.local(sim.body_pos(PHONE)) - (*BASE_XY, 0.0)
        bottom = local[2] - PHONE_HALF[2] - CRADLE_Z
        return bool(np.all(np.abs(local[:2]) < CRADLE_HALF) and -0.003 < bottom < SENSOR_HEIGHT)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(phone_on_base=self.on_base(sim), phone_released=not sim.gripper_touches(self.arm, PHONE))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yaw = self._grasp_yaw(sim)
        grasp = sim.body_pos(PHONE) + (0.0, 0.0, GRASP_ABOVE_CENTRE)
        yield from grasp_from_above(motion, self.arm, grasp, yaw, LIFT, close_to=CLOSE_TO, lift_steps=LIFT_STEPS)
        yield from place_held(sim, motion, self.arm, PHONE, self._place_point(), self._place_yaw(sim), HOVER,
                              carry_steps=CARRY_STEPS)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        if sim.is_grasped(self.arm, PHONE) and sim.body_pos(PHONE)[2] > TABLE_TOP_Z + PHONE_HALF[2] + 0.03:
            return self.state_from_spec(sim, self._place_point(), "place")
        return self.state_from_spec(sim, sim.body_pos(PHONE), "grasp")
