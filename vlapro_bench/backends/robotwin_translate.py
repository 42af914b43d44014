"""RoboTwin 2.0 observations and actions to and from our spaces: pure functions, no upstream import.

Upstream layout (``Base_Task.get_obs`` and ``Camera`` in RoboTwin ``stable_2.0``)::

    {"observation": {<camera>: {"rgb": HxWx3 uint8, "depth": HxW float64 millimetres (0 = no hit),
                                 "intrinsic_cv", "extrinsic_cv", "cam2world_gl"}},
     "joint_action": {"left_arm": [6], "left_gripper": float, "right_arm": [6],
                      "right_gripper": float, "vector": [14]},
     "endpose": {"left_endpose": [x, y, z, qw, qx, qy, qz], "left_gripper": float,
                 "right_endpose": [...], "right_gripper": float},
     "pointcloud": ...}

Ours: ``images[camera]`` (``camera_size``, uint8), ``depth[camera]`` (metres, float32, (H, W, 1),
no hit = ``DEPTH_FAR``), ``agent_pos`` = the 14-d ``joint_action.vector`` (left 6, left gripper,
right 6, right gripper; gripper 1 = open, as ours), ``ee_pose`` = ``[xyz, wxyz, gripper]`` per arm.
Both sides use wxyz quaternions and the same joint order, so no value is reordered.

What does not carry over, and is documented rather than hidden: RoboTwin's joint values are the
drive targets (ours are measured joints); its poses are in RoboTwin's world frame (ours in the
embedded robot's frame); its aloha-agilex arms are not our ViperX arms, so joint angles mean
different arm configurations. A policy runs unchanged on both backends; it does not transfer
across them without training on the one it is evaluated on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vlapro_bench.backends.common import instruction_text, unit_quaternion
from vlapro_bench.backends.images import fit_depth, fit_rgb
from vlapro_bench.env import DEPTH_FAR

#: Cameras of the aloha-agilex embodiment: head and front are static, left and right on the wrists.
ROBOTWIN_CAMERAS = ("head_camera", "left_camera", "right_camera", "front_camera")
QPOS_DIM = 14
EE_DIM = 16
GRIPPER_INDICES = (6, 13)
#: Arm joints are revolute; no aloha-agilex joint reaches a full turn either way.
ARM_JOINT_BOUND = 2 * np.pi
#: Workspace bound on TCP positions in RoboTwin's world frame (metres; the table top is at 0.74).
POSITION_BOUND = 2.0


def agent_pos_bounds() -> tuple[np.ndarray, np.ndarray]:
    low = np.full(QPOS_DIM, -ARM_JOINT_BOUND, dtype=np.float32)
    high = np.full(QPOS_DIM, ARM_JOINT_BOUND, dtype=np.float32)
    low[list(GRIPPER_INDICES)], high[list(GRIPPER_INDICES)] = 0.0, 1.0
    return low, high


def ee_pose_bounds() -> tuple[np.ndarray, np.ndarray]:
    arm_low = [-POSITION_BOUND] * 3 + [-1.0] * 4 + [0.0]
    arm_high = [POSITION_BOUND] * 3 + [1.0] * 4 + [1.0]
    return np.array(arm_low * 2, dtype=np.float32), np.array(arm_high * 2, dtype=np.float32)


def depth_to_metres(depth_mm: np.ndarray) -> np.ndarray:
    """RoboTwin depth (millimetres, 0 where a ray hits nothing) as metres with no hit = DEPTH_FAR."""
    depth = np.asarray(depth_mm, dtype=np.float64) / 1000.0
    depth = np.where(depth > 0, depth, DEPTH_FAR)
    return np.clip(depth, 0.0, DEPTH_FAR).astype(np.float32)


def joint_vector(joint_action: Mapping[str, Any]) -> np.ndarray:
    """The 14-d joint vector, from ``vector`` or, when absent, from the per-arm entries."""
    if "vector" in joint_action:
        vec = np.asarray(joint_action["vector"], dtype=np.float64).reshape(-1)
    else:
        parts = [joint_action[k] for k in ("left_arm", "left_gripper", "right_arm", "right_gripper")]
        vec = np.concatenate([np.atleast_1d(np.asarray(p, dtype=np.float64)) for p in parts])
    if vec.shape != (QPOS_DIM,):
        raise ValueError(
            f"RoboTwin joint vector has {vec.size} entries, expected {QPOS_DIM} (aloha-agilex: 6+1+6+1). "
            "The adapter supports aloha-agilex only: set `embodiment: [aloha-agilex]` in the task config."
        )
    low, high = agent_pos_bounds()
    return np.clip(vec, low, high).astype(np.float32)


def ee_vector(endpose: Mapping[str, Any]) -> np.ndarray:
    """``[left xyz, wxyz, gripper, right xyz, wxyz, gripper]`` from RoboTwin's ``endpose`` dict."""
    out = np.empty(EE_DIM, dtype=np.float64)
    for i, arm in enumerate(("left", "right")):
        pose = np.asarray(endpose[f"{arm}_endpose"], dtype=np.float64).reshape(-1)
        if pose.shape != (7,):
            raise ValueError(f"RoboTwin {arm}_endpose must be [x, y, z, qw, qx, qy, qz], got shape {pose.shape}")
        out[8 * i : 8 * i + 7] = pose
        out[8 * i + 7] = float(endpose[f"{arm}_gripper"])
    low, high = ee_pose_bounds()
    return np.clip(out, low, high).astype(np.float32)


