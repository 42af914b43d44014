"""The contract between a robot model and the engine (Simulation, IK, motions, environment).

Each suite has one robot: the bimanual ViperX of the RoboTwin suite (:mod:`.robot`) and the
Franka Panda of the RLBench suite (:mod:`.franka`). Everything robot-specific that the generic
code needs (names, joint layout, gripper mapping, the room the robot stands in) is answered
here, so the Simulation, the IK solver and the environment never branch on the robot.

The joint vector is laid out arm by arm, ``[arm joints..., gripper]`` per arm: 14 numbers for
the ViperX pair (6 + 1 per arm), 8 for the Panda (7 + 1).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import mujoco
import numpy as np

if TYPE_CHECKING:
    from vlapro_bench.sim.builder import SceneBuilder


@dataclass(frozen=True)
class ArmIndices:
    """Where one arm lives in a compiled model (addresses, not names, for the hot path)."""

    qpos: np.ndarray  # arm joint qpos addresses
    qvel: np.ndarray
    finger_qpos: np.ndarray  # 2 finger slide qpos addresses (left, right finger)
    arm_actuators: np.ndarray  # arm actuator ids
    finger_actuators: np.ndarray  # 2 actuator ids
    tcp_site: int
    gripper_body: int

    @classmethod
    def lookup(cls, model: mujoco.MjModel, joints: Sequence[str], fingers: Sequence[str], tcp_site: str,
               gripper_body: str) -> ArmIndices:
        """Resolve joint, finger, site and body names to addresses; actuators are found by the joint they drive."""
        arm = [model.joint(j) for j in joints]
        finger = [model.joint(f) for f in fingers]
        by_joint = {int(model.actuator_trnid[a, 0]): a for a in range(model.nu)}
        return cls(
            qpos=np.array([int(j.qposadr[0]) for j in arm]),
            qvel=np.array([int(j.dofadr[0]) for j in arm]),
            finger_qpos=np.array([int(f.qposadr[0]) for f in finger]),
            arm_actuators=np.array([by_joint[j.id] for j in arm]),
            finger_actuators=np.array([by_joint[f.id] for f in finger]),
            tcp_site=model.site(tcp_site).id,
            gripper_body=model.body(gripper_body).id,
        )


class RobotModel(ABC):
    """A robot the engine can simulate. Subclasses are stateless singletons (one per process).

    Class attributes every robot sets:
        name: short identifier (``"aloha"``, ``"panda"``).
        arms: arm names; the TCP site of arm ``a`` is ``f"{a}_tcp"``. Its x axis points out of
            the fingertips (the approach direction) and its y axis along the finger travel, so
            :func:`~vlapro_bench.sim.geometry.gripper_down_quat` means the same for every robot.
        arm_joints: joints per arm (the gripper is one more entry in the joint vector).
        cameras: camera names the environment renders, in observation order.
        body_prefix: every robot link's body name starts with it (contact queries).
        fingertip_below_tcp: metres from the TCP site to the closed fingertips along the approach
            axis (press skills put the fingertips, not the TCP, on a surface).
        natural_yaw: per arm, the finger yaw of a comfortable top-down pose.
        ik_posture_cost: weight of a pull toward the home posture in IK (0 = none). Redundant
            arms (the 7-dof Panda) need it so repeated solves do not drift along the null space.
        gripper_open, gripper_closed: the joint vector's gripper value for a fully open and a
            closed gripper (ViperX: 1 and 0; Panda: 0.04 m and 0).
    """

    name: ClassVar[str]
    arms: ClassVar[tuple[str, ...]]
    arm_joints: ClassVar[int]
    cameras: ClassVar[tuple[str, ...]]
    body_prefix: ClassVar[str]
    fingertip_below_tcp: ClassVar[float]
    natural_yaw: ClassVar[dict[str, float]]
    ik_posture_cost: ClassVar[float] = 0.0
    gripper_open: ClassVar[float] = 1.0
    gripper_closed: ClassVar[float] = 0.0

    # -- joint-vector layout ------------------------------------------------------------------
    @property
    def block(self) -> int:
        """Joint-vector entries per arm (arm joints + gripper)."""
        return self.arm_joints + 1

    @property
    def joint_dim(self) -> int:
        return self.block * len(self.arms)

    def arm_slice(self, arm: str) -> slice:
        start = self.block * self.arms.index(arm)
        return slice(start, start + self.arm_joints)

    def gripper_index(self, arm: str) -> int:
        return self.block * self.arms.index(arm) + self.arm_joints

    def arm_joint_mask(self) -> np.ndarray:
        """True for arm joints, False for gripper entries of the joint vector."""
        return np.array(([True] * self.arm_joints + [False]) * len(self.arms))

    # -- model ----------------------------------------------------------------------------------
    @abstractmethod
    def load_spec(self) -> mujoco.MjSpec:
        """The robot with its cameras, lights and TCP sites, as an editable spec."""

    @abstractmethod
    def build_room(self, scene: SceneBuilder) -> None:
        """Table, floor and walls around the robot (called before the task's props)."""

    def configure_physics(self, spec: mujoco.MjSpec) -> None:  # noqa: B027  (optional hook)
        """Robot-specific solver options (e.g. an implicit integrator for stiff joint servos)."""

    @abstractmethod
    def arm_indices(self, model: mujoco.MjModel, arm: str) -> ArmIndices:
        """Addresses of one arm's joints, actuators and TCP site in a compiled model."""

    @abstractmethod
    def finger_bodies(self, arm: str) -> tuple[str, str]:
        """Body names of the two fingers of ``arm``."""

    @abstractmethod
    def home_action(self) -> np.ndarray:
        """Joint vector of the ready pose (gripper open)."""

    @abstractmethod
    def finger_targets(self, gripper: float) -> tuple[float, float]:
        """Finger slide positions (qpos and actuator targets) for a gripper value."""

    @abstractmethod
    def gripper_from_fingers(self, finger_qpos: np.ndarray) -> np.ndarray:
        """Gripper values measured from the first finger's slide position (one per arm)."""

    @abstractmethod
    def joint_limits(self, model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the joint vector (arm joint ranges, gripper range)."""

    def ee_gripper(self, gripper: float) -> float:
        """The gripper entry of ``ee_pose`` observations for a measured gripper value."""
        return gripper

    def gripper_from_ee(self, value: float) -> float:
        """The gripper value commanded by the gripper entry of an end-effector action."""
        return value

    def ee_from_gripper(self, gripper: float) -> float:
        """Inverse of :meth:`gripper_from_ee`: the action entry that commands ``gripper``."""
        return gripper

    def ee_from_tcp_quat(self, quat: np.ndarray) -> np.ndarray:
        """Orientation reported in ``ee_pose`` for a TCP orientation (default: the same frame)."""
        return quat

    def tcp_from_ee_quat(self, quat: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`ee_from_tcp_quat`."""
        return quat

    def robot_only_model(self) -> mujoco.MjModel:
        """The robot alone, compiled once per process: the model the IK solver works on."""
        return _compile_robot_only(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@functools.cache
def _compile_robot_only(robot: RobotModel) -> mujoco.MjModel:
    return robot.load_spec().compile()
