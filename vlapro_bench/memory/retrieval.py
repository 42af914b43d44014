"""Scoring the current procedural state against every memory, top-k, softmax with a temperature.

A memory's key is a sequence of states (its task's procedure, phase by phase; see
:mod:`vlapro_bench.memory.state`). All keys are unit vectors per field, scaled by the square
root of the field's weight, so one dot product is the weighted sum of per-field cosines::

    score(memory m) = max over its keys j of  sum_f w_f cos(q_f, k_{m,j,f})

The max says "the memory's demonstrations went through a state like the current one", which is
what lets a memory of ``place_object_stand`` help at the grasp stage of ``place_apple_stand``.
The top-k scores are turned into fusion weights ``softmax(score / temperature)``.

Scoring is one matrix-vector product over a contiguous ``(M * S, D)`` key matrix, a max over
each memory's ``S`` keys, and ``topk``; every result goes into a buffer allocated once, so
retrieval allocates nothing per chunk either. The keys are stored divided by the temperature,
so the top-k come out as ``score / T`` and the softmax needs no scaling step: retrieval runs
between the CNN and the transformer, where every call counts (see
:mod:`vlapro_bench.memory.online`).
"""

from __future__ import annotations

import torch


class Retriever:
    """Top-k memories and their softmax weights for a query state.

    Arguments:
        keys: ``(M, S, D)`` key sequences (M memories, S keys each, D state dims).
        k: memories retrieved per query.
        temperature: softmax temperature over the top-k scores (> 0).
    """

    def __init__(self, keys: torch.Tensor, k: int, temperature: float):
        if keys.ndim != 3 or keys.shape[0] < 1 or keys.shape[1] < 1:
            raise ValueError(f"keys must be (memories, keys per memory, dims), got {tuple(keys.shape)}")
        m = int(keys.shape[0])
        if not 1 <= k <= m:
            raise ValueError(f"k={k} memories per chunk, but the bank holds {m}; choose 1 <= k <= {m}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.num_memories, self.keys_per_memory, self.dim = m, int(keys.shape[1]), int(keys.shape[2])
        self.k = int(k)
        self.temperature = float(temperature)
        self.keys = keys.reshape(m * self.keys_per_memory, self.dim).float().contiguous()
        self._scaled_keys = (self.keys.double() / self.temperature).float()
        self._key_scores = torch.empty(m * self.keys_per_memory)
        self._scores = torch.empty(m)
        self.top_scaled = torch.empty(self.k)  # top-k scores / temperature, best first
        self.top_memories = torch.empty(self.k, dtype=torch.long)
        self.weights = torch.empty(self.k)

    @torch.no_grad()
    def retrieve(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(memory indices (k,), weights (k,))``, best first. The tensors are reused by the next call."""
        if query.shape != (self.dim,):
            raise ValueError(f"query must be a ({self.dim},) state vector, got {tuple(query.shape)}")
        torch.mv(self._scaled_keys, query, out=self._key_scores)
        torch.amax(self._key_scores.view(self.num_memories, self.keys_per_memory), dim=1, out=self._scores)
        torch.topk(self._scores, self.k, out=(self.top_scaled, self.top_memories))
        # softmax into the reused buffer: aten's softmax kernel, the only form with an output argument
        torch._softmax(self.top_scaled, 0, False, out=self.weights)
        return self.top_memories, self.weights

    @property
    def top_scores(self) -> torch.Tensor:
        """The top-k scores of the last :meth:`retrieve` (a new tensor; for reports, not the chunk loop)."""
        return self.top_scaled * self.temperature

    def scores(self) -> torch.Tensor:
        """Every memory's score from the last :meth:`retrieve` (a new tensor; for reports)."""
        return self._scores * self.temperature


class RandomRetriever(Retriever):
    """A control: ``k`` memories drawn uniformly at random per chunk, weighted by the same softmax
    over their scores.

    Everything else (the query, the scores, the fusion, the temperature) is what
    :class:`Retriever` does, so the difference between the two arms is whether the memories are
    chosen by their match with the current state. Draws come from a generator that
    :meth:`seed` resets (the evaluator seeds every episode), so episodes are reproducible.
    """

    def __init__(self, keys: torch.Tensor, k: int, temperature: float, seed: int = 0):
        super().__init__(keys, k, temperature)
        self.generator = torch.Generator().manual_seed(int(seed))

    def seed(self, seed: int) -> None:
        self.generator.manual_seed(int(seed))

    @torch.no_grad()
    def retrieve(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        super().retrieve(query)  # every memory's score, as the similarity arm computes them
        chosen = torch.randperm(self.num_memories, generator=self.generator)[: self.k]
        scaled = self._scores[chosen]
        order = torch.argsort(scaled, descending=True)
        self.top_memories.copy_(chosen[order])
        self.top_scaled.copy_(scaled[order])
        torch._softmax(self.top_scaled, 0, False, out=self.weights)
        return self.top_memories, self.weights


class TaskRetriever:
    """The memory of the task being played, at weight 1 (privileged: it reads which task this is).

    With a bank of LoRAs trained on the evaluated tasks' own demonstrations this is the ceiling
    arm: what a perfect retrieval of a perfect memory would give.
    """

    def __init__(self, tasks: list[str]):
        self.tasks = list(tasks)
        self.k = 1
        self.temperature = 1.0
        self.top_memories = torch.zeros(1, dtype=torch.long)
        self.weights = torch.ones(1)
        self.top_scaled = torch.zeros(1)

    def set_task(self, task: str) -> None:
        if task not in self.tasks:
            raise ValueError(f"the bank holds no memory of task {task!r} (it has {', '.join(self.tasks)}); the "
                             f"task retrieval needs a bank built from the evaluated tasks' demonstrations")
        self.top_memories.fill_(self.tasks.index(task))

    def retrieve(self, query: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.top_memories, self.weights


#: How the memories of a chunk are chosen (the ``retrieval`` argument of the ``vla_pro`` policy).
RETRIEVALS = ("similarity", "random", "task")

__all__ = ["RETRIEVALS", "RandomRetriever", "Retriever", "TaskRetriever"]
