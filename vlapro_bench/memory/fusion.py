"""Exact per-chunk fusion of retrieved LoRA memories: ``y = W x + b + sum_j c_j B_j (A_j x)``.

The math (one target linear, rank ``r``, peft scaling ``s = alpha / r``)::

    y = W x + b                       the backbone's own layer
      + s * B_0 A_0 x                 the base LoRA (when the bank keeps it active)
      + sum_i w_i * s * B_i A_i x     the top-k memories, softmax weights w_i

This is the exact weighted sum of the adapters' deltas ``sum_i w_i dW_i``, not peft's
``add_weighted_adapter(combination_type="linear")``, which mixes the A and B factors separately
and so adds cross terms ``B_i A_j``. Before a chunk, :meth:`FusedLoRA.set` prepares it for every
target linear, in buffers allocated once, in one of two ways::

    W_base  = W + s B_0 A_0                                  once, when the bank is attached
    weight path:      W_chunk = W_base + s [w_1 B_1, ..., w_k B_k] [A_1; ...; A_k]   per chunk
    activation path:  y = W_base x + b + s [w_1 B_1, ...] ([A_1; ...] x)             per forward

On the weight path the linear's ``weight`` points at ``W_chunk`` for the chunk (one batched GEMM
per run of same-shaped layers); on the activation path the linear keeps ``W_base`` and an
instance ``forward`` adds the low-rank term (:func:`low_rank_forward`). Why two paths: building
``W_chunk`` costs ``out * in * k r`` multiply-adds whatever the token count, the activation path
``rows * (in + out) * k r`` plus two small matrix products per forward. On the default tinyvla the
146 observation tokens of the encoder (and the decoder's cross-attention keys and values) make
fused weights cheaper there, while the decoder's 16 action queries make the activation path
cheaper for the rest of the decoder; :func:`on_activations` is the rule, :func:`counting_rows`
measures the rows, and the ``vla_pro`` policy applies both after its first chunk. Measured
(``benchmarks/memory_overhead.py``, k = 2): all layers on fused weights cost 1.22x the backbone
per chunk, this split 1.17-1.19x; fusion plus forward alone, without state and retrieval, 1.14-1.16x.

* **No allocation per chunk.** ``set`` gathers the retrieved factors into preallocated stacks
  with ``torch.index_select(..., out=)``, scales them in place and runs ``torch.baddbmm(...,
  out=)``: no tensor storage is created, merged into or deleted, unlike peft's weighted adapters,
  which allocate a new adapter per call. (The activation path's products are the forward pass's
  own transient activations.)
* **No drift, removable bit for bit.** The backbone's own ``W`` is never written: ``W_chunk`` is
  recomputed from ``W_base`` for every chunk (merging into ``W`` and unmerging later would
  accumulate rounding error), and :meth:`FusedLoRA.clear` puts the linear's original
  ``Parameter`` object back and removes the instance ``forward``, so the backbone computes
  exactly what it computed before.
* **Any backbone.** Only the target linears' names are needed; the model's code is untouched.

While a chunk runs, ``state_dict()`` shows the fused weights of weight-path layers and ``W_base``
for activation-path layers; outside a chunk, the originals.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
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
    """The preallocated fused factors and weights of one layer group (one shape).

    Every chunk, the k memories' factors of all the group's layers are gathered into ``a_slots``
    / ``bt_slots`` (two calls). Layers on the weight path get ``W_chunk = W_base + B_cat A_cat``,
    one batched GEMM per run of consecutive such layers; layers on the activation path keep
    ``W_base`` and add ``B_cat (A_cat x)`` in their ``forward`` (:func:`low_rank_forward`).
    """

    def __init__(self, group: LayerGroup, linears: list[nn.Linear], k: int, base: Adapter | None, scaling: float,
                 activation: Collection[str]):
        n, rank = len(linears), group.a.shape[2]
        weight = linears[0].weight
        fan_out, fan_in = weight.shape
        self.group = group
        self.linears = linears
        self.scaling = scaling
        self.a_slots = torch.zeros(n, k, rank, fan_in, device=weight.device, dtype=weight.dtype)
        self.bt_slots = torch.zeros(n, k, rank, fan_out, device=weight.device, dtype=weight.dtype)
        self.a_cat = self.a_slots.view(n, k * rank, fan_in)
        self.bt_cat = self.bt_slots.view(n, k * rank, fan_out)
        self.b_cat = self.bt_cat.transpose(1, 2)  # (n, out, k r), a view
        with torch.no_grad():
            self.w_base = torch.stack([lin.weight.detach() for lin in linears]).clone()
            if base is not None:
                for g, layer in enumerate(group.layers):
                    a, b = base[layer]
                    self.w_base[g].addmm_(b.to(weight), a.to(weight), alpha=scaling)
        self.w_chunk = torch.empty_like(self.w_base)
        self.originals = [lin._parameters["weight"] for lin in linears]
        self.base_params = [nn.Parameter(self.w_base[g], requires_grad=False) for g in range(n)]
        on_weights = [layer not in activation for layer in group.layers]
        # per chunk: the weight-path layers get fused weights, the activation-path ones a forward
        self.chunk_params = [nn.Parameter(self.w_chunk[g], requires_grad=False) if on_weights[g]
                             else self.base_params[g] for g in range(n)]
        self.forwards = [(lin, low_rank_forward(self.w_base[g], lin.bias, self.a_cat[g], self.bt_cat[g], scaling))
                         for g, lin in enumerate(linears) if not on_weights[g]]
        self.runs = []  # (W_base, B_cat, A_cat, W_chunk) views over each run of consecutive weight-path layers
        for fused, run in itertools.groupby(range(n), key=on_weights.__getitem__):
            if fused:
                members = list(run)
                span = slice(members[0], members[-1] + 1)
                self.runs.append((self.w_base[span], self.b_cat[span], self.a_cat[span], self.w_chunk[span]))

    def fuse(self, adapter_rows: torch.Tensor, weights: torch.Tensor) -> None:
        """Gather the chunk's factors (A times its memory's weight) and apply them; allocates nothing."""
        torch.index_select(self.group.a, 1, adapter_rows, out=self.a_slots)
        torch.index_select(self.group.bt, 1, adapter_rows, out=self.bt_slots)
        self.a_slots.mul_(weights)
        for w_base, b_cat, a_cat, w_chunk in self.runs:
            torch.baddbmm(w_base, b_cat, a_cat, alpha=self.scaling, out=w_chunk)
        for linear, forward in self.forwards:
            linear.__dict__["forward"] = forward  # an instance attribute shadows Linear.forward
        self.point_to(self.chunk_params)

    def unfuse(self) -> None:
        for linear, _ in self.forwards:
            linear.__dict__.pop("forward", None)
        self.point_to(self.originals)

    def point_to(self, params: list[nn.Parameter]) -> None:
        for linear, param in zip(self.linears, params):
            linear._parameters["weight"] = param

    def pointers(self) -> list[int]:
        return [self.a_slots.data_ptr(), self.bt_slots.data_ptr(), self.w_base.data_ptr(), self.w_chunk.data_ptr()]


def low_rank_forward(w_base: torch.Tensor, bias: torch.Tensor | None, a_cat: torch.Tensor,
                     bt_cat: torch.Tensor, scaling: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """A linear's forward with the chunk's LoRA term on the activations: ``W_base x + b + s B_cat (A_cat x)``.

    ``a_cat`` ``(k r, in)`` (rows times their memory's weight) and ``bt_cat`` ``(k r, out)`` are
    views of the group's slots, refilled before every chunk, so one closure serves every chunk.
    """
    def forward(x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, w_base, bias)
        h = F.linear(x, a_cat)  # (..., k r): the k memories' A x, weighted
        if y.dim() == 3:  # (batch, tokens, out): the usual transformer layout
            y.baddbmm_(h, bt_cat.expand(y.shape[0], -1, -1), alpha=scaling)
        elif y.dim() == 2:
            y.addmm_(h, bt_cat, alpha=scaling)
        else:
            y = y + scaling * (h @ bt_cat)
        return y

    return forward


def on_activations(fan_in: int, fan_out: int, rows: int) -> bool:
    """Whether a layer that transforms ``rows`` vectors per forward pass should add its LoRA term
    on the activations rather than into its weights.

    Building ``W_chunk`` costs ``out * in * k r`` multiply-adds plus a copy of ``W_base``; the
    activation path ``rows * (in + out) * k r`` plus two extra calls per forward. On the CPU the
    activation path wins where it needs at most half the arithmetic (measured per layer shape:
    16 rows of 128 -> 128 cost 13.7 µs that way against 11.5 µs to build the weights plus their
    copy; 146 rows, 73.6 µs against 11.6 µs).
    """
    return 2 * rows * (fan_in + fan_out) <= fan_in * fan_out


def activation_layers(model: nn.Module, rows: Mapping[str, int]) -> list[str]:
    """The layers of ``rows`` (from :func:`counting_rows`) that should take the activation path."""
    modules = dict(model.named_modules())
    return [name for name, n in rows.items()
            if n > 0 and on_activations(modules[name].in_features, modules[name].out_features, n)]


@contextmanager
def counting_rows(model: nn.Module, layers: Sequence[str]) -> Iterator[dict[str, int]]:
    """Count the vectors each of ``layers`` transforms inside the ``with`` block (tokens times batch)."""
    modules = dict(model.named_modules())
    rows = dict.fromkeys(layers, 0)

    def counter(name: str, fan_in: int) -> Callable:
        def hook(module: nn.Module, args: tuple) -> None:
            rows[name] += args[0].numel() // fan_in
        return hook

    handles = [modules[n].register_forward_pre_hook(counter(n, modules[n].in_features)) for n in layers]
    try:
        yield rows
    finally:
        for handle in handles:
            handle.remove()


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
        activation_path: target layers that add their term on the activations instead of into
            their weights (pick them with :func:`counting_rows` and :func:`on_activations`); the
            result is the same sum. Default: none.

    Use :meth:`applied` (or :meth:`set` / :meth:`clear`) around one chunk's forward pass.
    """

    def __init__(self, model: nn.Module, table: AdapterTable, k: int, scaling: float, base: Adapter | None = None,
                 memory_adapter: torch.Tensor | None = None, activation_path: Collection[str] = ()):
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
        unknown = sorted(set(activation_path) - set(self.layers))
        if unknown:
            raise ValueError(f"activation_path names layers the bank does not target: {unknown[:4]}")
        self.has_base = base is not None
        self.activation_path = frozenset(activation_path)
        self._groups = [_GroupBuffers(g, [targets[layer] for layer in g.layers], self.k, base, float(scaling),
                                      self.activation_path) for g in self.table.groups]
        # the usual bank: memory i is adapter i, so the memory -> adapter lookup can be skipped
        self._identity = bool(torch.equal(self.memory_adapter.cpu(), torch.arange(len(self.memory_adapter))))
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
        if weights.device != self._weights.device or weights.dtype != self._weights.dtype:
            weights = self._weights.copy_(weights)
        rows = memories
        if not self._identity or memories.dtype != torch.long:
            rows = torch.index_select(self.memory_adapter, 0, memories, out=self._adapter_rows)
        weights = weights.reshape(1, self.k, 1, 1)  # peft's alpha / r is the GEMMs' alpha
        for group in self._groups:
            group.fuse(rows, weights)
        self._mode = "chunk"

    def set_base_only(self) -> None:
        """The base LoRA alone (no memory): the "backbone + base LoRA" ablation, and task-LoRA training."""
        self._require_attached()
        if self._mode == "chunk":
            self.clear()
        for group in self._groups:
            group.point_to(group.base_params if self.has_base else group.originals)
        self._mode = "base" if self.has_base else "off"

    def clear(self) -> None:
        """Unload: every target linear gets its original weight back (bit for bit the backbone)."""
        if self._mode != "off":
            for group in self._groups:
                group.unfuse()
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
        ptrs = [self._adapter_rows.data_ptr(), self._weights.data_ptr()]
        for group in self._groups:
            ptrs += group.pointers()
        return ptrs


def _escape(name: str) -> str:
    return name.replace(".", r"\.")


__all__ = [
    "Adapter",
    "AdapterTable",
    "FusedLoRA",
    "LayerGroup",
    "activation_layers",
    "check_adapter",
    "counting_rows",
    "low_rank_forward",
    "on_activations",
]
