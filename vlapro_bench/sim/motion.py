"""Motion primitives for the scripted experts: joint-space interpolation between IK solutions.

An expert is a generator of joint-vector targets (the robot's layout: 14-d for the ViperX pair,
8-d for the Panda). It reads object poses from the live simulation when each primitive starts,
so it reacts to where things actually are, and it runs IK only at waypoints (a handful per
motion), not every control step. The environment turns the targets into its action mode.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.sim.ik import shared_ik
from vlapro_bench.sim.physics import Simulation


class PlanningError(RuntimeError):
    """A waypoint the expert asked for is out of the arm's reach."""


def _smoothstep(n: int) -> np.ndarray:
    s = np.arange(1, n + 1) / n
    return s * s * (3 - 2 * s)


class Motion:
    """Builds action sequences from TCP targets; keeps the last commanded action.

    ``max_joint_step`` (rad per control step), when given, stretches any joint-space move that
    would be faster, so the experts respect an action mode's speed limit (RLBench's 0.1 rad per
    step joint deltas) instead of lagging behind their own plan.
    """

    def __init__(self, sim: Simulation, start_action: np.ndarray | None = None,
                 max_joint_step: float | None = None):
        self.sim = sim
        self.robot = sim.robot
        home = self.robot.home_action()
        self.action = home if start_action is None else np.array(start_action, dtype=np.float64)
        self.ik = shared_ik(self.robot)
        self.max_joint_step = max_joint_step

    # -- queries ----------------------------------------------------------------------------
    def tcp_target_pose(self, arm: str) -> tuple[np.ndarray, np.ndarray]:
        """TCP pose of the currently commanded joints (not the measured ones)."""
        return self.ik.tcp_pose(arm, self.action[self.robot.arm_slice(arm)])

    def solve(self, arm: str, pos, quat) -> np.ndarray:
        """IK from the commanded joints; if that branch gets stuck, retry from the ready pose."""
        pos = np.asarray(pos, float)
        result = self.ik.solve(arm, pos, quat, self.action[self.robot.arm_slice(arm)])
        if not result.converged:
            result = self.ik.solve(arm, pos, quat, self.robot.home_action()[self.robot.arm_slice(arm)])
        if not result.converged:
            raise PlanningError(
                f"{arm} arm cannot reach {np.round(pos, 3).tolist()} "
                f"(residual {result.position_error:.3f} m, {result.orientation_error:.2f} rad)"
            )
        return result.qpos

    # -- primitives -------------------------------------------------------------------------
    def move(self, arm: str, pos, quat=None, steps: int = 30, gripper: float | None = None) -> Iterator[np.ndarray]:
        """Joint-space move of one arm's TCP to a pose (orientation free if ``quat`` is None)."""
        grippers = {arm: gripper} if gripper is not None else None
        yield from self.move_joints({arm: self.solve(arm, pos, quat)}, steps, grippers)

    def move_both(self, targets: dict[str, tuple], steps: int = 30, grippers: dict[str, float] | None = None):
        """Move both arms at once: ``targets[arm] = (pos, quat)``."""
        joints = {arm: self.solve(arm, pos, quat) for arm, (pos, quat) in targets.items()}
        yield from self.move_joints(joints, steps, grippers)

    def line(self, arm: str, pos, quat=None, steps: int = 30, segments: int = 4) -> Iterator[np.ndarray]:
        """An approximately straight TCP path: IK at ``segments`` points along the line."""
        start, _ = self.tcp_target_pose(arm)
        pos = np.asarray(pos, float)
        per = max(1, steps // segments)
        for k in range(1, segments + 1):
            yield from self.move(arm, start + (pos - start) * k / segments, quat, per)

    def move_joints(self, joints: dict[str, np.ndarray], steps: int, grippers: dict[str, float] | None = None):
        start = self.action.copy()
        goal = start.copy()
        for arm, q in joints.items():
            goal[self.robot.arm_slice(arm)] = q
        for arm, g in (grippers or {}).items():
            goal[self.robot.gripper_index(arm)] = g
        if self.max_joint_step is not None:
            # The smoothstep's peak speed is 1.5x its mean: size the move so the peak fits.
            largest = float(np.max(np.abs(goal - start)[self.robot.arm_joint_mask()], initial=0.0))
            steps = max(steps, math.ceil(1.5 * largest / self.max_joint_step))
        for s in _smoothstep(steps):
            self.action = start + (goal - start) * s
            yield self.action.copy()

    def gripper(self, arm: str, opening: float, steps: int = 12) -> Iterator[np.ndarray]:
        yield from self.move_joints({}, steps, {arm: opening})

    def grippers(self, openings: dict[str, float], steps: int = 12) -> Iterator[np.ndarray]:
        yield from self.move_joints({}, steps, openings)

    def home(self, arm: str | None = None, steps: int = 30) -> Iterator[np.ndarray]:
        home = self.robot.home_action()
        arms = self.robot.arms if arm is None else (arm,)
        yield from self.move_joints({a: home[self.robot.arm_slice(a)] for a in arms}, steps)

    def wait(self, steps: int) -> Iterator[np.ndarray]:
        for _ in range(steps):
            yield self.action.copy()
