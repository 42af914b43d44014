"""The dual-arm robot of the RoboTwin suite: two ViperX 300 6-DoF arms (ALOHA class).

The model is the bimanual ViperX that the PyPI package ``gym-aloha`` ships; we load it from the
installed package path and edit it with ``mujoco.MjSpec`` (drop gym-aloha's cube, table and
cameras; add a tool-centre-point site per gripper and RoboTwin's camera set). No upstream file is
copied into this repository.

Conventions follow RoboTwin's aloha-agilex: a 14-d joint vector
``[left 6 arm joints, left gripper, right 6 arm joints, right gripper]`` with the gripper in
``[0, 1]`` and 1 meaning open.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from vlapro_bench.sim.robot_model import ArmIndices, RobotModel

if TYPE_CHECKING:
    from vlapro_bench.sim.builder import SceneBuilder

ARMS = ("left", "right")
ARM_JOINTS = ("waist", "shoulder", "elbow", "forearm_roll", "wrist_angle", "wrist_rotate")
ACTION_DIM = 14
#: Finger slide range of the ViperX gripper (metres, per finger), closed -> open.
FINGER_CLOSED, FINGER_OPEN = 0.021, 0.057
#: Tool centre point: between the finger pads, in the gripper link frame (measured from the
#: finger meshes: the pads span x = 0.064 .. 0.154 m).
TCP_OFFSET = (0.13, 0.0, 0.0)
#: A ready pose: arms raised above the table, grippers open, out of the cameras' way.
HOME_ARM_QPOS = np.array([0.0, -0.96, 1.16, 0.0, -0.3, 0.0])
#: Camera placement in the robot's frame (the operator side is -y, the table centre is
#: (0, 0.5, 0)). RoboTwin's head camera looks down at the table from behind the robot; its
#: front camera looks back from the table's far side.
HEAD_CAMERA = {"pos": (0.0, 0.12, 0.72), "xyaxes": (1, 0, 0, 0, 0.8741, 0.4856), "fovy": 58.0}
FRONT_CAMERA = {"pos": (0.0, 1.12, 0.42), "xyaxes": (-1, 0, 0, 0, -0.483, 0.875), "fovy": 58.0}
CAMERAS = ("head_camera", "left_camera", "right_camera", "front_camera")


class RobotAssetsMissingError(ImportError):
    """gym-aloha (which ships the ViperX meshes) is not installed."""


def aloha_assets_dir() -> Path:
    """Folder of gym-aloha's MJCF files and meshes, located through the installed package."""
    try:
        import gym_aloha  # noqa: PLC0415  (optional heavy import, only when a scene is built)
    except ImportError as exc:  # pragma: no cover - gym-aloha is a hard dependency
        raise RobotAssetsMissingError(
            "The RoboTwin suite's robot model comes from the PyPI package 'gym-aloha'. "
            "Install it with: pip install gym-aloha"
        ) from exc
    path = Path(gym_aloha.__file__).parent / "assets"
    if not (path / "vx300s_left.xml").is_file():
        raise RobotAssetsMissingError(f"gym-aloha is installed but {path} has no ViperX model.")
    return path


def load_robot_spec() -> mujoco.MjSpec:
    """The bimanual ViperX as an editable spec: arms, actuators and lights, nothing else."""
    spec = mujoco.MjSpec.from_file(str(aloha_assets_dir() / "bimanual_viperx_transfer_cube.xml"))
    for name in ("box", "table", "midair"):
        spec.delete(spec.body(name))
    for camera in list(spec.cameras):
        spec.delete(camera)
    for key in list(spec.keys):
        spec.delete(key)
    for mesh in list(spec.meshes):
        if mesh.name == "tabletop":
            spec.delete(mesh)
    # gym-aloha limits inertia-from-geom to groups 4-5 (its arm bodies carry explicit
    # inertials); our props need their geoms to count.
    spec.compiler.inertiagrouprange = [0, 5]
    # Clip planes are relative to the model extent; pin both so close-up wrist views and the
    # room walls render whatever props a task adds.
    spec.stat.extent = 2.0
    spec.stat.center = [0.0, 0.45, 0.3]
    spec.visual.map.znear = 0.01
    spec.visual.map.zfar = 10.0
    spec.visual.quality.shadowsize = 0
    spec.visual.quality.offsamples = 0
    for arm in ARMS:
        gripper = spec.body(f"vx300s_{arm}/gripper_link")
        gripper.add_site(name=f"{arm}_tcp", pos=TCP_OFFSET, size=(0.005, 0.005, 0.005), rgba=(0, 0, 0, 0))
        # Wrist camera: above the finger roots, looking past the fingertips (27 deg down).
        gripper.add_camera(
            name=f"{arm}_camera",
            pos=(0.05, 0.0, 0.05),
            xyaxes=(0, -1, 0, 0.447, 0, 0.894),
            fovy=70.0,
        )
    world = spec.worldbody
    world.add_camera(name="head_camera", **HEAD_CAMERA)
    world.add_camera(name="front_camera", **FRONT_CAMERA)
    return spec


