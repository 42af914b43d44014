"""Reusable expert skills built from motion primitives: top grasp, place, press, handle grasp,
straight moves (pull, lift, slide), push, retreat. Robot-agnostic: they read the gripper values,
fingertip offset and natural yaw from ``motion.robot``.

Tasks compose these instead of re-writing waypoint lists; a better grasp here improves every
expert at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vlapro_bench.sim.franka import BASE_POS as PANDA_BASE
from vlapro_bench.sim.franka import FRANKA
from vlapro_bench.sim.geometry import (
    gripper_down_quat,
    gripper_quat,
    nearest_symmetric_yaw,
    quat_to_mat,
    quat_yaw,
)
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.robot import ALOHA, ARMS

#: Finger-axis yaw of a comfortable top-down pose for each arm, by arm name (ViperX pair: fingers
#: close along world y for the left arm reaching along +x, mirrored for the right arm; Panda: its
#: start pose).
NATURAL_YAW = {**ALOHA.natural_yaw, **FRANKA.natural_yaw}
#: Arm bases in the world (from the gym-aloha model; the Panda's from RLBench's scene).
ARM_BASE = {"left": np.array([-0.469, 0.5, 0.0]), "right": np.array([0.469, 0.5, 0.0]),
            "panda": np.array(PANDA_BASE)}
APPROACH_HEIGHT = 0.10
#: With the ViperX gripper pointing down and closed, the fingertips reach this far below the TCP
#: site (measured from the ViperX finger meshes); their footprint is about 1 x 1 cm. Skills read
#: the robot's own value (``RobotModel.fingertip_below_tcp``).
FINGERTIP_BELOW_TCP = ALOHA.fingertip_below_tcp


def arm_for(x: float) -> str:
    """The arm on the side of ``x`` (left arm for x < 0), RoboTwin's convention."""
    return "left" if x < 0 else "right"


def reach(arm: str, point) -> float:
    """Horizontal distance from an arm's base to a point."""
    return float(np.linalg.norm(np.asarray(point)[:2] - ARM_BASE[arm][:2]))


def grasp_yaw(arm: str, object_yaw: float, symmetry: float = math.pi / 2) -> float:
    """Finger yaw aligned with an object face, chosen closest to the arm's natural yaw."""
    return nearest_symmetric_yaw(object_yaw + math.pi / 2, NATURAL_YAW[arm], symmetry)


def top_grasp(
    sim: Simulation,
    motion: Motion,
    arm: str,
    body: str,
    grasp_offset=(0.0, 0.0, 0.0),
    symmetry: float = math.pi / 2,
    yaw: float | None = None,
    lift: float = 0.08,
    approach: float = APPROACH_HEIGHT,
) -> Iterator[np.ndarray]:
    """Open, come down on ``body`` from above with fingers across it, close, lift."""
    pos = sim.body_pos(body) + np.asarray(grasp_offset)
    if yaw is None:
        yaw = grasp_yaw(arm, quat_yaw(sim.body_quat(body)), symmetry)
    quat = gripper_down_quat(yaw)
    yield from motion.move(arm, pos + (0, 0, approach), quat, steps=30, gripper=motion.robot.gripper_open)
    yield from motion.line(arm, pos, quat, steps=20, segments=2)
    yield from motion.gripper(arm, motion.robot.gripper_closed, steps=10)
    yield from motion.wait(4)
    yield from motion.line(arm, pos + (0, 0, lift), quat, steps=16, segments=2)


def place_at(
    motion: Motion,
    arm: str,
    target,
    yaw: float | None = None,
    hover: float = 0.06,
    release: bool = True,
    retreat: float = 0.08,
) -> Iterator[np.ndarray]:
    """Carry what ``arm`` holds above ``target`` (TCP position at release), lower, open, retreat."""
    target = np.asarray(target, float)
    if yaw is None:
        _, quat_now = motion.tcp_target_pose(arm)
        yaw = _finger_yaw(quat_now)
    quat = gripper_down_quat(yaw)
    yield from motion.move(arm, target + (0, 0, hover), quat, steps=30)
    yield from motion.line(arm, target, quat, steps=16, segments=2)
    if release:
        yield from release_upward(motion, arm, target, quat, retreat)


def release_upward(motion: Motion, arm: str, tcp_at_release, quat, retreat: float) -> Iterator[np.ndarray]:
    """Open the gripper where it is, let the object settle, and back straight up by ``retreat``."""
    yield from motion.gripper(arm, motion.robot.gripper_open, steps=10)
    yield from motion.wait(4)
    yield from motion.line(arm, np.asarray(tcp_at_release, float) + (0, 0, retreat), quat, steps=14, segments=2)


