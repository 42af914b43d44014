"""The policy-visible query of each action chunk, built with as few operations as possible.

Offline, banks encode states with :func:`~vlapro_bench.memory.state.visible_fields` and
:meth:`StateProjection.encode`: clear, batched, about 50 numpy and torch calls per state. Online
the same arithmetic runs once per chunk, between the CNN and the transformer, and there every
call is expensive: the forward pass has just evicted the caches, and on a 2-core CPU each
distinct numpy or torch call then costs 10-20 µs instead of 1-2 µs (measured: a 6 µs numpy
function takes 70-135 µs right after a tinyvla forward pass). At 50 calls that alone was 8% of
the default backbone's chunk. :class:`VisibleQuery` computes the same vector with about ten:

* the field standardisation is folded into the projection (``W' = basis^T / std``,
  ``c = W' mean``), so projecting a field is one ``addmv``;
* the instruction field changes once per episode: it is projected when it changes and stays in
  the query buffer;
* the two pose fields are one block-diagonal ``addmv`` over the 24 raw pose numbers, which are
  computed in plain Python from the 16 ``ee_pose`` numbers and the history;
* the three per-chunk fields are normalised together (one norm, one division).

The result equals ``StateProjection.encode(visible_fields(...))`` to float32 rounding (tested).
"""

from __future__ import annotations

import numpy as np
import torch

from vlapro_bench.memory.config import FIELDS
from vlapro_bench.memory.state import (
    EE_ORIENTATION_DIM,
    TARGET_POINT_DIM,
    StateProjection,
    as_two_arm_pose,
    gripper_action_indices,
)

_ACTION, _GEOMETRY, _ORIENTATION, _TARGET = FIELDS


