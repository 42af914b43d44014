"""straighten_rope: pull the ends of a curved rope apart onto their two target squares.

Description:
    A rope lies on the table bent into an arc, its two ends about a fifth of a metre apart. Two
    small squares mark where its ends belong, one beyond each end, 0.36 m apart. The Panda grips
    one end, drags it onto its square and lets go, then does the same with the other end,
    leaving the rope pulled out between them (RLBench ``straighten_rope``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the rope's head and tail links, its middle link and both targets.
Success:
    RLBench's ``DetectedCondition(head, success_head)`` and ``DetectedCondition(tail,
    success_tail)``: the rope's end link ``head`` overlaps the volume over its target square
    and ``tail`` the one over the other (each a 0.025 x 0.025 m box 0.03 m tall on the table;
    an exact overlap test of the end link's bounding box, aligned with the link, against it).
    **Fidelity:** RLBench: both ``DetectedCondition`` s on the end shapes, nothing more; ours:
    the same two detections, the rope a chain of capsules instead of CoppeliaSim's rope. As in
    RLBench, straightness follows from where the sensors are: the end links' centres are at
    most 0.367 m apart along the rope, the targets 0.36 m, and a detected end link's centre lies
    within 0.038 m of its target's, so both ends are detected only while the rope spans at
    least 0.284 m, 77% of the most it can (its arc at the start spans at most 0.24 m).
Starting state:
    The rope lies in an arc bending through 180 to 240 degrees in total (each joint's share
    varied by up to 20%), its chord along the task base's y axis and centred on the base, the
    head on the +y side beside its target, the arc bulging away from or toward the robot
    (drawn). The targets are at (0, +-0.18) in the task-base frame. The base is placed with x
    0.15..0.40, y -0.2..0.2 and any yaw (RLBench's default bounds), drawn again when the
    expert's waypoints have no collision-free IK solution (RLBench's placement check).
Geometry:
    RLBench's rope model is not in the reference data. Ours: 12 capsules 0.033 m long and
    0.009 m in radius (0.40 m of rope; 4 g a link, the head and tail end pieces 30 g) joined
    by damped ball joints without stiffness, so the rope lies as it is left and drags like a
    soft cord. The middle links touch the table without torsional friction, so a link turns
    where it lies as easily as it slides and a pulled rope bends where it is pulled (with it, a
    pulled rope slid as a stiff hoop and dragged its other end along); the end pieces keep it so
    that a pinch holds them. Simplified: the links do not collide with each other (only with the
    table and the robot), so the rope cannot knot or cross itself; that keeps the chain cheap
    and stable and nothing in the task needs it. Target squares flat and visual only, as
    RLBench's sensors.
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 450 control steps (22.5 s at 20 Hz). The expert lifts the head a little, carries
    it onto its target while turning it onto the line between the targets and lets go, then
    does the same with the tail, put down 0.015 m short of its target's centre so the rope is
    never drawn taut: the head stays where it was put (it moved at most 1 mm during the second
    pull in the 100 measured episodes). As a closed-loop fallback it puts back an end that has
    left its target, in up to two passes (no measured seed needed one). As RLBench's conditions
    are checked at every step, an episode usually ends while the tail, still held, is carried
    over the inner part of its target. Measured in state mode:
    the expert succeeds in 50 of seeds 0-49 and 50 of 100000-100049, the longest episode 264
    steps (0.59 of the limit); a random policy 0 of seeds 0-49. Physics: in state mode about
    0.15 of close_microwave's step rate while the expert drags the rope (24-40 rope contacts),
    a quarter for the physics alone with the rope at rest.
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import mujoco
import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat, nearest_symmetric_yaw, yaw_quat
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._pick_and_carry import BoxSensor, table_point

X_RANGE = (0.15, 0.40)
Y_RANGE = (-0.2, 0.2)
YAW_BOUNDS = (-math.pi, math.pi)
#: The rope: LINKS capsules of LINK length (joint to joint) and RADIUS, LINK_MASS each.
LINKS = 12
LINK = 0.40 / LINKS
RADIUS = 0.009
LINK_MASS = 0.004
#: The head and tail are heavier end pieces (RLBench's rope has separate ``head`` and ``tail``
#: shapes): each pulled end then anchors the rope while the other end is pulled out.
END_MASS = 0.03
#: Ball joints: damping (N m s/rad) and armature (kg m^2). No stiffness (a sprung rope would
#: straighten itself) and no joint friction (each dry-friction row costs a solver row; the
#: table's friction holds the rope's shape).
JOINT_DAMPING, JOINT_ARMATURE = 0.002, 1e-5
BALL = mujoco.mjtJoint.mjJNT_BALL  # pyright: ignore[reportAttributeAccessIssue]  # enum missing from the stubs
#: Rope on table and fingers: a cord's friction, a little below the grasp default. The rope's
#: geoms have priority over the table's and the fingers', so their condim rules: the middle
#: links' contacts are condim 3, without torsional friction, because a 0.05 m torsional
#: friction makes turning a short link in place dearer than sliding it, so a pulled rope moved
#: as a stiff hoop (the other end with it) instead of bending where it was pulled; three solver
#: rows a contact instead of four, too. The end pieces keep condim 4 so that a pinch holds them
#: without pivoting while the expert turns them onto the line.
ROPE_FRICTION = (1.0, 0.05, 0.0001)
MIDDLE_CONDIM, END_CONDIM = 3, 4
#: Targets (task-base frame, the end links' centres when the rope is straightened).
TARGET_Y = 0.18
SENSOR_HALF = 0.0125
SENSORS = {end: BoxSensor(origin=(0.0, sign * TARGET_Y, 0.0), footprint=(2 * SENSOR_HALF, 2 * SENSOR_HALF),
                          range=0.03) for end, sign in (("head", 1.0), ("tail", -1.0))}
#: The start: total bend of the arc (rad), each joint's share varied by up to BEND_JITTER.
BEND_RANGE = (math.radians(180), math.radians(240))
BEND_JITTER = 0.2
#: Expert: where each end link's centre is put, measured outward from its target's centre.
#: The first end on its centre, the second and a corrected one short of it, so the second pull
#: never draws the rope taut (the end links' centres are at most 0.367 m apart along it, the
#: aims 0.345 m) and so never drags the first end off its target.
FIRST_OUTSET, SECOND_OUTSET, CORRECTION_OUTSET = 0.0, -0.015, -0.01
CARRY = 0.03
APPROACH = 0.08
#: Passes over the ends after the first two pulls, putting back an end that has been dragged off.
CORRECTIONS = 2
GRIP_CLEARANCE = 0.0
ROPE_RGBA = (0.85, 0.72, 0.45, 1.0)
END_RGBA = (0.55, 0.25, 0.12, 1.0)
TARGET_RGBA = (0.2, 0.45, 0.85, 1.0)
_CAPSULE_ALONG_X = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)
_LINK_BOX = (LINK / 2 + RADIUS, RADIUS, RADIUS)


def link_name(i: int) -> str:
    """Body (and geom) name of link ``i``: ``rope_head``, ``rope_1`` ... ``rope_tail``."""
    if i == 0:
        return "rope_head"
    if i == LINKS - 1:
        return "rope_tail"
    return f"rope_{i}"


def arc_shape(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Joint turns (rad, LINKS - 1 of them) and link start points (2-D, rope frame) of an arc."""
    total = rng.uniform(*BEND_RANGE) * rng.choice((-1.0, 1.0))
    share = 1.0 + rng.uniform(-BEND_JITTER, BEND_JITTER, LINKS - 1)
    turns = total * share / share.sum()
    headings = np.concatenate([[0.0], np.cumsum(turns)])
    steps = LINK * np.column_stack([np.cos(headings), np.sin(headings)])
    starts = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)[:-1]])
    return turns, starts + steps / 2


