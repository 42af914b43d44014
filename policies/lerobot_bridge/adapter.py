"""The adapter: our observations and batches in, LeRobot's batch convention out, and back.

LeRobot's policy interface (``lerobot.policies.pretrained.PreTrainedPolicy``), which the adapter
relies on, and nothing more:

* ``forward(batch) -> (loss, info)`` for training; ``predict_action_chunk(batch) -> (B, H, D)``;
  ``reset()`` between episodes.
* Batch keys: ``observation.images.<camera>`` as float ``(B, 3, H, W)`` in [0, 1],
  ``observation.state`` ``(B, D)``, ``action`` ``(B, H, D)`` with ``action_is_pad`` ``(B, H)``
  for training, and ``task`` (a list of instruction strings) for language-conditioned policies.
* Normalisation lives outside the model in LeRobot >= 0.4 (pre/post-processor pipelines). The
  adapter takes those processors when given; otherwise it normalises state and actions itself
  with the dataset statistics from :meth:`set_normalization`, mean/std as LeRobot's default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

Processor = Callable[[dict[str, Any]], dict[str, Any]]
#: Side of the mean-colour grid that :meth:`LeRobotBackbone.visual_features` pools each camera to.
VISUAL_GRID = 4


@dataclass(frozen=True)
class LeRobotBackboneConfig:
    """What the rest of vlapro-bench reads from a backbone's ``config``."""

    cameras: tuple[str, ...]
    chunk_size: int
    state_dim: int = 14
    action_dim: int = 14
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"cameras": list(self.cameras), "chunk_size": self.chunk_size, "state_dim": self.state_dim,
                "action_dim": self.action_dim, "extra": dict(self.extra)}


def _tensor(x: Any) -> torch.Tensor:
    return x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))


def to_lerobot_batch(batch: Mapping[str, Any], cameras: Sequence[str]) -> dict[str, Any]:
    """Our batch (``images`` dict of (B, H, W, 3) uint8, ``agent_pos``, ``action``,
    ``instruction``) -> LeRobot's keys and layouts."""
    images = batch["images"]
    out: dict[str, Any] = {}
    for cam in cameras:
        if cam not in images:
            raise KeyError(f"the LeRobot policy reads camera {cam!r}; the batch has {sorted(images)}")
        img = _tensor(images[cam])
        if img.ndim != 4 or img.shape[-1] != 3:
            raise ValueError(f"images[{cam!r}] must be (B, H, W, 3), got {tuple(img.shape)}")
        img = img.float() / 255.0 if img.dtype == torch.uint8 else img.float()
        out[f"observation.images.{cam}"] = img.permute(0, 3, 1, 2).contiguous()
    out["observation.state"] = _tensor(batch["agent_pos"]).float()
    if "action" in batch:
        out["action"] = _tensor(batch["action"]).float()
        if "action_is_pad" in batch:
            out["action_is_pad"] = _tensor(batch["action_is_pad"]).bool()
    if "instruction" in batch:
        texts = batch["instruction"]
        out["task"] = [texts] if isinstance(texts, str) else list(texts)
    return out


