"""place_wine_at_rack_location: lay the wine bottle in the named slot of the rack.

Description:
    A wine bottle stands upright on the table beside a low wooden rack with three cradles side
    by side (left, middle, right). The Panda grasps the bottle from the side, lifts it, turns
    its hand to point down so the bottle lies horizontally, and lays it in the named cradle
    (RLBench ``place_wine_at_rack_location``, from the PerAct fork: PerAct-18).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the bottle and the rack.
Success:
    ``bottle_in_slot``: the bottle's centre is inside the named slot's volume, a box over the
    cradle 0.16 m along it, 0.05 m across and from the cradle rods' axis up to 6 cm above it;
    ``bottle_lying``: the bottle's axis is within 20 degrees of horizontal; ``nothing_grasped``:
    the bottle is not between the fingers; ``at_rest``: the bottle moves slower than 2 cm/s and
    turns slower than 0.2 rad/s.
    **Fidelity:** RLBench: ``DetectedCondition(wine_bottle, success_<location>)`` (the bottle
    enters the slot's proximity sensor) and ``NothingGrasped``; ours: the sensor is a box of
    our rack's slot, and we add the lying and at-rest conditions (stricter than RLBench) so a
    bottle that is dropped and still rolling, or stood on end in a cradle, does not count.
Starting state:
    The bottle stands upright at base (-0.06, 0.20); the rack's centre is at base (0.06, -0.08)
    with its cradles along the base's x axis. The task base is placed with x 0.12..0.32,
    y -0.10..0.15 and a yaw in [-pi/4, pi/4] (RLBench's ``base_rotation_bounds``); as RLBench
    does, placements whose waypoints have no collision-free IK solution are drawn again (the
    hand turns high behind the bottle and comes down to it, the standing bottle an obstacle;
    then side grasp, lift, turn down, lay).
Geometry:
    RLBench's ``place_wine_at_rack_location.ttm`` is not in the reference data, so the props are
    ours at realistic sizes. The bottle is a half bottle (375 ml) so its body fits the Panda's
    8 cm gripper: a 6.4 cm wide, 17 cm body, a 4 cm shoulder and a 6 cm neck with a cap (27 cm
    in all, 0.6 kg), dark green with a cream label. The rack is a pale wooden board (0.20 x
    0.36 m) with front and back crossbars carrying three cradles 0.11 m apart; each cradle is a
    pair of 1.2 cm rods 4 cm apart, 5 cm above the table, on which the bottle lies. Left is the
    robot's left (the base's +y).
Variations:
    3: which slot (RLBench's order: middle, left, right).
Episode end:
    Success, or 500 control steps (25 s at 20 Hz; the expert needs at most 315 on seeds 0-49).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, gripper_quat
from vlapro_bench.sim.ik import shared_ik
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import release_upward
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import table_point

LOCATIONS = ("middle", "left", "right")
YAW_BOUNDS = (-math.pi / 4, math.pi / 4)
X_RANGE = (0.12, 0.32)
Y_RANGE = (-0.10, 0.15)
BOTTLE = "wine_bottle"
RACK = "wine_rack"
#: The bottle: body radius and half length, shoulder, neck; its origin is the body's centre.
BODY_R, BODY_HALF = 0.032, 0.085
SHOULDER_R, SHOULDER_HALF = 0.022, 0.02
NECK_R, NECK_HALF = 0.014, 0.03
BOTTLE_MASS = 0.6
#: Height of the bottle's centre of mass above its origin (the shoulder and neck raise it).
COM_Z = (0.08 * BOTTLE_MASS * (BODY_HALF + SHOULDER_HALF)
         + 0.07 * BOTTLE_MASS * (BODY_HALF + 2 * SHOULDER_HALF + NECK_HALF)) / BOTTLE_MASS
GLASS = (0.08, 0.25, 0.12, 1.0)
LABEL = (0.93, 0.9, 0.78, 1.0)
CAP = (0.45, 0.05, 0.1, 1.0)
BOTTLE_START = (-0.06, 0.20)
#: The rack, in the base frame: centre, board, crossbars, cradle rods.
RACK_XY = (0.06, -0.08)
BOARD_HALF = (0.10, 0.18, 0.006)
SLOT_PITCH = 0.11
SLOT_Y = {"left": SLOT_PITCH, "middle": 0.0, "right": -SLOT_PITCH}
ROD_R, ROD_GAP, ROD_Z = 0.006, 0.02, 0.05
CROSSBAR_X = 0.085
WOOD = (0.72, 0.55, 0.36, 1.0)
ROD_WOOD = (0.55, 0.38, 0.22, 1.0)
#: Height of the lying bottle's centre above the table, resting on a cradle's two rods.
REST_Z = ROD_Z + math.sqrt((BODY_R + ROD_R) ** 2 - ROD_GAP**2)
#: The slot volume (success sensor): along the cradle, across it, and height above the rods.
SLOT_HALF_ALONG, SLOT_HALF_ACROSS, SLOT_HEIGHT = 0.08, 0.025, 0.06
LYING = math.radians(20)
AT_REST, AT_REST_SPIN = 0.02, 0.2  # m/s, rad/s
#: Side grasp: the TCP this far short of the bottle's axis (the pads meet the body's widest
#: part; once the hand points down the fingertips stay well above the cradle rods), at the
#: height of its centre of mass (held there, the bottle does not tip in the fingers when the
#: hand turns); pre-grasp standoff behind it.
GRASP_SHORT = 0.015
STANDOFF = 0.12
#: The hand turns to point at the bottle this high above the pre-grasp, then comes down.
APPROACH_RISE = 0.18
#: Lift height of the TCP above the table before the hand turns to point down.
LIFT_Z = 0.30
HOVER = 0.06
#: The bottle is let go with its centre this far above its resting height; then the hand backs up.
DROP_ABOVE = 0.004
RETREAT = 0.10
TURN_SEGMENTS = 6


@register_task
class PlaceWineAtRackLocation(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="place_wine_at_rack_location",
        max_episode_steps=500,
        procedure=ProceduralAnnotation("pick_place", "cylinder", "horizontal", "rack_slot"),
        description="Lay the wine bottle in the named slot of the rack.",
    )
    instructions = {
        "seen": (
            "place the wine bottle in the {location} slot of the rack",
            "put the wine on the {location} of the rack",
            "lay the bottle down in the {location} part of the wine rack",
            "store the wine bottle at the {location} of the rack",
            "pick up the bottle and rest it on the {location} section of the rack",
        ),
        "unseen": (
            "the {location} cradle is free: the wine goes there, lying flat",
            "tip the standing bottle over and set it into the rack's {location} place",
        ),
    }
    variation_count = len(LOCATIONS)
    tracked_bodies = (BOTTLE, RACK)

    def build_scene(self, scene: SceneBuilder) -> None:
        bottle = scene.body(BOTTLE, pos=(0.25, 0.3, 1.0), free=True)
        scene.cylinder(bottle, f"{BOTTLE}_body", BODY_R, BODY_HALF, GLASS, mass=BOTTLE_MASS * 0.85)
        scene.cylinder(bottle, f"{BOTTLE}_label", BODY_R + 0.0008, 0.04, LABEL, pos=(0, 0, -0.01), collide=False)
        scene.cylinder(bottle, f"{BOTTLE}_shoulder", SHOULDER_R, SHOULDER_HALF, GLASS,
                       pos=(0, 0, BODY_HALF + SHOULDER_HALF), mass=BOTTLE_MASS * 0.08)
        scene.cylinder(bottle, f"{BOTTLE}_neck", NECK_R, NECK_HALF, GLASS,
                       pos=(0, 0, BODY_HALF + 2 * SHOULDER_HALF + NECK_HALF), mass=BOTTLE_MASS * 0.07)
        scene.cylinder(bottle, f"{BOTTLE}_cap", NECK_R + 0.001, 0.012, CAP,
                       pos=(0, 0, BODY_HALF + 2 * SHOULDER_HALF + 2 * NECK_HALF - 0.01), collide=False)
        rack = scene.body(RACK, pos=(0.25, -0.3, TABLE_TOP_Z))
        bx, by, bz = BOARD_HALF
        scene.box(rack, f"{RACK}_board", BOARD_HALF, WOOD, pos=(0, 0, bz))
        bar_half_z = (ROD_Z - ROD_R - 2 * bz) / 2  # the rods lie on the crossbars
        for side, x in (("front", -CROSSBAR_X), ("back", CROSSBAR_X)):
            scene.box(rack, f"{RACK}_{side}_bar", (0.012, by, bar_half_z), WOOD, pos=(x, 0, 2 * bz + bar_half_z))
        rod_quat = tuple(Rotation.from_euler("y", math.pi / 2).as_quat(scalar_first=True))
        for location, y in SLOT_Y.items():
            for k, dy in enumerate((-ROD_GAP, ROD_GAP)):
                scene.cylinder(rack, f"{RACK}_{location}_rod{k}", ROD_R, bx, ROD_WOOD, pos=(0, y + dy, ROD_Z),
                               quat=rod_quat)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        self.location = LOCATIONS[index]
        def draw() -> TaskFrame | None:
            self.frame = frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            sim.set_body_pose(RACK, table_point(frame, RACK_XY, 0.0), frame.quat)
            sim.set_free_pose(BOTTLE, table_point(frame, BOTTLE_START, BODY_HALF + 0.001), frame.quat)
            sim.forward()
            approach, carry = self._waypoints(sim)
            if reachable(sim, approach) and reachable(sim, approach[-1:] + carry, ignore=[BOTTLE]):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"location": LOCATIONS[index]}

    # -- geometry -------------------------------------------------------------------------------
    def _slot_point(self) -> np.ndarray:
        """Where the lying bottle's centre rests in the named cradle (world)."""
        return table_point(self.frame, (RACK_XY[0], RACK_XY[1] + SLOT_Y[self.location]), REST_Z)

    def _side_quat(self) -> np.ndarray:
        """Pointing away from the robot along the base's x, fingers closing along the base's y."""
        return gripper_quat(self.frame.direction((1.0, 0.0, 0.0)), self.frame.direction((0.0, -1.0, 0.0)))

    def _down_quat(self) -> np.ndarray:
        """Pointing down with the same finger axis: the side grasp turned about the fingers."""
        return gripper_down_quat(self.frame.yaw - math.pi / 2)

    def _grasp_point(self, bottle: np.ndarray) -> np.ndarray:
        return bottle + (0.0, 0.0, COM_Z) - GRASP_SHORT * self.frame.direction((1.0, 0.0, 0.0))

    def _lifted(self, grasp: np.ndarray) -> np.ndarray:
        return np.array([grasp[0], grasp[1], TABLE_TOP_Z + LIFT_Z])

    def _pre_grasp(self, grasp: np.ndarray) -> np.ndarray:
        return grasp - STANDOFF * self.frame.direction((1.0, 0.0, 0.0))

    def _approach(self, sim: Simulation, grasp: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """From the start pose to high behind the bottle, the hand turning from pointing down to
        pointing at the bottle in small turns (the IK is local: it does not converge on one big
        turn), then down to the pre-grasp: the arm never sweeps through the standing bottle."""
        robot = sim.robot
        start, start_quat = shared_ik(robot).tcp_pose(self.arm, robot.home_action()[robot.arm_slice(self.arm)])
        pre = self._pre_grasp(grasp)
        high = pre + (0.0, 0.0, APPROACH_RISE)
        return [*_turn_path(start, high, start_quat, self._side_quat()), (pre, self._side_quat())]

    def _waypoints(self, sim: Simulation) -> tuple[list, list]:
        """TCP poses of the approach (the bottle an obstacle), then of grasp, lift, turn down,
        above the slot and lay (the bottle moves with the hand)."""
        grasp = self._grasp_point(sim.body_pos(BOTTLE))
        lifted = self._lifted(grasp)
        lay = self._slot_point() + GRASP_SHORT * np.array([0.0, 0.0, 1.0])
        carry = [(grasp, self._side_quat()), (lifted, self._side_quat()),
                 *_turn_path(lifted, lifted, self._side_quat(), self._down_quat()),
                 (lay + (0, 0, HOVER), self._down_quat()), (lay, self._down_quat())]
        return self._approach(sim, grasp), carry

    def _axis(self, sim: Simulation) -> np.ndarray:
        return sim.body_mat(BOTTLE)[:, 2]

    # -- episode --------------------------------------------------------------------------------
    def in_slot(self, sim: Simulation) -> bool:
        """Whether the bottle's centre is inside the named slot's volume."""
        local = self.frame.local(sim.body_pos(BOTTLE))
        along = local[0] - RACK_XY[0]
        across = local[1] - RACK_XY[1] - SLOT_Y[self.location]
        height = sim.body_pos(BOTTLE)[2] - TABLE_TOP_Z - ROD_Z
        return bool(abs(along) < SLOT_HALF_ALONG and abs(across) < SLOT_HALF_ACROSS and 0.0 < height < SLOT_HEIGHT)

    def _at_rest(self, sim: Simulation) -> bool:
        """The bottle neither slides nor rolls (its free joint's linear and angular speed)."""
        dof = int(sim.model.joint(f"{BOTTLE}_free").dofadr[0])
        velocity = np.asarray(sim.data.qvel[dof:dof + 6])
        return bool(np.linalg.norm(velocity[:3]) < AT_REST and np.linalg.norm(velocity[3:]) < AT_REST_SPIN)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(
            bottle_in_slot=self.in_slot(sim),
            bottle_lying=abs(self._axis(sim)[2]) < math.sin(LYING),
            nothing_grasped=not sim.is_grasped(self.arm, BOTTLE),
            at_rest=self._at_rest(sim),
        )

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        arm, robot = self.arm, motion.robot
        side, down = self._side_quat(), self._down_quat()
        grasp = self._grasp_point(sim.body_pos(BOTTLE))
        *turn, (pre, _) = self._approach(sim, grasp)
        for pos, quat in turn:
            yield from motion.move(arm, pos, quat, steps=6, gripper=robot.gripper_open)
        yield from motion.line(arm, pre, side, steps=16, segments=2)
        yield from motion.line(arm, grasp, side, steps=20, segments=3)
        yield from motion.gripper(arm, robot.gripper_closed, steps=10)
        yield from motion.wait(4)
        lifted = self._lifted(grasp)
        yield from motion.line(arm, lifted, side, steps=30, segments=4)
        for pos, quat in _turn_path(lifted, lifted, side, down):
            yield from motion.move(arm, pos, quat, steps=6)
        # The bottle tips a little in the fingers as the hand turns: turn the hand about the
        # fingers until the held bottle lies level, then lower it onto the cradle's rods.
        level = self._level_quat(sim, down)
        goal = self._slot_point() + (0.0, 0.0, DROP_ABOVE)
        tcp_goal = goal + (np.asarray(motion.tcp_target_pose(arm)[0]) - sim.body_pos(BOTTLE))
        yield from motion.move(arm, tcp_goal + (0.0, 0.0, HOVER), level, steps=40)
        yield from motion.wait(4)
        level = self._level_quat(sim, level)
        tcp_goal = goal + (sim.tcp_pos(arm) - sim.body_pos(BOTTLE))
        yield from motion.line(arm, tcp_goal + (0.0, 0.0, HOVER / 2), level, steps=12, segments=2)
        tcp_goal = goal + (sim.tcp_pos(arm) - sim.body_pos(BOTTLE))
        yield from motion.line(arm, tcp_goal, level, steps=12, segments=2)
        yield from release_upward(motion, arm, tcp_goal, level, RETREAT)
        yield from motion.wait(6)

    def _level_quat(self, sim: Simulation, quat: np.ndarray) -> np.ndarray:
        """``quat`` turned by the rotation that would bring the held bottle's axis level."""
        axis = self._axis(sim)
        flat = np.array([axis[0], axis[1], 0.0])
        turn = Rotation.align_vectors([flat / np.linalg.norm(flat)], [axis])[0]
        return (turn * Rotation.from_quat(quat, scalar_first=True)).as_quat(scalar_first=True)

    def trace(self, sim: Simulation) -> str:
        local = self.frame.local(sim.body_pos(BOTTLE))
        return f"{self.location} bottle(base)={local.round(3)} axis_z={self._axis(sim)[2]:.2f}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        """Stages: grasp the standing bottle from the side, then lay it in the slot."""
        if sim.is_grasped(self.arm, BOTTLE):
            return self.state_from_spec(sim, self._slot_point(), "place_bottle")
        return self.state_from_spec(sim, sim.body_pos(BOTTLE), "grasp_bottle")


def _turn_path(start: np.ndarray, end: np.ndarray, quat_start, quat_end) -> list[tuple[np.ndarray, np.ndarray]]:
    """``TURN_SEGMENTS`` poses from ``start`` to ``end`` (start excluded), the orientation
    interpolated along the shorter arc (scipy's ``Slerp``)."""
    turn = Slerp([0.0, 1.0], Rotation.from_quat([quat_start, quat_end], scalar_first=True))
    fractions = np.linspace(0.0, 1.0, TURN_SEGMENTS + 1)[1:]
    quats = turn(fractions).as_quat(scalar_first=True)
    return [(start + s * (end - start), quat) for s, quat in zip(fractions, quats, strict=True)]
