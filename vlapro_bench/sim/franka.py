"""The robot of the RLBench suite: a Franka Panda with its parallel gripper, in RLBench's room.

The arm and gripper come from the MJCF files that the PyPI package ``gymnasium-robotics`` ships
for its Franka kitchen (``envs/assets/kitchen_franka/franka_assets``); we include them by their
installed path and edit the result with ``mujoco.MjSpec``. No upstream file is copied.

Edits, and why:

- Joint zeros and limits follow the Franka datasheet convention (the kitchen model offsets joints
  6 and 7 by 90 and 45 degrees), so joint vectors mean what they mean in RLBench and on the real
  robot: RLBench's start pose ``[0, 0.1752, 0, -0.8732, 0, 1.2216, 0.7854]`` is used as is.
- Joint servos with velocity feedback (gains as in MuJoCo Menagerie's Panda), gravity
  compensation on the links (the real controller compensates gravity), implicit integration.
- Rendering uses the collision meshes (2.4k triangles) instead of the 134k-triangle visual
  meshes: on a CPU renderer (llvmpipe) four 128x128 cameras ran at 45 observations/s with the
  visual meshes and 775/s with the collision meshes (measured 2026-11). Images are the same on
  every machine; the look is a plainer Panda.
- A tool-centre-point site between the finger pads (x axis out of the fingertips, y axis along
  the finger travel, the engine's convention) and RLBench's five cameras.

World frame: RLBench's. The table top is at z = 0.752, the arm's base at (-0.268, -0.006, 0.75)
(RLBench's joint 1 sits 0.333 m above it), +x points away from the robot, +y to its left.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from vlapro_bench.sim.geometry import mat_to_quat
from vlapro_bench.sim.robot_model import ArmIndices, RobotModel

if TYPE_CHECKING:
    from vlapro_bench.sim.builder import SceneBuilder

ARM = "panda"
JOINT_NAMES = tuple(f"robot:panda0_joint{i}" for i in range(1, 8))
FINGER_JOINTS = ("robot:panda0_finger_joint1", "robot:panda0_finger_joint2")
FINGER_BODIES = ("panda0_leftfinger", "panda0_rightfinger")
HAND_BODY = "panda0_link7"
#: Joint limits of the Franka Panda (datasheet, radians).
JOINT_LIMITS = np.array([
    (-2.8973, 2.8973), (-1.7628, 1.7628), (-2.8973, 2.8973), (-3.0718, -0.0698),
    (-2.8973, 2.8973), (-0.0175, 3.7525), (-2.8973, 2.8973),
])
#: Finger opening per finger (metres): 0 closed, 0.04 open (RLBench's gripper joint range).
FINGER_OPEN = 0.04
#: RLBench's start pose (read from its reach_target test demo), gripper open.
HOME_QPOS = np.array([0.0, 0.1752, 0.0, -0.8732, 0.0, 1.2216, 0.7854])
#: Joint servo stiffness / damping and torque limits per joint (MuJoCo Menagerie's Panda values).
SERVO_KP = (4500, 4500, 3500, 3500, 2000, 2000, 2000)
SERVO_KV = (450, 450, 350, 350, 200, 200, 200)
TORQUE_LIMIT = (87, 87, 87, 87, 12, 12, 12)
FINGER_KP = 2500.0
FINGER_FORCE = 40.0
#: Arm base in the world (RLBench's joint 1 at (-0.268, -0.006, 1.083) minus the 0.333 m link).
BASE_POS = (-0.268, -0.006, 0.75)
#: Tool centre point on the hand body: 7 cm into the 9.5 cm finger pads, so a pinch grasp is
#: centred on the pads; the closed fingertips are 2.45 cm further out.
TCP_Z = 0.2354
FINGERTIP_BELOW_TCP = 0.0245
TABLE_TOP_Z = 0.752
#: Camera poses from RLBench's recorded extrinsics (world position, camera-to-world rotation
#: whose z column is the viewing direction, PyRep convention) and fields of view at 128x128.
WORLD_CAMERAS = {
    "left_shoulder": ((-0.175, 0.20, 1.98),
                      ((0.1736, 0.8925, 0.4162), (0.9848, -0.1574, -0.0734), (0.0, 0.4226, -0.9063)), 40.0),
    "right_shoulder": ((-0.175, -0.20, 1.98),
                       ((-0.1736, 0.8925, 0.4162), (0.9848, 0.1574, 0.0734), (0.0, 0.4226, -0.9063)), 40.0),
    "overhead": ((-0.175, 0.0, 2.43), ((0.0, 0.9063, 0.4226), (1.0, 0.0, 0.0), (0.0, 0.4226, -0.9063)), 40.0),
    "front": ((1.35, 0.0, 1.58), ((0.0, -0.4226, -0.9063), (-1.0, 0.0, 0.0), (0.0, 0.9063, -0.4226)), 40.0),
}
#: RLBench's wrist camera at the start pose: world pose, and the tip (TCP) position then.
WRIST_CAMERA_START = ((0.305, -0.006, 1.573), ((0.0, 0.988, 0.1544), (1.0, 0.0, 0.0), (0.0, 0.1544, -0.988)), 60.0)
RLBENCH_TIP_START = (0.2785, -0.0082, 1.4719)
#: The real Panda's TCP is 0.1034 m past the flange, which is 0.107 m along the hand body's z.
REAL_TCP_Z = 0.2104
CAMERAS = ("left_shoulder", "right_shoulder", "overhead", "wrist", "front")
PANDA_WHITE = (0.93, 0.93, 0.93, 1.0)
PANDA_DARK = (0.22, 0.22, 0.24, 1.0)


class RobotAssetsMissingError(ImportError):
    """gymnasium-robotics (which ships the Panda model) is not installed."""


def franka_assets_dir() -> Path:
    """Folder of the Panda MJCF files inside the installed gymnasium-robotics package.

    Located without importing the package (its import pulls in many environments).
    """
    spec = importlib.util.find_spec("gymnasium_robotics")
    if spec is None or not spec.submodule_search_locations:
        raise RobotAssetsMissingError(
            "The RLBench suite's robot model comes from the PyPI package 'gymnasium-robotics'. "
            "Install it with: pip install gymnasium-robotics"
        )
    path = Path(spec.submodule_search_locations[0]) / "envs" / "assets" / "kitchen_franka" / "franka_assets"
    if not (path / "chain.xml").is_file():
        raise RobotAssetsMissingError(f"gymnasium-robotics is installed but {path} has no Panda model.")
    return path


def _camera_xyaxes(rotation) -> list[float]:
    """MuJoCo camera axes (x right, y up, looking along -z) from a PyRep camera-to-world rotation.

    PyRep's intrinsics have a negative focal length: image right is the camera's -x, image up
    its +y, and it looks along +z.
    """
    r = np.asarray(rotation, dtype=float)
    return [*(-r[:, 0]), *r[:, 1]]


@functools.cache
def _wrist_camera_in_hand() -> tuple[list[float], list[float]]:
    """Wrist camera pose in the hand frame, from RLBench's recorded start pose.

    The offset from RLBench's tip to the camera, taken in the hand frame at the start pose, is
    kept relative to the real TCP point (the finger length differs between the two models).
    """
    spec = _arm_spec()
    model = spec.compile()
    data = mujoco.MjData(model)
    for name, q in zip(JOINT_NAMES, HOME_QPOS, strict=True):
        data.qpos[model.joint(name).qposadr[0]] = q
    mujoco.mj_kinematics(model, data)
    hand = model.body(HAND_BODY).id
    hand_rot = data.xmat[hand].reshape(3, 3)
    cam_pos, cam_rot, _ = WRIST_CAMERA_START
    offset_world = np.asarray(cam_pos) - np.asarray(RLBENCH_TIP_START)
    pos = np.array([0.0, 0.0, REAL_TCP_Z]) + hand_rot.T @ offset_world
    xyaxes = np.asarray(_camera_xyaxes(cam_rot)).reshape(2, 3)
    local = (hand_rot.T @ xyaxes.T).T
    return pos.round(4).tolist(), local.ravel().round(4).tolist()


def _arm_spec() -> mujoco.MjSpec:
    """The kitchen Panda with joint conventions, servos and meshes edited (see module doc)."""
    root = franka_assets_dir()
    xml = (
        '<mujoco model="panda">'
        f'<include file="{root / "assets.xml"}"/>'
        f'<include file="{root / "actuator.xml"}"/>'
        f'<worldbody><include file="{root / "chain.xml"}"/></worldbody>'
        "</mujoco>"
    )
    spec = mujoco.MjSpec.from_string(xml)
    # Mesh paths were resolved against the include's folder; the files live under meshes/.
    spec.meshdir = ""
    for mesh in spec.meshes:
        mesh.file = str(root / "meshes" / Path(mesh.file).relative_to(root))
    heavy = {m.name for m in spec.meshes if m.name.endswith("_viz") and m.name != "finger_viz"}
    for geom in list(spec.geoms):
        if geom.meshname in heavy:
            spec.delete(geom)
        elif geom.classname.name == "panda_col":
            geom.group = 0  # render the light collision meshes
            geom.rgba = PANDA_DARK if geom.meshname in ("link7_col", "hand_col") else PANDA_WHITE
        elif geom.meshname == "finger_viz":
            geom.rgba = PANDA_DARK
    for mesh in list(spec.meshes):
        if mesh.name in heavy:
            spec.delete(mesh)
    spec.delete(spec.site("end_effector"))
    # Datasheet joint zeros: drop the kitchen model's extra 90 deg (link 6) and 45 deg (link 7).
    half = math.sqrt(0.5)
    for link in ("panda0_link6", "panda0_link7"):
        body = spec.body(link)
        body.alt.type = mujoco.mjtOrientation.mjORIENTATION_QUAT
        body.quat = [half, half, 0.0, 0.0]
    for name, (lo, hi) in zip(JOINT_NAMES, JOINT_LIMITS, strict=True):
        joint = spec.joint(name)
        joint.range = [lo, hi]
        joint.damping = [1.0, 0.0, 0.0]
        joint.armature = 0.1
    # The kitchen model squeezes with 500 N/m x finger travel: 3 N on a 12 mm handle, which
    # slips under a drawer's drag. 2500 N/m capped at 40 N holds small and large objects alike
    # (the real hand grips with up to 70 N; RLBench attaches grasped objects instead).
    for actuator in list(spec.actuators)[7:]:
        actuator.gainprm[0] = FINGER_KP
        actuator.biasprm[1] = -FINGER_KP
        actuator.forcerange = [-FINGER_FORCE, FINGER_FORCE]
    for i, actuator in enumerate(list(spec.actuators)[:7]):
        lo, hi = JOINT_LIMITS[i]
        actuator.ctrlrange = [lo, hi]
        actuator.forcerange = [-TORQUE_LIMIT[i], TORQUE_LIMIT[i]]
        actuator.gainprm[0] = SERVO_KP[i]
        actuator.biasprm[0:3] = [0.0, -SERVO_KP[i], -SERVO_KV[i]]
    for body in spec.bodies:
        if body.name.startswith("panda0_"):
            body.gravcomp = 1.0
    spec.body("panda0_link0").pos = list(BASE_POS)
    return spec


def load_franka_spec() -> mujoco.MjSpec:
    """The Panda with its TCP site, RLBench's five cameras and fast render settings."""
    wrist_pos, wrist_xyaxes = _wrist_camera_in_hand()
    spec = _arm_spec()
    hand = spec.body(HAND_BODY)
    # Finger travel axis in the hand frame: the fingers are mounted 45 deg about the hand's z.
    finger_axis = (math.sqrt(0.5), math.sqrt(0.5), 0.0)
    hand.add_site(name=f"{ARM}_tcp", pos=[0, 0, TCP_Z], size=[0.005] * 3, rgba=[0, 0, 0, 0],
                  xyaxes=[0, 0, 1, *finger_axis])
    hand.add_camera(name="wrist", pos=wrist_pos, xyaxes=wrist_xyaxes, fovy=WRIST_CAMERA_START[2])
    for name, (pos, rotation, fovy) in WORLD_CAMERAS.items():
        spec.worldbody.add_camera(name=name, pos=list(pos), xyaxes=_camera_xyaxes(rotation), fovy=fovy)
    for pos, direction in (((0.3, 1.2, 3.0), (0.0, -0.3, -1.0)), ((0.3, -1.2, 3.0), (0.0, 0.3, -1.0)),
                           ((1.5, 0.0, 2.5), (-0.5, 0.0, -1.0))):
        spec.worldbody.add_light(pos=list(pos), dir=list(direction), diffuse=[0.3] * 3, specular=[0.05] * 3,
                                 castshadow=False)
    spec.compiler.inertiagrouprange = [0, 5]
    spec.stat.extent = 3.0
    spec.stat.center = [0.2, 0.0, 1.0]
    spec.visual.map.znear = 0.003
    spec.visual.map.zfar = 3.0
    spec.visual.quality.shadowsize = 0
    spec.visual.quality.offsamples = 0
    spec.visual.headlight.ambient = [0.3, 0.3, 0.3]
    spec.visual.headlight.diffuse = [0.25, 0.25, 0.25]
    return spec


