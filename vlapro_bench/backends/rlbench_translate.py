"""RLBench observations and actions to and from our spaces: pure functions, no upstream import.

Upstream (stepjam/RLBench 1.2.0): an ``Observation`` object with ``<camera>_rgb`` (HxWx3 uint8),
``<camera>_depth`` (HxW; metres with ``CameraConfig(depth_in_meters=True)``, which we ask for),
``joint_positions`` (7), ``joint_velocities`` (7), ``gripper_joint_positions`` (2 fingers, metres,
0 closed .. 0.04 open), ``gripper_open`` (1.0 open, 0.0 closed) and ``gripper_pose``
(``[x, y, z, qx, qy, qz, qw]`` of the tip) for the cameras ``left_shoulder``, ``right_shoulder``,
``overhead``, ``wrist``, ``front``. Actions go through ``MoveArmThenGripper(arm mode, Discrete())``:
the arm part first, then one gripper value (> 0.5 = open).

Ours is the embedded RLBench suite's layout (:mod:`vlapro_bench.sim.franka`,
:data:`vlapro_bench.sim.suites.RLBENCH`), so a policy runs unchanged on both backends:
``images``/``depth`` per camera (our names are RLBench's; depth clipped to the suite's far
plane), ``agent_pos`` = ``[7 joint positions, finger opening in metres]`` (RLBench's
``joint_positions`` and gripper joint position), ``joint_velocities`` (7), ``ee_pose`` =
``[xyz, wxyz, gripper_open]`` in RLBench's tip frame. Actions are 8-d:

======================  ================================================  ================================
our ``control_mode``    RLBench arm action mode                           our action
======================  ================================================  ================================
``joint_delta``         ``JointPosition(absolute_mode=False)``            7 joint deltas + finger opening
``joint_position``      ``JointPosition(absolute_mode=True)``             7 joints + finger opening
``ee_pose``             ``EndEffectorPoseViaIK(absolute_mode=True)``      xyz + wxyz + open fraction
======================  ================================================  ================================

The gripper is RLBench's ``Discrete`` mode (open above half): the finger opening (0 .. 0.04 m)
is sent as the fraction ``opening / 0.04``, the ``ee_pose`` open fraction as it is. The only
reordering is the quaternion: ours is wxyz, RLBench's xyzw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlapro_bench.backends.common import instruction_text, unit_quaternion
from vlapro_bench.backends.images import fit_depth, fit_rgb
from vlapro_bench.env import MAX_JOINT_VELOCITY
from vlapro_bench.sim.franka import CAMERAS, FINGER_OPEN, JOINT_LIMITS
from vlapro_bench.sim.suites import RLBENCH

RLBENCH_CAMERAS = tuple(CAMERAS)
CONTROL_MODES = tuple(RLBENCH.control_modes)
ARM_DOF = 7
ACTION_DIM = ARM_DOF + 1
#: Largest joint change per step in ``joint_delta`` mode (RLBench's gym bound, our suite's).
JOINT_DELTA_BOUND = 0.1
#: The suite's far plane for depth and bound on positions (metres).
DEPTH_FAR = RLBENCH.depth_far
POSITION_BOUND = RLBENCH.position_bound


@dataclass(frozen=True)
class RLBenchActionMode:
    """Which RLBench action mode classes to build, with their arguments (built by the adapter)."""

    arm: str  # a class of rlbench.action_modes.arm_action_modes
    arm_kwargs: dict[str, Any] = field(default_factory=dict)
    gripper: str = "Discrete"  # a class of rlbench.action_modes.gripper_action_modes
    gripper_kwargs: dict[str, Any] = field(default_factory=dict)


def rlbench_action_mode(control_mode: str) -> RLBenchActionMode:
    if control_mode == "joint_delta":
        return RLBenchActionMode("JointPosition", {"absolute_mode": False})
    if control_mode == "joint_position":
        return RLBenchActionMode("JointPosition", {"absolute_mode": True})
    if control_mode == "ee_pose":
        return RLBenchActionMode("EndEffectorPoseViaIK", {"absolute_mode": True, "frame": "world",
                                                          "collision_checking": False})
    raise ValueError(f"control_mode must be one of {list(CONTROL_MODES)}, got {control_mode!r}")


def action_bounds(control_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """The suite's action bounds per mode (equal to the embedded environment's)."""
    if control_mode == "joint_delta":
        low, high = np.full(ARM_DOF, -JOINT_DELTA_BOUND), np.full(ARM_DOF, JOINT_DELTA_BOUND)
    elif control_mode == "joint_position":
        low, high = JOINT_LIMITS[:, 0], JOINT_LIMITS[:, 1]
    elif control_mode == "ee_pose":
        mode = RLBENCH.control_modes["ee_pose"]
        return np.asarray(mode.low, dtype=np.float32), np.asarray(mode.high, dtype=np.float32)
    else:
        raise ValueError(f"control_mode must be one of {list(CONTROL_MODES)}, got {control_mode!r}")
    return np.r_[low, 0.0].astype(np.float32), np.r_[high, FINGER_OPEN].astype(np.float32)


def agent_pos_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Joint limits padded by 0.1 rad (measured joints overshoot slightly) and the finger opening."""
    return (np.r_[JOINT_LIMITS[:, 0] - 0.1, 0.0].astype(np.float32),
            np.r_[JOINT_LIMITS[:, 1] + 0.1, FINGER_OPEN].astype(np.float32))


