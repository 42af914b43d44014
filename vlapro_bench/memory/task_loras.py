"""Training a bank's task LoRAs: one after another in this process, or a task per worker process.

A task LoRA depends only on the backbone checkpoint, its task's frames, the base LoRA and its
own seed, so the tasks are independent jobs, and on a CPU two single-thread processes train two
of them in about the time one two-thread process trains one. The result must not depend on how
many processes ran: a worker loads the backbone from the same checkpoint, rebuilds the same
samples from the same dataset with the instruction embeddings the parent computed (an encoder
run under another thread count can differ in the last bits), and trains with the build's thread
count, which the parent uses too. The LoRAs are then bit-identical for any number of workers
(``tests/test_memory_build.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from vlapro_bench.datasets import LeRobotV3Dataset
from vlapro_bench.memory.config import LoraSpec
from vlapro_bench.memory.fusion import Adapter
from vlapro_bench.memory.lora import LoraTrainSettings, TrainedLora, train_lora
from vlapro_bench.processes import init_pool_process, results_in_order
from vlapro_bench.training.checkpoint import load_backbone_checkpoint
from vlapro_bench.training.data import ChunkDataset
from vlapro_bench.training.trainer import reads_object_state


class EmbeddingTable:
    """An ``embed`` function over instructions embedded before: what a worker's samples read."""

    def __init__(self, table: dict[str, torch.Tensor]):
        self.table = table

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        return torch.stack([self.table[text] for text in texts])


def chunk_samples(backbone: nn.Module, data: LeRobotV3Dataset,
                  embed: Callable[[list[str]], torch.Tensor] | None) -> ChunkDataset:
    """The training samples of ``data`` as ``backbone`` reads them (its cameras, chunk, state inputs)."""
    return ChunkDataset(data, backbone.config.cameras, backbone.config.chunk_size,
                        embed=embed if hasattr(backbone, "instruction_encoder") else None,
                        object_state=reads_object_state(backbone),
                        ee_pose=bool(getattr(backbone.config, "ee_pose_dim", 0)))


@dataclass(frozen=True)
class TaskLoraJob:
    """One task LoRA: its frames (indices into the samples) and its optimisation settings."""

    task: str
    indices: np.ndarray
    settings: LoraTrainSettings


@dataclass(frozen=True)
class TaskLoraSetup:
    """What every task LoRA of a build shares, and what a worker rebuilds its inputs from."""

    checkpoint: str
    data: str
    embeddings: dict[str, torch.Tensor]
    spec: LoraSpec
    target_regex: str
    #: the frozen base LoRA under a ``residual`` task LoRA, or None
    base: Adapter | None
    #: the factors a ``from_base`` task LoRA starts from, or None
    init: Adapter | None
    threads: int


def train_task_lora(backbone: nn.Module, samples: ChunkDataset, setup: TaskLoraSetup, job: TaskLoraJob,
                    progress: bool = False) -> TrainedLora:
    return train_lora(backbone, samples, job.indices, setup.spec, setup.target_regex, job.settings,
                      base=setup.base, init=setup.init, desc=f"LoRA {job.task}", progress=progress)


def train_task_loras(backbone: nn.Module, samples: ChunkDataset, setup: TaskLoraSetup, jobs: list[TaskLoraJob],
                     workers: int = 1, progress: bool = True,
                     done: Callable[[TaskLoraJob, TrainedLora], None] | None = None) -> dict[str, TrainedLora]:
    """Train every job's LoRA; ``done(job, lora)`` is called in job order as each is ready.

    ``workers`` > 1 trains a task per spawned process (CPU only; a GPU build trains in this
    process), each with ``setup.threads`` math threads. The LoRAs are the same either way.
    """
    trained: dict[str, TrainedLora] = {}
    if workers > 1 and len(jobs) > 1 and all(job.settings.device.type == "cpu" for job in jobs):
        processes = min(workers, len(jobs))
        results = results_in_order(_train_in_worker, jobs, processes, initializer=_init_worker, initargs=(setup,))
        with closing(results), tqdm(total=len(jobs), desc=f"task LoRAs ({processes} processes)", unit="task",
                                    disable=not progress) as bar:
            for job, lora in results:  # closed early (Ctrl-C, an error): the workers end
                trained[job.task] = lora
                bar.update(1)
                if done is not None:
                    done(job, lora)
        return trained
    for job in jobs:
        trained[job.task] = train_task_lora(backbone, samples, setup, job, progress=progress)
        if done is not None:
            done(job, trained[job.task])
    return trained


_WORKER: tuple[nn.Module, ChunkDataset, TaskLoraSetup] | None = None


def _init_worker(setup: TaskLoraSetup, parent_pid: int) -> None:
    global _WORKER
    init_pool_process(parent_pid)
    torch.set_num_threads(setup.threads)
    backbone = load_backbone_checkpoint(Path(setup.checkpoint), torch.device("cpu")).eval()
    samples = chunk_samples(backbone, LeRobotV3Dataset(setup.data), EmbeddingTable(setup.embeddings))
    _WORKER = (backbone, samples, setup)


def _train_in_worker(job: TaskLoraJob) -> TrainedLora:
    assert _WORKER is not None, "pool initializer did not run"
    backbone, samples, setup = _WORKER
    return train_task_lora(backbone, samples, setup, job)


__all__ = ["EmbeddingTable", "TaskLoraJob", "TaskLoraSetup", "chunk_samples", "train_task_lora", "train_task_loras"]
