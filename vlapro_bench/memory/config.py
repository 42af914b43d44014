"""Typed configuration of the procedural memory: the LoRA shape, the retrieval keys, the build run.

Every default is a choice the VLA-Pro paper does not document (rank, alpha, targets, temperature,
whether task LoRAs start from the base LoRA: none is given on the project page or in the
summaries we could read); each field's docstring says why we picked it.
The configs are plain dataclasses with a JSON round trip, so a bank's ``index.json`` records the
exact configuration it was built with and a JSON file can fill ``vlapro-bench memory build``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vlapro_bench.config_files import read_json_object
from vlapro_bench.training.config import check_device

#: The four fields of VLA-Pro's procedural state, in the order of the project page's highlight.
FIELDS: tuple[str, ...] = ("action_type", "object_geometry", "ee_orientation", "target_point")

#: How task LoRAs relate to the base LoRA (see :attr:`LoraSpec.task_init`).
TaskInit = Literal["residual", "from_base"]


def _fill(cls: type, data: dict[str, Any], what: str) -> Any:
    """``cls(**data)`` that names unknown keys instead of raising a bare TypeError."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"Unknown {what} keys {unknown}; valid keys: {sorted(known)}")
    return cls(**data)


@dataclass(frozen=True)
class LoraSpec:
    """Shape of every adapter in a bank: the base LoRA and all task LoRAs share it.

    Attributes:
        rank: LoRA rank ``r``. 16 is a common VLA fine-tuning rank (the issue's benchmark uses it)
            and keeps one tinyvla adapter at ~0.7 MB.
        alpha: LoRA alpha; the adapter's output is scaled by ``alpha / rank`` (peft's default
            scaling, not rsLoRA). ``alpha = 2 * rank`` is the usual setting.
        target_modules: regex fully matched against ``named_modules`` names (peft's string
            ``target_modules``). Only ``nn.Linear`` modules may match: the fusion computes
            ``B (A x)`` on a linear's input. Empty means "the backbone's default", which for
            tinyvla is ``LORA_TRANSFORMER_REGEX`` (attention and MLP linears of the transformer).
        dropout: LoRA dropout during training (0: few demonstrations, few steps).
        task_init: ``"residual"`` (default): a task LoRA starts at zero (peft's init, ``B = 0``)
            and is trained with the frozen base LoRA active underneath, so at inference the base
            stays on with weight 1 and the fused task LoRAs add to it:
            ``y = W x + s B0 A0 x + sum_i w_i s B_i A_i x`` (the issue's formula). ``"from_base"``:
            a task LoRA starts as a copy of the base LoRA and is trained alone, so at inference
            the fused task LoRAs replace the base: ``y = W x + sum_i w_i s B_i A_i x``.
    """

    rank: int = 16
    alpha: float = 32.0
    target_modules: str = ""
    dropout: float = 0.0
    task_init: TaskInit = "residual"

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"rank must be >= 1, got {self.rank}")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.task_init not in ("residual", "from_base"):
            raise ValueError(f"task_init must be 'residual' or 'from_base', got {self.task_init!r}")

    @property
    def scaling(self) -> float:
        """``alpha / rank``: the factor peft applies to ``B A x``."""
        return float(self.alpha) / float(self.rank)

    @property
    def base_active(self) -> bool:
        """Whether the base LoRA stays on underneath the fused task LoRAs at inference."""
        return self.task_init == "residual"


