"""Exact per-chunk fusion of retrieved LoRA memories: ``y = W x + b + sum_j c_j B_j (A_j x)``.

The math (one target linear, rank ``r``, peft scaling ``s = alpha / r``)::

    y = W x + b                       the backbone's own layer
      + s * B_0 A_0 x                 the base LoRA (when the bank keeps it active)
      + sum_i w_i * s * B_i A_i x     the top-k memories, softmax weights w_i

This is the exact weighted sum of the adapters' deltas ``sum_i w_i dW_i``, not peft's
``add_weighted_adapter(combination_type="linear")``, which mixes the A and B factors separately
and so adds cross terms ``B_i A_j``. Before a chunk, :meth:`FusedLoRA.set` evaluates it as one
fused weight per target linear, in buffers allocated once::

    W_base  = W + s B_0 A_0                                   once, when the bank is attached
    W_chunk = W_base + [w_1 s B_1, ..., w_k s B_k] [A_1; ...; A_k]   per chunk, one batched GEMM

and points the linear's ``weight`` at ``W_chunk`` for the chunk. Why this way:

* **Cost independent of the token count.** Building ``W_chunk`` costs ``out * in * k r``
  multiply-adds per layer, once per chunk; the forward pass then costs exactly what the plain
  backbone costs. Adding ``B (A x)`` in a hook instead costs ``tokens * (in + out) * k r`` plus a
  Python hook call per layer on every forward. On the default tinyvla (146 encoder tokens, 32
  small linears, k = 2 plus the base LoRA) a hook version cost 1.13-1.20x the backbone's forward
  time and this one 1.09x (medians of 100-150 paired calls on the shared 2-core CPU).
* **No allocation per chunk.** ``set`` writes the retrieved factors into preallocated stacks
  with ``torch.index_select(..., out=)``, scales them in place and runs ``torch.baddbmm(...,
  out=)`` per group of same-shaped layers: no tensor storage is created, merged into or deleted,
  unlike peft's weighted adapters, which allocate a new adapter per call.
* **No drift, removable bit for bit.** The backbone's own ``W`` is never written: ``W_chunk`` is
  recomputed from ``W_base`` for every chunk (merging into ``W`` and unmerging later would
  accumulate rounding error), and :meth:`FusedLoRA.clear` puts the linear's original
  ``Parameter`` object back, so the backbone computes exactly what it computed before.
* **Any backbone.** Only the target linears' names are needed; ``forward`` is untouched.

While a chunk runs, ``state_dict()`` shows the fused weights; outside a chunk, the originals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from vlapro_bench.memory.contract import linear_targets

#: One adapter: target module name -> (A (r, in_features), B (out_features, r)), peft's layout.
Adapter = Mapping[str, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class LayerGroup:
    """Target layers of one shape, their factors stacked so one batched op serves them all.

    Attributes:
        layers: module names, in stacking order.
        a: ``(n_layers, n_adapters, r, in)``.
        bt: ``(n_layers, n_adapters, r, out)`` (B transposed, so an adapter's slot is contiguous).
    """

    layers: list[str]
    a: torch.Tensor
    bt: torch.Tensor


@dataclass
class AdapterTable:
    """Every adapter of a bank, stacked per group of same-shaped target layers.

    Attributes:
        names: adapter names, row order of the stacks.
        layers: target module names, in the order the adapters list them.
        rank: the shared LoRA rank.
        groups: the stacks (:class:`LayerGroup`).
    """

    names: list[str]
    layers: list[str]
    rank: int
    groups: list[LayerGroup]

    @classmethod
    def from_adapters(cls, names: Sequence[str], adapters: Sequence[Adapter]) -> AdapterTable:
        if not adapters or len(names) != len(adapters):
            raise ValueError(f"need one adapter per name, got {len(names)} names and {len(adapters)} adapters")
        layers = list(adapters[0])
        rank = check_adapter(adapters[0], layers, None, names[0])
        for name, adapter in zip(names[1:], adapters[1:]):
            check_adapter(adapter, layers, rank, name)
        by_shape: dict[tuple[int, int], list[str]] = {}
        for layer in layers:
            a, b = adapters[0][layer]
            by_shape.setdefault((int(b.shape[0]), int(a.shape[1])), []).append(layer)
        groups = []
        for members in by_shape.values():
            a = torch.stack([torch.stack([ad[layer][0] for ad in adapters]) for layer in members])
            bt = torch.stack([torch.stack([ad[layer][1].T for ad in adapters]) for layer in members])
            groups.append(LayerGroup(members, a.float().contiguous(), bt.float().contiguous()))
        return cls(list(names), layers, rank, groups)

    def __len__(self) -> int:
        return len(self.names)

    def adapter(self, index: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Row ``index`` back in peft's ``(A, B)`` layout, in the original layer order."""
        found = {}
        for group in self.groups:
            for g, layer in enumerate(group.layers):
                found[layer] = (group.a[g, index], group.bt[g, index].T)
        return {layer: found[layer] for layer in self.layers}

    def to(self, device: torch.device | str) -> AdapterTable:
        return AdapterTable(self.names, self.layers, self.rank,
                            [LayerGroup(g.layers, g.a.to(device), g.bt.to(device)) for g in self.groups])

    def nbytes_per_adapter(self) -> int:
        return sum((g.a.nbytes + g.bt.nbytes) // g.a.shape[1] for g in self.groups)


def check_adapter(adapter: Adapter, layers: Sequence[str], rank: int | None, name: str) -> int:
    """Refuse an adapter whose layers or rank differ from the others'; return its rank."""
    if list(adapter) != list(layers):
        missing, extra = sorted(set(layers) - set(adapter)), sorted(set(adapter) - set(layers))
        raise ValueError(f"adapter {name!r} targets other layers than the rest: missing {missing[:4]}, "
                         f"extra {extra[:4]}; all adapters of a bank share rank and target modules")
    for layer, (a, b) in adapter.items():
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise ValueError(f"adapter {name!r}, layer {layer!r}: A must be (r, in) and B (out, r), "
                             f"got {tuple(a.shape)} and {tuple(b.shape)}")
        if rank is None:
            rank = int(a.shape[0])
        if a.shape[0] != rank:
            raise ValueError(f"adapter {name!r}, layer {layer!r} has rank {a.shape[0]}, the bank uses {rank}")
    assert rank is not None
    return rank


class _GroupBuffers:
    """The preallocated fused factors and weights of one layer group."""

    def __init__(self, group: LayerGroup, linears: list[nn.Linear], k: int, base: Adapter | None, scaling: float):
        n, rank = len(linears), group.a.shape[2]
        weight = linears[0].weight
        fan_out, fan_in = weight.shape
        self.group = group
        self.linears = linears
        self.a_slots = torch.zeros(n, k, rank, fan_in, device=weight.device, dtype=weight.dtype)
        self.bt_slots = torch.zeros(n, k, rank, fan_out, device=weight.device, dtype=weight.dtype)
        self.a_cat = self.a_slots.view(n, k * rank, fan_in)
        self.b_cat = self.bt_slots.view(n, k * rank, fan_out).transpose(1, 2)  # (n, out, k r), a view
        with torch.no_grad():
            self.w_base = torch.stack([lin.weight.detach() for lin in linears]).clone()
            if base is not None:
                for g, layer in enumerate(group.layers):
                    a, b = base[layer]
                    self.w_base[g].addmm_(b.to(weight), a.to(weight), alpha=scaling)
        self.w_chunk = torch.empty_like(self.w_base)
        self.originals = [lin._parameters["weight"] for lin in linears]
        self.base_params = [nn.Parameter(self.w_base[g], requires_grad=False) for g in range(n)]
        self.chunk_params = [nn.Parameter(self.w_chunk[g], requires_grad=False) for g in range(n)]

    def point_to(self, params: list[nn.Parameter]) -> None:
        for linear, param in zip(self.linears, params):
            linear._parameters["weight"] = param


class FusedLoRA:
    """Attach a bank's adapters to a backbone's linears and fuse the top-k of each chunk exactly.

    Arguments:
        model: the backbone; its target linears are pointed at fused weights during a chunk.
        table: the bank's adapters (:class:`AdapterTable`).
        k: memories fused per chunk (top-k); 0 keeps only the base LoRA (used to train task LoRAs on top
            of it).
        scaling: peft's ``alpha / rank``.
        base: the base LoRA, kept active with weight 1 under the fused memories (``None``: no base).
        memory_adapter: memory index -> adapter row (several memories may share one adapter);
            default: memory ``i`` uses adapter ``i``.

    Use :meth:`applied` (or :meth:`set` / :meth:`clear`) around one chunk's forward pass.
    """

    def __init__(self, model: nn.Module, table: AdapterTable, k: int, scaling: float, base: Adapter | None = None,
                 memory_adapter: torch.Tensor | None = None):
        n_memories = len(table) if memory_adapter is None else int(memory_adapter.numel())
        if not 0 <= k <= n_memories or (k == 0 and base is None):
            raise ValueError(f"k={k} memories per chunk, but the bank holds {n_memories}; choose 1 <= k <= "
                             f"{n_memories} (k = 0 only with a base LoRA)")
        self.k, self.rank, self.layers = int(k), table.rank, list(table.layers)
        targets = linear_targets(model, "|".join(_escape(name) for name in self.layers))
        missing = sorted(set(self.layers) - set(targets))
        if missing:
            raise ValueError(f"the backbone has no layers {missing[:4]} that the bank's adapters target: the bank "
                             "was built for another backbone")
        for group in table.groups:
            for layer in group.layers:
                linear = targets[layer]
                if (group.a.shape[-1], group.bt.shape[-1]) != (linear.in_features, linear.out_features):
                    raise ValueError(f"adapter for {layer!r} maps {group.a.shape[-1]} -> {group.bt.shape[-1]} "
                                     f"features, but the backbone's layer is {linear.in_features} -> "
                                     f"{linear.out_features}: the bank was built for another backbone")
        if base is not None:
            check_adapter(base, self.layers, self.rank, "base")
        device = next(iter(targets.values())).weight.device
        self.table = table.to(device)
        self.memory_adapter = (torch.arange(len(table)) if memory_adapter is None else memory_adapter.long()).to(device)
        if int(self.memory_adapter.max()) >= len(table) or int(self.memory_adapter.min()) < 0:
            raise ValueError(f"memory_adapter points outside the {len(table)} adapters")
        self.has_base = base is not None
        self._groups = [_GroupBuffers(g, [targets[layer] for layer in g.layers], self.k, base, float(scaling))
                        for g in self.table.groups]
        self._scaling = torch.tensor(float(scaling), device=device)
        self._scale = torch.zeros(self.k, device=device)
        self._scale_view = self._scale.view(1, self.k, 1, 1)
        self._adapter_rows = torch.zeros(self.k, dtype=torch.long, device=device)
        self._memories = torch.zeros(self.k, dtype=torch.long, device=device)
        self._weights = torch.zeros(self.k, device=device)
        self._mode = "off"
        self._attached = True

    # -- per chunk ------------------------------------------------------------------------------
    @torch.no_grad()
    def set(self, memories: torch.Tensor, weights: torch.Tensor) -> None:
        """Fuse ``memories`` (k indices, long) with ``weights`` (k floats) for the next forward passes.

        Writes into the preallocated buffers only: no tensor storage is allocated.
        """
        self._require_attached()
        if memories.shape != (self.k,) or weights.shape != (self.k,):
            raise ValueError(f"need {self.k} memory indices and {self.k} weights, got {tuple(memories.shape)} "
                             f"and {tuple(weights.shape)}")
        if memories.device != self._memories.device:  # retrieval runs on the CPU, the model may not
            memories = self._memories.copy_(memories)
            weights = self._weights.copy_(weights)
        torch.index_select(self.memory_adapter, 0, memories, out=self._adapter_rows)
        torch.mul(weights, self._scaling, out=self._scale)
        for buf in self._groups:
            torch.index_select(buf.group.a, 1, self._adapter_rows, out=buf.a_slots)
            torch.index_select(buf.group.bt, 1, self._adapter_rows, out=buf.bt_slots)
            buf.a_slots.mul_(self._scale_view)
            torch.baddbmm(buf.w_base, buf.b_cat, buf.a_cat, out=buf.w_chunk)
            buf.point_to(buf.chunk_params)
        self._mode = "chunk"

    def set_base_only(self) -> None:
        """The base LoRA alone (no memory): the "backbone + base LoRA" ablation, and task-LoRA training."""
        self._require_attached()
        for buf in self._groups:
            buf.point_to(buf.base_params if self.has_base else buf.originals)
        self._mode = "base" if self.has_base else "off"

    def clear(self) -> None:
        """Unload: every target linear gets its original weight back (bit for bit the backbone)."""
        if self._mode != "off":
            for buf in self._groups:
                buf.point_to(buf.originals)
        self._mode = "off"

    @property
    def active(self) -> bool:
        return self._mode != "off"

    @contextmanager
    def applied(self, memories: torch.Tensor, weights: torch.Tensor) -> Iterator[None]:
        """``with fusion.applied(idx, w): chunk = backbone.predict_action_chunk(obs)``; unloads on exit."""
        self.set(memories, weights)
        try:
            yield
        finally:
            self.clear()

    def detach(self) -> None:
        """Restore the original weights for good (the fusion object is unusable afterwards)."""
        self.clear()
        self._attached = False

    def _require_attached(self) -> None:
        if not self._attached:
            raise RuntimeError("this FusedLoRA was detached; attach the bank again to fuse")

    def buffer_pointers(self) -> list[int]:
        """Storage addresses of every fusion buffer: stable for the object's life (tests check it)."""
        ptrs = [self._scale.data_ptr(), self._adapter_rows.data_ptr()]
        for buf in self._groups:
            ptrs += [buf.a_slots.data_ptr(), buf.bt_slots.data_ptr(), buf.w_base.data_ptr(), buf.w_chunk.data_ptr()]
        return ptrs


def _escape(name: str) -> str:
    return name.replace(".", r"\.")


__all__ = ["Adapter", "AdapterTable", "FusedLoRA", "LayerGroup", "check_adapter"]
