"""A missing or misconfigured upstream fails at make time with one message saying what to do.

Each test builds the situation a user could be in (variables unset, a wrong checkout, a module
that does not import, no Vulkan device) with monkeypatched environment variables, temporary
folders and ``sys.modules`` entries, and calls the adapters' entry functions.
"""

import sys
import types

import pytest

from vlapro_bench.backends import make_backend_env
from vlapro_bench.backends import rlbench as rlbench_backend
from vlapro_bench.backends.robotwin import make_robotwin_env
from vlapro_bench.backends.robotwin_checkout import REQUIRED_PATHS
from vlapro_bench.errors import BackendNotAvailableError
from vlapro_bench.registry import ProceduralAnnotation, TaskSpec, UnknownTaskError
from vlapro_bench.splits import load_split

UNSEEN = list(load_split("robotwin", 0).tasks("unseen"))


def make_layout(root, tasks=("click_bell",), skip=()):
    """A RoboTwin stable_2.0 checkout's skeleton: every required path except ``skip``."""
    for rel in (*REQUIRED_PATHS, "task_config/demo_clean.yml"):
        if rel in skip:
            continue
        path = root / rel
        if path.suffix:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        else:
            path.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (root / "envs" / f"{task}.py").write_text("")
        (root / "description" / "task_instruction" / f"{task}.json").write_text("{}")
    return root


@pytest.fixture
def no_sapien(monkeypatch):
    monkeypatch.setitem(sys.modules, "sapien", None)  # `import sapien...` now raises ImportError


# -- RoboTwin ------------------------------------------------------------------------------------
def test_root_unset_names_the_variable_the_branch_and_the_versions(monkeypatch):
    monkeypatch.delenv("ROBOTWIN_ROOT", raising=False)
    with pytest.raises(BackendNotAvailableError) as err:
        make_backend_env("robotwin", UNSEEN, "robotwin")  # what make_env calls for the Unseen id
    message = str(err.value)
    for needle in ("ROBOTWIN_ROOT is not set", "stable_2.0", "sapien==3.0.0b1", "mplib==0.2.1",
                   "git clone -b stable_2.0", "_download_assets.sh", "backend='mujoco'"):
        assert needle in message


def test_root_that_is_not_a_directory(tmp_path):
    with pytest.raises(BackendNotAvailableError, match="is not a directory"):
        make_robotwin_env("click_bell", environ={"ROBOTWIN_ROOT": str(tmp_path / "nowhere")})


def test_wrong_layout_lists_exactly_what_is_missing(tmp_path):
    skip = ("assets/objects", "envs/_base_task.py", "task_config/_eval_step_limit.yml")
    make_layout(tmp_path, skip=skip)
    with pytest.raises(BackendNotAvailableError) as err:
        make_robotwin_env("click_bell", environ={"ROBOTWIN_ROOT": str(tmp_path)})
    message = str(err.value)
    assert "missing envs/_base_task.py, task_config/_eval_step_limit.yml, assets/objects." in message
    assert "assets/embodiments" not in message and "_download_assets.sh" in message


def test_missing_task_config_is_part_of_the_layout(tmp_path):
    make_layout(tmp_path)
    with pytest.raises(BackendNotAvailableError, match=r"missing task_config/demo_randomized\.yml"):
        make_robotwin_env("click_bell", task_config="demo_randomized", environ={"ROBOTWIN_ROOT": str(tmp_path)})


def test_xpolicylab_main_layout_asks_for_stable_2_0(tmp_path):
    (tmp_path / "env_cfg" / "task_config").mkdir(parents=True)
    (tmp_path / "envs").mkdir()
    with pytest.raises(BackendNotAvailableError, match=r"XPolicyLab layout.*checkout stable_2\.0"):
        make_robotwin_env("click_bell", environ={"ROBOTWIN_ROOT": str(tmp_path)})


def test_embedded_only_tasks_are_named_and_can_be_skipped(tmp_path, no_sapien):
    make_layout(tmp_path, tasks=("click_bell",))
    environ = {"ROBOTWIN_ROOT": str(tmp_path)}
    with pytest.raises(BackendNotAvailableError) as err:
        make_robotwin_env(["click_bell", "close_microwave"], environ=environ)
    assert "close_microwave have no RoboTwin 2.0 counterpart" in str(err.value)
    assert "do exist upstream: click_bell" in str(err.value) and "skip_tasks_without_upstream=True" in str(err.value)
    # Skipping gets past the task check to the next missing piece (SAPIEN here).
    with pytest.raises(BackendNotAvailableError, match="needs SAPIEN"):
        make_robotwin_env(["click_bell", "close_microwave"], skip_tasks_without_upstream=True, environ=environ)
    with pytest.raises(BackendNotAvailableError, match="no RoboTwin 2.0 counterpart"):  # nothing left to run
        make_robotwin_env(["close_microwave"], skip_tasks_without_upstream=True, environ=environ)


def test_sapien_missing_says_what_to_install(tmp_path, no_sapien):
    make_layout(tmp_path)
    with pytest.raises(BackendNotAvailableError) as err:
        make_robotwin_env("click_bell", environ={"ROBOTWIN_ROOT": str(tmp_path)})
    assert "needs SAPIEN" in str(err.value) and "sapien==3.0.0b1" in str(err.value)
    assert "script/requirements.txt" in str(err.value)