@dataclass(frozen=True)
class KeyConfig:
    """How procedural-state keys are built from demonstrations and compared online.

    Attributes:
        history_steps: the interaction-history window in control steps. Online, the policy sees
            one observation per chunk, so the window is the chunk it last executed; keys from
            demonstrations use the same window. Match it to the policy's ``execute`` (8).
        key_stride: demonstration frames between two states used for keys (and for fitting the
            field projections); every frame would cost one CNN pass each.
        key_episodes: demonstrations per task used for keys (the first ones in the dataset).
        keys_per_memory: length of a memory's key sequence. A task's states are binned by
            episode phase ``t / T`` into this many bins and averaged per bin, so the key is the
            task's procedure in order (approach, contact, ..., release). A memory scores as its
            best-matching key. 8 keeps retrieval over 10,000 memories under a millisecond.
        field_dim: each field is standardised and projected onto at most this many principal
            components (fitted on all key states of the bank) before the cosine: it drops
            directions no demonstration varies in and makes scoring a small matrix product. With
            the RoboTwin split's 8 seen tasks, more directions mostly describe variation within a
            task; 8 keeps the 10,000-memory key matrix at 10 MB, scored in under a millisecond
            on one CPU core even right after a forward pass (16 took 1.1-1.2 ms there).
        field_weights: weight of each field's cosine in the score, in :data:`FIELDS` order;
            normalised to sum to 1, so a score lies in [-1, 1].
        temperature: softmax temperature over the top-k scores (the bank's default; a policy may
            override it). Scores are cosines, so 0.1 turns a 0.05 score gap into weights
            0.62 / 0.38.
    """

    history_steps: int = 8
    key_stride: int = 4
    key_episodes: int = 10
    keys_per_memory: int = 8
    field_dim: int = 8
    field_weights: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)
    temperature: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_weights", tuple(float(w) for w in self.field_weights))
        for name in ("history_steps", "key_stride", "key_episodes", "keys_per_memory", "field_dim"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if len(self.field_weights) != len(FIELDS):
            raise ValueError(f"field_weights needs {len(FIELDS)} values ({', '.join(FIELDS)}), "
                             f"got {list(self.field_weights)}")
        if any(w < 0 for w in self.field_weights) or sum(self.field_weights) <= 0:
            raise ValueError(f"field_weights must be >= 0 and not all 0, got {list(self.field_weights)}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")

    def normalized_weights(self) -> tuple[float, ...]:
        total = sum(self.field_weights)
        return tuple(w / total for w in self.field_weights)


@dataclass
class MemoryBuildConfig:
    """One ``vlapro-bench memory build`` run: data, backbone, LoRA training, keys.

    Attributes:
        backbone: training run folder (or one checkpoint) of the backbone the memories adapt.
        data: demonstration dataset (LeRobotDataset v3.0 layout, from ``vlapro-bench collect``).
        out: bank folder to write (must not exist yet, or be empty).
        suite: task suite; the split's seen tasks that the dataset holds become memories.
        tasks: restrict to these seen tasks (empty: all seen tasks in the dataset).
        memories_from: ``"seen"`` (VLA-Pro's memory bank) or ``"unseen"``: memories of the
            evaluated tasks, from their own demonstrations; such a bank is the reproduction's
            ceiling arm, and any policy that loads it is marked privileged.
        base_bank: a bank folder whose base LoRA this build reuses instead of training one (the
            ceiling bank shares the VLA-Pro bank's base, so the two differ only in their task LoRAs).
        lora: adapter shape (:class:`LoraSpec`).
        keys: key construction (:class:`KeyConfig`).
        base_steps: optimiser steps of the base LoRA on all seen-task episodes.
        task_steps: optimiser steps of each task LoRA on that task's episodes.
        batch_size, lr, weight_decay: AdamW on the LoRA parameters only.
        image_shift: random-shift augmentation in pixels; ``None`` (the default) takes the
            backbone's own training setting. A LoRA trained with augmentation its backbone never
            saw made the backbone worse: on three seen tasks a 4-px base LoRA raised the
            backbone's action loss by 15-37%, while one without shifts lowered it.
        instruction_swap: probability that a task LoRA's training sample reads the instruction of a
            random seen-task episode instead of its own (the base LoRA always reads its own). 0 (the
            default) is the plain recipe. Why: at an unseen task the policy reads an instruction no
            memory was trained with; a memory that learned its procedure *given its own wording*
            transfers less of it. On the state profile's unseen demonstrations (not evaluation seeds),
            click_bell's memory lowered the action loss of the three press tasks by 25% as built and by
            31-32% when trained with every instruction swapped; yet 0.5, the best k=2 variant on the
            development seeds, scored 4.5% against 7.5% as built on the evaluation seeds (README,
            state profile), so it stays off. Choose it, like any setting, on development seeds.
        seed: seeds LoRA init, batches and dropout; each task LoRA uses ``seed`` plus its index.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        torch_threads: CPU math threads of every LoRA's training, in this process and in each
            worker process of a parallel build; 0 (the default) is one thread on machines of up to
            4 cores and torch's own choice on larger ones (``trainer.default_threads``). CPU
            kernels split their sums by thread, so the thread count is part of what a build
            computes (the last bits of every LoRA), while the number of workers is not.
    """

    backbone: str = ""
    data: str = ""
    out: str = ""
    suite: str = "robotwin"
    tasks: list[str] = field(default_factory=list)
    memories_from: Literal["seen", "unseen"] = "seen"
    base_bank: str = ""
    lora: LoraSpec = field(default_factory=LoraSpec)
    keys: KeyConfig = field(default_factory=KeyConfig)
    base_steps: int = 1000
    task_steps: int = 500
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    image_shift: int | None = None
    instruction_swap: float = 0.0
    seed: int = 0
    device: str = "auto"
    torch_threads: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.lora, dict):
            self.lora = _fill(LoraSpec, self.lora, "lora")
        if isinstance(self.keys, dict):
            self.keys = _fill(KeyConfig, self.keys, "keys")
        for name in ("base_steps", "task_steps", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.torch_threads < 0:
            raise ValueError(f"torch_threads must be >= 0 (0: the machine's default), got {self.torch_threads}")
        if self.image_shift is not None and self.image_shift < 0:
            raise ValueError(f"image_shift must be >= 0 pixels, got {self.image_shift}")
        if not 0.0 <= self.instruction_swap <= 1.0:
            raise ValueError(f"instruction_swap is a probability in [0, 1], got {self.instruction_swap}")
        if self.memories_from not in ("seen", "unseen"):
            raise ValueError(f"memories_from must be 'seen' or 'unseen', got {self.memories_from!r}")
        check_device(self.device)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["keys"]["field_weights"] = list(self.keys.field_weights)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryBuildConfig:
        return _fill(cls, data, "memory build config")

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> MemoryBuildConfig:
        """A JSON file, with non-None ``overrides`` (CLI flags) on top; nested ``lora`` / ``keys``
        overrides are merged into the file's sections rather than replacing them."""
        data = read_json_object(path, "Memory build config")
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("lora", "keys") and isinstance(value, dict):
                data[key] = {**data.get(key, {}), **value}
            else:
                data[key] = value
        return cls.from_dict(data)


__all__ = ["FIELDS", "KeyConfig", "LoraSpec", "MemoryBuildConfig", "TaskInit"]
