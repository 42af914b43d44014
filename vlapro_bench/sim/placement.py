"""Planning and predicates for the placement tasks: grasp/place plans, release checks.

Split from the prop builders in :mod:`vlapro_bench.sim.objects.household`: that module says
what the props are, this one how an expert moves them and how a task judges the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from vlapro_bench.sim.geometry import (
    angle_between_quats,
    gripper_down_quat,
    nearest_symmetric_yaw,
    quat_to_mat,
    yaw_quat,
)
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.objects.household import (
    REST_SPEED,
    TABLE_BODY,
    GraspableProp,
    StandProp,
)
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.robot import ARMS, HOME_ARM_QPOS
from vlapro_bench.sim.skills import APPROACH_HEIGHT, NATURAL_YAW, place_at, top_grasp
from vlapro_bench.task_spec import ProceduralState


# -- placement helpers for tasks and experts ------------------------------------------------
def round_inertia(sim: Simulation, props: Iterable[GraspableProp]) -> None:
    """Give small props an isotropic rotational inertia (their largest principal moment).

    A random policy can spin a light, elongated prop (a phone, a can) at hundreds of rad/s;
    with the explicit Euler integrator the gyroscopic term of an anisotropic inertia then
    diverges and MuJoCo resets the whole state. With equal moments that term vanishes. The
    change only slows spins about a prop's long axis, which no task relies on. Idempotent, so
    tasks call it at every reset.
    """
    for prop in props:
        bid = sim.model.body(prop.body).id
        sim.model.body_inertia[bid] = sim.model.body_inertia[bid].max()


def footprint_near_rect(xy: np.ndarray, yaw: float, half_length: float, half_width: float,
                        rect_xy: Sequence[float] | np.ndarray, rect_half: Sequence[float], margin: float = 0.0,
                        samples: int = 9) -> bool:
    """Whether an elongated footprint (centre ``xy``, length along ``yaw``) comes within its
    half-width plus ``margin`` of an axis-aligned rectangle (centre ``rect_xy``, half-sizes
    ``rect_half``), checked at ``samples`` points along its length.

    Layout draws use it so an episode never starts with an object on, or against, its target.
    """
    axis = np.array([math.cos(yaw), math.sin(yaw)])
    grow = half_width + margin
    for t in np.linspace(-half_length, half_length, samples):
        d = np.abs(xy + t * axis - rect_xy)
        if d[0] < rect_half[0] + grow and d[1] < rect_half[1] + grow:
            return True
    return False


def set_on_table(sim: Simulation, prop: GraspableProp, xy: Sequence[float], yaw: float) -> None:
    """Stand a prop upright on the table at ``xy`` with heading ``yaw`` (1 mm above the top)."""
    sim.set_free_pose(prop.body, (float(xy[0]), float(xy[1]), 0.001), yaw_quat(yaw))


def touches_robot(sim: Simulation, body: str) -> bool:
    """True if any link of the robot (fingers, gripper, forearm...; either arm) touches the body.

    The simulation's own test, which knows its robot's bodies: a test by the ALOHA's name prefix
    would never see the Panda of the RLBench suite, and ``released_at_rest`` would then pass
    while a Panda still held the object.
    """
    return sim.touches_robot(body)


def released_at_rest(sim: Simulation, body: str) -> bool:
    """No part of the robot touches the body and it is not moving: not a transient pass, and
    not propped up by an arm."""
    return sim.body_speed(body) < REST_SPEED and not touches_robot(sim, body)


def resting_on(sim: Simulation, body: str, support: str) -> bool:
    """The body touches ``support`` and not the table: it is carried by the support alone."""
    return sim.in_contact(body, support) and not sim.in_contact(body, TABLE_BODY)


def hand_offset(sim: Simulation, arm: str, prop: GraspableProp) -> np.ndarray:
    """Where a held prop's origin is in the TCP frame.

    Measured while the prop is in the fingers, so a grasp that slipped is accounted for when
    the expert aims the placement; otherwise (an expert consumed without stepping the
    simulation) the nominal top-grasp offset: the origin ``grasp_z`` along the approach axis.
    """
    if sim.is_grasped(arm, prop.body):
        return sim.tcp_mat(arm).T @ (sim.body_pos(prop.body) - sim.tcp_pos(arm))
    return np.array([prop.grasp_z, 0.0, 0.0])


def body_yaw_in_world(sim: Simulation, body: str) -> float:
    """Heading of a body's x axis in the world xy plane."""
    mat = quat_to_mat(sim.body_quat(body))
    return math.atan2(mat[1, 0], mat[0, 0])


def pick_colour(rng: np.random.Generator, names: Sequence[str], exclude: Iterable[str] = ()) -> str:
    """One colour name from ``names`` (minus ``exclude``), drawn with the episode's generator."""
    pool = [n for n in names if n not in set(exclude)]
    return pool[int(rng.integers(len(pool)))]