@register_task
class StraightenRope(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="straighten_rope",
        max_episode_steps=450,
        procedure=ProceduralAnnotation("pick_place", "rope", "downward", "pad_centre"),
        description="Pull both ends of the curved rope onto their targets so it lies straight.",
    )
    instructions = {
        "seen": (
            "straighten rope",
            "pull the rope straight",
            "take each end of the rope in turn and leave it lying straight on the table",
            "pull the two ends of the rope apart until it is straight",
            "tighten the rope",
            "pull the rope tight",
        ),
        "unseen": (
            "the cord is bent in a curve: stretch it out into a line",
            "drag both tips of the string outward so no slack bends it",
        ),
    }
    variation_count = 1
    tracked_bodies = ("rope_head", "rope_tail", f"rope_{LINKS // 2}", "target_head", "target_tail")

    def build_scene(self, scene: SceneBuilder) -> None:
        parent = scene.body("rope_head", pos=(0.3, 0.3, TABLE_TOP_Z + RADIUS), free=True)
        for i in range(LINKS):
            if i:
                parent = scene.body(link_name(i), pos=(LINK, 0.0, 0.0), parent=parent)
                parent.add_joint(name=f"{link_name(i)}_ball", type=BALL,
                                 damping=JOINT_DAMPING, armature=JOINT_ARMATURE)
            is_end = i in (0, LINKS - 1)
            geom = scene.capsule(parent, link_name(i), RADIUS, LINK / 2, END_RGBA if is_end else ROPE_RGBA,
                                 pos=(LINK / 2, 0.0, 0.0), quat=_CAPSULE_ALONG_X,
                                 mass=END_MASS if is_end else LINK_MASS, friction=ROPE_FRICTION)
            geom.contype = 2  # the links meet the table and the robot (contype 1), not each other
            geom.condim, geom.priority = END_CONDIM if is_end else MIDDLE_CONDIM, 1
        for end in SENSORS:
            body = scene.body(f"target_{end}", pos=(0.3, 0.0, TABLE_TOP_Z))
            scene.box(body, f"target_{end}", (SENSOR_HALF, SENSOR_HALF, 0.0005), TARGET_RGBA, pos=(0.0, 0.0, 0.0005),
                      collide=False)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        self.choose_variation(rng)
        def draw() -> TaskFrame | None:
            self.frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)
            self._place(sim, *arc_shape(rng))
            waypoints = [*self._waypoints(sim, "head", FIRST_OUTSET), *self._waypoints(sim, "tail", SECOND_OUTSET)]
            if reachable(sim, waypoints, ignore=[link_name(i) for i in range(LINKS)]):
                return self.frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(0)

    def _place(self, sim: Simulation, turns: np.ndarray, centres: np.ndarray) -> None:
        """Lay the rope in the arc: its end links' centres on the base's y axis, head at +y."""
        chord = centres[0] - centres[-1]
        yaw = math.pi / 2 - math.atan2(chord[1], chord[0])  # turns the chord onto base +y
        middle = (centres[0] + centres[-1]) / 2
        c, s = math.cos(yaw), math.sin(yaw)
        local = (np.array([[c, -s], [s, c]]) @ (np.zeros(2) - middle))  # the head's start point
        frame = self.frame
        sim.set_free_pose("rope_head", frame.point((local[0], local[1], RADIUS + 0.0005)),
                          yaw_quat(frame.yaw + yaw))
        for i, turn in enumerate(turns, start=1):
            adr = sim.model.joint(f"{link_name(i)}_ball").qposadr[0]
            sim.data.qpos[adr:adr + 4] = yaw_quat(float(turn))
        for end, sensor in SENSORS.items():
            sim.set_body_pose(f"target_{end}", frame.point(sensor.origin), frame.quat)
        sim.forward()

    # -- geometry ------------------------------------------------------------------------------
    def _link(self, sim: Simulation, end: str) -> str:
        return "rope_head" if end == "head" else "rope_tail"

    def _link_centre(self, sim: Simulation, name: str) -> np.ndarray:
        return sim.body_pos(name) + sim.body_mat(name)[:, 0] * (LINK / 2)

    def _grip_height(self, sim: Simulation) -> float:
        return sim.robot.fingertip_below_tcp + GRIP_CLEARANCE

    def _turn(self, sim: Simulation, end: str) -> float:
        """How far (rad, about z) the end link must turn to lie along the line between the
        targets, its free end outward. A link's x axis points from its joint toward the next
        link: the head's inward, the tail's outward."""
        axis = sim.body_mat(self._link(sim, end))[:, 0]
        sign = 1.0 if end == "head" else -1.0
        want = self.frame.direction((0.0, -sign * SENSORS[end].origin[1], 0.0))
        return math.remainder(math.atan2(want[1], want[0]) - math.atan2(axis[1], axis[0]), 2 * math.pi)

    def _grip_yaw(self, sim: Simulation, end: str) -> float:
        """Fingers closing across the end link; of the two such yaws, the one whose turn onto
        the line stays nearest the arm's natural yaw (the wrist keeps within its range)."""
        axis = sim.body_mat(self._link(sim, end))[:, 0]
        turn = self._turn(sim, end)
        return nearest_symmetric_yaw(math.atan2(axis[1], axis[0]) + math.pi / 2,
                                     sim.robot.natural_yaw[self.arm] - turn / 2)

    def _aim(self, end: str, height: float, outset: float = 0.0) -> np.ndarray:
        """Where ``end``'s link centre is put down: ``outset`` beyond its target's centre."""
        y = SENSORS[end].origin[1]
        return table_point(self.frame, (0.0, y + math.copysign(1.0, y) * outset), height)

    def _waypoints(self, sim: Simulation, end: str, outset: float = 0.0) -> list[tuple[np.ndarray, np.ndarray]]:
        """Above the end link, on it, lifted, turned halfway on the way, and at its aim point
        (TCP poses)."""
        grip = self._link_centre(sim, self._link(sim, end))
        grip[2] = TABLE_TOP_Z + self._grip_height(sim)
        yaw, turn = self._grip_yaw(sim, end), self._turn(sim, end)
        quat = gripper_down_quat(yaw)
        lifted = grip + (0.0, 0.0, CARRY)
        carried = self._aim(end, self._grip_height(sim) + CARRY, outset)
        return [(grip + (0.0, 0.0, APPROACH), quat), (grip, quat), (lifted, quat),
                ((lifted + carried) / 2, gripper_down_quat(yaw + turn / 2)), (carried, gripper_down_quat(yaw + turn))]

    # -- hooks ---------------------------------------------------------------------------------
    def _detected(self, sim: Simulation, end: str) -> bool:
        name = self._link(sim, end)
        return SENSORS[end].detects_box(self.frame, self._link_centre(sim, name), sim.body_mat(name), _LINK_BOX)

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        return all_of(head_on_target=self._detected(sim, "head"), tail_on_target=self._detected(sim, "tail"))

    def _drag_end(self, sim: Simulation, motion: Motion, end: str, outset: float) -> Iterator[np.ndarray]:
        robot = motion.robot
        (above, quat), (grip, _), (lifted, _), _, (carried, _) = self._waypoints(sim, end, outset)
        yaw, turn = self._grip_yaw(sim, end), self._turn(sim, end)
        yield from motion.move(self.arm, above, quat, steps=25, gripper=robot.gripper_open)
        yield from motion.line(self.arm, grip, quat, steps=14, segments=2)
        yield from motion.gripper(self.arm, robot.gripper_closed, steps=8)
        yield from motion.wait(2)
        yield from motion.line(self.arm, lifted, quat, steps=8, segments=1)
        # Carry: the end link turns onto the line a little at each IK point along the way.
        distance = float(np.linalg.norm(carried - lifted))
        segments = max(4, int(distance / 0.025), int(abs(turn) / 0.35))
        per = max(3, int(distance / 0.006) // segments)
        for k in range(1, segments + 1):
            yield from motion.move(self.arm, lifted + (carried - lifted) * k / segments,
                                   gripper_down_quat(yaw + turn * k / segments), per)
        put_quat = gripper_down_quat(yaw + turn)
        put = self._aim(end, self._grip_height(sim), outset)
        yield from motion.line(self.arm, put, put_quat, steps=8, segments=1)
        yield from motion.gripper(self.arm, robot.gripper_open, steps=6)
        yield from motion.line(self.arm, put + (0.0, 0.0, APPROACH), put_quat, steps=10, segments=1)

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yield from self._drag_end(sim, motion, "head", FIRST_OUTSET)
        yield from self._drag_end(sim, motion, "tail", SECOND_OUTSET)
        # Closed-loop fallback (the pulls above leave both ends on their targets in all measured
        # seeds): put back an end that has left its target, in a bounded number of passes.
        for _ in range(CORRECTIONS):
            for end in ("head", "tail"):
                if not self._detected(sim, end):
                    yield from self._drag_end(sim, motion, end, CORRECTION_OUTSET)
        yield from motion.wait(5)

    def trace(self, sim: Simulation) -> str:
        head, tail = (self._link_centre(sim, self._link(sim, e)) for e in ("head", "tail"))
        return f"span={np.linalg.norm(head - tail):.3f}"

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        for end in ("head", "tail"):
            name = self._link(sim, end)
            if sim.is_grasped(self.arm, name):
                return self.state_from_spec(sim, self._aim(end, RADIUS))
        end = "head" if not self._detected(sim, "head") else "tail"
        return self.state_from_spec(sim, self._link_centre(sim, self._link(sim, end)), f"grasp_{end}")
