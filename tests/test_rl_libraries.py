"""Stable-Baselines3 and torchrl take our envs, as their users would set them up.

SB3 needs :class:`~vlapro_bench.wrappers.FlatDictObservation` (no ``Text``, no nested ``Dict``):
its ``check_env`` passes on the wrapped env of one id per suite, in state mode and with two small
cameras, and PPO's ``MultiInputPolicy`` trains a few steps on it. torchrl's ``GymEnv`` takes the
raw env (the instruction becomes a non-tensor entry) and the wrapped one.
"""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.logger import configure as configure_logger
from torchrl.envs import GymEnv, GymWrapper
from torchrl.envs.utils import check_env_specs

from vlapro_bench.wrappers import FlatDictObservation

#: One id per suite, with two cameras for the rgb case (36x36 is the smallest image SB3's CNN takes).
CASES = {
    "robotwin-state": ("VLAPro-RoboTwin/click_bell-v0", {"obs_mode": "state"}),
    "rlbench-state": ("VLAPro-RLBench/close_jar-v0", {"obs_mode": "state"}),
    "robotwin-rgb": ("VLAPro-RoboTwin/click_bell-v0", {"camera_size": 40, "cameras": ["head_camera", "front_camera"]}),
    "rlbench-rgb": ("VLAPro-RLBench/close_jar-v0", {"camera_size": 40, "cameras": ["front", "wrist"]}),
}
#: SB3's one advice for our ids: actions are raw joint targets (gym.wrappers.RescaleAction maps them to [-1, 1]).
ACTION_ADVICE = "symmetric and normalized Box action space"


def _sb3_warnings(env) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    return [str(w.message) for w in caught if ACTION_ADVICE not in str(w.message)]


@pytest.mark.parametrize("case", CASES)
def test_sb3_check_env_and_ppo_on_the_wrapped_env(make, case, tmp_path):
    env_id, kwargs = CASES[case]
    env = FlatDictObservation(make(env_id, **kwargs))
    assert not any(isinstance(space, (gym.spaces.Dict, gym.spaces.Text)) for space in env.observation_space.values())
    if "cameras" in kwargs:
        assert {f"images_{cam}" for cam in kwargs["cameras"]} <= set(env.observation_space)
    assert not _sb3_warnings(env)
    model = PPO("MultiInputPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.set_logger(configure_logger(str(tmp_path), []))  # SB3's default logger makes a folder in /tmp
    model.learn(total_timesteps=64)
    assert model.num_timesteps == 64


def test_sb3_check_env_with_embedded_instruction_and_rescaled_actions(make):
    """``instruction="embed"``: all-MiniLM-L6-v2's unit vector, one per episode; no SB3 warning left."""
    env = make("VLAPro-RoboTwin/click_bell-v0", obs_mode="state")
    env = FlatDictObservation(gym.wrappers.RescaleAction(env, np.float32(-1), np.float32(1)), instruction="embed")
    assert env.observation_space["instruction_embedding"].shape == (384,)
    assert not _sb3_warnings(env)
    first, info = env.reset(seed=1)
    assert abs(np.linalg.norm(first["instruction_embedding"]) - 1) < 1e-4
    assert "instruction" not in first and info["instruction"]  # the text stays in info
    other, info_other = env.reset(seed=2)  # another instruction template
    assert info_other["instruction"] != info["instruction"]
    assert not np.allclose(first["instruction_embedding"], other["instruction_embedding"])


def test_flat_dict_observation_keeps_values_and_refuses_bad_modes(make):
    raw = make("VLAPro-RoboTwin/click_bell-v0", obs_mode="rgbd", camera_size=16, cameras=["head_camera"])
    env = FlatDictObservation(raw)
    obs, info = env.reset(seed=2)
    assert set(obs) == {"agent_pos", "ee_pose", "images_head_camera", "depth_head_camera"}
    assert obs["images_head_camera"].dtype == np.uint8 and obs["depth_head_camera"].shape == (16, 16, 1)
    assert env.observation_space.contains(obs)
    with pytest.raises(ValueError, match="instruction must be one of"):
        FlatDictObservation(raw, instruction="keep")


@pytest.mark.parametrize("case", ["robotwin-state", "rlbench-state", "robotwin-rgb"])
def test_torchrl_gym_env_passes_check_env_specs(case):
    env_id, kwargs = CASES[case]
    env = GymEnv(env_id, **kwargs)
    try:
        check_env_specs(env, seed=0)
        rollout = env.rollout(3)
        assert rollout["instruction"][0] == rollout["instruction"][2]  # one instruction per episode
    finally:
        env.close()


def test_torchrl_takes_the_wrapped_env():
    env_id, kwargs = CASES["rlbench-rgb"]
    wrapped = GymWrapper(FlatDictObservation(gym.make(env_id, **kwargs)))
    try:
        check_env_specs(wrapped, seed=0)
        assert wrapped.observation_spec["images_front"].shape == (40, 40, 3)
    finally:
        wrapped.close()
