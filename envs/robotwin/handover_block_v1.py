"""handover_block-v1: the left arm hands a tall red block to the right arm, which sets it on the blue pad.

Description:
    A red 6 x 6 x 20 cm block stands upright on the left of the table and a blue 10 x 10 cm pad
    lies on the right. The left arm grasps the block's upper part (3 cm below its top), lifts
    it and holds it up in the middle of the table; the right arm grasps its lower part (3 cm
    above its bottom) from the other side; the left arm lets go, backs off and goes home while
    the right arm sets the block upright on the pad and lets go (RoboTwin 2.0
    ``handover_block``, as upstream's expert does it). Both grippers squeeze the same two
    opposite faces, closing horizontally.
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (14-d qpos or 16-d ee; Dict observation).
    ``object_state`` tracks the block, then the pad.
Success:
    The centre of the block's bottom face (upstream's functional point 0, wherever the block
    has turned) is within 3 cm of the centre of the pad's top face in x and in y and within
    1 cm in height, the right gripper is open (its commanded value above 0.8), neither gripper
    touches the block, and the block is at rest.
    Fidelity: upstream checks the same point against the pad's top centre with the same
    3 cm / 3 cm / 1 cm box, and that the right gripper is open (its drive target above 0.8, as
    we read it); we also ask that no finger touches the block and that it is at rest, so a
    block still falling or pinched by the left gripper does not count.
    Procedure: upstream's grippers come at the block level, from the side. Ours hold the same
    faces at the same heights but tilted about the finger axis: the giver 45-90 degrees down
    (the first that reaches; a level hand turned to a face off the arm's line needs a forearm
    roll our ViperX cannot hold), the taker 30 degrees down (a level hand cannot bring the
    block down onto a pad this close to its base). The open ViperX fingers clear the 6 cm
    block by under 5 mm a side, so the expert closes in on it in short corrected steps.
Starting state:
    As upstream, shifted into our frame (upstream y + 0.5): block standing at x in
    [-0.25, -0.05], y in [0.5, 0.75], turned 22.5 degrees +- 0.2 rad about the vertical; pad
    (upstream's static 10 x 10 x 1 cm box, sunk half into the table, its top 5 mm up) at x in
    [0.10, 0.25], y in [0.65, 0.70], square to the table. The left arm always gives and the
    right arm always takes; the block is always red and the pad blue, as upstream.
Episode end:
    Success, or 800 control steps (32 s at 25 Hz). Upstream's evaluation limit is 800 policy
    actions.
Version history:
    v0: first version.
    v1: upstream's procedure (split v2): always left to right (v0: either way), upstream's
    6 x 6 x 20 cm block (v0: 3 x 3 x 12 cm) and 10 x 10 cm blue pad (v0: 12 x 12 cm, palette
    colours) in upstream's ranges; grasps of the block's upper part (giver) and lower part
    (taker) with the block held up at the table's centre (v0: the giver holds the lower part,
    the taker the upper part from above); upstream's success point and box; 800 steps (v0:
    700).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.geometry import gripper_tilted_quat, quat_to_mat, quat_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion, PlanningError
from vlapro_bench.sim.objects.primitives import pad
from vlapro_bench.sim.objects.tools import tall_block
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RoboTwinTask
from .handover_block import MAX_ROLL, HandoverBlock, _heading
from .stack_blocks_two_v1 import gripper_open

HALF = (0.03, 0.03, 0.1)
PAD_HALF = (0.05, 0.05, 0.005)
#: Upstream's colours: a pure red block and a pure blue pad.
RED, BLUE = (1.0, 0.0, 0.0, 1), (0.0, 0.0, 1.0, 1)
GIVER, TAKER = "left", "right"
#: Upstream's grasp points: on the block's axis, 7 cm above its centre (the giver's, contact
#: points 0-3) and 7 cm below it (the taker's, contact points 4-7), from the side.
GRASP_UP = 0.07
#: Where upstream's giver holds the block: its bottom centre at (0, 0.5) in our frame, 15.9 cm
#: above the table (upstream's z 0.9 over its table top at 0.741).
HANDOVER_BOTTOM = np.array([0.0, 0.5, 0.159])
#: The giver's downward tilts about its finger axis, tried in turn (see Fidelity).
GIVE_PITCHES = tuple(math.radians(d) for d in (75, 60, 90, 45))
#: The taker's downward tilt about its finger axis (see Fidelity).
TAKE_PITCH = math.radians(30)
#: Upstream's lift after the first grasp, and its pre-grasp and pre-place distances.
LIFT, PRE_GRASP, PRE_PLACE = 0.1, 0.07, 0.05
#: Upstream's success box: the block's bottom centre around the pad's top centre.
XY_TOLERANCE, Z_TOLERANCE = 0.03, 0.01


def bottom_centre(sim: Simulation) -> np.ndarray:
    """Upstream's functional point 0 of the block: the centre of its bottom face, in the world."""
    return sim.body_pos("block") - quat_to_mat(sim.body_quat("block"))[:, 2] * HALF[2]


