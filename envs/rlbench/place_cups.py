"""place_cups: hang one, two or three mugs by their handles on the spokes of a mug tree.

Description:
    Three mugs with loop handles stand on the table around a mug tree (a post with three
    spokes slanting up). The Panda grasps a mug by its rim from above, turns it so that its
    handle's loop lines up with a free spoke, threads the loop over the spoke from its tip and
    lets go, so the mug hangs by its handle; it does this for the named number of mugs
    (RLBench ``place_cups``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    ``object_state`` tracks the mug tree and the three mugs.
Success:
    At least N mugs hang on spokes, and nothing is held. A mug hangs on a spoke when the
    spoke's axis (from the post to the tip) passes through its handle's loop, the mug touches
    the tree and not the table, no part of the robot touches it and it is at rest.
    **Fidelity:** RLBench: ``NothingGrasped`` and, for each of the mugs ``mug0`` .. ``mug{N-1}``,
    ``OrConditions`` of ``DetectedCondition(mug, success_detector{k})`` over the three spokes'
    proximity sensors; ours: the detectors' volumes are not in the reference geometry, so we
    test whether a spoke passes through the handle's loop; any N of the three mugs count (upstream
    names the first N mugs, which an instruction cannot tell apart); and a mug must hang at
    rest and let go, so a mug that slides off a spoke, or is held against it, does not count.
Starting state:
    RLBench's ``place_cups.ttm`` is not in the reference geometry, so the sizes are ours: open
    mugs 6.4 cm wide and 8.5 cm tall with a 4 mm wall, 0.09 kg, with a loop handle whose
    opening is 4.1 x 3.6 cm; a mug tree of a 14 cm disc, a 20.5 cm post and three 8.5 cm
    spokes 120 degrees apart, slanting up by 20 degrees, their roots at 20 cm. The tree stands
    at the task base, which gets RLBench's yaw bounds [-pi/2, pi/2] and a position x
    0.15..0.28, y -0.12..0.12. The mugs are placed upright with a uniform yaw inside a 0.6 x
    0.6 m spawn boundary around the tree, at least 0.12 m apart (upstream 0.10 m; ours leave
    room for the fingers) and 0.22 m from the tree, inside the area the Panda grasps from
    above. Placements whose waypoints have no collision-free IK solution, or whose turn from
    the grasp to the hanging yaw takes the wrist's last joint within 0.3 rad of its limit,
    are drawn again (RLBench's placement check), and so are placements where a handle comes
    within 2 cm of another mug (two handles could hook) or where the hand, lying along a
    mug's handle at its rim grasp, would reach within 0.19 m of the post (over the mugs
    already hanging there).
Geometry:
    A mug's wall is 16 flat slabs around a hollow and a floor disc. The fingers pinch the
    wall at the rim on the side away from the handle, one finger inside the mug and one
    outside, so the mug hangs below the hand with the handle pointing away from it and the
    hand stays clear of the spoke while the loop is threaded. A mug hangs beside its spoke
    (counter-clockwise of it seen from above), so three hanging mugs stay clear of each other;
    let go, it swings down until its centre of mass is under the spoke (its axis about 70
    degrees from upright). The spokes have rolling friction (condim 6), which stands for the
    drag of a handle turning on a wooden peg, so the mug comes to rest within about a second
    instead of swinging on a frictionless pivot.
Variations:
    3: N = 1, 2 or 3 mugs to hang (RLBench's order).
Episode end:
    Success, or 2000 control steps (100 s at 20 Hz; the expert needs at most 1241 on seeds
    0-49 and 100000-100049).
Version history:
    v0: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.registry import ProceduralAnnotation, register_task
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.franka import JOINT_LIMITS, TABLE_TOP_Z
from vlapro_bench.sim.geometry import gripper_down_quat
from vlapro_bench.sim.ik import shared_ik
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import TABLE_BODY
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.skills import NATURAL_YAW
from vlapro_bench.task import ProceduralState, all_of

from ._common import RLBenchTask, TaskFrame, reachable, sample_frame
from ._cups import (
    HANDLE_BAR,
    HANDLE_POINT,
    HANDLE_REACH,
    MUG_HEIGHT,
    MUG_RADIUS,
    MUG_WALL,
    SPOKE_HEADINGS,
    SPOKE_LENGTH,
    handle_site,
    mug,
    mug_tree,
    spoke_point,
    through_loop,
)
from ._pick_and_carry import Rect, in_reach, random_yaw_quat, sample_in_boundaries, table_point

TREE = "place_cups_holder"
MUGS = tuple(f"place_cups_mug{i}" for i in range(3))
BOUNDARY = (Rect((0.0, 0.0), (0.6, 0.6)),)
MIN_DISTANCE = 0.12
TREE_CLEARANCE = 0.22
YAW_BOUNDS = (-math.pi / 2, math.pi / 2)
X_RANGE = (0.15, 0.28)
Y_RANGE = (-0.12, 0.12)
REST_SPEED = 0.05
#: TCP below the mug's top for the grasp; lift height; how far beyond the spoke's tip the loop
#: starts its threading move and how far along the spoke (from the post's axis) it is let go.
GRASP_BELOW_TOP = 0.015
#: Rim grasp: the TCP's distance from the mug's axis (on the side away from the handle, a
#: little inside the wall, as the inner finger meets the curved inside at its ends) and the
#: finger opening (per finger) that puts one finger inside the mug and one outside.
GRASP_RADIUS = MUG_RADIUS - MUG_WALL / 2 - 0.004
GRASP_OPEN = 0.02
#: The held mug is carried with the TCP this high over the table, its bottom above the tree.
CARRY_Z = 0.34
THREAD_FROM = SPOKE_LENGTH + 0.08
THREAD_TO = 0.065
#: Lift and carry slowly: a held mug still turns a few degrees in the pinch as the hand lifts
#: (see ``_pick_and_carry.place_held``); the loop is aimed from where it is measured to be.
LIFT_STEPS = 60
CARRY_STEPS = 120
#: Finger yaws the wrist reaches pointing down, relative to the natural yaw (rad), roughly (the
#: last joint's range around its natural angle): grasp and turn candidates inside it are tried
#: first, and an IK check along the turn (``_wrist_turns``) decides.
WRIST_YAW_RANGE = (-2.35, 3.1)
#: The handle is turned to within this yaw of its hanging heading, in at most this many fixes.
YAW_TOLERANCE = math.radians(3)
TURN_FIXES = 4
#: Grasp / turn candidates tried (cheapest first) and the margin (rad) the wrist's last joint
#: keeps from its limits while turning.
WRIST_CANDIDATES = 6
#: Least gap between a mug's handle and another mug at the start.
HANDLE_GAP = 0.02
#: The hand's half length along the finger axis, and how far its ends stay from the post's
#: axis at a grasp (the hanging mugs reach about 0.15 m from it).
HAND_HALF_LENGTH = 0.11
HAND_CLEARANCE = 0.19
WRIST_MARGIN = 0.3
#: After threading, the mug is lowered this much before the fingers open.
LOWER = 0.014


@register_task
class PlaceCups(RLBenchTask):
    spec = RLBenchTask.spec_for(
        name="place_cups",
        max_episode_steps=2000,
        procedure=ProceduralAnnotation("hang", "mug", "downward", "handle"),
        description="Hang the named number of mugs by their handles on the spokes of the mug tree.",
    )
    instructions = {
        "seen": (
            "place {count} {cups} on the cup holder",
            "pick up {count} {cups} and put them on the mug tree",
            "move {count} {cups} from the table to the cup holder",
            "pick up {count} {cups} and slide each handle onto a spoke of the mug holder",
            "hang {count} {cups} on the mug tree",
            "put {count} {cups} onto the holder's spokes",
        ),
        "unseen": (
            "thread the handle loops of {count} {cups} over the pegs of the stand",
            "take {count} {cups} off the table and suspend them from the rack's arms",
        ),
    }
    variation_count = 3
    tracked_bodies = (TREE, *MUGS)
    #: (mug, spoke) in the order the expert hangs them (set with the layout).
    plan: list[tuple[str, int]]

    def build_scene(self, scene: SceneBuilder) -> None:
        self.tree_geoms = mug_tree(scene, TREE)
        for name in MUGS:
            mug(scene, name)

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        index = self.choose_variation(rng)
        self.count = index + 1
        for name in MUGS:  # isotropic inertia: a tumbling mug cannot spin up the gyroscopic term
            bid = sim.model.body(name).id
            sim.model.body_inertia[bid] = sim.model.body_inertia[bid].max()

        def draw() -> TaskFrame | None:
            frame = sample_frame(rng, YAW_BOUNDS, X_RANGE, Y_RANGE)

            def accept(xy, frame=frame):
                return np.hypot(*xy) >= TREE_CLEARANCE and in_reach(frame.point((xy[0], xy[1], 0.0)))
            points = sample_in_boundaries(rng, BOUNDARY, len(MUGS), MIN_DISTANCE, 0.06, accept)
            if points is None:
                return None
            self.frame = frame
            sim.set_body_pose(TREE, frame.pos, frame.quat)
            for name, xy in zip(MUGS, points, strict=True):
                sim.set_free_pose(name, table_point(frame, xy, 0.0005), random_yaw_quat(rng))
            sim.forward()
            self.plan = self._plan(sim)
            if (self._handles_apart(sim) and self._hand_clear(sim) and self._wrist_can_turn(sim)
                    and reachable(sim, self._waypoints(sim))):
                return frame
            return None
        self.frame = self.draw_layout(draw)
        return self.variation_placeholders(index)

    def variation_placeholders(self, index: int) -> dict[str, str]:
        return {"count": str(index + 1), "cups": "mug" if index == 0 else "mugs"}

    # -- geometry ---------------------------------------------------------------------------
    def spoke_world(self, spoke: int, along: float) -> np.ndarray:
        return self.frame.point(spoke_point(spoke, along))

    def spoke_heading(self, spoke: int) -> float:
        return self.frame.yaw + SPOKE_HEADINGS[spoke]

    def _on_spoke(self, sim: Simulation, name: str) -> int | None:
        """The spoke whose axis passes through ``name``'s handle loop, if any."""
        pos, rot = sim.body_pos(name), sim.body_mat(name)
        for k in range(len(SPOKE_HEADINGS)):
            root = rot.T @ (self.spoke_world(k, 0.0) - pos)
            tip = rot.T @ (self.spoke_world(k, SPOKE_LENGTH) - pos)
            if through_loop(root, tip):
                return k
        return None

    def _hangs(self, sim: Simulation, name: str) -> bool:
        return (self._on_spoke(sim, name) is not None and sim.in_contact(name, TREE)
                and not sim.in_contact(name, TABLE_BODY) and not sim.touches_robot(name)
                and sim.body_speed(name) < REST_SPEED)

    def _held(self, sim: Simulation) -> str | None:
        for name in MUGS:
            if sim.is_grasped(self.arm, name):
                return name
        return None

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        hanging = sum(self._hangs(sim, name) for name in MUGS)
        return all_of(enough_mugs_on_spokes=hanging >= self.count, nothing_held=self._held(sim) is None)

    # -- expert -----------------------------------------------------------------------------
    def _plan(self, sim: Simulation) -> list[tuple[str, int]]:
        """Which mug goes on which spoke: spokes farthest from the robot first (the arm then
        never reaches over a hanging mug), each taking the nearest mug still on the table."""
        spokes = sorted(range(len(SPOKE_HEADINGS)), key=lambda k: -self.spoke_world(k, SPOKE_LENGTH)[0])
        left = list(MUGS)
        plan = []
        for k in spokes[: self.count]:
            tip = self.spoke_world(k, SPOKE_LENGTH)[:2]
            name = min(left, key=lambda m: float(np.linalg.norm(sim.body_pos(m)[:2] - tip)))
            left.remove(name)
            plan.append((name, k))
        return plan

    def _mug_yaw(self, sim: Simulation, name: str) -> float:
        x = sim.body_mat(name)[:, 0]
        return math.atan2(x[1], x[0])

    def _yaws(self, sim: Simulation, name: str, spoke: int) -> tuple[float, float]:
        return self._yaw_choice(sim, name, spoke)[0]

    def _yaw_choice(self, sim: Simulation, name: str, spoke: int) -> tuple[tuple[float, float], bool]:
        """Finger yaw at the grasp and while hanging: the fingers close across the mug's wall
        on the side away from the handle (along its x axis), and hanging, the handle points
        clockwise of the spoke (the body sits counter-clockwise of it), so the loop opens along
        the spoke; and whether the wrist can turn between them."""
        mug_yaw = self._mug_yaw(sim, name)
        turn = math.remainder(self.spoke_heading(spoke) - math.pi / 2 - mug_yaw, 2 * math.pi)
        natural = NATURAL_YAW[self.arm]
        # The grasp yaw is fixed up to half turns (fingers either way round), the turn up to a
        # whole one (either way round): of these, the pair whose start and end yaws stay inside
        # the wrist's range and nearest the natural yaw.
        base = natural + math.remainder(mug_yaw - natural, math.pi)
        low, high = WRIST_YAW_RANGE

        def cost(pair: tuple[float, float]) -> float:
            g, t = pair[0] - natural, pair[0] + pair[1] - natural
            outside = max(0.0, low - min(g, t), max(g, t) - high)
            return 10.0 * outside + max(abs(g), abs(t))
        pairs = [(base + k * math.pi, t) for k in range(-2, 3) for t in (turn, turn - math.copysign(2 * math.pi, turn))]
        pairs.sort(key=cost)
        for grasp, turn in pairs[:WRIST_CANDIDATES]:
            if self._wrist_turns(sim, name, spoke, grasp, grasp + turn):
                return (grasp, grasp + turn), True
        return (pairs[0][0], pairs[0][0] + pairs[0][1]), False

    def _wrist_turns(self, sim: Simulation, name: str, spoke: int, grasp_yaw: float, hang_yaw: float) -> bool:
        """Whether the arm turns the mug from ``grasp_yaw`` to ``hang_yaw`` over the tree as the
        expert does (IK solved along the way from the grasp, on one branch) with its last joint
        at least ``WRIST_MARGIN`` inside its range."""
        robot = sim.robot
        ik = shared_ik(robot)
        limit = JOINT_LIMITS[6][1] - WRIST_MARGIN
        q = robot.home_action()[robot.arm_slice(self.arm)]
        grasp = self._carry(self._grasp_point(sim, name))
        above = self._carry(self.spoke_world(spoke, THREAD_FROM) + self._hang_offset(spoke))
        count = max(1, math.ceil(abs(hang_yaw - grasp_yaw) / (math.pi / 4)))
        for k in range(count + 1):
            yaw = grasp_yaw + (hang_yaw - grasp_yaw) * k / count
            result = ik.solve(self.arm, grasp + (above - grasp) * k / count, gripper_down_quat(yaw), q)
            if not result.converged or abs(result.qpos[6]) > limit or (k and abs(result.qpos[6] - q[6]) > 1.2):
                return False
            q = result.qpos
        return True

    def _handles_apart(self, sim: Simulation) -> bool:
        """Whether no mug's handle reaches within ``HANDLE_GAP`` of another mug's body or
        handle (two handles facing each other could hook, and one mug drag another along)."""
        along = np.linspace(MUG_RADIUS, MUG_RADIUS + HANDLE_REACH + HANDLE_BAR, 6)
        handles = {name: sim.body_pos(name)[:2] + np.outer(along, sim.body_mat(name)[:2, 0]) for name in MUGS}
        for name in MUGS:
            for other in MUGS:
                if other == name:
                    continue
                gaps = np.linalg.norm(handles[name][:, None] - handles[other][None], axis=2)
                body = np.linalg.norm(handles[name] - sim.body_pos(other)[:2], axis=1) - MUG_RADIUS
                if gaps.min() < HANDLE_GAP or body.min() < HANDLE_GAP:
                    return False
        return True

    def _hand_clear(self, sim: Simulation) -> bool:
        """Whether the hand, lying along the handle's direction at each rim grasp, stays
        ``HAND_CLEARANCE`` away from the post (the mugs hanging round it are not there yet when
        the placement is checked, but they will be when the later mugs are grasped)."""
        post = self.frame.pos[:2]
        for name, _ in self.plan:
            tcp = self._grasp_point(sim, name)[:2]
            along = sim.body_mat(name)[:2, 0]
            for end in (tcp + HAND_HALF_LENGTH * along, tcp - HAND_HALF_LENGTH * along):
                if np.linalg.norm(end - post) < HAND_CLEARANCE:
                    return False
        return True

    def _wrist_can_turn(self, sim: Simulation) -> bool:
        """Whether every planned mug has a grasp and hanging yaw the wrist can turn between."""
        return all(self._yaw_choice(sim, name, spoke)[1] for name, spoke in self.plan)

    def _hang_offset(self, spoke: int) -> np.ndarray:
        """TCP minus loop middle (world) for a mug held at the grasp height, turned to hang on
        ``spoke``: its handle (local +x) points clockwise of the spoke."""
        mug_yaw = self.spoke_heading(spoke) - math.pi / 2
        c, s = math.cos(mug_yaw), math.sin(mug_yaw)
        reach = -GRASP_RADIUS - HANDLE_POINT[0]
        return np.array([c * reach, s * reach, MUG_HEIGHT - GRASP_BELOW_TOP - HANDLE_POINT[2]])

    def _grasp_point(self, sim: Simulation, name: str) -> np.ndarray:
        """The TCP at the rim grasp: inside the wall on the side away from the handle."""
        return sim.body_pos(name) + sim.body_mat(name) @ (-GRASP_RADIUS, 0.0, MUG_HEIGHT - GRASP_BELOW_TOP)

    def _waypoints(self, sim: Simulation) -> list[tuple[np.ndarray, np.ndarray]]:
        poses = []
        for name, spoke in self.plan:
            grasp_yaw, hang_yaw = self._yaws(sim, name, spoke)
            grasp = self._grasp_point(sim, name)
            offset = self._hang_offset(spoke)
            quat, hang = gripper_down_quat(grasp_yaw), gripper_down_quat(hang_yaw)
            start = self.spoke_world(spoke, THREAD_FROM) + offset
            end = self.spoke_world(spoke, THREAD_TO) + offset
            count = max(1, math.ceil(abs(hang_yaw - grasp_yaw) / (math.pi / 4)))
            turning = [(self._carry(grasp + (start - grasp) * k / count),
                        gripper_down_quat(grasp_yaw + (hang_yaw - grasp_yaw) * k / count)) for k in range(1, count + 1)]
            poses += [(self._carry(grasp), quat), (grasp, quat), (self._carry(grasp), quat), *turning,
                      (start, hang), (end, hang), (end - (0, 0, LOWER), hang),
                      (self._carry(end), hang)]
        return poses

    def _carry(self, point: np.ndarray) -> np.ndarray:
        """``point`` raised to the carrying height."""
        return np.array([point[0], point[1], TABLE_TOP_Z + CARRY_Z])

    def _turn(self, motion: Motion, end: np.ndarray, start_yaw: float, end_yaw: float,
              steps: int) -> Iterator[np.ndarray]:
        """Move the TCP to ``end`` while turning the fingers in steps of at most 45 degrees, so
        the wrist turns the way it was asked to."""
        start, _ = motion.tcp_target_pose(self.arm)
        count = max(1, math.ceil(abs(end_yaw - start_yaw) / (math.pi / 4)))
        for k in range(1, count + 1):
            yaw = start_yaw + (end_yaw - start_yaw) * k / count
            yield from motion.move(self.arm, start + (end - start) * k / count, gripper_down_quat(yaw),
                                   steps=max(8, steps // count))

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        yaw = NATURAL_YAW[self.arm]  # the fingers' yaw now
        for name, spoke in self.plan:
            if self._hangs(sim, name):
                continue
            grasp_yaw, hang_yaw = self._yaws(sim, name, spoke)
            quat = gripper_down_quat(grasp_yaw)
            grasp = self._grasp_point(sim, name)
            # Over to the mug at the carrying height, turning the wrist on the way (a joint-space
            # move from over the tree can dip the hand onto the tree).
            yield from motion.gripper(self.arm, GRASP_OPEN, steps=6)
            yield from self._turn(motion, self._carry(grasp), yaw, grasp_yaw, steps=40)
            yield from motion.line(self.arm, grasp, quat, steps=30, segments=3)
            yield from motion.gripper(self.arm, 0.0, steps=10)
            yield from motion.wait(4)
            yield from motion.line(self.arm, self._carry(grasp), quat, steps=LIFT_STEPS, segments=3)
            # Carry over the tree turning the mug, come down beyond the spoke's tip, then aim the
            # loop, not the TCP (measured in the hand), along the spoke.
            start = self.spoke_world(spoke, THREAD_FROM)
            above = self._carry(start + self._hang_offset(spoke))
            yield from self._turn(motion, above, grasp_yaw, hang_yaw, steps=CARRY_STEPS)
            # The mug creeps round between the pads while the hand turns (a tenth of the turn or
            # more): turn on by what is left until the handle points where it should.
            want = self.spoke_heading(spoke) - math.pi / 2
            for _ in range(TURN_FIXES):
                yield from motion.wait(4)
                error = math.remainder(want - self._mug_yaw(sim, name), 2 * math.pi)
                if abs(error) < YAW_TOLERANCE:
                    break
                yield from self._turn(motion, above, hang_yaw, hang_yaw + error, steps=16)
                hang_yaw += error
            hang = gripper_down_quat(hang_yaw)
            yield from motion.line(self.arm, start + self._hang_offset(spoke) + (0.0, 0.0, 0.03), hang, steps=30,
                                   segments=2)
            yield from motion.wait(4)
            offset = sim.tcp_pos(self.arm) - sim.site_pos(handle_site(name))
            yield from motion.line(self.arm, start + offset, hang, steps=10, segments=1)
            end = self.spoke_world(spoke, THREAD_TO) + offset
            yield from motion.line(self.arm, end, hang, steps=30, segments=3)
            yield from motion.line(self.arm, end - (0.0, 0.0, LOWER), hang, steps=10, segments=1)
            yield from motion.gripper(self.arm, GRASP_OPEN, steps=10)
            yield from motion.wait(4)
            yield from motion.line(self.arm, self._carry(end), hang, steps=20, segments=2)
            yaw = hang_yaw
        yield from motion.wait(60)  # a mug let go swings on its spoke for a second or two

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        held = self._held(sim)
        spokes = dict(self.plan)
        if held is not None:
            spoke = spokes.get(held, self.plan[-1][1])
            return self.state_from_spec(sim, self.spoke_world(spoke, THREAD_TO), f"hang_{held[-4:]}")
        waiting = [name for name, _ in self.plan if not self._hangs(sim, name)]
        target = waiting[0] if waiting else self.plan[-1][0]
        point = self._grasp_point(sim, target)
        return self.state_from_spec(sim, point, f"grasp_{target[-4:]}", action_type="grasp")
