"""``backend="robotwin"``: our task names on a user's RoboTwin 2.0 (branch ``stable_2.0``) install.

Targets RoboTwin 2.0 ``stable_2.0`` (HEAD 13c3c47) with its pinned ``sapien==3.0.0b1``,
``mplib==0.2.1``, ``torch==2.4.1``, cuRobo v0.7.8, Python 3.10, and a Vulkan device; see
:mod:`vlapro_bench.backends.messages`. ``ROBOTWIN_ROOT`` points at the checkout with its assets.

The episode follows RoboTwin's official evaluation (``script/eval_policy.py``) step for step, so
success rates are comparable with its leaderboard protocol:

1. **Expert pre-check per seed.** ``setup_demo(seed)`` then the scripted ``play_once()``; a seed
   counts only if the layout is stable and the expert succeeds (``plan_success and
   check_success()``). The same task object is reused afterwards, as upstream does (some
   ``check_success`` methods read state that ``play_once`` sets, e.g. ``open_laptop``).
2. ``setup_demo`` again on that seed with ``eval_mode=True``: unseen background textures (under
   ``demo_randomized``) and the per-task step limit from ``task_config/_eval_step_limit.yml``.
3. The instruction is drawn from the ``seen`` or ``unseen`` pool (the official evaluation uses
   ``unseen``, our default here) built from the expert's episode info.
4. One ``step`` = one ``take_action`` call = one counted step; the episode is truncated when the
   count reaches the limit, and **the first success ends it** (``eval_success``, checked by
   RoboTwin after every physics step).

Seeds. ``reset(seed=s)`` runs exactly RoboTwin seed ``s`` (the official evaluation starts at
100000 * (1 + seed)); if the expert cannot solve it, :class:`UnsolvableSeedError` says so and the
caller moves on to the next seed, as the official loop does. ``reset()`` without a seed continues
that loop itself: the first solvable seed after the previous episode's (from 100000), skipping
unsolvable ones and listing them in ``info["reset_args"]["skipped_seeds"]``.

Not available on this backend: ``obs_mode="state"``, the procedural ground truth
(``info["procedural_state"]`` is ``None``), and ``expert_actions()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from vlapro_bench.backends import robotwin_translate as rt
from vlapro_bench.backends.common import (
    UPSTREAM_OBS_MODES,
    UpstreamTaskView,
    check_camera_size,
    check_cameras,
    check_choice,
    check_step_limit,
    observation_space,
    suite_spec,
    validate_action,
)
from vlapro_bench.backends.images import FIT_MODES
from vlapro_bench.backends.messages import robotwin_tasks_missing
from vlapro_bench.backends.robotwin_checkout import (
    RoboTwinUpstream,
    check_render_device,
    import_sapien,
    locate_checkout,
)
from vlapro_bench.env import reset_options
from vlapro_bench.errors import BackendNotAvailableError, InvalidOptionError
from vlapro_bench.task import INSTRUCTION_POOLS

#: First evaluation seed of the official protocol (``st_seed = 100000 * (1 + seed)``, seed 0).
OFFICIAL_SEED_START = 100000
CONTROL_MODES = ("qpos", "ee")


class UnsolvableSeedError(RuntimeError):
    """RoboTwin's expert cannot solve this seed, so the official protocol does not count it."""


