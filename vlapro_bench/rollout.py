"""Run a policy for episodes: the loop the CLI's ``expert`` and ``baselines`` commands use.

The full evaluator (protocols, resumable JSONL records, statistics) builds on this loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from vlapro_bench.policy import Policy, check_chunk
from vlapro_bench.stepping import step_chunk


@dataclass(frozen=True)
class EpisodeResult:
    task: str
    seed: int
    success: bool
    steps: int
    instruction: str
    wall_time_s: float
    reset_args: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Flat record (one CSV row): the reset arguments become ``episode_seed``."""
        out = asdict(self)
        out["episode_seed"] = out.pop("reset_args").get("episode_seed")
        return out


#: Called before every step with (observation, info, action): recorders hook in here.
StepHook = Callable[[dict[str, Any], dict[str, Any], np.ndarray], None]


def run_episode(
    env: gym.Env, policy: Policy, seed: int, task: str | None = None, on_step: StepHook | None = None
) -> EpisodeResult:
    """One episode: reset with ``seed`` (and ``task``), then act chunk by chunk until it ends.

    A policy reads only the observation it is given at the start of each chunk, so each chunk
    is executed with :func:`~vlapro_bench.stepping.step_chunk`: the observation is rendered once
    per chunk. ``on_step`` (a recorder that reads every step's observation) makes the loop step
    and observe one action at a time instead; the episode is the same either way.
    """
    start = time.perf_counter()
    options = {"task": task} if task is not None else None
    obs, info = env.reset(seed=seed, options=options)
    base = env.unwrapped
    policy.reset(info["instruction"], base.task.spec)
    steps, done = 0, False
    while not done:
        chunk = check_chunk(policy.act(obs), env.action_space.shape[0])
        if on_step is None:
            obs, rewards, terminations, truncations, infos = step_chunk(env, chunk)
            steps += len(infos)
            info = infos[-1]
            done = bool(terminations[-1] or truncations[-1])
            continue
        for action in chunk:
            on_step(obs, info, action)
            obs, _, terminated, truncated, info = env.step(action)
            steps += 1
            if terminated or truncated:
                done = True
                break
    return EpisodeResult(info["task"], seed, bool(info["is_success"]), steps, info["instruction"],
                         time.perf_counter() - start, dict(info["reset_args"]))
