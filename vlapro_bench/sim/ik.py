"""Differential inverse kinematics for the arms, with ``mink``.

The solver works on a robot-only copy of the model, so scene objects never enter the problem
and one solver per robot and process serves every task. A solution is a full arm joint vector
for one arm; callers decide how to move there (the end-effector action modes send it as a joint
target; the scripted experts interpolate to it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mink
import mujoco
import numpy as np

from vlapro_bench.sim.robot import ALOHA
from vlapro_bench.sim.robot_model import RobotModel


@dataclass(frozen=True)
class IKResult:
    qpos: np.ndarray  # arm joints
    position_error: float  # metres
    orientation_error: float  # radians
    converged: bool


class ArmIK:
    """Solve for TCP pose targets of any arm of a robot (site ``<arm>_tcp``)."""

    def __init__(
        self,
        max_iterations: int = 150,
        dt: float = 0.05,
        position_tolerance: float = 2e-3,
        orientation_tolerance: float = 2e-2,
        robot: RobotModel = ALOHA,
    ):
        self.robot = robot
        self.model = robot.robot_only_model()
        self.configuration = mink.Configuration(self.model)
        # Every solve starts from this configuration with only the solved arm's joints replaced:
        # the solver is shared by every task a process runs, and a start that kept the other
        # joints where the last solve left them made an episode depend on the ones before it.
        self.rest_q = self.configuration.q.copy()
        self.limits = [mink.ConfigurationLimit(self.model)]
        self.tasks = {
            arm: mink.FrameTask(f"{arm}_tcp", "site", position_cost=1.0, orientation_cost=0.5, lm_damping=1e-3)
            for arm in robot.arms
        }
        self.index = {arm: robot.arm_indices(self.model, arm) for arm in robot.arms}
        # A weak pull toward the home posture keeps a redundant arm's null space from drifting.
        self.posture: mink.PostureTask | None = None
        if robot.ik_posture_cost > 0:
            self.posture = mink.PostureTask(self.model, cost=robot.ik_posture_cost)
            home_q = self.configuration.q.copy()
            home = robot.home_action()
            for arm in robot.arms:
                home_q[self.index[arm].qpos] = home[robot.arm_slice(arm)]
            self.posture.set_target(home_q)
        self.max_iterations = max_iterations
        self.dt = dt
        self.position_tolerance = position_tolerance
        self.orientation_tolerance = orientation_tolerance

    def solve(
        self,
        arm: str,
        position: np.ndarray,
        quat_wxyz: np.ndarray | None,
        q_init: np.ndarray,
    ) -> IKResult:
        """Joint positions that put ``arm``'s TCP at ``position`` (and orientation, if given).

        ``q_init`` is the arm's current joint vector; the solution stays on its branch. The
        result depends on the arguments alone, not on earlier calls.
        With ``quat_wxyz=None`` only position is constrained.
        """
        idx = self.index[arm]
        task = self.tasks[arm]
        task.set_orientation_cost(0.0 if quat_wxyz is None else 0.5)
        q = self.rest_q.copy()
        q[idx.qpos] = q_init
        self.configuration.update(q)
        quat = np.array([1.0, 0.0, 0.0, 0.0]) if quat_wxyz is None else np.asarray(quat_wxyz, float)
        rotation = mink.SO3(quat / np.linalg.norm(quat))
        target = mink.SE3.from_rotation_and_translation(rotation, np.asarray(position, float))
        task.set_target(target)
        pos_err = ori_err = np.inf
        for _ in range(self.max_iterations):
            err = task.compute_error(self.configuration)
            pos_err = float(np.linalg.norm(err[:3]))
            ori_err = 0.0 if quat_wxyz is None else float(np.linalg.norm(err[3:]))
            if pos_err < self.position_tolerance and ori_err < self.orientation_tolerance:
                break
            tasks = [task] if self.posture is None else [task, self.posture]
            vel = mink.solve_ik(self.configuration, tasks, self.dt, "daqp", damping=1e-3, limits=self.limits)
            self.configuration.integrate_inplace(vel, self.dt)
        q_arm = self.configuration.q[idx.qpos].copy()
        return IKResult(
            qpos=q_arm,
            position_error=pos_err,
            orientation_error=ori_err,
            converged=bool(pos_err < 5 * self.position_tolerance and ori_err < 5 * self.orientation_tolerance),
        )

    def tcp_pose(self, arm: str, q_arm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics: TCP position and wxyz quaternion for an arm joint vector."""
        idx = self.index[arm]
        q = self.rest_q.copy()
        q[idx.qpos] = q_arm
        self.configuration.update(q)
        data = self.configuration.data
        pos = data.site_xpos[idx.tcp_site].copy()
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, data.site_xmat[idx.tcp_site])
        return pos, quat


def shared_ik(robot: RobotModel = ALOHA) -> ArmIK:
    """One solver per robot and process (its robot-only model is compiled once): the experts
    and the end-effector action modes share it."""
    return _solver(robot)


@functools.cache
def _solver(robot: RobotModel) -> ArmIK:
    return ArmIK(robot=robot)
