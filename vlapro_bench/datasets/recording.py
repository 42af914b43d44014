"""Recording environment episodes as LeRobot frames: the feature set and the step loop.

A frame holds the observation at step t, the procedural state at step t and the action taken
from it (LeRobot's convention); the observation after the last action is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from vlapro_bench.datasets.lerobot_v3 import camera_feature
from vlapro_bench.policy import Policy
from vlapro_bench.rollout import run_episode
from vlapro_bench.sim.robot import ARM_JOINTS, ARMS

JOINT_NAMES = [f"{arm}_{j}" for arm in ARMS for j in (*ARM_JOINTS, "gripper")]
EE_NAMES = [f"{arm}_{c}" for arm in ARMS for c in ("x", "y", "z", "qw", "qx", "qy", "qz", "gripper")]
PROCEDURAL_STRINGS = ("action_type", "object_geometry", "arm", "stage")


def _vector(n: int, names: list[str] | None = None) -> dict[str, Any]:
    return {"dtype": "float32", "shape": [n], "names": names}


def env_features(env: gym.Env) -> dict[str, dict[str, Any]]:
    """The dataset features for ``env``'s cameras, obs mode and control mode."""
    base = env.unwrapped
    features: dict[str, dict[str, Any]] = {}
    if base.obs_mode != "state":
        h, w = base.camera_size
        for cam in base.cameras:
            features[f"observation.images.{cam}"] = camera_feature(h, w)
    # Named dimensions for the RoboTwin layout; other suites' vectors are unnamed (their width
    # comes from the env's spaces).
    robotwin = base.suite == "robotwin"
    features["observation.state"] = _vector(int(base.observation_space["agent_pos"].shape[0]),
                                            JOINT_NAMES if robotwin else None)
    features["observation.ee_pose"] = _vector(int(base.observation_space["ee_pose"].shape[0]),
                                              EE_NAMES if robotwin else None)
    if base.obs_mode == "state":
        features["observation.environment_state"] = _vector(int(base.observation_space["object_state"].shape[0]))
    action_names = (JOINT_NAMES if base.control_mode == "qpos" else EE_NAMES) if robotwin else None
    features["action"] = _vector(int(base.action_space.shape[0]), action_names)
    features["procedural_state.target_point"] = _vector(3, ["x", "y", "z"])
    features["procedural_state.ee_orientation"] = _vector(4, ["qw", "qx", "qy", "qz"])
    for name in PROCEDURAL_STRINGS:
        features[f"procedural_state.{name}"] = {"dtype": "string", "shape": [1], "names": None}
    return features


def make_frame(obs: dict[str, Any], info: dict[str, Any], action: np.ndarray) -> dict[str, Any]:
    frame: dict[str, Any] = {f"observation.images.{cam}": img for cam, img in obs.get("images", {}).items()}
    frame["observation.state"] = np.asarray(obs["agent_pos"], dtype=np.float32)
    frame["observation.ee_pose"] = np.asarray(obs["ee_pose"], dtype=np.float32)
    if "object_state" in obs:
        frame["observation.environment_state"] = np.asarray(obs["object_state"], dtype=np.float32)
    frame["action"] = np.asarray(action, dtype=np.float32)
    ps = info["procedural_state"]
    frame["procedural_state.target_point"] = np.asarray(ps["target_point"], dtype=np.float32)
    frame["procedural_state.ee_orientation"] = np.asarray(ps["ee_orientation"], dtype=np.float32)
    for name in PROCEDURAL_STRINGS:
        frame[f"procedural_state.{name}"] = str(ps[name])
    return frame


@dataclass
class RecordedEpisode:
    frames: list[dict[str, Any]]
    instruction: str
    extra_meta: dict[str, Any] = field(default_factory=dict)


def record_episode(env: gym.Env, policy: Policy, seed: int, task: str | None = None) -> RecordedEpisode:
    """Run one episode with :func:`~vlapro_bench.rollout.run_episode`, keeping every frame."""
    frames: list[dict[str, Any]] = []
    result = run_episode(env, policy, seed, task,
                         on_step=lambda obs, info, action: frames.append(make_frame(obs, info, action)))
    base = env.unwrapped
    extra = {
        "task_name": result.task,
        "reset_seed": int(seed),
        "episode_seed": int(result.reset_args["episode_seed"]),
        "success": result.success,
        "control_mode": str(base.control_mode),
        "instruction_pool": str(base.instruction_pool),
    }
    return RecordedEpisode(frames, result.instruction, extra)