def ee_pose_bounds() -> tuple[np.ndarray, np.ndarray]:
    low = np.array([-POSITION_BOUND] * 3 + [-1.0] * 4 + [0.0], dtype=np.float32)
    return low, np.array([POSITION_BOUND] * 3 + [1.0] * 4 + [1.0], dtype=np.float32)


def camera_settings(cameras: Sequence[str], obs_mode: str, camera_size: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """``CameraConfig`` arguments per RLBench camera: render only what the observation needs.

    RLBench's default renders RGB, depth, mask and point cloud on all five cameras; every one we
    switch off is a render pass saved. Depth comes in metres; ``image_size`` is ours, so RLBench
    renders at the size we return (no resampling).
    """
    out = {}
    for cam in RLBENCH_CAMERAS:
        wanted = cam in cameras
        out[f"{cam}_camera"] = {
            "rgb": wanted, "depth": wanted and obs_mode == "rgbd", "point_cloud": False, "mask": False,
            "image_size": tuple(camera_size), "depth_in_meters": True,
        }
    return out


#: Low-dimensional ``ObservationConfig`` switches: what ``agent_pos``, ``joint_velocities`` and
#: ``ee_pose`` are made of, and nothing else.
LOW_DIM_SETTINGS = {
    "joint_positions": True, "joint_velocities": True, "gripper_open": True, "gripper_pose": True,
    "gripper_joint_positions": True, "joint_forces": False, "gripper_matrix": False,
    "gripper_touch_forces": False, "task_low_dim_state": False,
}


def rgb_image(image: Any, camera: str) -> np.ndarray:
    if image is None:
        raise KeyError(f"RLBench returned no {camera}_rgb; the camera is off in the ObservationConfig")
    image = np.asarray(image)
    if image.dtype != np.uint8:  # older RLBench returned floats in [0, 1]; convert as RLBench does
        image = np.clip(image.astype(np.float64) * 255.0, 0, 255).astype(np.uint8)
    return image


def finger_opening(obs: Any) -> float:
    """The gripper joint position (metres per finger), or the open flag's when RLBench gives none."""
    fingers = getattr(obs, "gripper_joint_positions", None)
    if fingers is None:
        return FINGER_OPEN * float(np.asarray(obs.gripper_open).reshape(-1)[0])
    return float(np.clip(np.mean(np.asarray(fingers, dtype=np.float64)), 0.0, FINGER_OPEN))


def translate_observation(
    obs: Any,
    *,
    cameras: Sequence[str],
    camera_size: tuple[int, int],
    obs_mode: str,
    instruction: str,
    fit: str = "crop",
) -> dict[str, Any]:
    """One RLBench ``Observation`` (any object with its attributes) as our observation dict."""
    joints = np.asarray(obs.joint_positions, dtype=np.float64).reshape(-1)
    if joints.shape != (ARM_DOF,):
        raise ValueError(f"RLBench joint_positions has {joints.size} entries; the adapter supports the 7-DoF Panda")
    pose = np.asarray(obs.gripper_pose, dtype=np.float64).reshape(-1)
    if pose.shape != (7,):
        raise ValueError(f"RLBench gripper_pose must be [x, y, z, qx, qy, qz, qw], got shape {pose.shape}")
    velocities = getattr(obs, "joint_velocities", None)
    velocities = np.zeros(ARM_DOF) if velocities is None else np.asarray(velocities, dtype=np.float64).reshape(-1)
    gripper_open = float(np.asarray(obs.gripper_open, dtype=np.float64).reshape(-1)[0])
    agent_low, agent_high = agent_pos_bounds()
    ee_low, ee_high = ee_pose_bounds()
    result: dict[str, Any] = {
        "agent_pos": np.clip(np.r_[joints, finger_opening(obs)], agent_low, agent_high).astype(np.float32),
        "ee_pose": np.clip(np.r_[pose[:3], pose[6], pose[3:6], gripper_open], ee_low, ee_high).astype(np.float32),
        "joint_velocities": np.clip(velocities, -MAX_JOINT_VELOCITY, MAX_JOINT_VELOCITY).astype(np.float32),
        "instruction": instruction_text(instruction),
        "images": {cam: fit_rgb(rgb_image(getattr(obs, f"{cam}_rgb"), cam), camera_size, fit) for cam in cameras},
    }
    if obs_mode == "rgbd":
        depth = {}
        for cam in cameras:
            raw = getattr(obs, f"{cam}_depth")
            if raw is None:
                raise KeyError(f"RLBench returned no {cam}_depth; the camera's depth is off in the ObservationConfig")
            depth[cam] = np.clip(fit_depth(raw, camera_size, fit), 0.0, DEPTH_FAR)
        result["depth"] = depth
    return result


def to_rlbench_action(action: np.ndarray, control_mode: str) -> np.ndarray:
    """Our validated 8-d action as ``MoveArmThenGripper`` takes it (arm part, then ``Discrete``'s value)."""
    action = np.asarray(action, dtype=np.float64)
    if action.shape != (ACTION_DIM,):
        raise ValueError(f"an RLBench-suite action has {ACTION_DIM} entries, got shape {action.shape}")
    if control_mode in ("joint_delta", "joint_position"):
        return np.r_[action[:ARM_DOF], float(np.clip(action[-1] / FINGER_OPEN, 0.0, 1.0))]
    if control_mode == "ee_pose":
        w, x, y, z = unit_quaternion(action[3:7], "end-effector")
        return np.r_[action[:3], x, y, z, w, float(np.clip(action[-1], 0.0, 1.0))]
    raise ValueError(f"control_mode must be one of {list(CONTROL_MODES)}, got {control_mode!r}")
