"""The random policy, reporting how many math threads torch runs with in the process that plays it."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch

from vlapro_bench.policies.random_policy import RandomPolicy


class ThreadProbePolicy(RandomPolicy):
    def episode_record(self) -> dict[str, Any]:
        return {"torch_threads": torch.get_num_threads()}


def make_policy(env: gym.Env, seed: int | None = 0) -> ThreadProbePolicy:
    return ThreadProbePolicy(env.action_space, seed=seed)