def finger_yaw_now(motion: Motion, arm: str) -> float:
    """Finger-axis heading of the arm's commanded TCP pose."""
    _, quat = motion.tcp_target_pose(arm)
    finger = quat_to_mat(quat)[:, 1]
    return math.atan2(finger[1], finger[0])


@dataclass(frozen=True)
class Plan:
    """Joint solutions of a waypoint chain; ``from_current`` says the first came from the
    commanded joints (so a plain ``Motion.move`` reproduces it)."""

    option: int
    joints: list[np.ndarray]
    from_current: bool


def plan_chain(
    motion: Motion, arm: str, poses: Sequence[tuple[np.ndarray, np.ndarray]], seed: np.ndarray
) -> list[np.ndarray] | None:
    """Solve IK at every pose in turn, the first from ``seed`` and each next one from the
    previous solution; None if any fails."""
    q, joints = seed, []
    for pos, quat in poses:
        result = motion.ik.solve(arm, np.asarray(pos, float), quat, q)
        if not result.converged:
            return None
        q = result.qpos
        joints.append(q)
    return joints


def carry_turning(motion: Motion, arm: str, end: np.ndarray, start_yaw: float, end_yaw: float,
                  steps: int = 40, min_steps: int = 10, fallback: bool = False) -> Iterator[np.ndarray]:
    """Move the downward-pointing TCP from where it is commanded to ``end`` while turning the
    fingers from ``start_yaw`` to ``end_yaw`` in steps of at most 45 degrees, each an IK answer
    from the last, so the wrist never swings round in joint space (the local IK cannot jump
    half a turn); the shorter way round first. If neither way can be planned: one plain move
    to ``end`` when ``fallback``, else nothing (the expert's next move then raises)."""
    start, _ = motion.tcp_target_pose(arm)
    turn = math.remainder(end_yaw - start_yaw, 2 * math.pi)
    i = ARMS.index(arm)
    current = motion.action[7 * i : 7 * i + 6].copy()
    for total in (turn, turn - math.copysign(2 * math.pi, turn)):
        count = max(1, math.ceil(abs(total) / (math.pi / 4)))
        poses = [(start + (end - start) * k / count, gripper_down_quat(start_yaw + total * k / count))
                 for k in range(1, count + 1)]
        if plan_chain(motion, arm, poses, current) is not None:
            for target, quat in poses:
                yield from motion.move(arm, target, quat, steps=max(min_steps, steps // count))
            return
    if fallback:
        yield from motion.move(arm, end, gripper_down_quat(end_yaw), steps=steps)


def first_feasible(motion: Motion, arm: str, options: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]]) -> Plan:
    """The first option (a waypoint chain) the IK can follow from the commanded joints.

    The solver is local: a reachable pose can fail from an unlucky start (for example with the
    wrist turned far from its natural yaw), so if no option works from the commanded joints,
    the options are tried again from the ready pose. Failing both, option 0 is returned as is
    (its first move raises ``PlanningError``, which ends the expert).
    """
    i = ARMS.index(arm)
    for from_current, seed in ((True, motion.action[7 * i : 7 * i + 6].copy()), (False, HOME_ARM_QPOS)):
        for k, poses in enumerate(options):
            joints = plan_chain(motion, arm, poses, seed)
            if joints is not None:
                return Plan(k, joints, from_current)
    return Plan(0, [], True)


def go_to_plan_start(motion: Motion, arm: str, plan: Plan, steps: int = 30) -> Iterator[np.ndarray]:
    """Joint move to a plan's first waypoint when it came from another IK seed (the skills that
    follow then start from there); nothing when the commanded joints already lead there."""
    if not plan.from_current and plan.joints:
        yield from motion.move_joints({arm: plan.joints[0]}, steps)


def equivalent_yaws(yaw: float, symmetry: float, reference: float) -> list[float]:
    """Finger yaws equivalent to ``yaw`` for a prop of the given symmetry, nearest to
    ``reference`` first (half a turn at most either way)."""
    base = nearest_symmetric_yaw(yaw, reference, symmetry)
    count = max(1, round(math.pi / symmetry))
    yaws = {round(base + k * symmetry, 9) for k in range(-count, count + 1)}
    return sorted((y for y in yaws if abs(y - reference) <= math.pi + 1e-6), key=lambda y: abs(y - reference))


def grasp_options(
    sim: Simulation, arm: str, prop: GraspableProp, lift: float = 0.08
) -> tuple[list[float], list[list[tuple[np.ndarray, np.ndarray]]]]:
    """Equivalent top-grasp finger yaws (nearest the arm's natural yaw first) and, for each,
    its waypoint chain: approach, grasp, lift."""
    mat = sim.body_mat(prop.body)
    body_yaw = math.atan2(mat[1, 0], mat[0, 0])
    pos = sim.body_pos(prop.body) + (0, 0, prop.grasp_z)
    yaws = equivalent_yaws(body_yaw + prop.grasp_yaw_offset, prop.symmetry, NATURAL_YAW[arm])
    chains = [
        [(pos + (0, 0, APPROACH_HEIGHT), q), (pos, q), (pos + (0, 0, lift), q)]
        for q in (gripper_down_quat(y) for y in yaws)
    ]
    return yaws, chains


