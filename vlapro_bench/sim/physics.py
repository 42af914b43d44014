"""One compiled scene: the robot, the task's props, physics stepping and state queries.

A :class:`Simulation` is built once per task (compiling a model takes tens of milliseconds)
and reset per episode by writing poses and colours into the model and data.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable

import mujoco
import numpy as np

from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.render import CameraRenderer, apply_fast_visual_settings
from vlapro_bench.sim.robot import ALOHA
from vlapro_bench.sim.robot_model import ArmIndices, RobotModel

PHYSICS_TIMESTEP = 0.002
_DIVERGENCE_WARNINGS = (
    mujoco.mjtWarning.mjWARN_BADQPOS,
    mujoco.mjtWarning.mjWARN_BADQVEL,
    mujoco.mjtWarning.mjWARN_BADQACC,
)


_LOG = logging.getLogger("vlapro_bench.sim")
_warning_handler_installed = False


def _route_mujoco_warnings() -> None:
    """Send MuJoCo's warnings to logging instead of stdout and MUJOCO_LOG.TXT in the cwd.

    Divergence is still detected per episode through ``MjData.warning`` (``diverged``).
    """
    global _warning_handler_installed
    if not _warning_handler_installed:
        mujoco.set_mju_user_warning(lambda message: _LOG.info("MuJoCo: %s", message.strip()))
        _warning_handler_installed = True


class Simulation:
    """Physics and rendering of one task scene, for any :class:`RobotModel` (default: the
    RoboTwin suite's bimanual ViperX)."""

    def __init__(self, build_scene: Callable[[SceneBuilder], None], robot: RobotModel = ALOHA):
        _route_mujoco_warnings()
        self.robot = robot
        spec = robot.load_spec()
        spec.option.timestep = PHYSICS_TIMESTEP
        spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
        spec.option.impratio = 10.0
        robot.configure_physics(spec)
        builder = SceneBuilder(spec)
        robot.build_room(builder)
        build_scene(builder)
        self.model = spec.compile()
        apply_fast_visual_settings(self.model)
        self.data = mujoco.MjData(self.model)
        arms = robot.arms
        self.arms: dict[str, ArmIndices] = {arm: robot.arm_indices(self.model, arm) for arm in arms}
        self._renderers: dict[tuple[int, int], CameraRenderer] = {}
        # Address tables for the per-step observation (joint vector, every TCP).
        self._arm_qpos = np.concatenate([self.arms[a].qpos for a in arms])
        self._arm_qvel = np.concatenate([self.arms[a].qvel for a in arms])
        self._finger_qpos = np.array([self.arms[a].finger_qpos[0] for a in arms])
        self._tcp_sites = np.array([self.arms[a].tcp_site for a in arms])
        mask = robot.arm_joint_mask()
        self._arm_entries = np.flatnonzero(mask)
        self._gripper_entries = np.flatnonzero(~mask)
        self._robot_bodies = np.array(
            [b for b in range(self.model.nbody) if self.model.body(b).name.startswith(robot.body_prefix)]
        )
        # Name -> id lookups, cached: success checks and procedural states name bodies every
        # step, and ``model.body(name)`` builds a view object per call (a third of a cluttered
        # task's per-step overhead in state mode).
        self._body_ids: dict[str, int] = {}
        self._site_ids: dict[str, int] = {}
        self._joint_adrs: dict[str, tuple[int, int]] = {}
        # Body pairs of the current contacts, computed once per physics state (success checks and
        # procedural states ask several times per step); the key changes with every step, forward
        # and reset made through this class, and with MuJoCo's own time and contact count.
        self._state_stamp = 0
        self._contacts_key: tuple[int, float, int] | None = None
        self._contact_bodies_cache = np.zeros((0, 2), dtype=int)
        self._contact_pairs_cache: set[tuple[int, int]] = set()
        self._scratch: mujoco.MjData | None = None  # for arm_collides
        self._links = np.zeros(0, dtype=int)
        self.initial_qpos = self.data.qpos.copy()
        self.initial_rgba = self.model.geom_rgba.copy()
        self.initial_body_pos = self.model.body_pos.copy()
        self.initial_body_quat = self.model.body_quat.copy()

    # -- episode lifecycle ------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the compiled state: robot at home, props where the scene put them."""
        mujoco.mj_resetData(self.model, self.data)
        self.model.geom_rgba[:] = self.initial_rgba
        self.model.body_pos[:] = self.initial_body_pos
        self.model.body_quat[:] = self.initial_body_quat
        robot = self.robot
        home = robot.home_action()
        for arm in robot.arms:
            idx = self.arms[arm]
            self.data.qpos[idx.qpos] = home[robot.arm_slice(arm)]
            self.data.qpos[idx.finger_qpos] = robot.finger_targets(home[robot.gripper_index(arm)])
        self.apply_action(home)
        mujoco.mj_forward(self.model, self.data)
        self._state_stamp += 1

    def apply_action(self, qpos_action: np.ndarray) -> None:
        """Write a joint-vector target into the position actuators."""
        ctrl, robot = self.data.ctrl, self.robot
        for arm in robot.arms:
            idx = self.arms[arm]
            ctrl[idx.arm_actuators] = qpos_action[robot.arm_slice(arm)]
            first, second = robot.finger_targets(qpos_action[robot.gripper_index(arm)])
            ctrl[idx.finger_actuators[0]] = first
            ctrl[idx.finger_actuators[1]] = second

    def step(self, substeps: int) -> None:
        mujoco.mj_step(self.model, self.data, nstep=substeps)
        self._state_stamp += 1

    def diverged(self) -> bool:
        """True once the solver has blown up this episode (MuJoCo then resets the state)."""
        warnings = self.data.warning
        return any(warnings[w].number > 0 for w in _DIVERGENCE_WARNINGS)

    def forward(self) -> None:
        mujoco.mj_forward(self.model, self.data)
        self._state_stamp += 1

    # -- state queries ----------------------------------------------------------------------
    def body_id(self, name: str) -> int:
        bid = self._body_ids.get(name)
        if bid is None:
            bid = self._body_ids[name] = self.model.body(name).id  # an unknown name raises here
        return bid

    def site_id(self, name: str) -> int:
        sid = self._site_ids.get(name)
        if sid is None:
            sid = self._site_ids[name] = self.model.site(name).id
        return sid

    def _joint_adr(self, name: str) -> tuple[int, int]:
        """(qpos address, dof address) of a one-dof joint."""
        adr = self._joint_adrs.get(name)
        if adr is None:
            joint = self.model.joint(name)
            adr = self._joint_adrs[name] = (int(joint.qposadr[0]), int(joint.dofadr[0]))
        return adr

    def body_pos(self, name: str) -> np.ndarray:
        return self.data.xpos[self.body_id(name)].copy()

    def body_quat(self, name: str) -> np.ndarray:
        return self.data.xquat[self.body_id(name)].copy()

    def body_mat(self, name: str) -> np.ndarray:
        return self.data.xmat[self.body_id(name)].reshape(3, 3).copy()

    def site_pos(self, name: str) -> np.ndarray:
        return self.data.site_xpos[self.site_id(name)].copy()

    def joint_qpos(self, name: str) -> float:
        return float(self.data.qpos[self._joint_adr(name)[0]])

    def joint_speed(self, name: str) -> float:
        """Absolute velocity of a one-dof joint (rad/s or m/s): "at rest" for a hinge."""
        return abs(float(self.data.qvel[self._joint_adr(name)[1]]))

    def set_joint_qpos(self, name: str, value: float) -> None:
        self.data.qpos[self._joint_adr(name)[0]] = value

    def set_free_pose(self, body: str, pos: Iterable[float], quat: Iterable[float] = (1, 0, 0, 0)) -> None:
        """Place a free-jointed body (its joint is named ``<body>_free``)."""
        adr = self.model.joint(f"{body}_free").qposadr[0]
        self.data.qpos[adr : adr + 3] = list(pos)
        self.data.qpos[adr + 3 : adr + 7] = list(quat)

    def set_body_pose(self, body: str, pos: Iterable[float], quat: Iterable[float] | None = None) -> None:
        """Move a fixed (or articulated-root) body by editing the model; used at reset only."""
        bid = self.model.body(body).id
        self.model.body_pos[bid] = list(pos)
        if quat is not None:
            self.model.body_quat[bid] = list(quat)

    def set_rgba(self, geoms: Iterable[str], rgba: Iterable[float]) -> None:
        rgba = list(rgba)
        for geom in geoms:
            self.model.geom_rgba[self.model.geom(geom).id] = rgba

    def arm_qpos(self, arm: str) -> np.ndarray:
        return self.data.qpos[self.arms[arm].qpos].copy()

    def arm_target(self, arm: str) -> np.ndarray:
        return self.data.ctrl[self.arms[arm].arm_actuators].copy()

    def gripper_opening(self, arm: str) -> float:
        """Measured gripper value of ``arm`` (the joint vector's gripper entry)."""
        return float(self.robot.gripper_from_fingers(np.array([self.data.qpos[self.arms[arm].finger_qpos[0]]]))[0])

    def tcp_pos(self, arm: str) -> np.ndarray:
        return self.data.site_xpos[self.arms[arm].tcp_site].copy()

    def tcp_mat(self, arm: str) -> np.ndarray:
        return self.data.site_xmat[self.arms[arm].tcp_site].reshape(3, 3).copy()

    def tcp_quat(self, arm: str) -> np.ndarray:
        """Measured TCP orientation (wxyz)."""
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, self.data.site_xmat[self.arms[arm].tcp_site])
        return quat

    def joint_vector(self) -> np.ndarray:
        """Measured joint vector (arm joints and gripper values, arm by arm)."""
        out = np.empty(self.robot.joint_dim)
        qpos = self.data.qpos
        out[self._arm_entries] = qpos[self._arm_qpos]
        out[self._gripper_entries] = self.robot.gripper_from_fingers(qpos[self._finger_qpos])
        return out

    def joint_velocities(self) -> np.ndarray:
        """Measured arm joint velocities (rad/s), arm by arm, grippers left out."""
        return self.data.qvel[self._arm_qvel].copy()

    def tcp_poses(self) -> np.ndarray:
        """Every TCP as ``[xyz, wxyz]``, arm by arm (7 numbers per arm)."""
        out = np.empty(7 * len(self._tcp_sites))
        for i, site in enumerate(self._tcp_sites):
            out[7 * i : 7 * i + 3] = self.data.site_xpos[site]
            mujoco.mju_mat2Quat(out[7 * i + 3 : 7 * i + 7], self.data.site_xmat[site])
        return out

    def in_contact(self, body_a: str, body_b: str) -> bool:
        """True if any geom of body ``a`` touches any geom of body ``b``."""
        if self.data.ncon == 0:
            return False
        a, b, pairs = self.body_id(body_a), self.body_id(body_b), self._contact_pairs()
        return (a, b) in pairs or (b, a) in pairs

    def _contact_bodies(self, ncon: int) -> np.ndarray:
        """``(ncon, 2)`` body ids of the current contacts (cached per physics state)."""
        self._refresh_contacts(ncon)
        return self._contact_bodies_cache

    def _contact_pairs(self) -> set[tuple[int, int]]:
        """The current contacts as a set of (body, body) pairs, as MuJoCo lists them."""
        self._refresh_contacts(self.data.ncon)
        return self._contact_pairs_cache

    def _refresh_contacts(self, ncon: int) -> None:
        key = (self._state_stamp, float(self.data.time), ncon)
        if key != self._contacts_key:
            self._contacts_key = key
            bodies = self.model.geom_bodyid[self.data.contact.geom[:ncon]]
            self._contact_bodies_cache = bodies
            self._contact_pairs_cache = set(map(tuple, bodies.tolist()))

    def gripper_touches(self, arm: str, body: str) -> bool:
        """True if either finger of ``arm`` touches ``body``."""
        left, right = self.robot.finger_bodies(arm)
        return self.in_contact(left, body) or self.in_contact(right, body)

    def is_grasped(self, arm: str, body: str) -> bool:
        left, right = self.robot.finger_bodies(arm)
        return self.in_contact(left, body) and self.in_contact(right, body)

    def touches_robot(self, body: str) -> bool:
        """True if any robot link (fingers, hand, forearm...) touches ``body``."""
        ncon = self.data.ncon
        if ncon == 0:
            return False
        target = self.body_id(body)
        bodies = self._contact_bodies(ncon)
        b1, b2 = bodies[:, 0], bodies[:, 1]
        robot = self._robot_bodies
        return bool(np.any(((b1 == target) & np.isin(b2, robot)) | ((b2 == target) & np.isin(b1, robot))))

    def finger_contacts(self, arm: str, body: str) -> list[np.ndarray]:
        """World positions of the contacts between ``arm``'s fingers and ``body``."""
        ncon = self.data.ncon
        if ncon == 0:
            return []
        model, contacts = self.model, self.data.contact
        fingers = [model.body(name).id for name in self.robot.finger_bodies(arm)]
        target = model.body(body).id
        b1 = model.geom_bodyid[contacts.geom1[:ncon]]
        b2 = model.geom_bodyid[contacts.geom2[:ncon]]
        hit = ((b1 == target) & np.isin(b2, fingers)) | ((b2 == target) & np.isin(b1, fingers))
        return [contacts.pos[i].copy() for i in np.flatnonzero(hit)]

    def pressing_from_above(
        self,
        body: str,
        arms: Iterable[str] | None = None,
        max_tilt: float = math.radians(40),
        max_opening: float | None = None,
        near: Iterable[float] | None = None,
        radius: float = 0.03,
    ) -> bool:
        """True if the fingers of one of ``arms``, pointing down, touch ``body``.

        Press tasks require this beside their joint reading, so a forearm or a sideways swipe
        that happens to move the part does not count (RoboTwin checks the gripper's contact).
        ``max_opening`` also asks for a closed gripper; ``near`` (a world point) for a finger
        contact within ``radius`` of it in xy.
        """
        for arm in self.robot.arms if arms is None else arms:
            approach = self.tcp_mat(arm)[:, 0]  # the TCP x axis points out of the fingertips
            if approach[2] > -math.cos(max_tilt):
                continue
            if max_opening is not None and self.gripper_opening(arm) > max_opening:
                continue
            points = self.finger_contacts(arm, body)
            if near is not None:
                centre = np.asarray(list(near))[:2]
                points = [p for p in points if np.linalg.norm(p[:2] - centre) < radius]
            if points:
                return True
        return False

    def arm_collides(self, arm: str, q_arm: np.ndarray, ignore: Iterable[str] = ()) -> bool:
        """Would the arm's links (hand and fingers excepted) touch the scene at joints ``q_arm``?

        Checked on a scratch copy of the current state, so the simulation is untouched. Tasks
        use it to refuse placements the expert could only reach through a prop (RLBench's
        planner-based feasibility check at reset); the hand and fingers are left out because
        grasp waypoints touch the object on purpose, and so are the ``ignore`` bodies (a part
        the motion itself moves out of the way).
        """
        if self._scratch is None:
            self._scratch = mujoco.MjData(self.model)
            hand = {self.arms[a].gripper_body for a in self.robot.arms}
            fingers = {self.model.body(n).id for a in self.robot.arms for n in self.robot.finger_bodies(a)}
            self._links = np.array([b for b in self._robot_bodies if b not in hand | fingers])
        scratch = self._scratch
        scratch.qpos[:] = self.data.qpos
        scratch.qpos[self.arms[arm].qpos] = q_arm
        mujoco.mj_kinematics(self.model, scratch)
        mujoco.mj_collision(self.model, scratch)
        ncon = scratch.ncon
        if ncon == 0:
            return False
        b1 = self.model.geom_bodyid[scratch.contact.geom1[:ncon]]
        b2 = self.model.geom_bodyid[scratch.contact.geom2[:ncon]]
        link1, link2 = np.isin(b1, self._links), np.isin(b2, self._links)
        skip = np.concatenate([self._robot_bodies, [self.model.body(name).id for name in ignore]])
        return bool(np.any((link1 & ~np.isin(b2, skip)) | (link2 & ~np.isin(b1, skip))))

    def body_speed(self, name: str) -> float:
        """Linear speed of a body's frame (m/s), used to refuse success on transient states."""
        vel = np.empty(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_BODY, self.body_id(name), vel, 0)
        return float(np.linalg.norm(vel[3:]))

    # -- rendering --------------------------------------------------------------------------
    def renderer(self, height: int, width: int) -> CameraRenderer:
        key = (height, width)
        if key not in self._renderers:
            self._renderers[key] = CameraRenderer(self.model, height, width)
        return self._renderers[key]

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()
