"""The Gymnasium environment over the embedded MuJoCo engine, for one task or a split of tasks.

One class serves every suite and both kinds of id: ``VLAPro-RoboTwin/<task>-v0`` (one task) and
``VLAPro-RoboTwin-Unseen-v0`` (a split; ``reset(seed=s)`` picks the task from the seed,
``reset(options={"task": name})`` fixes it), and the same for ``VLAPro-RLBench``. What differs
between suites (robot, control modes, control rate, bounds) is a :class:`SuiteProfile`. Scenes
are compiled lazily, once per task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from vlapro_bench.errors import InvalidActionError, InvalidOptionError
from vlapro_bench.layout_draws import PlacementError
from vlapro_bench.registry import TaskSpec, get_task_class
from vlapro_bench.sim.control import ControlContext
from vlapro_bench.sim.motion import Motion, PlanningError
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.sim.suites import ROBOTWIN, suite_profile
from vlapro_bench.task import (
    INSTRUCTION_CHARSET,
    INSTRUCTION_POOLS,
    INSTRUCTION_SETS,
    MAX_TRACKED_OBJECTS,
    SUCCESS,
    ProceduralState,
    Task,
    success_conditions,
)
from vlapro_bench.text_space import InstructionText

OBS_MODES = ("rgb", "rgbd", "state")
#: The RoboTwin suite's control modes (each suite's are in its profile, ``vlapro_bench.sim.suites``).
CONTROL_MODES = tuple(ROBOTWIN.control_modes)
#: RoboTwin control at 25 Hz: 20 physics substeps of 2 ms per action (RLBench: 25, i.e. 20 Hz).
CONTROL_SUBSTEPS = ROBOTWIN.control_substeps
#: Largest change of an arm joint target per control step (rad) in RoboTwin's absolute modes: the
#: arm's 5 rad/s joint speed limit at 25 Hz. Without it, a random policy's target jumps make the
#: contact solver diverge.
MAX_JOINT_STEP = ROBOTWIN.max_joint_step
#: Physics steps after placing props, with the arms at home, so nothing starts mid-fall.
SETTLE_SUBSTEPS = ROBOTWIN.settle_substeps
MAX_INSTRUCTION_LENGTH = 256
#: Largest camera side in pixels (offscreen buffers beyond it are refused).
MAX_CAMERA_SIZE = 2048
#: RoboTwin depth beyond the room is clipped to this (metres); the far clip plane is 20 m.
DEPTH_FAR = ROBOTWIN.depth_far
#: Bound of the ``joint_velocities`` observation (rad/s; measured values are clipped to it).
MAX_JOINT_VELOCITY = 20.0


class ChunkStep(NamedTuple):
    """What :meth:`VLAProEnv.step_chunk` returns: the last observation and one entry per executed step."""

    observation: dict[str, Any]
    rewards: np.ndarray  # (n,) float64
    terminations: np.ndarray  # (n,) bool; only the last entry can be True
    truncations: np.ndarray  # (n,) bool; only the last entry can be True
    infos: list[dict[str, Any]]


class VLAProEnv(gym.Env):
    """Embedded-engine environment. See the package docs for observation and action layouts.

    It provides both task-level interfaces of :mod:`vlapro_bench.env_interface`:
    :class:`~vlapro_bench.env_interface.BenchmarkEnv` (task spec, step limit, procedural state,
    settings) and :class:`~vlapro_bench.env_interface.ScriptedExpertEnv` (:meth:`expert_actions`).

    Arguments:
        tasks: one task name or the task names of a split.
        suite: ``"robotwin"`` (dual-arm ViperX) or ``"rlbench"`` (Franka Panda).
        obs_mode: ``"rgb"`` (default), ``"rgbd"`` or ``"state"`` (no images).
        control_mode: the suite's action mode; ``None`` picks its default.
            RoboTwin: ``"qpos"`` (default; 14-d absolute joint targets, gripper 1 = open) or
            ``"ee"`` (16-d TCP pose targets ``[xyz, wxyz quat, gripper]`` per arm, solved by IK).
            RLBench: ``"joint_delta"`` (default; 7 joint deltas of at most 0.1 rad + absolute
            finger opening in metres, 0 closed .. 0.04 open), ``"joint_position"`` (7 absolute
            joints + finger opening) or ``"ee_pose"`` (xyz + wxyz quaternion of RLBench's tip
            frame + gripper 0 closed .. 1 open, solved by IK).
        camera_size: ``(height, width)`` of every camera image, default ``(128, 128)``.
        cameras: subset of the suite's cameras (RoboTwin: ``head_camera, left_camera,
            right_camera, front_camera``; RLBench: ``left_shoulder, right_shoulder, overhead,
            wrist, front``).
        render_mode: ``None`` or ``"rgb_array"`` (a montage of the cameras).
        instruction_pool: ``"seen"`` or ``"unseen"`` instruction templates.
        instruction_set: ``0`` (default: each task's original templates, as the v0 protocols
            use) or ``1`` (RoboTwin 2.0's scale: 50+ seen and 10+ unseen templates, object
            descriptions drawn per episode). The layout of a seed does not depend on it.
        max_episode_steps: override of the per-task step limit.

    Observation (``Dict``): ``images`` / ``depth`` per camera (or ``object_state`` in state
    mode), ``agent_pos`` (the measured joint vector in the action layout: RoboTwin 14-d with
    grippers 0..1; RLBench 8-d, RLBench's ``joint_positions`` + finger opening in metres),
    ``ee_pose`` (per arm ``[xyz, wxyz, gripper]``; RLBench: its ``gripper_pose`` tip frame and
    ``gripper_open`` flag), ``instruction``; RLBench also ``joint_velocities`` (7, rad/s).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(
        self,
        tasks: str | Sequence[str],
        suite: str = "robotwin",
        obs_mode: str = "rgb",
        control_mode: str | None = None,
        camera_size: tuple[int, int] | int = (128, 128),
        cameras: Sequence[str] | None = None,
        render_mode: str | None = None,
        instruction_pool: str = "seen",
        max_episode_steps: int | None = None,
        instruction_set: int = 0,
    ):
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        if not names:
            raise ValueError("tasks must name at least one task")
        self.profile = suite_profile(suite)
        self.robot = self.profile.robot
        classes = [get_task_class(suite, name) for name in names]
        names = [cls.spec.name for cls in classes]  # "open_laptop-v0" is registered as "open_laptop"
        self.task_classes = dict(zip(names, classes, strict=True))
        self.task_names = names
        self.suite = suite
        control_mode = self.profile.default_control_mode if control_mode is None else control_mode
        _check_choice("obs_mode", obs_mode, OBS_MODES)
        _check_choice("control_mode", control_mode, tuple(self.profile.control_modes))
        _check_choice("instruction_pool", instruction_pool, INSTRUCTION_POOLS)
        _check_choice("instruction_set", instruction_set, INSTRUCTION_SETS)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.obs_mode, self.control_mode = obs_mode, control_mode
        self.instruction_pool, self.render_mode = instruction_pool, render_mode
        self.instruction_set = instruction_set
        self.metadata = {**self.metadata, "render_fps": round(self.profile.control_hz)}
        if isinstance(camera_size, int):
            camera_size = (camera_size, camera_size)
        self.camera_size = (int(camera_size[0]), int(camera_size[1]))
        if min(self.camera_size) < 8 or max(self.camera_size) > MAX_CAMERA_SIZE:
            raise ValueError(f"camera_size must be between 8 and {MAX_CAMERA_SIZE} pixels, got {camera_size}")
        all_cameras = self.robot.cameras
        self.cameras = tuple(all_cameras if cameras is None else cameras)
        unknown = set(self.cameras) - set(all_cameras)
        if unknown or not self.cameras:
            raise ValueError(f"Unknown cameras {sorted(unknown)}; choose from {list(all_cameras)}")
        self.max_episode_steps_override = max_episode_steps

        self._sims: dict[str, Simulation] = {}
        self._tasks: dict[str, Task] = {}
        self.task: Task | None = None
        self.sim: Simulation | None = None
        self._steps = 0
        self._target = self.robot.home_action()
        self._instruction = ""
        self._reset_args: dict[str, Any] = {}
        # Why the last reset left no episode (None when it succeeded or none was tried): the
        # ResetNeeded errors quote it, so a caller learns to reset with another seed.
        self._failed_reset: str | None = None

        low, high = self.robot.joint_limits(self._sim_for(names[0]).model)
        self.joint_low, self.joint_high = low, high
        self.control = ControlContext(self.robot, low, high, self.profile.max_joint_step)
        self.control_spec = self.profile.control_modes[control_mode]
        self.action_space = self.control_spec.action_space(self.control)
        self.observation_space = self._make_observation_space()

    # -- spaces -----------------------------------------------------------------------------
    def _make_observation_space(self) -> spaces.Dict:
        h, w = self.camera_size
        robot, bound = self.robot, self.profile.position_bound
        # Measured joints can overshoot their limits slightly (soft constraints): pad the bounds.
        pad = np.where(robot.arm_joint_mask(), 0.1, 0.0).astype(np.float32)
        pose_low = np.array([-bound] * 3 + [-1] * 4, dtype=np.float32)
        ee_low = np.concatenate([np.r_[pose_low, 0]] * len(robot.arms))
        ee_high = np.concatenate([np.r_[-pose_low, 1]] * len(robot.arms))
        obs: dict[str, spaces.Space] = {
            "agent_pos": spaces.Box(self.joint_low - pad, self.joint_high + pad, dtype=np.float32),
            "ee_pose": spaces.Box(ee_low, ee_high, dtype=np.float32),
            "instruction": InstructionText(max_length=MAX_INSTRUCTION_LENGTH, min_length=1,
                                          charset="".join(sorted(INSTRUCTION_CHARSET))),
        }
        if self.profile.joint_velocities:
            n = robot.arm_joints * len(robot.arms)
            obs["joint_velocities"] = spaces.Box(-MAX_JOINT_VELOCITY, MAX_JOINT_VELOCITY, shape=(n,), dtype=np.float32)
        if self.obs_mode == "state":
            low = np.tile(pose_low, MAX_TRACKED_OBJECTS)
            obs["object_state"] = spaces.Box(low, -low, dtype=np.float32)
        else:
            obs["images"] = spaces.Dict(
                {cam: spaces.Box(0, 255, shape=(h, w, 3), dtype=np.uint8) for cam in self.cameras}
            )
        if self.obs_mode == "rgbd":
            far = self.profile.depth_far
            obs["depth"] = spaces.Dict(
                {cam: spaces.Box(0, far, shape=(h, w, 1), dtype=np.float32) for cam in self.cameras}
            )
        return spaces.Dict(obs)

    # -- lifecycle --------------------------------------------------------------------------
    def _sim_for(self, name: str) -> Simulation:
        if name not in self._sims:
            task = self.task_classes[name]()
            self._tasks[name] = task
            self._sims[name] = Simulation(task.build_scene, robot=self.robot)
        return self._sims[name]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = reset_options(options, ["task"])
        # One integer drawn from the env's generator seeds everything in the episode, so the
        # episode is re-runnable from (seed, task) alone.
        episode_seed = int(self.np_random.integers(2**31 - 1))
        rng = np.random.default_rng(episode_seed)
        name = options.get("task")
        if name is None:
            name = self.task_names[int(rng.integers(len(self.task_names)))]
        elif name not in self.task_classes:
            raise InvalidOptionError(
                f"Task {name!r} is not in this environment; valid: {', '.join(self.task_names)}"
            )
        sim, task = self._sim_for(name), self._tasks[name]
        # Until this reset succeeds there is no episode: a refused layout leaves props half
        # placed, and stepping or scoring that scene would count an episode no seed defines.
        self.sim, self.task = None, None
        self._failed_reset = f"The last reset (seed={seed}, task {name!r}) failed."
        sim.reset()
        try:
            task.episode = task.initialize_episode(sim, rng)
        except PlacementError as error:
            self._failed_reset = f"The last reset (seed={seed}) was refused: {error}"
            raise
        self._target = self.robot.home_action()
        sim.apply_action(self._target)
        sim.step(self.profile.settle_substeps)
        self._instruction = task.instruction(self.instruction_pool, rng, self.instruction_set)
        self.sim, self.task = sim, task
        self._failed_reset = None
        self._steps = 0
        self._reset_args = {"seed": seed, "episode_seed": episode_seed, "task": name}
        return self._observation(), self._info(success=False)

    def step(self, action):
        self._require_reset()
        reward, terminated, truncated, info = self._advance(self._validate_action(action))
        return self._observation(), reward, terminated, truncated, info

    def step_chunk(self, actions) -> ChunkStep:
        """Execute an action chunk, rendering the observation once, after its last executed action.

        A chunking policy reads one observation per chunk, so the observations between its
        actions are never rendered. Each action is validated and stepped exactly as
        :meth:`step` does it; stepping stops at the first termination (success) or truncation,
        as a loop over ``step`` that breaks on either would. Success checks, rewards and
        ``info`` are the same as that loop's, step for step.

        Args:
            actions: ``(H, action_dim)`` floats, ``H >= 1``: the chunk to execute, in order.

        Returns:
            A :class:`ChunkStep` ``(observation, rewards, terminations, truncations, infos)``:
            the observation after the last executed action, and one entry per executed action
            (``len(rewards) <= H``; only the last step can be terminated or truncated).
        """
        self._require_reset()
        chunk = np.asarray(actions)
        if chunk.ndim != 2 or len(chunk) < 1:
            raise InvalidActionError(
                f"step_chunk takes an (H, {self.action_space.shape[0]}) chunk with H >= 1, got shape {chunk.shape}"
            )
        rewards, terminations, truncations, infos = [], [], [], []
        for action in chunk:
            reward, terminated, truncated, info = self._advance(self._validate_action(action))
            rewards.append(reward)
            terminations.append(terminated)
            truncations.append(truncated)
            infos.append(info)
            if terminated or truncated:
                break
        return ChunkStep(self._observation(), np.asarray(rewards, dtype=np.float64),
                         np.asarray(terminations, dtype=bool), np.asarray(truncations, dtype=bool), infos)

    def _advance(self, action: np.ndarray) -> tuple[float, bool, bool, dict[str, Any]]:
        """One control step without the observation: ``(reward, terminated, truncated, info)``."""
        assert self.sim is not None and self.task is not None
        self._target = self.control_spec.next_target(action, self._target, self.control)
        self.sim.apply_action(self._target)
        self.sim.step(self.profile.control_substeps)
        self._steps += 1
        if self.sim.diverged():
            # MuJoCo resets a diverged simulation to the compiled state, where props may sit
            # anywhere (even in a success configuration): end the episode as a failure.
            info = self._info(False)
            info["simulation_diverged"] = True
            return 0.0, False, True, info
        conditions = success_conditions(self.task.check_success(self.sim))
        success = conditions[SUCCESS]
        truncated = (not success) and self._steps >= self.max_episode_steps
        info = self._info(success)
        info["success_conditions"] = conditions  # which condition failed, when one did
        return float(success), success, truncated, info

    def _require_reset(self) -> None:
        if self.sim is None or self.task is None:
            raise self._reset_needed("step()")

    def _reset_needed(self, before: str) -> gym.error.ResetNeeded:
        """The error for using the env with no episode; it says why the last reset left none."""
        if self._failed_reset is not None:
            return gym.error.ResetNeeded(
                f"{self._failed_reset} There is no episode until a reset succeeds: call reset with "
                f"another seed before {before}.")
        return gym.error.ResetNeeded(f"Call reset() before {before}.")

    # -- the task-level interface (vlapro_bench.env_interface.BenchmarkEnv) ---------------------
    @property
    def task_spec(self) -> TaskSpec:
        """The spec of the current episode's task."""
        if self.task is None:
            raise self._reset_needed("reading the task spec")
        return self.task.spec

    @property
    def max_episode_steps(self) -> int:
        """The step limit in force: ``max_episode_steps_override`` if set, else the task's."""
        if self.max_episode_steps_override is not None:
            return int(self.max_episode_steps_override)
        assert self.task is not None
        return self.task.spec.max_episode_steps

    def procedural_state(self) -> ProceduralState:
        """The current procedural ground truth (privileged; ``info["procedural_state"]`` as an object)."""
        if self.sim is None or self.task is None:
            raise self._reset_needed("reading the procedural state")
        return self.task.procedural_state(self.sim)

    # -- actions ----------------------------------------------------------------------------
    def _validate_action(self, action) -> np.ndarray:
        dim = self.action_space.shape[0]
        arr = np.asarray(action)
        if arr.dtype.kind not in "f":
            raise InvalidActionError(
                f"Action dtype must be floating point (float32 or float64), got {arr.dtype}. "
                f"Pass np.asarray(action, dtype=np.float32)."
            )
        if arr.shape != (dim,):
            hint = " (an action chunk? step one action at a time)" if arr.ndim == 2 else ""
            raise InvalidActionError(
                f"Action must have shape ({dim},) for control_mode={self.control_mode!r}, "
                f"got {arr.shape}{hint}."
            )
        if not np.all(np.isfinite(arr)):
            bad = np.flatnonzero(~np.isfinite(arr)).tolist()
            raise InvalidActionError(f"Action has NaN or infinite entries at indices {bad}.")
        return arr.astype(np.float64)

    # -- observations -----------------------------------------------------------------------
    def _observation(self) -> dict[str, Any]:
        sim = self.sim
        assert sim is not None and self.task is not None
        joints = sim.joint_vector()
        obs: dict[str, Any] = {
            "agent_pos": joints.astype(np.float32),
            "ee_pose": self._ee_pose(joints),
            "instruction": self._instruction,
        }
        if self.profile.joint_velocities:
            velocities = np.minimum(np.maximum(sim.joint_velocities(), -MAX_JOINT_VELOCITY), MAX_JOINT_VELOCITY)
            obs["joint_velocities"] = velocities.astype(np.float32)
        if self.obs_mode == "state":
            obs["object_state"] = self.task.object_state(sim)
            return obs
        renderer = sim.renderer(*self.camera_size)
        obs["images"] = {cam: renderer.rgb(sim.data, cam) for cam in self.cameras}  # fresh arrays
        if self.obs_mode == "rgbd":
            far = self.profile.depth_far
            obs["depth"] = {
                cam: np.minimum(renderer.depth(sim.data, cam), far)[..., None] for cam in self.cameras
            }
        return obs

    def _ee_pose(self, joints: np.ndarray) -> np.ndarray:
        """``[xyz, wxyz, gripper]`` per arm, the layout of the end-effector action."""
        assert self.sim is not None
        robot = self.robot
        poses = self.sim.tcp_poses()
        out = np.empty(8 * len(robot.arms), dtype=np.float32)
        for i, arm in enumerate(robot.arms):
            out[8 * i : 8 * i + 3] = poses[7 * i : 7 * i + 3]
            out[8 * i + 3 : 8 * i + 7] = robot.ee_from_tcp_quat(poses[7 * i + 3 : 7 * i + 7])
            out[8 * i + 7] = robot.ee_gripper(joints[robot.gripper_index(arm)])
        return out

    def _info(self, success: bool) -> dict[str, Any]:
        assert self.sim is not None and self.task is not None
        info = {
            "is_success": success,
            "task": self.task.spec.name,
            "instruction": self._instruction,
            "procedural_state": self.procedural_state().as_dict(),
            "reset_args": dict(self._reset_args),
            "elapsed_steps": self._steps,
        }
        if self.task.variation_count is not None:
            info["variation"] = self.task.variation
        return info

    # -- rendering and experts --------------------------------------------------------------
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self.sim is None:
            raise self._reset_needed("render()")
        renderer = self.sim.renderer(*self.camera_size)
        return np.concatenate([renderer.rgb(self.sim.data, cam) for cam in self.cameras], axis=1)

    def expert_actions(self) -> Iterator[np.ndarray]:
        """The scripted expert's actions for the current episode, in this env's control mode
        (privileged: reads sim state). The expert plans joint targets; the control mode encodes
        them. A relative mode's expert ends on a hold action (a zero delta)."""
        if self.sim is None or self.task is None:
            raise self._reset_needed("asking for the expert")
        mode, ctx = self.control_spec, self.control
        motion = Motion(self.sim, self._target, max_joint_step=self.profile.expert_joint_step)
        commanded = self._target.copy()
        try:
            for target in self.task.expert(self.sim, motion):
                yield from mode.encode(target, commanded, ctx)
                commanded = np.clip(target, ctx.low, ctx.high)
        except PlanningError:
            pass
        if mode.relative:
            yield mode.hold(commanded, ctx)

    def close(self) -> None:
        for sim in self._sims.values():
            sim.close()


def reset_options(options: object, supported: Sequence[str]) -> dict[str, Any]:
    """``reset``'s ``options`` as a dict of supported keys, with a task name that is a string.

    Shared by every backend: a list or a string given as options would otherwise fail inside
    ``dict()`` with a message about sequence elements, naming nothing the caller wrote.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidOptionError(f"reset options must be a mapping such as {{'task': 'click_bell'}}, got "
                                 f"{type(options).__name__} {options!r}")
    unknown = sorted(repr(key) if not isinstance(key, str) else key for key in options if key not in supported)
    if unknown:
        raise InvalidOptionError(f"Unknown reset options {unknown}; supported: {list(supported)}")
    task = options.get("task")
    if task is not None and not isinstance(task, str):
        raise InvalidOptionError(f"reset option 'task' must be a task name (a string), got {task!r}")
    return dict(options)


def _check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