def test_no_vulkan_device_says_what_to_install(tmp_path, monkeypatch):
    make_layout(tmp_path)

    class SapienRenderer:  # SAPIEN 3's behaviour on a machine without a Vulkan device
        def __init__(self):
            raise RuntimeError("failed to find a rendering device")

    sapien = types.ModuleType("sapien")
    sapien.core = types.SimpleNamespace(SapienRenderer=SapienRenderer)
    monkeypatch.setitem(sys.modules, "sapien", sapien)
    monkeypatch.setitem(sys.modules, "sapien.core", sapien.core)
    with pytest.raises(BackendNotAvailableError) as err:
        make_robotwin_env("click_bell", environ={"ROBOTWIN_ROOT": str(tmp_path)})
    message = str(err.value)
    assert "no Vulkan rendering device (RuntimeError: failed to find a rendering device)" in message
    assert "libvulkan1" in message and "vulkaninfo" in message and "470" in message


def test_a_typo_in_our_task_name_is_not_reported_as_an_install_problem(monkeypatch):
    monkeypatch.delenv("ROBOTWIN_ROOT", raising=False)
    with pytest.raises(UnknownTaskError, match="click_bel.*Did you mean click_bell"):
        make_robotwin_env("click_bel")


def test_backend_and_suite_must_match():
    with pytest.raises(ValueError, match="runs the 'rlbench' suite's tasks"):
        make_backend_env("rlbench", ["click_bell"], "robotwin")
    with pytest.raises(ValueError, match="Unknown upstream backend"):
        make_backend_env("isaac", ["click_bell"], "robotwin")


# -- RLBench -------------------------------------------------------------------------------------
@pytest.fixture
def rlbench_task(monkeypatch):
    """An RLBench-suite spec for reach_target, whatever the embedded suite has registered so far."""
    spec = TaskSpec("reach_target", "rlbench", 25, ProceduralAnnotation("reach", "sphere", "downward", "centre"),
                    "Reach the target.")
    monkeypatch.setattr(rlbench_backend, "suite_spec", lambda suite, name: spec)
    return "reach_target"


@pytest.fixture
def coppeliasim(tmp_path):
    """A complete CoppeliaSim setting: the folder with its library, and the variables."""
    (tmp_path / "libcoppeliaSim.so").write_text("")
    return {"COPPELIASIM_ROOT": str(tmp_path), "LD_LIBRARY_PATH": f"/usr/lib:{tmp_path}/",
            "QT_QPA_PLATFORM_PLUGIN_PATH": str(tmp_path), "DISPLAY": ":99"}


def test_coppeliasim_root_unset_names_every_setting_and_version(rlbench_task):
    with pytest.raises(BackendNotAvailableError) as err:
        rlbench_backend.make_rlbench_env(rlbench_task, environ={})
    message = str(err.value)
    assert "missing: COPPELIASIM_ROOT, QT_QPA_PLATFORM_PLUGIN_PATH." in message
    for needle in ("CoppeliaSim 4.1.0", "export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$COPPELIASIM_ROOT",
                   "stepjam/PyRep", "stepjam/RLBench", "RLBench 1.2.0"):
        assert needle in message


def test_library_path_must_contain_the_root(rlbench_task, coppeliasim):
    coppeliasim["LD_LIBRARY_PATH"] = "/usr/lib"
    with pytest.raises(BackendNotAvailableError, match=r"missing: LD_LIBRARY_PATH \(must contain \$COPPELIASIM_ROOT\)"):
        rlbench_backend.make_rlbench_env(rlbench_task, environ=coppeliasim)


def test_root_without_coppeliasim(rlbench_task, coppeliasim, tmp_path):
    (tmp_path / "libcoppeliaSim.so").unlink()
    with pytest.raises(BackendNotAvailableError, match="has no libcoppeliaSim.so"):
        rlbench_backend.make_rlbench_env(rlbench_task, environ=coppeliasim)


def test_display_unset_explains_xvfb(rlbench_task, coppeliasim):
    del coppeliasim["DISPLAY"]
    with pytest.raises(BackendNotAvailableError, match=r"GLX.*Xvfb :99"):
        rlbench_backend.make_rlbench_env(rlbench_task, environ=coppeliasim)


def test_pyrep_missing_says_how_to_install_it(rlbench_task, coppeliasim, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyrep", None)
    with pytest.raises(BackendNotAvailableError) as err:
        rlbench_backend.make_rlbench_env(rlbench_task, environ=coppeliasim)
    assert "needs PyRep" in str(err.value) and "pip install git+https://github.com/stepjam/PyRep.git" in str(err.value)


def test_rlbench_missing_says_how_to_install_it(rlbench_task, coppeliasim, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyrep", types.ModuleType("pyrep"))
    monkeypatch.setitem(sys.modules, "rlbench", None)
    with pytest.raises(BackendNotAvailableError) as err:
        rlbench_backend.make_rlbench_env(rlbench_task, environ=coppeliasim)
    assert "needs RLBench" in str(err.value) and "without the [gym] extra" in str(err.value)


def test_rlbench_reads_the_process_environment_by_default(rlbench_task, monkeypatch):
    for var in ("COPPELIASIM_ROOT", "LD_LIBRARY_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(BackendNotAvailableError, match="missing: COPPELIASIM_ROOT"):
        rlbench_backend.make_rlbench_env(rlbench_task)
