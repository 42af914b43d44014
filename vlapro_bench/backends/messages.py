"""What the upstream backends target, and the one message each failure gives.

Every way an upstream install can be missing or misconfigured maps to exactly one message here,
and each message says what to install or set (with the exact versions the adapters target), so
``gym.make(..., backend=...)`` fails once, early and readably, instead of half-running.

Targets (read from the upstream repositories at the commits named below):

- RoboTwin 2.0, branch ``stable_2.0`` of RoboTwin-Platform/RoboTwin (HEAD 13c3c47, 2026-07-26), the
  classic layout (``envs/ task_config/ description/ assets/ script/``) that third-party VLA
  integrations pin. Its ``script/requirements.txt`` pins Python 3.10, ``sapien==3.0.0b1``,
  ``mplib==0.2.1``, ``torch==2.4.1``; ``script/_install.sh`` adds cuRobo v0.7.8. Rendering needs
  a Vulkan device (ray tracing: NVIDIA RTX-class, driver >= 470; the OIDN denoiser: >= 520).
  The XPolicyLab-restructured ``main`` (2026-08) is not supported.
- RLBench HEAD of stepjam/RLBench (02720bba, 2025-01-25, version 1.2.0, the Gymnasium API since
  PR #226) through its own ``Environment``/``TaskEnvironment``, on PyRep HEAD (8f420be8,
  2024-07-02) and CoppeliaSim 4.1.0 (PyRep supports no other version). CoppeliaSim needs a GLX
  display (EGL is not supported): a real X server, VirtualGL or Xvfb.
"""

from __future__ import annotations

from collections.abc import Sequence

ROBOTWIN_TARGET = "RoboTwin 2.0, branch stable_2.0 (HEAD 13c3c47) of github.com/RoboTwin-Platform/RoboTwin"
ROBOTWIN_PINS = "Python 3.10, sapien==3.0.0b1, mplib==0.2.1, torch==2.4.1, cuRobo v0.7.8"
RLBENCH_TARGET = "RLBench 1.2.0 (stepjam/RLBench HEAD 02720bba) on PyRep (stepjam/PyRep 8f420be8) and CoppeliaSim 4.1.0"

_ROBOTWIN_INSTALL = (
    "  git clone -b stable_2.0 https://github.com/RoboTwin-Platform/RoboTwin.git\n"
    "  cd RoboTwin && bash script/_install.sh && bash script/_download_assets.sh\n"
    "  export ROBOTWIN_ROOT=$PWD"
)
_MUJOCO_HINT = "Or drop backend= to use the embedded MuJoCo engine (backend='mujoco'), which needs no install."

_COPPELIASIM_INSTALL = (
    "  # CoppeliaSim 4.1.0 (CoppeliaSim_Edu_V4_1_0_Ubuntu20_04.tar.xz, coppeliarobotics.com, previous versions)\n"
    "  export COPPELIASIM_ROOT=/path/to/CoppeliaSim_Edu_V4_1_0_Ubuntu20_04\n"
    "  export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$COPPELIASIM_ROOT\n"
    "  export QT_QPA_PLATFORM_PLUGIN_PATH=$COPPELIASIM_ROOT"
)
_PYREP_INSTALL = "  pip install git+https://github.com/stepjam/PyRep.git   # COPPELIASIM_ROOT must be set to install"
_RLBENCH_INSTALL = (
    "  pip install git+https://github.com/stepjam/RLBench.git   # without the [gym] extra: it pins gymnasium==1.0.0a2"
)


def robotwin_root_unset() -> str:
    return (
        f"backend='robotwin' runs the tasks on {ROBOTWIN_TARGET}, and ROBOTWIN_ROOT is not set. "
        f"Install the checkout with its assets ({ROBOTWIN_PINS}) and point ROBOTWIN_ROOT at it:\n"
        f"{_ROBOTWIN_INSTALL}\n{_MUJOCO_HINT}"
    )


def robotwin_root_not_a_directory(root: str) -> str:
    return (
        f"ROBOTWIN_ROOT={root!r} is not a directory. Set it to your checkout of {ROBOTWIN_TARGET}:\n"
        f"{_ROBOTWIN_INSTALL}"
    )


def robotwin_xpolicylab_layout(root: str) -> str:
    return (
        f"ROBOTWIN_ROOT={root!r} holds RoboTwin's XPolicyLab layout (env_cfg/task_config/, the 'main' branch "
        "since 2026-08), which this adapter does not support. Check out the classic layout: "
        f"`git -C {root} checkout stable_2.0` (then re-run script/_download_assets.sh if assets/ is missing)."
    )


def robotwin_wrong_layout(root: str, missing: Sequence[str]) -> str:
    return (
        f"ROBOTWIN_ROOT={root!r} is not a complete checkout of {ROBOTWIN_TARGET}: missing "
        f"{', '.join(missing)}. A missing assets/ folder means the assets were never downloaded "
        "(run `bash script/_download_assets.sh` in the checkout); missing code means another branch or "
        f"an incomplete clone:\n{_ROBOTWIN_INSTALL}"
    )