def plan_pick_place(
    motion: Motion,
    arm: str,
    grasps: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]],
    places: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]],
) -> tuple[int, int]:
    """Indices of the first (grasp, place) chain pair the IK can follow in sequence from the
    commanded joints, so the wrist is not left on a branch from which the placement needs a
    big swing; (first feasible grasp, 0) if no pair works. For each grasp, the placements
    are tried nearest-orientation first."""
    i = ARMS.index(arm)
    current = motion.action[7 * i : 7 * i + 6].copy()
    fallback = None
    for g, grasp in enumerate(grasps):
        joints = plan_chain(motion, arm, grasp, current)
        if joints is None:
            continue
        fallback = g if fallback is None else fallback
        turn = [angle_between_quats(place[0][1], grasp[-1][1]) for place in places]
        for p in sorted(range(len(places)), key=turn.__getitem__):
            if plan_chain(motion, arm, places[p], joints[-1]) is not None:
                return g, p
    return (fallback or 0), 0


def grasp_prop(
    sim: Simulation, motion: Motion, arm: str, prop: GraspableProp, lift: float = 0.08, yaw: float | None = None
) -> Iterator[np.ndarray]:
    """Top-down grasp of a prop across its grasp axis: with ``yaw`` if given, else with the first
    equivalent finger yaw (nearest the arm's natural yaw first) the IK can reach."""
    if yaw is None:
        yaws, chains = grasp_options(sim, arm, prop, lift)
        plan = first_feasible(motion, arm, chains)
        yield from go_to_plan_start(motion, arm, plan)
        yaw = yaws[plan.option]
    yield from top_grasp(sim, motion, arm, prop.body, grasp_offset=(0, 0, prop.grasp_z), yaw=yaw, lift=lift)


def place_prop(
    sim: Simulation,
    motion: Motion,
    arm: str,
    prop: GraspableProp,
    goal: np.ndarray,
    yaws: Sequence[float],
    hover: float = 0.07,
    retreat: float = 0.08,
) -> Iterator[np.ndarray]:
    """Carry a held prop top-down so that its origin lands at ``goal``, release, retreat.

    ``yaws`` are acceptable finger yaws in order of preference; the first the IK can follow
    (hover, release, retreat) is used. The prop's offset in the hand is measured, so a grasp
    that slipped still puts the prop where it should go.
    """
    offset = hand_offset(sim, arm, prop)
    options, targets = [], []
    for yaw in yaws:
        quat = gripper_down_quat(yaw)
        tcp = np.asarray(goal, float) - quat_to_mat(quat) @ offset
        targets.append(tcp)
        options.append([(tcp + (0, 0, hover), quat), (tcp, quat), (tcp + (0, 0, retreat), quat)])
    plan = first_feasible(motion, arm, options)
    yield from go_to_plan_start(motion, arm, plan)
    yield from place_at(motion, arm, targets[plan.option], yaw=yaws[plan.option], hover=hover, retreat=retreat)


def place_on_stand(
    sim: Simulation,
    motion: Motion,
    arm: str,
    prop: GraspableProp,
    stand: StandProp,
    v: float = 0.0,
    clearance: float = 0.006,
) -> Iterator[np.ndarray]:
    """Carry a held prop over the stand's support and release it just above the surface.

    The fingers turn along the stand's width (its x axis), where an inclined board does not
    rise, so the finger tips stay clear of the board at release.
    """
    _, stand_rot = stand.support_pose(sim)
    stand_yaw = math.atan2(stand_rot[1, 0], stand_rot[0, 0])
    yaws = equivalent_yaws(stand_yaw, math.pi, finger_yaw_now(motion, arm))
    lift = clearance + prop.radius * math.tan(stand.tilt)
    goal = stand.surface_point(sim, 0.0, v) + (0, 0, lift)
    yield from place_prop(sim, motion, arm, prop, goal, yaws)


def placement_state(
    sim: Simulation, arm: str, prop: GraspableProp, target: np.ndarray, placed: bool
) -> ProceduralState:
    """Procedural state of a pick-and-place: grasp, then place while carried, then retreat.

    ``target`` is where the prop goes; ``placed`` says it already rests there.
    """
    if sim.is_grasped(arm, prop.body):
        action, stage, point = "place", "place", target
    elif placed:
        action, stage, point = "place", "retreat", target
    else:
        action, stage, point = "grasp", "grasp", sim.body_pos(prop.body) + (0, 0, prop.grasp_z)
    return ProceduralState(
        action_type=action,
        object_geometry=prop.geometry,
        ee_orientation=sim.tcp_quat(arm),
        target_point=np.asarray(point, float),
        arm=arm,
        stage=stage,
    )
