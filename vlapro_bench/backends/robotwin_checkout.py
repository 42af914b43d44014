"""Finding, checking and loading a user's RoboTwin 2.0 checkout (branch ``stable_2.0``).

Every check runs before anything heavy is imported, and every failure raises
:class:`~vlapro_bench.errors.BackendNotAvailableError` with one message from
:mod:`vlapro_bench.backends.messages`. The order is the order a user fixes things in:
``ROBOTWIN_ROOT`` set -> it is the classic layout with its assets -> the tasks exist upstream ->
SAPIEN imports -> SAPIEN finds a Vulkan device -> RoboTwin's own modules import.

Upstream facts this module relies on (RoboTwin ``stable_2.0``): the code is the top-level package
``envs`` (``envs.<task>.<task>`` is the task class, ``envs.CONFIGS_PATH`` the config folder,
``envs.utils.create_actor.UnStableError`` the unstable-layout error); paths such as
``./assets/embodiments/...`` are relative to the checkout, so upstream calls run with the checkout
as working directory, as ``script/eval_policy.py`` does; instructions come from
``description/utils/generate_episode_instructions.py``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from vlapro_bench.backends import messages
from vlapro_bench.errors import BackendNotAvailableError

ROOT_ENV_VAR = "ROBOTWIN_ROOT"
#: What a stable_2.0 checkout with downloaded assets has (code, configs, instructions, assets).
REQUIRED_PATHS = (
    "envs/__init__.py",
    "envs/_base_task.py",
    "envs/_GLOBAL_CONFIGS.py",
    "task_config/_camera_config.yml",
    "task_config/_embodiment_config.yml",
    "task_config/_eval_step_limit.yml",
    "description/task_instruction",
    "description/objects_description",
    "description/utils/generate_episode_instructions.py",
    "assets/embodiments",
    "assets/objects",
    "assets/background_texture",
)
#: Instructions per episode the official evaluation generates before choosing one (test_num).
DESCRIPTIONS_PER_EPISODE = 100


@dataclass(frozen=True)
class RoboTwinCheckout:
    """A checked ``stable_2.0`` checkout: where it is and which task config the run uses."""

    root: Path
    task_config: str

    def has_task(self, name: str) -> bool:
        return (self.root / "envs" / f"{name}.py").is_file() and (
            self.root / "description" / "task_instruction" / f"{name}.json"
        ).is_file()


def locate_checkout(environ: Mapping[str, str] | None = None, task_config: str = "demo_clean") -> RoboTwinCheckout:
    """The checkout ``ROBOTWIN_ROOT`` names, after checking its layout; raises with what to fix."""
    environ = os.environ if environ is None else environ
    value = environ.get(ROOT_ENV_VAR, "").strip()
    if not value:
        raise BackendNotAvailableError(messages.robotwin_root_unset())
    root = Path(value).expanduser()
    if not root.is_dir():
        raise BackendNotAvailableError(messages.robotwin_root_not_a_directory(value))
    if (root / "env_cfg" / "task_config").is_dir() and not (root / "task_config").is_dir():
        raise BackendNotAvailableError(messages.robotwin_xpolicylab_layout(value))
    wanted = (*REQUIRED_PATHS, f"task_config/{task_config}.yml")
    missing = [path for path in wanted if not (root / path).exists()]
    if missing:
        raise BackendNotAvailableError(messages.robotwin_wrong_layout(value, missing))
    return RoboTwinCheckout(root.resolve(), task_config)


def import_sapien() -> ModuleType:
    """``sapien.core`` (RoboTwin's import), or the install message."""
    try:
        return importlib.import_module("sapien.core")
    except ImportError as exc:
        raise BackendNotAvailableError(messages.sapien_missing(exc)) from exc


def check_render_device(sapien_core: ModuleType) -> None:
    """Create and drop a renderer, as RoboTwin's ``script/test_render.py`` does before evaluating.

    SAPIEN raises (``failed to find a rendering device``, ``vk::...ErrorInitializationFailed``)
    when there is no usable Vulkan device; that becomes the Vulkan install message here instead
    of a failure deep inside the first episode's scene setup.
    """
    try:
        renderer = sapien_core.SapienRenderer()
    except Exception as exc:  # SAPIEN raises RuntimeError; any failure here means no device
        raise BackendNotAvailableError(messages.vulkan_missing(exc)) from exc
    del renderer


def _load_yaml(path: Path) -> Any:
    try:
        import yaml  # noqa: PLC0415  (RoboTwin requires PyYAML; vlapro-bench itself does not)
    except ImportError as exc:
        raise BackendNotAvailableError(messages.robotwin_python_module_missing("yaml", exc)) from exc
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


class RoboTwinUpstream:
    """The imported RoboTwin code of one checkout: builds task objects, their arguments, instructions.

    Constructing it imports RoboTwin's ``envs`` package (and with it SAPIEN, mplib, cuRobo, ...);
    an import failure becomes the install message for the missing module.
    """

    def __init__(self, checkout: RoboTwinCheckout):
        self.checkout = checkout
        root = checkout.root
        for path in (root / "description" / "utils", root):
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        loaded = sys.modules.get("envs")
        if loaded is not None and not _module_is_under(loaded, root / "envs"):
            raise BackendNotAvailableError(messages.robotwin_envs_shadowed(_module_origin(loaded), str(root / "envs")))
        with self.running():
            self._envs = self._import("envs")
            if not _module_is_under(self._envs, root / "envs"):
                raise BackendNotAvailableError(
                    messages.robotwin_envs_shadowed(_module_origin(self._envs), str(root / "envs"))
                )
            self.unstable_error: type[BaseException] = self._import("envs.utils.create_actor").UnStableError
            self._instructions = self._import("generate_episode_instructions")
        self.config_dir = Path(self._envs.CONFIGS_PATH)
        if not self.config_dir.is_absolute():
            self.config_dir = root / self.config_dir

    @staticmethod
    def _import(name: str) -> ModuleType:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            raise BackendNotAvailableError(
                messages.robotwin_python_module_missing(exc.name or name, exc)
            ) from exc

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Run upstream code as its scripts do: from the checkout, with autograd on.

        The working directory is process-wide: do not run two RoboTwin environments in threads
        of one process (vector environments use one process per copy). Autograd is switched on
        because cuRobo back-propagates inside planning, which fails under a caller's no_grad.
        """
        previous = os.getcwd()
        os.chdir(self.checkout.root)
        torch = sys.modules.get("torch")
        grad = torch.enable_grad() if torch is not None else contextlib.nullcontext()
        try:
            with grad:
                yield
        finally:
            os.chdir(previous)

    def new_task(self, name: str) -> Any:
        """A fresh upstream task object (class ``envs.<name>.<name>``), reused across its episodes."""
        with self.running():
            module = self._import(f"envs.{name}")
            return getattr(module, name)()

    def setup_args(self, name: str, depth: bool = False) -> dict[str, Any]:
        """The keyword arguments ``setup_demo`` gets in the official evaluation (``eval_policy.main``).

        Read from the task config, the embodiment and camera configs as upstream does; then
        ``eval_mode`` on (unseen textures, step limits), the viewer and video log off, and the
        observation switches our layout needs (rgb, joints, end poses; depth when asked; no point
        cloud). The camera switches stay as the task config has them: creating a camera draws
        from NumPy's global generator, so switching one off would move every object of the episode.
        """
        root = self.checkout.root
        args = dict(_load_yaml(root / "task_config" / f"{self.checkout.task_config}.yml"))
        args.update(task_name=name, task_config=self.checkout.task_config, ckpt_setting="vlapro_bench")
        embodiments = _load_yaml(self.config_dir / "_embodiment_config.yml")
        cameras = _load_yaml(self.config_dir / "_camera_config.yml")
        head = cameras[args["camera"]["head_camera_type"]]
        args["head_camera_h"], args["head_camera_w"] = head["h"], head["w"]
        embodiment = list(args["embodiment"])
        files = [embodiments[e]["file_path"] for e in embodiment[:2]]
        if len(embodiment) == 1:
            args.update(left_robot_file=files[0], right_robot_file=files[0], dual_arm_embodied=True)
        elif len(embodiment) == 3:
            args.update(left_robot_file=files[0], right_robot_file=files[1], embodiment_dis=embodiment[2],
                        dual_arm_embodied=False)
        else:
            raise ValueError(f"task config embodiment must list 1 or 3 items, got {embodiment}")
        for side in ("left", "right"):
            args[f"{side}_embodiment_config"] = _load_yaml(root / args[f"{side}_robot_file"] / "config.yml")
        args.update(eval_mode=True, render_freq=0, eval_video_log=False)
        args["data_type"] = {**dict(args.get("data_type") or {}), "rgb": True, "depth": bool(depth), "qpos": True,
                             "endpose": True, "pointcloud": False}
        args.pop("eval_video_save_dir", None)
        return args

    def instructions(self, name: str, episode_info: Mapping[str, Any], pool: str, seed: int) -> list[str]:
        """The seen or unseen instruction candidates for one episode, as the official evaluation builds them.

        Upstream draws templates and object descriptions from Python's unseeded ``random``; we seed
        it with the episode's seed (restoring its state after), so an episode's instruction
        candidates are reproducible.
        """
        state = random.getstate()
        random.seed(seed)
        try:
            results = self._instructions.generate_episode_descriptions(name, [dict(episode_info)],
                                                                       DESCRIPTIONS_PER_EPISODE)
        except SystemExit as exc:  # upstream calls exit() when an object description file is missing
            raise RuntimeError(
                f"RoboTwin could not build an instruction for {name} (episode info {dict(episode_info)}): "
                "an object description under description/objects_description/ is missing; re-download the assets."
            ) from exc
        finally:
            random.setstate(state)
        candidates = list(results[0][pool]) if results else []
        if not candidates:
            raise RuntimeError(
                f"RoboTwin has no {pool!r} instruction for {name} with episode info {dict(episode_info)} "
                f"(description/task_instruction/{name}.json)."
            )
        return candidates


def _module_origin(module: ModuleType) -> str:
    return str(getattr(module, "__file__", None) or list(getattr(module, "__path__", [])) or module)


def _module_is_under(module: ModuleType, folder: Path) -> bool:
    origin = getattr(module, "__file__", None)
    return origin is not None and Path(origin).resolve().parent == folder.resolve()
