"""Derived inputs and targets shared by the dataset statistics and the backbones that use them.

Both work on numpy arrays and torch tensors alike (``(..., D)`` rows), so a backbone computes at
inference exactly what its normalisation statistics were computed on in training.

- :func:`ee_position_reference`: what end-effector actions are relative to, when a backbone
  predicts them relative to the hand: the measured ``ee_pose`` (``[xyz, wxyz, gripper]`` per
  arm) with its orientation entries zeroed, so positions and gripper are relative and
  orientations absolute (a difference of quaternions is not a rotation).
- :func:`object_offsets`: every tracked object's position minus every gripper's, from the env's
  ``object_state`` (7 numbers per object: xyz, wxyz) and ``ee_pose``.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)

#: Entries of one arm's ``[x, y, z, qw, qx, qy, qz, gripper]`` that are relative to the hand.
_RELATIVE_EE = (1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0)
EE_WIDTH = 8
OBJECT_WIDTH = 7


def ee_position_reference(ee_pose: Array) -> Array:
    """``ee_pose`` rows with the orientation entries set to 0 (positions and gripper kept)."""
    arms = ee_pose.shape[-1] // EE_WIDTH
    mask = np.tile(np.asarray(_RELATIVE_EE, dtype=np.float32), arms)
    if isinstance(ee_pose, torch.Tensor):
        return ee_pose * torch.as_tensor(mask, device=ee_pose.device, dtype=ee_pose.dtype)
    return ee_pose * mask.astype(ee_pose.dtype)


def object_offsets(object_state: Array, ee_pose: Array) -> Array:
    """``(..., objects * arms * 3)``: each object's xyz minus each gripper's xyz (objects outer)."""
    n_obj, n_arm = object_state.shape[-1] // OBJECT_WIDTH, ee_pose.shape[-1] // EE_WIDTH
    objects = object_state.reshape(*object_state.shape[:-1], n_obj, OBJECT_WIDTH)[..., :3]
    hands = ee_pose.reshape(*ee_pose.shape[:-1], n_arm, EE_WIDTH)[..., :3]
    diff = objects[..., :, None, :] - hands[..., None, :, :]
    return diff.reshape(*diff.shape[:-3], n_obj * n_arm * 3)


def offset_width(object_state_dim: int, ee_dim: int) -> int:
    return (object_state_dim // OBJECT_WIDTH) * (ee_dim // EE_WIDTH) * 3


__all__ = ["EE_WIDTH", "OBJECT_WIDTH", "ee_position_reference", "object_offsets", "offset_width"]
