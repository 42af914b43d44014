"""Training the base LoRA and the task LoRAs with peft, then taking out their factors as plain tensors.

peft does the training-time work (wrapping the target linears, initialising A with Kaiming and B
with zeros, freezing everything else). After training, only ``A`` ``(r, in)`` and ``B``
``(out, r)`` of each target leave this module, as plain tensors keyed by the target's module
name: the bank stores them as peft adapter folders and the fusion (:mod:`vlapro_bench.memory.fusion`)
applies them, so inference needs neither peft nor a modified model.

Training a task LoRA in ``residual`` mode keeps the frozen base LoRA active underneath through
the same :class:`~vlapro_bench.memory.fusion.FusedLoRA` inference uses: the original linear's
weight points at ``W + s B0 A0`` and peft's layer calls that linear, so training and inference
compute the same function. Every LoRA is trained on a deep copy of the backbone; the backbone given is
never modified.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from vlapro_bench.memory.config import LoraSpec
from vlapro_bench.memory.contract import linear_targets
from vlapro_bench.memory.fusion import Adapter, AdapterTable, FusedLoRA
from vlapro_bench.training.augment import random_shift
from vlapro_bench.training.data import ChunkDataset
from vlapro_bench.training.optim import adamw

#: peft adapter name used while training; it never leaves this module.
_TRAINING_ADAPTER = "memory"


@dataclass
class LoraTrainSettings:
    """Optimisation settings of one LoRA (taken from ``MemoryBuildConfig``)."""

    steps: int
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    image_shift: int = 0
    #: probability that a training sample reads another instruction from ``instruction_pool``
    #: instead of its own (see ``MemoryBuildConfig.instruction_swap``); 0 keeps every instruction.
    instruction_swap: float = 0.0
    #: instruction embeddings to swap in, ``(n, d)``; needed when ``instruction_swap > 0``.
    instruction_pool: torch.Tensor | None = None
    seed: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))


@dataclass
class TrainedLora:
    """A trained adapter's factors and its training curve."""

    adapter: dict[str, tuple[torch.Tensor, torch.Tensor]]
    losses: list[float]

    @property
    def final_loss(self) -> float:
        tail = self.losses[-10:]
        return float(np.mean(tail)) if tail else math.nan