class VisibleQuery:
    """One chunk's policy-visible query, in a buffer reused for every chunk.

    Use per episode: :meth:`reset`, :meth:`set_instruction`; per chunk: :meth:`set_pose` (before
    the forward pass), :meth:`set_visual` (when the visual features exist; returns the query),
    :meth:`record` (after the chunk, with the actions executed).

    Arguments:
        projection: the bank's ``visible`` state projection.
        action_dim: the backbone's action width (where the gripper commands sit, as in
            :func:`~vlapro_bench.memory.state.gripper_action_indices`).
    """

    def __init__(self, projection: StateProjection, action_dim: int):
        fields = projection.fields
        if fields[_ORIENTATION].raw_dim != EE_ORIENTATION_DIM or fields[_TARGET].raw_dim != TARGET_POINT_DIM:
            raise ValueError(f"the visible projection's pose fields must be {EE_ORIENTATION_DIM} and "
                             f"{TARGET_POINT_DIM} wide, got {fields[_ORIENTATION].raw_dim} and "
                             f"{fields[_TARGET].raw_dim}: was the bank built with the visible state?")
        self.projection = projection
        self.query = torch.zeros(projection.dim)
        slices = projection.slices
        root = projection._root_weights  # sqrt of each field's weight, as the offline encoding scales

        def folded(name: str) -> tuple[torch.Tensor, torch.Tensor]:
            field = fields[name]
            w = (field.basis_t.double() / field.std.double()).float()
            return w.contiguous(), -(w.double() @ field.mean.double()).float()

        self._instruction = (*folded(_ACTION), self.query[slices[_ACTION]], torch.tensor(root[_ACTION]))
        self._geometry = (*folded(_GEOMETRY), self.query[slices[_GEOMETRY]])
        w_o, c_o = folded(_ORIENTATION)
        w_t, c_t = folded(_TARGET)
        pose_w = torch.zeros(w_o.shape[0] + w_t.shape[0], EE_ORIENTATION_DIM + TARGET_POINT_DIM)
        pose_w[: w_o.shape[0], :EE_ORIENTATION_DIM] = w_o
        pose_w[w_o.shape[0]:, EE_ORIENTATION_DIM:] = w_t
        self._pose_w, self._pose_c = pose_w, torch.cat([c_o, c_t])
        self._pose_block = self.query[slices[_ORIENTATION].start: slices[_TARGET].stop]
        self._raw_pose = torch.zeros(EE_ORIENTATION_DIM + TARGET_POINT_DIM)
        self._raw_pose_np = self._raw_pose.numpy()  # shares memory: filled from Python floats
        # geometry, orientation and target are adjacent: normalise them as one (3, d) view when equal
        per_chunk = (_GEOMETRY, _ORIENTATION, _TARGET)
        self._tail_root = torch.tensor([root[n] for n in per_chunk])
        dims = {fields[n].dim for n in per_chunk}
        tail = self.query[slices[_GEOMETRY].start: slices[_TARGET].stop]
        self._tail = tail.view(3, dims.pop()) if len(dims) == 1 else None
        self._blocks = [(self.query[slices[n]], self._tail_root[i]) for i, n in enumerate(per_chunk)]
        self._norms = torch.empty(3)
        self._norm_col = self._norms.view(3, 1)
        self._grip = gripper_action_indices(int(action_dim))
        self.reset()

    def reset(self) -> None:
        """A new episode: no history."""
        self._current: list[float] | None = None
        self._prev: list[float] | None = None
        self._steps = 0
        self._grip_cmd = (0.0, 0.0)

    @torch.no_grad()
    def set_instruction(self, embedding: torch.Tensor) -> None:
        """Project the instruction embedding (once per instruction, not per chunk)."""
        w, c, block, root = self._instruction
        torch.addmv(c, w, embedding.reshape(-1).float(), out=block)
        norm = torch.linalg.vector_norm(block).clamp(min=1e-8)
        block.div_(norm).mul_(root)

    @torch.no_grad()
    def set_pose(self, ee_pose: np.ndarray) -> None:
        """Project the two pose fields of this chunk's ``ee_pose`` (8 or 16 numbers) and history."""
        e = self._current = _two_arm(ee_pose)
        ql, qr = e[3:7], e[11:15]
        if ql[0] < 0:  # q and -q are one rotation: keep w >= 0, as canonical_quaternion
            ql = [-v for v in ql]
        if qr[0] < 0:
            qr = [-v for v in qr]
        xyz = e[0:3] + e[8:11]
        if self._prev is None or self._steps <= 0:
            velocity, grip = [0.0] * 6, [e[7], e[15]]
        else:
            prev = self._prev[0:3] + self._prev[8:11]
            velocity = [(a - b) / self._steps for a, b in zip(xyz, prev)]
            grip = list(self._grip_cmd) if self._grip is not None else [e[7], e[15]]
        self._raw_pose_np[:] = ql + qr + [e[7], e[15]] + xyz + velocity + grip
        torch.addmv(self._pose_c, self._pose_w, self._raw_pose, out=self._pose_block)

    @torch.no_grad()
    def set_visual(self, visual: torch.Tensor) -> torch.Tensor:
        """Project the visual features ``(1, D)`` or ``(D,)``, normalise this chunk's fields; the query."""
        w, c, block = self._geometry
        torch.addmv(c, w, visual.reshape(-1).float(), out=block)
        if self._tail is not None:
            torch.linalg.vector_norm(self._tail, dim=1, out=self._norms)
            self._norms.clamp_(min=1e-8).div_(self._tail_root)
            self._tail.div_(self._norm_col)
        else:
            for block, root in self._blocks:
                norm = torch.linalg.vector_norm(block).clamp(min=1e-8)
                block.div_(norm.div_(root))
        return self.query

    def record(self, executed: np.ndarray) -> None:
        """The actions executed from this chunk (from the pose of :meth:`set_pose`): the next chunk's history."""
        if self._current is None:
            raise RuntimeError("record() follows set_pose(): the history needs the pose the chunk started from")
        self._prev = self._current
        rows = np.asarray(executed, dtype=np.float32).tolist()
        self._steps = len(rows)
        if self._grip is not None and rows:
            means = [sum(row[g] for row in rows) / len(rows) for g in self._grip]
            self._grip_cmd = (means[0], means[1] if len(means) > 1 else 0.0)


def _two_arm(ee_pose: np.ndarray) -> list[float]:
    """``ee_pose`` as the 16 floats of the two-arm layout, as plain Python floats."""
    return as_two_arm_pose(np.asarray(ee_pose).reshape(-1)).tolist()


__all__ = ["VisibleQuery"]