def translate_observation(
    raw: Mapping[str, Any],
    *,
    cameras: Sequence[str],
    camera_size: tuple[int, int],
    obs_mode: str,
    instruction: str,
    fit: str = "crop",
) -> dict[str, Any]:
    """One RoboTwin ``get_obs()`` dict as our observation (fresh arrays; ``raw`` is not modified)."""
    views = raw["observation"]
    missing = [cam for cam in cameras if cam not in views or "rgb" not in views[cam]]
    if missing:
        raise KeyError(
            f"RoboTwin's observation has no image for {missing} (it has {sorted(views)}). Head and wrist cameras "
            "are switched by `camera: collect_head_camera / collect_wrist_camera` in the task config; "
            "front_camera comes with the aloha-agilex embodiment."
        )
    obs: dict[str, Any] = {
        "agent_pos": joint_vector(raw["joint_action"]),
        "ee_pose": ee_vector(raw["endpose"]),
        "instruction": instruction_text(instruction),
        "images": {cam: fit_rgb(views[cam]["rgb"], camera_size, fit) for cam in cameras},
    }
    if obs_mode == "rgbd":
        no_depth = [cam for cam in cameras if "depth" not in views[cam]]
        if no_depth:
            raise KeyError(f"RoboTwin's observation has no depth for {no_depth}; set data_type.depth: true")
        obs["depth"] = {cam: fit_depth(depth_to_metres(views[cam]["depth"]), camera_size, fit) for cam in cameras}
    return obs


def to_upstream_action(action: np.ndarray, control_mode: str) -> np.ndarray:
    """Our validated action as the vector ``Base_Task.take_action(action, action_type)`` takes.

    ``qpos``: the 14-d joint targets, grippers clipped to [0, 1] (RoboTwin clips them too).
    ``ee``: 16-d ``[xyz, wxyz, gripper]`` per arm, quaternions normalised (the planner needs unit
    quaternions), grippers clipped.
    """
    out = np.array(action, dtype=np.float64)
    if control_mode == "qpos":
        if out.shape != (QPOS_DIM,):
            raise ValueError(f"a qpos action has {QPOS_DIM} entries, got shape {out.shape}")
        out[list(GRIPPER_INDICES)] = np.clip(out[list(GRIPPER_INDICES)], 0.0, 1.0)
        return out
    if control_mode == "ee":
        if out.shape != (EE_DIM,):
            raise ValueError(f"an ee action has {EE_DIM} entries, got shape {out.shape}")
        for i, arm in enumerate(("left", "right")):
            out[8 * i + 3 : 8 * i + 7] = unit_quaternion(out[8 * i + 3 : 8 * i + 7], arm)
            out[8 * i + 7] = np.clip(out[8 * i + 7], 0.0, 1.0)
        return out
    raise ValueError(f"control_mode must be 'qpos' or 'ee', got {control_mode!r}")