def extract_adapter(model: nn.Module, adapter_name: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{module name: (A, B)}`` of peft adapter ``adapter_name``, as detached CPU float32 tensors."""
    from peft.tuners.lora import LoraLayer  # noqa: PLC0415

    out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for name, module in model.named_modules():
        if isinstance(module, LoraLayer) and adapter_name in module.lora_A:
            a = module.lora_A[adapter_name].weight.detach().to("cpu", torch.float32).contiguous().clone()
            b = module.lora_B[adapter_name].weight.detach().to("cpu", torch.float32).contiguous().clone()
            out[name] = (a, b)
    if not out:
        raise ValueError(f"the model has no peft LoRA adapter named {adapter_name!r}")
    return out


def _collate(samples: ChunkDataset, indices: torch.Tensor, device: torch.device, shift: int,
             generator: torch.Generator) -> dict[str, Any]:
    batch = torch.utils.data.default_collate([samples[int(i)] for i in indices])
    batch["images"] = {cam: random_shift(img, shift, generator) for cam, img in batch["images"].items()}

    def move(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        return value.to(device) if torch.is_tensor(value) else value

    return move(batch)


def swap_instructions(batch: dict[str, Any], pool: torch.Tensor, probability: float,
                      generator: torch.Generator) -> dict[str, Any]:
    """Replace each sample's instruction embedding, with ``probability``, by a random one of ``pool``.

    A task LoRA trained this way cannot lean on its task's wording to produce its procedure, so
    when it is fused under an unseen task's instruction it still moves the arm its way.
    """
    own = batch.get("instruction_embedding")
    if own is None:
        raise ValueError("instruction_swap needs a backbone that reads an instruction embedding")
    swap = torch.rand(own.shape[0], generator=generator) < probability
    picked = pool[torch.randint(len(pool), (own.shape[0],), generator=generator)].to(own.device, own.dtype)
    return {**batch, "instruction_embedding": torch.where(swap.to(own.device)[:, None], picked, own)}


def train_lora(backbone: nn.Module, samples: ChunkDataset, sample_indices: Sequence[int] | np.ndarray, spec: LoraSpec,
               target_regex: str, settings: LoraTrainSettings, base: Adapter | None = None,
               init: Adapter | None = None, desc: str = "lora", progress: bool = True) -> TrainedLora:
    """Train one LoRA on ``samples[sample_indices]`` and return its factors.

    Arguments:
        backbone: the trained backbone (copied, never modified).
        samples: the chunked demonstrations; ``sample_indices`` select this LoRA's frames.
        spec: rank, alpha, dropout; ``target_regex`` selects the linears (all of them ``nn.Linear``).
        base: a frozen LoRA kept active underneath (residual task LoRAs), or None.
        init: factors to start from (``from_base`` task LoRAs), or None for peft's init (B = 0).
    """
    from peft import LoraConfig, inject_adapter_in_model  # noqa: PLC0415

    if len(sample_indices) == 0:
        raise ValueError(f"{desc}: no training frames")
    device = settings.device
    model = copy.deepcopy(backbone).to(device)
    targets = list(linear_targets(model, target_regex))
    if base is not None:
        base_table = AdapterTable.from_adapters(["base"], [base])
        FusedLoRA(model, base_table, k=0, scaling=spec.scaling, base=base).set_base_only()
    torch.manual_seed(settings.seed)
    config = LoraConfig(r=spec.rank, lora_alpha=spec.alpha, target_modules=target_regex, lora_dropout=spec.dropout,
                        bias="none")
    inject_adapter_in_model(config, model, adapter_name=_TRAINING_ADAPTER)
    _check_peft_layers(model, targets, spec)
    if init is not None:
        _load_factors(model, init)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = adamw(params, lr=settings.lr, weight_decay=settings.weight_decay, device=device)
    pool = torch.as_tensor(np.asarray(sample_indices, dtype=np.int64))
    model.train()
    losses: list[float] = []
    for step in tqdm(range(settings.steps), desc=desc, unit="step", disable=not progress, leave=False):
        generator = torch.Generator().manual_seed(settings.seed * 1_000_003 + step)
        chosen = pool[torch.randint(len(pool), (settings.batch_size,), generator=generator)]
        torch.manual_seed(settings.seed + step)  # dropout
        batch = _collate(samples, chosen, device, settings.image_shift, generator)
        if settings.instruction_swap > 0:
            if settings.instruction_pool is None:
                raise ValueError(f"{desc}: instruction_swap > 0 needs an instruction_pool")
            batch = swap_instructions(batch, settings.instruction_pool, settings.instruction_swap, generator)
        loss = model.compute_loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return TrainedLora(extract_adapter(model, _TRAINING_ADAPTER), losses)


def _check_peft_layers(model: nn.Module, targets: list[str], spec: LoraSpec) -> None:
    from peft.tuners.lora import LoraLayer  # noqa: PLC0415

    wrapped = {name: m for name, m in model.named_modules() if isinstance(m, LoraLayer)}
    if sorted(wrapped) != sorted(targets):
        raise RuntimeError(f"peft wrapped {sorted(wrapped)[:4]}..., expected the target linears {targets[:4]}...")
    for name, layer in wrapped.items():
        if not math.isclose(float(layer.scaling[_TRAINING_ADAPTER]), spec.scaling, rel_tol=1e-9):
            raise RuntimeError(f"peft scales {name} by {layer.scaling[_TRAINING_ADAPTER]}, the bank assumes "
                               f"alpha / rank = {spec.scaling}")


def _load_factors(model: nn.Module, adapter: Adapter) -> None:
    from peft.tuners.lora import LoraLayer  # noqa: PLC0415

    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, (a, b) in adapter.items():
            layer = modules.get(name)
            if not isinstance(layer, LoraLayer):
                raise ValueError(f"cannot start from the given factors: {name!r} is not a LoRA target here")
            layer.lora_A[_TRAINING_ADAPTER].weight.copy_(a)
            layer.lora_B[_TRAINING_ADAPTER].weight.copy_(b)


__all__ = ["LoraTrainSettings", "TrainedLora", "extract_adapter", "swap_instructions", "train_lora"]
