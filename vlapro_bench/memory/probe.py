"""Can a memory move the backbone toward a task at all? Action loss per task and fused memory.

The closed-loop arms of a reproduction say *whether* memories help on unseen tasks; when they do
not, the random and oracle arms rule retrieval in or out, and this probe asks the next question:
does fusing a memory change the backbone's actions toward the task's demonstrations? For every
task of a demonstration set it measures the backbone's own training loss (L1 on normalised
actions, padding excluded) on the same frames with

* nothing fused (``plain``) and the base LoRA alone (``k0``, when the bank keeps one),
* each memory of the bank fused alone at weight 1 (retrieval's best case for that memory),
* the task's own LoRA from a ceiling bank (privileged), when one is given.

"Gap closed" is how much of the distance from ``k0`` to the ceiling the best memory covers: near
0% means no memory, however well retrieved, carries what the task needs. Open loop and teacher
forced, so it ranks memories cheaply; closed-loop success remains the measure of record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
import torch
from torch import nn

from vlapro_bench.datasets import LeRobotV3Dataset
from vlapro_bench.memory.bank import MemoryBank
from vlapro_bench.memory.build import episode_task_names, instruction_embedder
from vlapro_bench.memory.task_loras import chunk_samples


class _TrainedBackbone(Protocol):
    def compute_loss(self, batch: Mapping[str, Any]) -> torch.Tensor: ...


#: Frames per forward pass: bounds memory for image backbones, does not change the result.
BATCH = 64


@dataclass(frozen=True)
class MemoryProbe:
    """Action losses of one probe.

    Attributes:
        losses: one row per task (index), columns ``plain``, ``k0`` (if the bank has a base LoRA),
            one per memory, and ``ceiling`` (NaN where the ceiling bank has no LoRA of the task).
        frames: frames measured per task.
        memories: the bank's memory names, in column order.
        memory_tasks: the task each memory was trained on.
    """

    losses: pd.DataFrame
    frames: dict[str, int]
    memories: list[str]
    memory_tasks: dict[str, str]

    def summary(self, sources: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
        """Per task: the reference losses, the task's own memory, its transfer sources, the best memory
        and the share of the gap to the ceiling it closes (``sources``: the split's transfer map)."""
        sources = sources or {}
        nan = float("nan")
        rows = []
        for task, values in self.losses.to_dict(orient="index").items():
            task = str(task)
            losses = {name: float(value) for name, value in values.items()}
            memory_losses = {m: losses[m] for m in self.memories}
            best = min(memory_losses, key=lambda m: memory_losses[m])
            base = losses.get("k0", losses["plain"])
            ceiling = losses.get("ceiling", nan)
            own = [memory_losses[m] for m in self.memories if self.memory_tasks[m] == task]
            source = [memory_losses[m] for m in self.memories if self.memory_tasks[m] in sources.get(task, ())]
            closed = 100 * (base - memory_losses[best]) / (base - ceiling) if base - ceiling > 0 else nan
            rows.append({"task": task, "frames": self.frames[task], "plain": losses["plain"],
                         "k0": losses.get("k0", nan), "own memory": min(own, default=nan),
                         "best source": min(source, default=nan), "best memory": best,
                         "best memory loss": memory_losses[best], "ceiling": ceiling, "gap closed %": closed})
        return pd.DataFrame(rows)


def probe_memories(backbone: nn.Module, bank: MemoryBank, data: LeRobotV3Dataset, frames_per_task: int = 256,
                   seed: int = 0, ceiling: MemoryBank | None = None, tasks: Sequence[str] = ()) -> MemoryProbe:
    """Measure the action loss of ``backbone`` on each task of ``data`` under every memory of ``bank``.

    ``frames_per_task`` frames are drawn per task without replacement (all of them when the task has
    fewer), with ``seed``, and every configuration is measured on the same frames. ``bank`` and
    ``ceiling`` must have been built for ``backbone`` (:func:`~vlapro_bench.memory.bank.load_bank`
    with the backbone checks that).
    """
    if frames_per_task < 1:
        raise ValueError(f"frames_per_task must be >= 1, got {frames_per_task}")
    episode_tasks = episode_task_names(data)
    present = sorted(set(episode_tasks))
    unknown = sorted(set(tasks) - set(present))
    if unknown:
        raise ValueError(f"{data.root} has no demonstrations of {unknown}; it has {present}")
    chosen = list(tasks) or present
    backbone = backbone.eval()
    samples = chunk_samples(backbone, data, instruction_embedder(backbone))
    task_of_sample = np.array([episode_tasks[e] for e, _ in samples.index])
    rng = np.random.default_rng(seed)
    memories = bank.memory_names
    fusion = bank.fusion(backbone, 1)
    ceiling_fusion = ceiling.fusion(backbone, 1) if ceiling is not None else None
    rows, frames = {}, {}
    try:
        for task in chosen:
            pool = np.nonzero(task_of_sample == task)[0]
            picked = np.sort(rng.choice(pool, size=min(frames_per_task, len(pool)), replace=False))
            batches = [torch.utils.data.default_collate([samples[int(i)] for i in picked[s:s + BATCH]])
                       for s in range(0, len(picked), BATCH)]
            frames[task] = len(picked)
            row = {"plain": _loss(backbone, batches)}
            if fusion.has_base:
                fusion.set_base_only()
                row["k0"] = _loss(backbone, batches)
                fusion.clear()
            for i, name in enumerate(memories):
                with fusion.applied(torch.tensor([i]), torch.tensor([1.0])):
                    row[name] = _loss(backbone, batches)
            if ceiling is not None and ceiling_fusion is not None:
                own = [i for i, m in enumerate(ceiling.index.memories) if m.task == task]
                row["ceiling"] = float("nan")
                if own:
                    with ceiling_fusion.applied(torch.tensor(own[:1]), torch.tensor([1.0])):
                        row["ceiling"] = _loss(backbone, batches)
            rows[task] = row
    finally:
        fusion.detach()
        if ceiling_fusion is not None:
            ceiling_fusion.detach()
    return MemoryProbe(pd.DataFrame.from_dict(rows, orient="index"), frames, memories,
                       {m.name: m.task for m in bank.index.memories})


@torch.no_grad()
def _loss(backbone: nn.Module, batches: list[dict[str, Any]]) -> float:
    """The loss over all ``batches`` as if they were one: each batch's mean weighted by its unpadded steps."""
    model = cast(_TrainedBackbone, backbone)
    total = count = 0.0
    for batch in batches:
        pad = batch.get("action_is_pad")
        steps = float((~pad).sum()) if pad is not None else float(np.prod(batch["action"].shape[:2]))
        total += float(model.compute_loss(batch)) * steps
        count += steps
    return total / max(count, 1.0)


__all__ = ["MemoryProbe", "probe_memories"]
