"""Demonstrations as ACT-style training samples: observation at t, actions t .. t+H-1.

A sample holds the cameras the model reads, ``agent_pos``, the action chunk, and, for a model
over object state, the recorded ``object_state``.

Episodes are decoded once into memory (a 50-episode, 4-camera, 96x96 dataset is ~0.35 GB);
instructions are embedded once per distinct string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vlapro_bench.datasets import LeRobotV3Dataset
from vlapro_bench.training.features import ee_position_reference, object_offsets

IMAGE_PREFIX = "observation.images."
#: The dataset column of the env's state-mode ``object_state``.
OBJECT_STATE = "observation.environment_state"


def _moments(x: np.ndarray) -> dict[str, list[float]]:
    return {"mean": x.mean(0).tolist(), "std": x.std(0).tolist()}


class ChunkDataset(torch.utils.data.Dataset):
    """Every frame of every episode is a sample; the action chunk is padded past the end."""

    def __init__(self, dataset: LeRobotV3Dataset, cameras: Sequence[str], chunk_size: int, embed=None,
                 object_state: bool = False, ee_pose: bool = False):
        missing = [c for c in cameras if IMAGE_PREFIX + c not in dataset.features]
        if missing:
            raise ValueError(f"{dataset.root} has no video for cameras {missing}; it records "
                             f"{[k[len(IMAGE_PREFIX):] for k in dataset.features if k.startswith(IMAGE_PREFIX)]}")
        if object_state and OBJECT_STATE not in dataset.features:
            raise ValueError(f"{dataset.root} has no {OBJECT_STATE}: record state-mode demonstrations for a model "
                             f"over object state (vlapro-bench collect --obs-mode state)")
        self.cameras = list(cameras)
        self.object_states: list[np.ndarray] | None = [] if object_state else None
        self.with_ee_pose = ee_pose
        self.ee_poses: list[np.ndarray] = []
        self.chunk_size = chunk_size
        self.images: dict[str, list[np.ndarray]] = {c: [] for c in self.cameras}
        self.states: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.instructions: list[str] = []
        for episode in dataset.iter_episodes():
            for cam in self.cameras:
                self.images[cam].append(episode[IMAGE_PREFIX + cam])
            self.states.append(np.asarray(episode["observation.state"], dtype=np.float32))
            self.ee_poses.append(np.asarray(episode["observation.ee_pose"], dtype=np.float32))
            if self.object_states is not None:
                self.object_states.append(np.asarray(episode[OBJECT_STATE], dtype=np.float32))
            self.actions.append(np.asarray(episode["action"], dtype=np.float32))
            self.instructions.append(episode["task"])
        self.index = [(e, t) for e, actions in enumerate(self.actions) for t in range(len(actions))]
        if not self.index:
            raise ValueError(f"{dataset.root} holds no frames")
        unique = sorted(set(self.instructions))
        self.embeddings: dict[str, torch.Tensor] = {}
        if embed is not None:
            vectors = embed(unique)
            self.embeddings = {text: vectors[i].detach().float().cpu() for i, text in enumerate(unique)}

    def __len__(self) -> int:
        return len(self.index)

    def statistics(self) -> dict[str, dict[str, list[float]]]:
        """Mean and std of actions and states over all frames (for the model's normalisation)."""
        actions, states = np.concatenate(self.actions), np.concatenate(self.states)
        out = {
            "action": {"mean": actions.mean(0).tolist(), "std": actions.std(0).tolist()},
            "agent_pos": {"mean": states.mean(0).tolist(), "std": states.std(0).tolist()},
        }
        if self.object_states is not None:
            objects = np.concatenate(self.object_states)
            out["object_state"] = {"mean": objects.mean(0).tolist(), "std": objects.std(0).tolist()}
        if all(a.shape[1] == s.shape[1] for a, s in zip(self.actions, self.states)):
            deltas = np.concatenate([self._chunk_deltas(a, s) for a, s in zip(self.actions, self.states)])
            out["action_delta"] = _moments(deltas)
        if all(a.shape[1] == e.shape[1] for a, e in zip(self.actions, self.ee_poses)):
            deltas = np.concatenate([self._chunk_deltas(a, ee_position_reference(e))
                                     for a, e in zip(self.actions, self.ee_poses)])
            out["action_delta_ee"] = _moments(deltas)
        if self.object_states is not None:
            out["object_offsets"] = _moments(np.concatenate([object_offsets(o, e) for o, e in
                                                             zip(self.object_states, self.ee_poses)]))
        return out

    def _chunk_deltas(self, actions: np.ndarray, states: np.ndarray) -> np.ndarray:
        """``actions[t + i] - states[t]`` for every frame ``t`` and chunk offset ``i`` inside the episode:
        what a model with relative actions predicts (its normalisation statistics)."""
        n = len(actions)
        return np.concatenate([actions[i:] - states[: n - i] for i in range(min(self.chunk_size, n))])

    def __getitem__(self, i: int) -> dict[str, Any]:
        e, t = self.index[i]
        actions = self.actions[e]
        steps = np.arange(t, t + self.chunk_size)
        pad = steps >= len(actions)
        sample: dict[str, Any] = {
            "images": {c: torch.from_numpy(self.images[c][e][t]) for c in self.cameras},
            "agent_pos": torch.from_numpy(self.states[e][t]),
            "action": torch.from_numpy(actions[np.minimum(steps, len(actions) - 1)]),
            "action_is_pad": torch.from_numpy(pad),
        }
        if self.object_states is not None:
            sample["object_state"] = torch.from_numpy(self.object_states[e][t])
        if self.with_ee_pose:
            sample["ee_pose"] = torch.from_numpy(self.ee_poses[e][t])
        text = self.instructions[e]
        if text in self.embeddings:
            sample["instruction_embedding"] = self.embeddings[text]
        return sample