class LeRobotBackbone(nn.Module):
    """A LeRobot policy behind our backbone contract (``compute_loss``, ``predict_action_chunk``,
    ``set_normalization``, ``config``), so the trainer, the evaluator and VLA-Pro's memory can use
    it like a native backbone. LoRA targets the wrapped policy's ``nn.Linear`` layers by name."""

    def __init__(self, policy: nn.Module, cameras: Sequence[str], chunk_size: int,
                 preprocessor: Processor | None = None, postprocessor: Processor | None = None,
                 state_dim: int = 14, action_dim: int = 14):
        super().__init__()
        for method in ("forward", "predict_action_chunk", "reset"):
            if not callable(getattr(policy, method, None)):
                raise TypeError(f"{type(policy).__name__} lacks {method}(); expected a LeRobot PreTrainedPolicy")
        self.policy = policy
        self.config = LeRobotBackboneConfig(tuple(cameras), int(chunk_size), state_dim, action_dim,
                                            {"policy_class": type(policy).__name__})
        self.preprocessor, self.postprocessor = preprocessor, postprocessor
        self.register_buffer("state_mean", torch.zeros(state_dim))
        self.register_buffer("state_std", torch.ones(state_dim))
        self.register_buffer("action_mean", torch.zeros(action_dim))
        self.register_buffer("action_std", torch.ones(action_dim))
        self.register_buffer("normalization_set", torch.tensor(False))

    def set_normalization(self, stats: Mapping[str, Mapping[str, Any]]) -> None:
        state = stats.get("agent_pos", stats.get("state"))
        for mean, std, entry in ((self.action_mean, self.action_std, stats["action"]),
                                 (self.state_mean, self.state_std, state)):
            mean.copy_(_tensor(entry["mean"]).float().reshape(-1))
            std.copy_(_tensor(entry["std"]).float().reshape(-1).clamp(min=1e-2))
        self.normalization_set.fill_(True)

    def _prepare(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        lr_batch = to_lerobot_batch(batch, self.config.cameras)
        device = self.state_mean.device
        lr_batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in lr_batch.items()}
        if self.preprocessor is not None:
            return self.preprocessor(lr_batch)
        lr_batch["observation.state"] = (lr_batch["observation.state"] - self.state_mean) / self.state_std
        if "action" in lr_batch:
            lr_batch["action"] = (lr_batch["action"] - self.action_mean) / self.action_std
        return lr_batch

    def visual_features(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Adapter-independent image features ``(B, F)`` (the backbone contract's retrieval input).

        LeRobot policies share no feature-extractor interface, so a wrapped policy that defines
        ``visual_features(lerobot_batch)`` is used; otherwise every camera's [0, 1] image is
        average-pooled to a 4x4 grid of mean colours (48 numbers per camera). Both are computed
        before any ``nn.Linear``, so fused LoRA adapters never change them.
        """
        own = getattr(self.policy, "visual_features", None)
        images = batch["images"]
        if callable(own):
            device = self.state_mean.device
            b = len(next(iter(images.values())))
            lr_batch = to_lerobot_batch({"images": images, "agent_pos": torch.zeros(b, self.config.state_dim)},
                                        self.config.cameras)
            return own({k: v.to(device) if torch.is_tensor(v) else v for k, v in lr_batch.items()})
        pooled = []
        for cam in self.config.cameras:
            if cam not in images:
                raise KeyError(f"the LeRobot policy reads camera {cam!r}; the batch has {sorted(images)}")
            img = _tensor(images[cam]).to(self.state_mean.device)
            img = img.float() / 255.0 if img.dtype == torch.uint8 else img.float()
            pooled.append(F.adaptive_avg_pool2d(img.permute(0, 3, 1, 2), VISUAL_GRID).flatten(1))
        return torch.cat(pooled, dim=1)

    def compute_loss(self, batch: Mapping[str, Any]) -> torch.Tensor:
        loss, _ = self.policy.forward(self._prepare(batch))
        return loss

    def predict_action_chunk(self, observation: Mapping[str, Any]) -> np.ndarray:
        """One env observation -> ``(H, action_dim)`` unnormalised actions."""
        batch = {"images": {c: _tensor(img)[None] for c, img in observation["images"].items()},
                 "agent_pos": _tensor(observation["agent_pos"]).reshape(1, -1),
                 "instruction": [str(observation.get("instruction", ""))]}
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                chunk = self.policy.predict_action_chunk(self._prepare(batch))
                if self.postprocessor is not None:
                    chunk = self.postprocessor({"action": chunk})["action"]
                else:
                    chunk = chunk * self.action_std + self.action_mean
        finally:
            self.train(was_training)
        chunk = chunk[0]
        if chunk.ndim != 2 or chunk.shape[-1] != self.config.action_dim:
            raise ValueError(f"the LeRobot policy returned a chunk of shape {tuple(chunk.shape)}, expected "
                             f"(H, {self.config.action_dim})")
        return chunk.float().cpu().numpy()

    def reset(self) -> None:
        self.policy.reset()