def arm_indices(model: mujoco.MjModel, arm: str) -> ArmIndices:
    """Look up the addresses of one arm's joints, actuators and TCP site in a compiled model."""
    prefix = f"vx300s_{arm}/"
    return ArmIndices.lookup(model, [prefix + j for j in ARM_JOINTS],
                             [prefix + "left_finger", prefix + "right_finger"], f"{arm}_tcp",
                             prefix + "gripper_link")


def gripper_to_finger(opening: float) -> float:
    """Map RoboTwin's gripper value (0 closed .. 1 open) to the finger slide position."""
    # Plain float arithmetic: this runs several times per control step (np.clip costs ~3 us).
    return FINGER_CLOSED + min(1.0, max(0.0, float(opening))) * (FINGER_OPEN - FINGER_CLOSED)


def finger_to_gripper(finger_pos: float) -> float:
    """Inverse of :func:`gripper_to_finger`, clipped to [0, 1]."""
    return min(1.0, max(0.0, (float(finger_pos) - FINGER_CLOSED) / (FINGER_OPEN - FINGER_CLOSED)))


def home_action() -> np.ndarray:
    """The 14-d qpos action that holds both arms at the ready pose with open grippers."""
    return np.concatenate([HOME_ARM_QPOS, [1.0], HOME_ARM_QPOS, [1.0]])


def joint_limits(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the 14-d qpos action (arm joint ranges, gripper [0, 1])."""
    low, high = [], []
    for arm in ARMS:
        for j in ARM_JOINTS:
            lo, hi = model.joint(f"vx300s_{arm}/{j}").range
            low.append(lo)
            high.append(hi)
        low.append(0.0)
        high.append(1.0)
    return np.array(low, dtype=np.float32), np.array(high, dtype=np.float32)


@functools.lru_cache(maxsize=1)
def robot_only_model() -> mujoco.MjModel:
    """The arms alone, compiled once per process: the model the IK solver works on."""
    return load_robot_spec().compile()


class AlohaRobot(RobotModel):
    """The RoboTwin suite's robot through the :class:`RobotModel` contract."""

    name = "aloha"
    arms = ARMS
    arm_joints = len(ARM_JOINTS)
    cameras = CAMERAS
    body_prefix = "vx300s_"
    #: With the gripper pointing down and closed, the fingertips reach this far below the TCP
    #: site (measured from the ViperX finger meshes).
    fingertip_below_tcp = 0.024
    #: Fingers close along world y for the left arm reaching along +x, mirrored for the right.
    natural_yaw = {"left": math.pi / 2, "right": -math.pi / 2}

    def load_spec(self) -> mujoco.MjSpec:
        return load_robot_spec()

    def build_room(self, scene: SceneBuilder) -> None:
        scene.table()

    def arm_indices(self, model: mujoco.MjModel, arm: str) -> ArmIndices:
        return arm_indices(model, arm)

    def finger_bodies(self, arm: str) -> tuple[str, str]:
        return f"vx300s_{arm}/left_finger_link", f"vx300s_{arm}/right_finger_link"

    def home_action(self) -> np.ndarray:
        return home_action()

    def finger_targets(self, gripper: float) -> tuple[float, float]:
        finger = gripper_to_finger(gripper)
        return finger, -finger

    def gripper_from_fingers(self, finger_qpos: np.ndarray) -> np.ndarray:
        return np.clip((finger_qpos - FINGER_CLOSED) / (FINGER_OPEN - FINGER_CLOSED), 0.0, 1.0)

    def joint_limits(self, model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
        return joint_limits(model)

    def robot_only_model(self) -> mujoco.MjModel:
        return robot_only_model()


ALOHA = AlohaRobot()
