"""Control (action) modes: how a policy's action becomes the robot's next joint target.

Each suite names its modes as its upstream benchmark does: RoboTwin's ``qpos`` and ``ee``;
RLBench's ``joint_delta`` (its gym default), ``joint_position`` and ``ee_pose``. A mode knows its
action space, turns an action into the next commanded joint vector, and turns a joint-vector
target back into actions (the scripted experts plan in joint space, so one expert serves every
mode).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from gymnasium import spaces

from vlapro_bench.errors import InvalidActionError
from vlapro_bench.sim.ik import shared_ik
from vlapro_bench.sim.robot_model import RobotModel


@dataclass(frozen=True)
class ControlContext:
    """What a mode needs to know about the robot it drives."""

    robot: RobotModel
    low: np.ndarray  # joint-vector lower bounds
    high: np.ndarray  # joint-vector upper bounds
    #: Largest change of an arm joint target per control step for absolute modes (rad).
    max_joint_step: float
    #: True for arm joints, False for gripper entries (computed once: this runs every step).
    arm_mask: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arm_mask", self.robot.arm_joint_mask())


class ControlMode(ABC):
    """One way of commanding the robot. Stateless; the environment keeps the commanded target."""

    #: True when an action is relative to the commanded target (a delta): the expert then ends
    #: on a zero action so that repeating its last action holds the arm still.
    relative: bool = False

    def __init__(self, name: str):
        self.name = name

    @abstractmethod
    def action_space(self, ctx: ControlContext) -> spaces.Box:
        """The Box of valid actions."""

    @abstractmethod
    def next_target(self, action: np.ndarray, commanded: np.ndarray, ctx: ControlContext) -> np.ndarray:
        """The joint vector to command after ``action``, from the current ``commanded`` one."""

    @abstractmethod
    def encode(self, target: np.ndarray, commanded: np.ndarray, ctx: ControlContext) -> list[np.ndarray]:
        """Actions that take the commanded joint vector from ``commanded`` to ``target``."""

    def hold(self, commanded: np.ndarray, ctx: ControlContext) -> np.ndarray:
        """The action that keeps the current target."""
        return self.encode(commanded, commanded, ctx)[-1]


def _rate_limited(target: np.ndarray, commanded: np.ndarray, ctx: ControlContext) -> np.ndarray:
    """Clip to the joint limits and move the arm joints at most ``max_joint_step`` from
    ``commanded`` (the gripper entries jump): without it a random policy's target jumps make the
    contact solver diverge."""
    target = np.minimum(np.maximum(target, ctx.low), ctx.high)  # np.clip's dispatch is slower (every step)
    delta = np.minimum(np.maximum(target - commanded, -ctx.max_joint_step), ctx.max_joint_step)
    return np.where(ctx.arm_mask, commanded + delta, target)


class AbsoluteJoints(ControlMode):
    """Absolute joint-vector targets, arm by arm ``[joints..., gripper]`` (RoboTwin's ``qpos``,
    RLBench's ``joint_position``)."""

    def action_space(self, ctx: ControlContext) -> spaces.Box:
        return spaces.Box(ctx.low, ctx.high, shape=ctx.low.shape, dtype=np.float32)

    def next_target(self, action, commanded, ctx):
        return _rate_limited(action, commanded, ctx)

    def encode(self, target, commanded, ctx):
        return [target]


class JointDelta(ControlMode):
    """Arm joint deltas added to the commanded target, plus an absolute gripper value
    (RLBench's ``JointPositionActionMode``: bounds ``[-0.1]*7 + [0]`` .. ``[0.1]*7 + [0.04]``).

    The delta is added to the previous *target*, not to the measured joints (RLBench adds it to
    the measured ones): a chunk of deltas then replays exactly, whatever the tracking lag, which
    is what chunked policies and recorded demonstrations need. With the stiff joint servos the
    two differ by the lag (a few milliradians in free motion).
    """

    relative = True

    def __init__(self, name: str, max_delta: float):
        super().__init__(name)
        self.max_delta = max_delta
        self._bounds_cache: dict[int, tuple[ControlContext, np.ndarray, np.ndarray]] = {}

    def _bounds(self, ctx: ControlContext) -> tuple[np.ndarray, np.ndarray]:
        cached = self._bounds_cache.get(id(ctx))
        if cached is None or cached[0] is not ctx:
            mask = ctx.arm_mask
            low = np.where(mask, -self.max_delta, ctx.low).astype(np.float32)
            high = np.where(mask, self.max_delta, ctx.high).astype(np.float32)
            cached = self._bounds_cache[id(ctx)] = (ctx, low, high)
        return cached[1], cached[2]

    def action_space(self, ctx: ControlContext) -> spaces.Box:
        low, high = self._bounds(ctx)
        return spaces.Box(low, high, shape=low.shape, dtype=np.float32)

    def next_target(self, action, commanded, ctx):
        low, high = self._bounds(ctx)
        # minimum/maximum rather than np.clip: this runs every step, and np.clip's dispatch costs
        # more than the arithmetic on 8 numbers.
        action = np.minimum(np.maximum(action, low), high)
        return np.minimum(np.maximum(np.where(ctx.arm_mask, commanded + action, action), ctx.low), ctx.high)

    def encode(self, target, commanded, ctx):
        mask = ctx.arm_mask
        target = np.clip(target, ctx.low, ctx.high)
        if not np.all(np.isfinite(target)):
            raise ValueError(f"joint target must be finite, got {target}")
        current = np.asarray(commanded, dtype=np.float64).copy()
        # More than one action only when the plan moves faster than max_delta per step.
        n = max(1, int(np.ceil(np.max(np.abs(target - current)[mask], initial=0.0) / self.max_delta - 1e-9)))
        actions = []
        for _ in range(n):
            delta = np.clip(target - current, -self.max_delta, self.max_delta)
            current = np.where(mask, current + delta, target)
            actions.append(np.where(mask, delta, target))
        return actions


class EndEffectorPose(ControlMode):
    """Per arm ``[xyz, wxyz quaternion, gripper]`` TCP targets, solved with the shared IK
    (RoboTwin's ``ee``, RLBench's ``ee_pose``). The orientation frame and the gripper entry's
    meaning are the robot's (:meth:`RobotModel.ee_from_tcp_quat`, ``gripper_from_ee``).
    Unreachable poses are followed as far as the solver gets, as RoboTwin's planner does."""

    def __init__(self, name: str, low: np.ndarray, high: np.ndarray):
        super().__init__(name)
        self.low, self.high = np.asarray(low, np.float32), np.asarray(high, np.float32)

    def action_space(self, ctx: ControlContext) -> spaces.Box:
        return spaces.Box(self.low, self.high, shape=self.low.shape, dtype=np.float32)

    def next_target(self, action, commanded, ctx):
        robot = ctx.robot
        ik = shared_ik(robot)
        out = commanded.copy()
        for i, arm in enumerate(robot.arms):
            pose = action[8 * i : 8 * i + 8]
            quat = pose[3:7]
            norm = np.linalg.norm(quat)
            if norm < 1e-6:
                raise InvalidActionError(f"{arm} quaternion in the end-effector action has zero norm.")
            tcp_quat = robot.tcp_from_ee_quat(quat / norm)
            arm_slice = robot.arm_slice(arm)
            out[arm_slice] = ik.solve(arm, pose[:3], tcp_quat, commanded[arm_slice]).qpos
            out[robot.gripper_index(arm)] = robot.gripper_from_ee(pose[7])
        return _rate_limited(out, commanded, ctx)

    def encode(self, target, commanded, ctx):
        robot = ctx.robot
        ik = shared_ik(robot)
        action = np.empty(8 * len(robot.arms))
        for i, arm in enumerate(robot.arms):
            pos, quat = ik.tcp_pose(arm, target[robot.arm_slice(arm)])
            action[8 * i : 8 * i + 3] = pos
            action[8 * i + 3 : 8 * i + 7] = robot.ee_from_tcp_quat(quat)
            action[8 * i + 7] = robot.ee_from_gripper(target[robot.gripper_index(arm)])
        return [action]
