"""Small rotation helpers (wxyz quaternions, as MuJoCo uses)."""

from __future__ import annotations

import math

import mujoco
import numpy as np


def mat_to_quat(mat: np.ndarray) -> np.ndarray:
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, np.asarray(mat, dtype=np.float64).ravel())
    return quat


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, dtype=np.float64))
    return mat.reshape(3, 3)


def yaw_quat(yaw: float) -> np.ndarray:
    """Rotation about world z."""
    return np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])


def quat_yaw(quat: np.ndarray) -> float:
    """Heading of a body's x axis in the world xy plane."""
    mat = quat_to_mat(quat)
    return math.atan2(mat[1, 0], mat[0, 0])


def gripper_down_quat(finger_yaw: float) -> np.ndarray:
    """TCP orientation that points the gripper straight down, fingers closing along ``finger_yaw``.

    The TCP frame's x axis is the approach direction and its y axis the finger axis.
    """
    x = np.array([0.0, 0.0, -1.0])
    y = np.array([math.cos(finger_yaw), math.sin(finger_yaw), 0.0])
    z = np.cross(x, y)
    return mat_to_quat(np.column_stack([x, y, z]))


def gripper_tilted_quat(finger_yaw: float, pitch: float) -> np.ndarray:
    """Gripper pointing down-and-forward: ``pitch`` 0 is horizontal, pi/2 straight down.

    The approach axis leans toward the heading perpendicular to the finger axis.
    """
    heading = finger_yaw - math.pi / 2
    x = np.array([math.cos(pitch) * math.cos(heading), math.cos(pitch) * math.sin(heading), -math.sin(pitch)])
    y = np.array([math.cos(finger_yaw), math.sin(finger_yaw), 0.0])
    z = np.cross(x, y)
    z /= np.linalg.norm(z)
    y = np.cross(z, x)
    return mat_to_quat(np.column_stack([x, y, z]))


def gripper_quat(approach, finger_axis) -> np.ndarray:
    """TCP orientation with the fingertips pointing along ``approach`` and the fingers closing
    along ``finger_axis`` (made orthogonal to ``approach``): e.g. a horizontal approach to a
    drawer handle with the fingers closing vertically."""
    x = np.asarray(approach, dtype=float)
    x = x / np.linalg.norm(x)
    y = np.asarray(finger_axis, dtype=float)
    y = y - np.dot(y, x) * x
    norm = np.linalg.norm(y)
    if norm < 1e-6:
        raise ValueError(f"finger_axis {finger_axis} is parallel to approach {approach}")
    y /= norm
    return mat_to_quat(np.column_stack([x, y, np.cross(x, y)]))


def nearest_symmetric_yaw(yaw: float, reference: float, period: float = math.pi) -> float:
    """The yaw equivalent to ``yaw`` modulo ``period`` that is closest to ``reference``."""
    k = round((reference - yaw) / period)
    return yaw + k * period


def angle_between_quats(a: np.ndarray, b: np.ndarray) -> float:
    dot = abs(float(np.dot(a, b)))
    return 2.0 * math.acos(min(1.0, dot))
