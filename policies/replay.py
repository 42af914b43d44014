"""Replays recorded actions: checks that a recorded episode reproduces, and drives re-runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from vlapro_bench.policy import PolicyTraits, register_policy
from vlapro_bench.registry import TaskSpec


class ReplayPolicy:
    """Returns the recorded actions ``chunk`` at a time, then holds the last one.

    Not privileged: it reads nothing from the simulator, only a fixed action sequence.
    """

    privileged = False

    def __init__(self, actions: np.ndarray, chunk: int = 1):
        actions = np.asarray(actions, dtype=np.float32)
        if actions.ndim != 2 or len(actions) == 0:
            raise ValueError(f"ReplayPolicy needs a non-empty (T, action_dim) array, got shape {actions.shape}")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.actions, self.chunk = actions, chunk
        self._t = 0

    def reset(self, instruction: str, task_spec: TaskSpec | None) -> None:
        self._t = 0

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        idx = np.minimum(np.arange(self._t, self._t + self.chunk), len(self.actions) - 1)
        self._t += self.chunk
        return self.actions[idx]


@register_policy("replay", traits=PolicyTraits(weights=("actions",)))
def make_replay_policy(env: gym.Env, actions: np.ndarray | str | Path, chunk: int = 1) -> ReplayPolicy:
    """``actions``: an array, or a ``.npy`` / ``.npz`` file (key ``actions``) of shape (T, dim)."""
    if isinstance(actions, (str, Path)):
        path = Path(actions)
        if not path.is_file():
            raise FileNotFoundError(f"Replay file {path} does not exist")
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            if "actions" not in loaded:
                raise KeyError(f"{path} has no 'actions' array (found {list(loaded.keys())})")
            loaded = loaded["actions"]
        actions = loaded
    policy = ReplayPolicy(np.asarray(actions), chunk)
    if policy.actions.shape[1] != env.action_space.shape[0]:
        raise ValueError(
            f"Replay actions have dimension {policy.actions.shape[1]}, the env expects {env.action_space.shape[0]}"
        )
    return policy