def pad_top(sim: Simulation) -> np.ndarray:
    """Upstream's functional point 1 of the pad: the centre of its top face."""
    return sim.body_pos("pad") + (0.0, 0.0, PAD_HALF[2])


def _side_quat(heading: float, pitch: float = 0.0) -> np.ndarray:
    """Gripper pointing along ``heading`` (tilted down by ``pitch``), fingers closing horizontally."""
    return gripper_tilted_quat(heading + math.pi / 2, pitch)


def _solve(motion: Motion, arm: str, pos: np.ndarray, quat: np.ndarray, rounds: int = 6) -> np.ndarray:
    """IK that keeps iterating until the TCP is within 2 mm and 0.02 rad (one call may stop
    short on a long move), from the commanded joints, then from the ready pose; an answer with
    the forearm rolled past 1 rad is refused (that joint sags under the hand's weight)."""
    i = motion.robot.arm_slice(arm)
    for seed in (motion.action[i], motion.robot.home_action()[i]):
        q = seed
        for _ in range(rounds):
            result = motion.ik.solve(arm, np.asarray(pos, float), quat, q)
            q = result.qpos
            if result.position_error < 2e-3 and result.orientation_error < 2e-2:
                break
        if result.position_error < 2e-3 and result.orientation_error < 2e-2 and abs(q[3]) < MAX_ROLL:
            return q
    raise PlanningError(f"{arm} arm cannot reach {np.round(pos, 3).tolist()}")


def _move(motion: Motion, targets: dict[str, tuple], steps: int, grippers: dict[str, float] | None = None):
    """Joint-space move of one or both arms to TCP poses, with :func:`_solve`'s patient IK."""
    joints = {arm: _solve(motion, arm, pos, quat) for arm, (pos, quat) in targets.items()}
    yield from motion.move_joints(joints, steps, grippers)


