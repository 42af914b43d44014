"""Chunk stepping for any Gymnasium environment: execute an action chunk, observe once.

Chunking policies (ACT, diffusion, pi0-style, RDT) read one observation per chunk, and on a CPU
rendering is almost all of an environment step's cost. :func:`step_chunk` executes a chunk
through :meth:`VLAProEnv.step_chunk <vlapro_bench.env.VLAProEnv.step_chunk>`, which renders only
the observation after the chunk, when nothing between the caller and the environment could
change actions, observations or episode ends. Otherwise (an upstream backend, a user's
wrapper) it falls back to a loop over ``env.step`` with the same stopping rule, so callers get
the same :class:`~vlapro_bench.env.ChunkStep` from every environment.

Only Gymnasium's bookkeeping wrappers count as transparent: ``OrderEnforcing`` (our env raises
``ResetNeeded`` itself) and ``PassiveEnvChecker`` (which checks a first ``step``; chunks are
checked by the env). ``TimeLimit`` is not transparent; our ids register none because the env
truncates at its task's step limit itself.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker

from vlapro_bench.env import ChunkStep

#: Wrappers that neither change actions, observations, rewards nor episode ends.
TRANSPARENT_WRAPPERS: tuple[type[gym.Wrapper], ...] = (OrderEnforcing, PassiveEnvChecker)


def chunk_stepper(env: gym.Env) -> Any:
    """The env's own ``step_chunk`` if every wrapper around it is transparent, else ``None``."""
    inner: gym.Env = env
    while isinstance(inner, gym.Wrapper):
        if type(inner) not in TRANSPARENT_WRAPPERS:
            return None
        inner = inner.env
    method = getattr(inner, "step_chunk", None)
    return method if callable(method) else None


def step_chunk(env: gym.Env, actions: np.ndarray) -> ChunkStep:
    """Execute ``actions`` (``(H, action_dim)``) in order until the first termination or truncation.

    Returns the observation after the last executed action and, per executed action, its
    reward, termination, truncation and info. Equal to stepping the same actions one by one.
    """
    stepper = chunk_stepper(env)
    if stepper is not None:
        return stepper(actions)
    rewards, terminations, truncations, infos = [], [], [], []
    obs: Any = None
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(float(reward))
        terminations.append(bool(terminated))
        truncations.append(bool(truncated))
        infos.append(info)
        if terminated or truncated:
            break
    if not infos:
        raise ValueError("step_chunk needs at least one action")
    return ChunkStep(obs, np.asarray(rewards, dtype=np.float64), np.asarray(terminations, dtype=bool),
                     np.asarray(truncations, dtype=bool), infos)