def press(
    motion: Motion,
    arm: str,
    surface,
    depth: float,
    yaw: float | None = None,
    approach: float = 0.07,
    hold: int = 4,
    start=None,
) -> Iterator[np.ndarray]:
    """Closed gripper pointing down; fingertips come down on ``surface`` and push ``depth`` below it.

    ``surface`` is the world point the fingertips should reach with no push (the pressed part at
    its stop); ``start`` is where to begin the straight descent (defaults to above ``surface``).
    The fingertip offset is applied here so callers speak in object geometry, not TCP offsets.
    """
    surface = np.asarray(surface, float)
    start = surface if start is None else np.asarray(start, float)
    tip = np.array([0.0, 0.0, motion.robot.fingertip_below_tcp])
    quat = gripper_down_quat(NATURAL_YAW[arm] if yaw is None else yaw)
    yield from motion.gripper(arm, motion.robot.gripper_closed, steps=8)
    yield from motion.move(arm, start + tip + (0, 0, approach), quat, steps=35)
    yield from motion.line(arm, surface + tip - (0, 0, depth), quat, steps=18, segments=3)
    yield from motion.wait(hold)
    yield from motion.line(arm, start + tip + (0, 0, approach), quat, steps=16, segments=2)


def move_along(
    motion: Motion,
    arm: str,
    direction,
    distance: float,
    quat=None,
    steps: int = 30,
    segments: int = 6,
) -> Iterator[np.ndarray]:
    """Straight TCP move by ``distance`` along ``direction`` from the commanded pose, keeping
    the orientation (``quat``, default the commanded one). Pulling a drawer, sliding a block,
    lifting: whatever the gripper holds or touches comes along."""
    start, quat_now = motion.tcp_target_pose(arm)
    quat = quat_now if quat is None else quat
    direction = np.asarray(direction, float)
    end = start + distance * direction / np.linalg.norm(direction)
    yield from motion.line(arm, end, quat, steps=steps, segments=segments)


def grasp_handle(
    motion: Motion,
    arm: str,
    handle,
    approach,
    finger_axis=(0.0, 0.0, 1.0),
    standoff: float = 0.10,
) -> Iterator[np.ndarray]:
    """Open, come at ``handle`` (a world point, the TCP's grasp position) along ``approach``
    (pointing from the gripper toward the handle) with the fingers closing along
    ``finger_axis``, and close: a side grasp of a drawer or door handle."""
    handle = np.asarray(handle, float)
    approach = np.asarray(approach, float) / np.linalg.norm(approach)
    quat = gripper_quat(approach, finger_axis)
    robot = motion.robot
    pre = handle - standoff * approach
    start, _ = motion.tcp_target_pose(arm)
    if np.linalg.norm(start - pre) > 0.005:  # callers that route around obstacles arrive here
        yield from motion.move(arm, pre, quat, steps=35, gripper=robot.gripper_open)
    else:
        yield from motion.gripper(arm, robot.gripper_open, steps=4)
    yield from motion.line(arm, handle, quat, steps=20, segments=3)
    yield from motion.gripper(arm, robot.gripper_closed, steps=10)
    yield from motion.wait(4)


def push(
    motion: Motion,
    arm: str,
    contact,
    direction,
    distance: float,
    finger_axis=(0.0, 0.0, 1.0),
    standoff: float = 0.08,
    steps: int = 40,
) -> Iterator[np.ndarray]:
    """Closed gripper pointing along ``direction``: put the fingertips ``standoff`` before the
    ``contact`` point, then drive them through it by ``distance`` (closing a drawer, sliding a
    block). The fingertip offset is applied here, so callers give object geometry."""
    direction = np.asarray(direction, float) / np.linalg.norm(direction)
    quat = gripper_quat(direction, finger_axis)
    tip = motion.robot.fingertip_below_tcp * direction
    start = np.asarray(contact, float) - tip - standoff * direction
    yield from motion.gripper(arm, motion.robot.gripper_closed, steps=8)
    yield from motion.move(arm, start, quat, steps=35)
    yield from motion.line(arm, start + (standoff + distance) * direction, quat, steps=steps,
                           segments=max(2, int((standoff + distance) / 0.04)))


def retreat(motion: Motion, arm: str, direction, distance: float = 0.1, steps: int = 16) -> Iterator[np.ndarray]:
    """Back the TCP off by ``distance`` along ``direction``, orientation kept (after a release)."""
    yield from move_along(motion, arm, direction, distance, steps=steps, segments=2)


def _finger_yaw(quat: np.ndarray) -> float:
    y_axis = quat_to_mat(quat)[:, 1]
    return math.atan2(y_axis[1], y_axis[0])


__all__ = [
    "ARMS", "NATURAL_YAW", "arm_for", "grasp_handle", "grasp_yaw", "move_along", "place_at", "press", "push",
    "reach", "release_upward", "retreat", "top_grasp",
]