class RoboTwinEnv(UpstreamTaskView, gym.Env):
    """Our observation and action spaces over RoboTwin 2.0 tasks (see the module docstring).

    Arguments (as the embedded environment's, plus three):
        tasks: one task name or several (a split); each must exist in the checkout.
        upstream: the loaded checkout (:class:`RoboTwinUpstream`, or a stand-in with its methods).
        obs_mode: ``"rgb"`` or ``"rgbd"``.
        control_mode: ``"qpos"`` (14-d joint targets) or ``"ee"`` (16-d TCP poses, RoboTwin's planner).
        camera_size, cameras, render_mode: as the embedded environment.
        instruction_pool: ``"unseen"`` (the official evaluation's, default) or ``"seen"``.
        max_episode_steps: overrides RoboTwin's per-task limit (departs from the protocol).
        image_fit: how RoboTwin's 240x320 images become ``camera_size`` (``crop``, ``pad``, ``stretch``).
        max_seed_attempts: seeds tried by a seedless ``reset`` before giving up.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    suite = "robotwin"

    def __init__(
        self,
        tasks: str | Sequence[str],
        upstream: RoboTwinUpstream,
        obs_mode: str = "rgb",
        control_mode: str | None = "qpos",
        camera_size: tuple[int, int] | int = (128, 128),
        cameras: Sequence[str] | None = None,
        render_mode: str | None = None,
        instruction_pool: str = "unseen",
        max_episode_steps: int | None = None,
        image_fit: str = "crop",
        max_seed_attempts: int = 100,
    ):
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        if not names:
            raise ValueError("tasks must name at least one task")
        if obs_mode == "state":
            raise ValueError("obs_mode='state' needs privileged object poses, which backend='robotwin' does not "
                             "expose; use obs_mode='rgb' or 'rgbd', or backend='mujoco'.")
        control_mode = "qpos" if control_mode is None else control_mode  # None: the suite's default
        check_choice("obs_mode", obs_mode, UPSTREAM_OBS_MODES)
        check_choice("control_mode", control_mode, CONTROL_MODES)
        check_choice("instruction_pool", instruction_pool, INSTRUCTION_POOLS)
        check_choice("image_fit", image_fit, FIT_MODES)
        check_choice("render_mode", render_mode, (None, "rgb_array"))
        self.cameras = check_cameras(cameras, rt.ROBOTWIN_CAMERAS)
        check_step_limit(max_episode_steps)
        self.specs = {name: suite_spec("robotwin", name) for name in names}
        self.task_names = names
        self.upstream = upstream
        self.obs_mode, self.control_mode, self.render_mode = obs_mode, control_mode, render_mode
        self.instruction_pool, self.image_fit = instruction_pool, image_fit
        self.camera_size = check_camera_size(camera_size)
        self.max_episode_steps_override = max_episode_steps
        self.max_seed_attempts = int(max_seed_attempts)

        dim = rt.QPOS_DIM if control_mode == "qpos" else rt.EE_DIM
        low, high = rt.agent_pos_bounds() if control_mode == "qpos" else rt.ee_pose_bounds()
        self.action_space = spaces.Box(low, high, shape=(dim,), dtype=np.float32)
        self.observation_space = observation_space(
            self.cameras, self.camera_size, obs_mode, rt.agent_pos_bounds(), rt.ee_pose_bounds()
        )

        self._task_objects: dict[str, Any] = {}  # one upstream task object per task, reused
        self._args: dict[str, dict[str, Any]] = {}  # its setup_demo arguments, read once
        self._next_seed: dict[str, int] = {}
        self._active: Any = None  # the upstream task object of the running episode
        self._task_name: str | None = None  # the current episode's task
        self._episodes = 0
        self._instruction = ""
        self._reset_args: dict[str, Any] = {}
        self._last_obs: dict[str, Any] | None = None

    # -- episode -----------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = reset_options(options, ["task"])
        name = options.get("task")
        if name is None:
            picker = np.random.default_rng(seed) if seed is not None else self.np_random
            name = self.task_names[int(picker.integers(len(self.task_names)))]
        elif name not in self.specs:
            raise InvalidOptionError(f"Task {name!r} is not in this environment; valid: {', '.join(self.task_names)}")
        self._close_episode()
        task, args = self._upstream_task(name)

        if seed is not None:
            first, attempts = int(seed), 1
        else:
            first, attempts = self._next_seed.get(name, OFFICIAL_SEED_START), self.max_seed_attempts
        upstream_seed, episode_info, skipped = self._first_solvable_seed(task, name, args, first, attempts)
        self._next_seed[name] = upstream_seed + 1

        with self.upstream.running():
            task.setup_demo(now_ep_num=self._episodes, seed=upstream_seed, is_test=True, **args)
        self._active = task
        if self.max_episode_steps_override is not None:
            task.step_lim = int(self.max_episode_steps_override)
        rng = np.random.default_rng(upstream_seed)
        candidates = self.upstream.instructions(self.specs[name].base_name, episode_info.get("info", {}),
                                                self.instruction_pool,
                                                upstream_seed)
        self._instruction = str(candidates[int(rng.integers(len(candidates)))])
        task.set_instruction(instruction=self._instruction)
        self._task_name = name
        self._reset_args = {
            # episode_seed: what fixes the episode, under the key the embedded engine uses for it.
            "seed": seed, "episode_seed": upstream_seed, "upstream_seed": upstream_seed, "task": name,
            "backend": "robotwin",
            "task_config": getattr(getattr(self.upstream, "checkout", None), "task_config", None),
            "instruction_pool": self.instruction_pool, "skipped_seeds": skipped,
        }
        obs = self._observe()
        return obs, self._info(success=False)

    def _upstream_task(self, name: str) -> tuple[Any, dict[str, Any]]:
        """The task's upstream object and its ``setup_demo`` arguments, created on first use."""
        if name not in self._task_objects:
            # Every version of a task (open_laptop, open_laptop-v1) runs upstream's one task.
            upstream_name = self.specs[name].base_name
            self._task_objects[name] = self.upstream.new_task(upstream_name)
            self._args[name] = self.upstream.setup_args(upstream_name, depth=self.obs_mode == "rgbd")
        return self._task_objects[name], self._args[name]

    def _first_solvable_seed(
        self, task: Any, name: str, args: Mapping[str, Any], first: int, attempts: int
    ) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        """Run the upstream expert on seeds ``first, first + 1, ...`` until one is solvable."""
        skipped: list[dict[str, Any]] = []
        for seed in range(first, first + attempts):
            with self.upstream.running():
                try:
                    task.setup_demo(now_ep_num=self._episodes, seed=seed, is_test=True, **args)
                    episode_info = task.play_once()
                    task.close_env()
                except self.upstream.unstable_error as exc:
                    task.close_env()
                    skipped.append({"seed": seed, "reason": f"unstable layout: {exc}"})
                    continue
                except Exception as exc:  # the official loop skips any failing seed the same way
                    task.close_env()
                    skipped.append({"seed": seed, "reason": f"{type(exc).__name__}: {exc}"})
                    continue
                solved = bool(task.plan_success) and bool(task.check_success())
            if solved:
                return seed, dict(episode_info or {}), skipped
            skipped.append({"seed": seed, "reason": "the expert did not succeed"})
        if attempts == 1:
            raise UnsolvableSeedError(
                f"RoboTwin seed {first} of {name} is not expert-solvable ({skipped[0]['reason']}); the official "
                f"protocol skips it. Reset with seed={first + 1}, or reset() without a seed to continue from it."
            )
        raise UnsolvableSeedError(
            f"RoboTwin's expert solved none of {attempts} seeds of {name} from {first}; reasons: "
            f"{sorted({s['reason'] for s in skipped})[:3]}. Check the install with RoboTwin's own "
            "`bash collect_data.sh` for this task."
        )

    def step(self, action):
        if self._active is None or self._task_name is None:
            raise gym.error.ResetNeeded("Call reset() before step().")
        arr = validate_action(action, self.action_space.shape[0], self.control_mode)
        with self.upstream.running():
            self._active.take_action(rt.to_upstream_action(arr, self.control_mode), action_type=self.control_mode)
        success = bool(self._active.eval_success)
        truncated = (not success) and self.elapsed_steps >= self.step_limit
        obs = self._observe()
        return obs, float(success), success, truncated, self._info(success)

    @property
    def elapsed_steps(self) -> int:
        """Actions taken this episode, as RoboTwin counts them (``take_action_cnt``)."""
        return int(self._active.take_action_cnt) if self._active is not None else 0

    def expert_solvable(self, task: str, seed: int) -> bool:
        """Does RoboTwin's expert solve ``seed`` of ``task`` (the official pre-check, run now)?

        For evaluators that filter seeds before playing them. It ends the running episode, if
        any, since it sets up the task's scene.
        """
        if task not in self.specs:
            raise InvalidOptionError(f"Task {task!r} is not in this environment; valid: {', '.join(self.task_names)}")
        self._close_episode()
        try:
            upstream_task, args = self._upstream_task(task)
            self._first_solvable_seed(upstream_task, task, args, int(seed), 1)
        except UnsolvableSeedError:
            return False
        return True

    @property
    def max_episode_steps(self) -> int:
        """The step limit in force: ``max_episode_steps`` if given, else RoboTwin's for the current task."""
        if self.max_episode_steps_override is not None:
            return int(self.max_episode_steps_override)
        return self.step_limit

    @property
    def step_limit(self) -> int:
        """This episode's step limit: RoboTwin's per-task value unless overridden."""
        assert self._active is not None, "Call reset() first."
        return int(self._active.step_lim)

    # -- observations ------------------------------------------------------------------------
    def _observe(self) -> dict[str, Any]:
        with self.upstream.running():
            raw = self._active.get_obs()
        self._last_obs = rt.translate_observation(
            raw, cameras=self.cameras, camera_size=self.camera_size, obs_mode=self.obs_mode,
            instruction=self._instruction, fit=self.image_fit,
        )
        return self._last_obs

    def _info(self, success: bool) -> dict[str, Any]:
        assert self._task_name is not None
        return {
            "is_success": success,
            "task": self._task_name,
            "instruction": self._last_obs["instruction"] if self._last_obs else self._instruction,
            "procedural_state": None,
            "reset_args": dict(self._reset_args),
            "elapsed_steps": self.elapsed_steps,
            "step_limit": self.step_limit,
        }

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        assert self._last_obs is not None, "Call reset() before render()."
        return np.concatenate([self._last_obs["images"][cam] for cam in self.cameras], axis=1)

    # -- teardown ----------------------------------------------------------------------------
    def _close_episode(self, final: bool = False) -> None:
        if self._active is None:
            return
        self._episodes += 1
        # RoboTwin clears SAPIEN's asset cache when (episodes so far + 1) % clear_cache_freq == 0
        # (eval_policy.py's `(succ_seed + 1) % clear_cache_freq`): memory against speed.
        clear_every = int(self._args[self._task_name].get("clear_cache_freq", 1) or 1) if self._task_name else 1
        with self.upstream.running():
            self._active.close_env(clear_cache=final or (self._episodes + 1) % clear_every == 0)
        self._active = None

    def close(self) -> None:
        self._close_episode(final=True)


def make_robotwin_env(
    tasks: str | Sequence[str],
    *,
    task_config: str = "demo_clean",
    skip_tasks_without_upstream: bool = False,
    environ: Mapping[str, str] | None = None,
    **env_kwargs: Any,
) -> RoboTwinEnv:
    """The ``backend="robotwin"`` factory: check the install, load it, build the environment.

    ``task_config`` is RoboTwin's ``demo_clean`` (leaderboard "Easy", default) or
    ``demo_randomized`` ("Hard"). Raises :class:`BackendNotAvailableError` with one message
    saying what to install or set when anything upstream is missing.
    """
    names = [tasks] if isinstance(tasks, str) else list(tasks)
    specs = {name: suite_spec("robotwin", name) for name in names}  # our name first: a typo is not an install problem
    checkout = locate_checkout(environ, task_config)
    present = [name for name in names if checkout.has_task(specs[name].base_name)]
    missing = [name for name in names if name not in present]
    if missing and (not skip_tasks_without_upstream or not present):
        raise BackendNotAvailableError(robotwin_tasks_missing(str(checkout.root), missing, present))
    check_render_device(import_sapien())
    return RoboTwinEnv(present, RoboTwinUpstream(checkout), **env_kwargs)
