"""Bad input gets a clear error naming what was wrong and what to do."""

import gymnasium as gym
import numpy as np
import pytest

from vlapro_bench.env import VLAProEnv, reset_options
from vlapro_bench.errors import BackendNotAvailableError, InvalidActionError, InvalidOptionError
from vlapro_bench.registry import UnknownTaskError


@pytest.fixture(scope="module")
def env():
    env = VLAProEnv("click_bell", obs_mode="state")
    env.reset(seed=0)
    yield env
    env.close()


def test_nan_action(env):
    action = np.zeros(14, dtype=np.float32)
    action[3] = np.nan
    with pytest.raises(InvalidActionError, match=r"NaN or infinite entries at indices \[3\]"):
        env.step(action)


def test_wrong_shape(env):
    with pytest.raises(InvalidActionError, match=r"shape \(14,\).*got \(13,\)"):
        env.step(np.zeros(13, dtype=np.float32))
    with pytest.raises(InvalidActionError, match="action chunk"):
        env.step(np.zeros((4, 14), dtype=np.float32))


def test_wrong_dtype(env):
    with pytest.raises(InvalidActionError, match="floating point.*int64"):
        env.step(np.zeros(14, dtype=np.int64))
    with pytest.raises(InvalidActionError, match="floating point"):
        env.step(["a"] * 14)


def test_step_before_reset():
    fresh = VLAProEnv("click_bell", obs_mode="state")
    with pytest.raises(gym.error.ResetNeeded):
        fresh.step(np.zeros(14, dtype=np.float32))
    fresh.close()


def test_unknown_task_lists_valid_ones():
    with pytest.raises(UnknownTaskError, match="Did you mean click_bell.*Valid tasks: .*stack_blocks_two"):
        VLAProEnv("click_bel")


def test_unknown_task_option(env):
    with pytest.raises(InvalidOptionError, match="valid: click_bell"):
        env.reset(seed=0, options={"task": "stack_blocks_two"})
    with pytest.raises(InvalidOptionError, match="supported: \\['task'\\]"):
        env.reset(seed=0, options={"tsak": "click_bell"})


def test_unknown_id_suggests_valid_one():
    with pytest.raises(gym.error.NameNotFound, match="click_bell"):
        gym.make("VLAPro-RoboTwin/click_bel-v0")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"obs_mode": "pixels"}, "obs_mode must be one of"),
        ({"control_mode": "torque"}, "control_mode must be one of"),
        ({"cameras": ["wrist"]}, "Unknown cameras"),
        ({"camera_size": (4, 4)}, "camera_size"),
        ({"instruction_pool": "train"}, "instruction_pool must be one of"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_kwargs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VLAProEnv("click_bell", **kwargs)


@pytest.mark.parametrize("env_id, backend, var", [("VLAPro-RoboTwin-Unseen-v0", "robotwin", "ROBOTWIN_ROOT"),
                                                  ("VLAPro-RLBench-Unseen-v0", "rlbench", "COPPELIASIM_ROOT")])
def test_upstream_backend_not_available(env_id, backend, var, monkeypatch):
    """Without the upstream simulator, gym.make fails at once with what to install or set."""
    monkeypatch.delenv(var, raising=False)
    with pytest.raises(BackendNotAvailableError, match=var):
        gym.make(env_id, backend=backend)


def test_backend_of_another_suite_is_refused():
    with pytest.raises(ValueError, match="rlbench"):
        gym.make("VLAPro-RoboTwin-Unseen-v0", backend="rlbench")


def test_unknown_backend():
    with pytest.raises(ValueError, match="Unknown backend 'sapien'.*mujoco"):
        gym.make("VLAPro-RoboTwin-Unseen-v0", backend="sapien")


@pytest.mark.parametrize("load", ["training", "memory", "profile", "protocol"])
def test_config_files_that_are_not_json_objects_name_the_file(tmp_path, load):
    """Every JSON config reader says which file is wrong and how: not JSON, or not an object."""
    from vlapro_bench.evaluation.protocol import ProtocolError, load_protocol  # noqa: PLC0415
    from vlapro_bench.memory.config import MemoryBuildConfig  # noqa: PLC0415
    from vlapro_bench.reproduce.profile import ProfileError, load_profile  # noqa: PLC0415
    from vlapro_bench.training import TrainConfig  # noqa: PLC0415

    readers = {"training": (TrainConfig.from_file, ValueError), "memory": (MemoryBuildConfig.from_file, ValueError),
               "profile": (lambda p: load_profile(p, "robotwin"), ProfileError),
               "protocol": (load_protocol, ProtocolError)}
    read, error = readers[load]
    broken, listed = tmp_path / "broken.json", tmp_path / "listed.json"
    broken.write_text('{"steps": 3,')
    listed.write_text("[1, 2]")
    with pytest.raises(error, match=r"broken\.json is not valid JSON"):
        read(broken)
    with pytest.raises(error, match=r"listed\.json must hold a JSON object"):
        read(listed)


@pytest.mark.parametrize(("options", "message"), [
    (["task", "click_bell"], "reset options must be a mapping such as {'task': 'click_bell'}, got list"),
    ("click_bell", "reset options must be a mapping .* got str 'click_bell'"),
    ({"task": ["click_bell"]}, "reset option 'task' must be a task name \\(a string\\), got \\['click_bell'\\]"),
    ({1: "click_bell"}, "Unknown reset options \\['1'\\]; supported: \\['task'\\]"),
])
def test_reset_options_that_are_not_a_mapping_of_known_keys(env, options, message):
    with pytest.raises(InvalidOptionError, match=message):
        env.reset(seed=0, options=options)


def test_upstream_backends_share_the_reset_options_check():
    assert reset_options(None, ["task", "variation"]) == {}
    assert reset_options({"variation": 3}, ["task", "variation"]) == {"variation": 3}
    with pytest.raises(InvalidOptionError, match="must be a mapping"):
        reset_options([("variation", 3)], ["task", "variation"])