def robotwin_tasks_missing(root: str, missing: Sequence[str], present: Sequence[str]) -> str:
    available = f" Tasks of this environment that do exist upstream: {', '.join(present)}." if present else ""
    return (
        f"The task(s) {', '.join(missing)} have no RoboTwin 2.0 counterpart in {root!r} (no envs/<task>.py or "
        "description/task_instruction/<task>.json): they exist only on the embedded engine."
        f"{available} Pass skip_tasks_without_upstream=True to run the others, or use backend='mujoco'."
    )


def sapien_missing(error: BaseException) -> str:
    return (
        f"backend='robotwin' needs SAPIEN, which could not be imported ({type(error).__name__}: {error}). "
        f"Install RoboTwin's pinned requirements ({ROBOTWIN_PINS}) into this Python environment: "
        "`pip install -r $ROBOTWIN_ROOT/script/requirements.txt` (or `bash script/_install.sh` in the checkout)."
    )


def vulkan_missing(error: BaseException) -> str:
    return (
        f"SAPIEN found no Vulkan rendering device ({type(error).__name__}: {error}). RoboTwin renders every camera "
        "with SAPIEN on Vulkan: install `libvulkan1 mesa-vulkan-drivers vulkan-tools` and an NVIDIA driver "
        ">= 470 (ray tracing; >= 520 for the OIDN denoiser), check with `vulkaninfo`, and in a container expose the "
        "GPU's graphics capability (NVIDIA_DRIVER_CAPABILITIES=all). MIG slices and vGPUs offer no Vulkan."
    )


def robotwin_python_module_missing(name: str, error: BaseException) -> str:
    return (
        f"backend='robotwin' could not import {name!r} ({type(error).__name__}: {error}). It is one of RoboTwin's "
        f"requirements ({ROBOTWIN_PINS}): `pip install -r $ROBOTWIN_ROOT/script/requirements.txt`."
    )


def robotwin_envs_shadowed(found: str, expected: str) -> str:
    return (
        f"RoboTwin's code is imported as the top-level package 'envs', but 'envs' already resolves to {found!r} "
        f"instead of {expected!r}. Start Python outside any folder that has its own envs/ package (for example "
        "not in the vlapro-bench source tree) and do not import another 'envs' before making the environment."
    )


def coppeliasim_env_unset(missing: Sequence[str]) -> str:
    return (
        f"backend='rlbench' runs the tasks on {RLBENCH_TARGET}; these settings are missing: {', '.join(missing)}. "
        f"Install CoppeliaSim 4.1.0 and set, before starting Python:\n{_COPPELIASIM_INSTALL}\n"
        f"then install PyRep and RLBench:\n{_PYREP_INSTALL}\n{_RLBENCH_INSTALL}\n{_MUJOCO_HINT}"
    )


def coppeliasim_root_wrong(root: str) -> str:
    return (
        f"COPPELIASIM_ROOT={root!r} has no libcoppeliaSim.so: it is not an extracted CoppeliaSim 4.1.0 "
        f"(PyRep supports no other version). Extract the release there and set:\n{_COPPELIASIM_INSTALL}"
    )


def display_missing() -> str:
    return (
        "CoppeliaSim 4.1 needs an X display with GLX even in headless mode (EGL is not supported) and DISPLAY is "
        "not set. On a machine without a screen start a virtual one: "
        "`Xvfb :99 -screen 0 1024x768x24 +extension GLX +render -noreset & export DISPLAY=:99` "
        "(or run Python under `xvfb-run -a`); on a GPU server an X server on the GPU is faster."
    )


def pyrep_missing(error: BaseException) -> str:
    return (
        f"backend='rlbench' needs PyRep, which could not be imported ({type(error).__name__}: {error}). "
        f"With CoppeliaSim 4.1.0 in COPPELIASIM_ROOT and LD_LIBRARY_PATH set as below, install it:\n"
        f"{_COPPELIASIM_INSTALL}\n{_PYREP_INSTALL}"
    )


def rlbench_missing(error: BaseException) -> str:
    return (
        f"backend='rlbench' needs RLBench, which could not be imported ({type(error).__name__}: {error}). "
        f"Install {RLBENCH_TARGET}:\n{_RLBENCH_INSTALL}"
    )


def rlbench_task_missing(name: str, error: BaseException) -> str:
    return (
        f"The installed RLBench has no task {name!r} (rlbench.tasks.{name}: {type(error).__name__}: {error}). "
        f"The adapter targets {RLBENCH_TARGET}; tasks of the PerAct or GemBench forks need those forks. "
        "Use backend='mujoco' for this task."
    )
