"""Per-suite engine settings: the robot, its control modes, control rate and observation bounds.

The environment class is the same for every suite; what differs (RoboTwin's bimanual ViperX at
25 Hz with ``qpos``/``ee`` actions, RLBench's Panda at 20 Hz with ``joint_delta``/
``joint_position``/``ee_pose`` actions) is data, collected here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlapro_bench.sim.control import AbsoluteJoints, ControlMode, EndEffectorPose, JointDelta
from vlapro_bench.sim.franka import FRANKA
from vlapro_bench.sim.robot import ALOHA
from vlapro_bench.sim.robot_model import RobotModel


@dataclass(frozen=True)
class SuiteProfile:
    """Everything suite-specific the environment needs.

    Attributes:
        control_substeps: physics steps (2 ms) per control step.
        max_joint_step: largest arm-joint target change per control step in absolute modes.
        expert_joint_step: if set, experts plan no faster than this per step (see ``Motion``).
        position_bound: |x|, |y|, |z| bound of poses in ``ee_pose`` / ``object_state`` (m).
        depth_far: depth images are clipped to this (m).
        joint_velocities: add a ``joint_velocities`` observation key (RLBench's low-dim state).
        settle_substeps: physics steps after placing props, with the robot at home, so nothing
            starts mid-fall.
    """

    suite: str
    robot: RobotModel
    control_modes: dict[str, ControlMode]
    default_control_mode: str
    control_substeps: int
    max_joint_step: float
    position_bound: float
    depth_far: float
    joint_velocities: bool = False
    expert_joint_step: float | None = None
    settle_substeps: int = 100
    robot_type: str = ""

    @property
    def control_hz(self) -> float:
        return 1.0 / (self.control_substeps * 0.002)


#: RoboTwin: 25 Hz (20 x 2 ms), arm targets move at most 0.2 rad per step (5 rad/s).
ROBOTWIN = SuiteProfile(
    suite="robotwin",
    robot=ALOHA,
    control_modes={
        "qpos": AbsoluteJoints("qpos"),
        "ee": EndEffectorPose(
            "ee",
            low=np.array([-0.6, -0.1, -0.05, -1, -1, -1, -1, 0.0] * 2),
            high=np.array([0.6, 1.0, 0.6, 1, 1, 1, 1, 1.0] * 2),
        ),
    },
    default_control_mode="qpos",
    control_substeps=20,
    max_joint_step=0.2,
    position_bound=2.0,
    depth_far=20.0,
    robot_type="robotwin-viperx-bimanual",
)

#: RLBench: 20 Hz (RLBench's 0.05 s step), joint deltas of at most 0.1 rad per step (2 rad/s,
#: about the Panda's joint speed limit); absolute modes are rate-limited to the same speed.
#: End-effector bounds cover the table area the arm reaches (PerAct's scene bounds, widened).
RLBENCH = SuiteProfile(
    suite="rlbench",
    robot=FRANKA,
    control_modes={
        "joint_delta": JointDelta("joint_delta", max_delta=0.1),
        "joint_position": AbsoluteJoints("joint_position"),
        "ee_pose": EndEffectorPose(
            "ee_pose",
            low=np.array([-0.4, -0.7, 0.7, -1, -1, -1, -1, 0.0]),
            high=np.array([0.9, 0.7, 1.8, 1, 1, 1, 1, 1.0]),
        ),
    },
    default_control_mode="joint_delta",
    control_substeps=25,
    max_joint_step=0.1,
    position_bound=3.0,
    depth_far=4.5,
    joint_velocities=True,
    expert_joint_step=0.08,
    robot_type="rlbench-franka-panda",
)

PROFILES = {profile.suite: profile for profile in (ROBOTWIN, RLBENCH)}


def suite_profile(suite: str) -> SuiteProfile:
    try:
        return PROFILES[suite]
    except KeyError:
        raise ValueError(f"Unknown suite {suite!r}; choose one of {sorted(PROFILES)}") from None