def _line(motion: Motion, arm: str, pos: np.ndarray, quat: np.ndarray, steps: int, segments: int):
    """Straight TCP move with :func:`_solve`'s patient IK at every point."""
    start, _ = motion.tcp_target_pose(arm)
    for k in range(1, segments + 1):
        yield from _move(motion, {arm: (start + (np.asarray(pos) - start) * k / segments, quat)}, steps // segments)


def _approach(sim: Simulation, motion: Motion, arm: str, pos: np.ndarray, quat: np.ndarray, segments: int = 14,
              radial_pitch: float | None = None):
    """Slide the open fingers around the block: the fingers clear its 6 cm faces by under 5 mm
    a side, about what the arm's tracking lags (and sags) by on a smooth move. So the move goes
    in short steps, each followed by a pause, and each step's command is corrected by how far
    the measured TCP missed the previous one. With ``radial_pitch`` the hand points straight out
    from the arm's base at every point (tilted down by it) instead of keeping ``quat``: near full
    reach, a hand turned off that line needs a large forearm roll for a few millimetres."""
    start, _ = motion.tcp_target_pose(arm)
    correction = np.zeros(3)
    for k in range(1, segments + 1):
        point = start + (np.asarray(pos) - start) * k / segments
        aim = point + correction
        if radial_pitch is not None:
            quat = _side_quat(_heading(arm, aim), radial_pitch)
        yield from _move(motion, {arm: (aim, quat)}, 3)
        # Long enough that a policy running the expert in chunks of 4 actions has stepped the
        # move before the next correction reads the TCP.
        yield from motion.wait(4)
        correction = np.clip(correction + 0.7 * (point - sim.tcp_pos(arm)), -0.01, 0.01)


@register_task
class HandoverBlockV1(RoboTwinTask):
    spec = RoboTwinTask.spec_for(
        name="handover_block",
        version=1,
        max_episode_steps=800,
        procedure=ProceduralAnnotation("handover", "cuboid", "tilted", "side_face"),
        description="Hand the red block from the left arm to the right arm and place it on the blue pad.",
    )
    # v0's wording stays true here (the giver picks the block up, hands it to the taker, which
    # sets it upright on the pad), with {a}/{b} the left/right arm and {c}/{p} red/blue.
    instructions = HandoverBlock.instructions
    instruction_sets = HandoverBlock.instruction_sets
    descriptions = HandoverBlock.descriptions
    tracked_bodies = ("block", "pad")

    def build_scene(self, scene: SceneBuilder) -> None:
        tall_block(scene, "block", HALF, RED)
        pad(scene, "pad", PAD_HALF, BLUE)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        block = (rng.uniform(-0.25, -0.05), rng.uniform(0.5, 0.75), HALF[2] + 0.0005)
        sim.set_free_pose("block", block, yaw_quat(math.pi / 8 + rng.uniform(-0.2, 0.2)))
        sim.set_body_pose("pad", (rng.uniform(0.1, 0.25), rng.uniform(0.65, 0.7), 0.0))
        self.arm = GIVER
        return {"a": GIVER, "b": TAKER, "c": "red", "p": "blue"}

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        offset = np.abs(bottom_centre(sim) - pad_top(sim))
        return all_of(
            block_over_pad=bool(np.all(offset[:2] < XY_TOLERANCE)),
            block_at_pad_height=bool(offset[2] < Z_TOLERANCE),
            right_gripper_open=gripper_open(sim, TAKER),
            block_released=not sim.gripper_touches(GIVER, "block") and not sim.gripper_touches(TAKER, "block"),
            block_at_rest=sim.body_speed("block") < 0.05,
        )

    # -- expert -----------------------------------------------------------------------------
    def _face_heading(self, sim: Simulation, arm: str) -> float:
        """Heading of the block face normal (pointing away from ``arm``) closest to the line
        from the arm's base to the block."""
        radial = _heading(arm, sim.body_pos("block"))
        yaw = quat_yaw(sim.body_quat("block"))
        k = round((radial - yaw) / (math.pi / 2))
        return yaw + k * math.pi / 2

    def _giver_grasp(self, motion: Motion, heading: float, grip: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The first of the giver's pitches at which it reaches the grasp, the pre-grasp and the
        handover poses: pitch, TCP orientation and pointing direction."""
        for pitch in GIVE_PITCHES:
            quat = _side_quat(heading, pitch)
            along = quat_to_mat(quat)[:, 0]
            try:
                for point in (grip, grip - PRE_GRASP * along, grip - PRE_GRASP * along + (0, 0, 0.05)):
                    _solve(motion, GIVER, point, quat)
                _solve(motion, GIVER, HANDOVER_BOTTOM + (0.0, 0.0, HALF[2] + GRASP_UP), _side_quat(0.0, pitch))
            except PlanningError:
                continue
            return pitch, quat, along
        raise PlanningError(f"left arm cannot grasp the block at {np.round(grip, 3).tolist()}")

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        # Giver: grasp of the upper part, pointing along the face normal nearest its reach
        # direction, tilted down about its finger axis (see Fidelity in the module docstring).
        heading = self._face_heading(sim, GIVER)
        grip = sim.body_pos("block") + (0.0, 0.0, GRASP_UP)
        pitch, quat, along = self._giver_grasp(motion, heading, grip)
        yield from _move(motion, {GIVER: (grip - PRE_GRASP * along + (0, 0, 0.05), quat)}, 30, {GIVER: 1.0})
        yield from _line(motion, GIVER, grip - PRE_GRASP * along, quat, steps=10, segments=2)
        yield from motion.wait(6)
        yield from _approach(sim, motion, GIVER, grip, quat)
        yield from motion.gripper(GIVER, 0.0, steps=10)
        yield from motion.wait(4)
        yield from motion.line(GIVER, grip + (0.0, 0.0, LIFT), quat, steps=16, segments=2)
        # To the middle: the block's bottom centre at upstream's handover point, the giver
        # pointing straight out (+x), so the block's faces square to the table.
        centre = HANDOVER_BOTTOM + (0.0, 0.0, HALF[2])
        give = _side_quat(0.0, pitch)
        yield from _move(motion, {GIVER: (centre + (0.0, 0.0, GRASP_UP), give)}, 35)
        yield from motion.wait(6)
        # Taker: side grasp of the lower part from +x, where the block actually is, tilted down
        # about its finger axis (the pads stay on the same two faces, the block stays upright):
        # level, the arm cannot bring the block down onto a pad this close to its base.
        low = sim.body_pos("block") - (0.0, 0.0, GRASP_UP)
        take = _side_quat(_heading(TAKER, low), TAKE_PITCH)
        along = quat_to_mat(take)[:, 0]
        yield from _move(motion, {TAKER: (low - PRE_GRASP * along, take)}, 30, {TAKER: 1.0})
        yield from motion.wait(6)
        yield from _approach(sim, motion, TAKER, low, take, radial_pitch=TAKE_PITCH)
        yield from motion.gripper(TAKER, 0.0, steps=10)
        yield from motion.wait(4)
        yield from motion.gripper(GIVER, 1.0, steps=10)
        yield from motion.wait(4)
        back, _ = motion.tcp_target_pose(GIVER)
        yield from motion.line(GIVER, back - (0.1, 0.0, 0.0), give, steps=14, segments=2)
        # Taker sets the block's bottom on the pad (from 5 cm above) while the giver goes home;
        # it lets go and backs away along its fingers.
        above_bottom = motion.tcp_target_pose(TAKER)[0][2] - bottom_centre(sim)[2]
        target = pad_top(sim) + (0.0, 0.0, above_bottom + 0.003)
        heading = _heading(TAKER, target)
        place = _side_quat(heading, TAKE_PITCH)
        home = motion.robot.home_action()[motion.robot.arm_slice(GIVER)]
        taker_q = _solve(motion, TAKER, target + (0.0, 0.0, PRE_PLACE), place)
        yield from motion.move_joints({GIVER: home, TAKER: taker_q}, 35)
        yield from _line(motion, TAKER, target, place, steps=20, segments=4)
        yield from motion.gripper(TAKER, 1.0, steps=10)
        yield from motion.wait(4)
        yield from _line(motion, TAKER, target - 0.08 * quat_to_mat(place)[:, 0], place, steps=14, segments=2)

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        block = sim.body_pos("block")
        near_pad = np.linalg.norm(block[:2] - sim.body_pos("pad")[:2]) < 0.08
        taker_only = sim.is_grasped(TAKER, "block") and not sim.is_grasped(GIVER, "block")
        if near_pad or taker_only:
            arm, stage, target = TAKER, "place", pad_top(sim)
        elif sim.is_grasped(GIVER, "block") or block[2] > HALF[2] + 0.02:
            arm, stage, target = TAKER, "handover", block - (0.0, 0.0, GRASP_UP)
        else:
            arm, stage, target = GIVER, "grasp", block + (0.0, 0.0, GRASP_UP)
        return self.state_from_spec(sim, target, stage, action_type=stage, arm=arm)