class FrankaRobot(RobotModel):
    """Franka Panda through the :class:`RobotModel` contract.

    Joint vector: ``[7 arm joints (rad, datasheet zeros), finger opening (m per finger, 0 closed
    .. 0.04 open)]``, RLBench's ``joint_positions`` plus its gripper joint position.
    """

    name = "panda"
    arms = (ARM,)
    arm_joints = 7
    cameras = CAMERAS
    body_prefix = "panda0_"
    fingertip_below_tcp = FINGERTIP_BELOW_TCP
    #: Finger yaw at the start pose (finger axis along world -y, hand pointing down).
    natural_yaw = {ARM: -math.pi / 2}
    ik_posture_cost = 0.0
    gripper_open = FINGER_OPEN

    def load_spec(self) -> mujoco.MjSpec:
        return load_franka_spec()

    def build_room(self, scene: SceneBuilder) -> None:
        build_rlbench_room(scene)

    def configure_physics(self, spec: mujoco.MjSpec) -> None:
        # The joint servos' velocity feedback is stiff for explicit Euler at 2 ms.
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST

    def arm_indices(self, model: mujoco.MjModel, arm: str) -> ArmIndices:
        if arm != ARM:
            raise KeyError(f"The Panda has one arm, {ARM!r}; got {arm!r}")
        return ArmIndices.lookup(model, JOINT_NAMES, FINGER_JOINTS, f"{ARM}_tcp", HAND_BODY)

    def finger_bodies(self, arm: str) -> tuple[str, str]:
        return FINGER_BODIES

    def home_action(self) -> np.ndarray:
        return np.concatenate([HOME_QPOS, [FINGER_OPEN]])

    def finger_targets(self, gripper: float) -> tuple[float, float]:
        # Both finger joints open with positive values (their axes are mirrored in the model).
        finger = min(FINGER_OPEN, max(0.0, float(gripper)))
        return finger, finger

    def gripper_from_fingers(self, finger_qpos: np.ndarray) -> np.ndarray:
        return np.clip(finger_qpos, 0.0, FINGER_OPEN)

    def joint_limits(self, model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
        low = np.append(JOINT_LIMITS[:, 0], 0.0).astype(np.float32)
        high = np.append(JOINT_LIMITS[:, 1], FINGER_OPEN).astype(np.float32)
        return low, high

    # -- ee_pose: RLBench's gripper_pose frame and gripper_open flag ---------------------------
    def ee_gripper(self, gripper: float) -> float:
        """RLBench's ``gripper_open``: 1 when the fingers are more than 90% open, else 0."""
        return 1.0 if gripper > 0.9 * FINGER_OPEN else 0.0

    def gripper_from_ee(self, value: float) -> float:
        """End-effector actions command the opening as a fraction (1 = open), RLBench-style."""
        return FINGER_OPEN * min(1.0, max(0.0, float(value)))

    def ee_from_gripper(self, gripper: float) -> float:
        return min(1.0, max(0.0, float(gripper) / FINGER_OPEN))

    def ee_from_tcp_quat(self, quat: np.ndarray) -> np.ndarray:
        """RLBench's tip frame: z along the approach, y along the fingers (TCP: x, y)."""
        out = np.empty(4)
        mujoco.mju_mulQuat(out, np.asarray(quat, dtype=np.float64), _TIP_IN_TCP)
        return out

    def tcp_from_ee_quat(self, quat: np.ndarray) -> np.ndarray:
        out = np.empty(4)
        mujoco.mju_mulQuat(out, np.asarray(quat, dtype=np.float64), _TCP_IN_TIP)
        return out


#: The tip frame's axes in TCP coordinates (x_tip = -z_tcp, y_tip = y_tcp, z_tip = x_tcp), as a
#: rotation matrix (columns) and as quaternions both ways.
_TIP_FROM_TCP = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
_TIP_IN_TCP = mat_to_quat(_TIP_FROM_TCP)
_TCP_IN_TIP = mat_to_quat(_TIP_FROM_TCP.T)


def build_rlbench_room(scene: SceneBuilder) -> None:
    """RLBench's table (top at z = 0.752), a floor and walls.

    RLBench's base scene (``task_design.ttt``) is not in any public copy, so the table's extent
    and the colours are ours: wide enough for every task base and for the cameras' views.
    """
    table = scene.body("table", pos=(0.2, 0.0, TABLE_TOP_Z - 0.02))
    scene.box(table, "table_top", (0.75, 0.85, 0.02), (0.6, 0.47, 0.36, 1.0), friction=(1.0, 0.005, 0.0001))
    for i, (x, y) in enumerate(((-0.5, -0.8), (-0.5, 0.8), (0.9, -0.8), (0.9, 0.8))):
        scene.box(table, f"table_leg_{i}", (0.03, 0.03, 0.36), (0.35, 0.27, 0.2, 1.0), pos=(x, y, -0.38),
                  collide=False)
    floor = scene.body("floor")
    # The floor collides, so a prop knocked off the table comes to rest instead of falling forever.
    scene.geom(floor, "floor", mujoco.mjtGeom.mjGEOM_PLANE, (4, 4, 0.1), (0.4, 0.38, 0.36, 1))
    walls = scene.body("walls", pos=(0.3, 0.0, 1.5))
    for i, (pos, half) in enumerate([((-1.9, 0, 0), (0.02, 2.5, 1.5)), ((2.2, 0, 0), (0.02, 2.5, 1.5)),
                                     ((0, 2.4, 0), (2.2, 0.02, 1.5)), ((0, -2.4, 0), (2.2, 0.02, 1.5))]):
        scene.box(walls, f"wall_{i}", half, (0.8, 0.8, 0.78, 1), pos=pos, collide=False)
    scene.exclude("table", "panda0_link0")


FRANKA = FrankaRobot()
