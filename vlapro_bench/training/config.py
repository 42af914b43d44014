"""The training configuration: a dataclass that a JSON file and CLI flags both fill."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlapro_bench.config_files import read_json_object

LR_SCHEDULES = ("constant", "cosine")
#: Fields a resumed run may change: where and how it runs, not what it learns. ``steps`` also,
#: to train a run further, except under the cosine schedule, whose curve depends on it.
RESUMABLE_FIELDS = frozenset({"out", "device", "torch_threads", "checkpoint_every", "keep_checkpoints", "steps"})
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


class RunConfigMismatchError(ValueError):
    """Resuming a run folder under a configuration other than the one it was trained with."""


def check_device(device: str) -> str:
    """Refuse a device name torch cannot parse when the config is made, not at the first tensor move."""
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ValueError(f"device must be cpu, cuda, cuda:N, mps or auto, got {device!r}")
    return device


@dataclass
class TrainConfig:
    """Hyper-parameters and bookkeeping of one training run.

    Attributes:
        data: dataset folder (LeRobotDataset v3.0 layout, from ``vlapro-bench collect``).
        out: run folder; checkpoints go to ``out/checkpoints/step-XXXXXXX/``.
        backbone: registered backbone name (``tinyvla``).
        steps: optimiser steps in total (a resumed run continues to this number).
        batch_size: samples per step.
        lr, weight_decay, grad_clip: AdamW and gradient-norm clipping.
        lr_schedule: ``constant`` (the default) or ``cosine``: decay from ``lr`` to 0 over the
            run, after ``warmup_steps`` of linear warm-up. The learning rate is a function of the
            step alone, so a resumed run continues on the same curve.
        warmup_steps: linear warm-up from 0 to ``lr`` (either schedule).
        seed: seeds initialisation, batch sampling and dropout; with the same data and config a
            run is reproducible, and a resumed run draws the same batches it would have drawn.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when available).
        checkpoint_every: steps between checkpoints (the last step is always saved).
        keep_checkpoints: how many recent checkpoints to keep on disk.
        model: backbone config overrides (e.g. ``{"image_size": [96, 96], "chunk_size": 16}``).
        amp: bf16 autocast for the forward and backward passes on CUDA (ignored on the CPU, where
            it changes the numbers for little speed); the weights and optimiser stay float32.
        torch_threads: CPU math threads for torch; 0 (the default) is one thread on machines of up to 4
            cores and torch's own choice on larger ones (see ``trainer.default_threads``).
        image_shift: random-shift augmentation in pixels (0 = off, the default); see
            :mod:`vlapro_bench.training.augment`. Off by default because on click_bell (50 demos,
            2000-3000 CPU steps) it slowed learning where the target's image position is the
            signal: a 4-px shift run had not learned which arm to use at 2000 steps.
    """

    data: str = ""
    out: str = ""
    backbone: str = "tinyvla"
    steps: int = 3000
    batch_size: int = 32
    lr: float = 3e-4
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 1e-4
    grad_clip: float = 10.0
    seed: int = 0
    device: str = "auto"
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    model: dict[str, Any] = field(default_factory=dict)
    torch_threads: int = 0
    image_shift: int = 0
    amp: bool = False

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.image_shift < 0:
            raise ValueError(f"image_shift must be >= 0 pixels, got {self.image_shift}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if not 0 <= self.warmup_steps < self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps={self.steps}), got {self.warmup_steps}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        check_device(self.device)

    def learning_rate(self, step: int) -> float:
        """The learning rate of optimiser step ``step`` (0-based)."""
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        if self.lr_schedule == "constant":
            return self.lr
        progress = (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps)
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def changes_from(self, recorded: dict[str, Any]) -> list[str]:
        """``"key: old -> new"`` for each field that differs from ``recorded`` (a run's recorded
        config) and that a resumed run may not change; fields a run may change are not listed."""
        free = set(RESUMABLE_FIELDS) - ({"steps"} if self.lr_schedule == "cosine" else set())
        defaults = TrainConfig().to_dict()
        changes = []
        for key, new in self.to_dict().items():
            old = recorded.get(key, defaults[key])  # a field added since the run was recorded: its default
            if key in free or old == new or (key == "data" and Path(old).resolve() == Path(new).resolve()):
                continue
            changes.append(f"{key}: {json.dumps(old)} -> {json.dumps(new)}")
        return changes

    def check_resumes(self, recorded: dict[str, Any], run: str | Path) -> None:
        """Refuse to continue ``run`` (trained with ``recorded``) under a changed configuration:
        its checkpoints would mix two runs and its recorded config would describe neither."""
        changes = self.changes_from(recorded)
        if changes:
            recorded_file = Path(run) / "train_config.json"
            raise RunConfigMismatchError(
                f"{run} was trained with another configuration ({'; '.join(changes)}); resuming would mix two "
                f"runs: use a new --out folder, or re-run with the recorded settings ({recorded_file})")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown training config keys {unknown}; valid keys: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """A JSON config file, with non-None ``overrides`` (CLI flags) on top."""
        data = read_json_object(path, "Training config")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data)
