"""The procedural state: what the robot is doing now, in the four fields VLA-Pro retrieves on.

VLA-Pro's key has four fields: action type, object geometry, end-effector orientation and target
interaction point. The paper extracts them with a VLM from the image, the instruction and the
interaction history; which VLM, and how fields are compared, is not published. Our extractor
uses only what a deployed policy has, and is deterministic.

**Policy-visible fields** (:func:`visible_fields`), derived from the observation, the backbone
and the policy's own recent actions:

``action_type``
    the instruction's all-MiniLM-L6-v2 embedding (384-d, the same frozen encoder tinyvla reads).
    The instruction names the action ("click", "place ... on", "stack", "open"); a sentence
    embedding puts "press the stapler" near "click the bell" without a hand-made verb list.
``object_geometry``
    the backbone's ``visual_features`` of the current images (tinyvla: per-camera spatial mean
    of the CNN output). They are taken before any adapted layer, so fusing adapters never moves
    the key (see :mod:`vlapro_bench.memory.contract`).
``ee_orientation``
    both TCP orientations from ``obs["ee_pose"]`` as unit quaternions on the ``w >= 0``
    hemisphere (``q`` and ``-q`` are the same rotation) plus both measured gripper openings:
    10 numbers. The opening says whether the hand is holding something.
``target_point``
    a deployed robot cannot see the object's interaction point, so we use its observable trace:
    both TCP positions, their velocity over the interaction history (``(x_t - x_{t-n}) / n``:
    during an approach the TCP heads for the point, during contact it rests on it) and the
    mean gripper command of the actions executed in that window: 14 numbers.

The history window ``n`` is the chunk the policy last executed (``KeyConfig.history_steps``
in demonstrations, which should equal the policy's ``execute``); on the first chunk of an episode
there is no history: velocity 0, and the measured opening stands in for the command.

**Oracle fields** (:func:`oracle_fields`) use the simulator's ground truth from
``info["procedural_state"]``: MiniLM embeddings of the ``action_type`` and ``object_geometry``
strings, the acting arm's TCP quaternion (``w >= 0``) and the world ``target_point``. A policy
may not read these under the evaluation protocol; the oracle exists for analysis (how good
could retrieval be with a perfect extractor?) and everything it produces is labelled privileged.

**Comparison.** Raw fields have very different sizes and scales, so each field is standardised
(per dimension, with the bank's statistics), projected onto its principal components (at most
``KeyConfig.field_dim``, fitted on the bank's key states) and L2-normalised. The projected field
vectors, scaled by the square roots of the field weights, are concatenated: the dot product of
two such vectors is the weighted sum of per-field cosines (:mod:`vlapro_bench.memory.retrieval`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from vlapro_bench.memory.config import FIELDS

#: Raw width of the pose fields (the text and image fields take their encoder's width).
EE_ORIENTATION_DIM = 10
TARGET_POINT_DIM = 14
ORACLE_ORIENTATION_DIM = 4
ORACLE_POINT_DIM = 3
#: State encoder variants a bank stores.
VARIANTS = ("visible", "oracle")
#: Variants a policy may use without privileged access.
PRIVILEGED_VARIANTS = frozenset({"oracle"})

TextEmbedder = Callable[[Sequence[str]], torch.Tensor]


def gripper_action_indices(action_dim: int) -> tuple[int, ...] | None:
    """Where the gripper commands sit in an action: RoboTwin qpos (14-d) or ee (16-d) control,
    RLBench's single-arm 8-d modes (joint_delta, joint_position, ee_pose: gripper last)."""
    return {14: (6, 13), 16: (7, 15), 8: (7,)}.get(int(action_dim))


def as_two_arm_pose(ee_pose: np.ndarray) -> np.ndarray:
    """``ee_pose`` rows as the two-arm layout ``[xyz, wxyz, gripper] x 2`` (N, 16).

    The fields have fixed widths so banks of either suite share one projection layout; a
    single-arm pose (RLBench's 8-d) fills the first arm's block and leaves the second at zero.
    """
    ee_pose = np.asarray(ee_pose, dtype=np.float32)
    if ee_pose.shape[-1] == 16:
        return ee_pose
    if ee_pose.shape[-1] != 8:
        raise ValueError(f"ee_pose rows must be 8 (one arm) or 16 (two arms) wide, got {ee_pose.shape[-1]}")
    return np.concatenate([ee_pose, np.zeros_like(ee_pose)], axis=-1)


def _two_grippers(commands: np.ndarray) -> np.ndarray:
    """Gripper command columns (N, 1 or 2) padded to two arms (N, 2)."""
    if commands.shape[1] == 2:
        return commands
    return np.concatenate([commands, np.zeros_like(commands)], axis=1)


def canonical_quaternion(q: np.ndarray) -> np.ndarray:
    """``q`` (``(..., 4)``, wxyz) flipped onto the ``w >= 0`` hemisphere (``q`` and ``-q`` are one rotation)."""
    q = np.asarray(q, dtype=np.float32)
    return np.where(q[..., :1] < 0, -q, q)


def pose_fields(ee_now: np.ndarray, ee_prev: np.ndarray, steps: np.ndarray,
                grip_cmd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ee_orientation (N, 10)`` and ``target_point (N, 14)`` from ``ee_pose`` rows.

    ``ee_pose`` is ``[xyz, wxyz, gripper]`` per arm (16). ``ee_prev`` is the pose ``steps``
    control steps earlier (rows with ``steps == 0`` get velocity 0); ``grip_cmd`` the mean
    gripper command over those steps (N, 2). numpy, because online these are single 16-number
    rows, for which a torch call costs more than the arithmetic.
    """
    ee_now, ee_prev = as_two_arm_pose(ee_now), as_two_arm_pose(ee_prev)
    steps = np.asarray(steps)
    orientation = np.concatenate([canonical_quaternion(ee_now[:, 3:7]), canonical_quaternion(ee_now[:, 11:15]),
                                  ee_now[:, 7:8], ee_now[:, 15:16]], axis=1)
    xyz = np.concatenate([ee_now[:, 0:3], ee_now[:, 8:11]], axis=1)
    xyz_prev = np.concatenate([ee_prev[:, 0:3], ee_prev[:, 8:11]], axis=1)
    velocity = (xyz - xyz_prev) / np.maximum(steps, 1)[:, None]
    velocity[steps <= 0] = 0.0
    target = np.concatenate([xyz, velocity, np.asarray(grip_cmd, dtype=np.float32)], axis=1)
    return orientation.astype(np.float32), target.astype(np.float32)


def visible_fields(instruction_embedding: torch.Tensor, visual: torch.Tensor, ee_now: np.ndarray,
                   ee_prev: np.ndarray, steps: np.ndarray, grip_cmd: np.ndarray) -> dict[str, torch.Tensor]:
    """The four policy-visible raw fields for ``N`` states (all inputs batched over ``N``)."""
    orientation, target = pose_fields(ee_now, ee_prev, steps, grip_cmd)
    return {"action_type": instruction_embedding.float(), "object_geometry": visual.float(),
            "ee_orientation": torch.from_numpy(orientation), "target_point": torch.from_numpy(target)}


def history_window(ee_pose: np.ndarray, actions: np.ndarray, frames: np.ndarray,
                   window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ee_prev, steps, grip_cmd)`` for demonstration ``frames``, as the policy sees them online.

    At frame ``t`` the history is the last ``min(window, t)`` steps: the pose then, and the mean
    gripper command of the actions taken since. Frame 0 has no history (``steps = 0``; the
    measured opening stands in for the command).
    """
    frames = np.asarray(frames, dtype=np.int64)
    ee_pose = as_two_arm_pose(ee_pose)
    steps = np.minimum(frames, window)
    ee_prev = ee_pose[frames - steps]
    grip = gripper_action_indices(actions.shape[1])
    grip_cmd = np.stack([ee_pose[frames, 7], ee_pose[frames, 15]], axis=1)
    if grip is not None:
        cumulative = np.concatenate([np.zeros((1, 2)), np.cumsum(_two_grippers(actions[:, list(grip)]), axis=0)])
        sums = cumulative[frames] - cumulative[frames - steps]
        has = steps > 0
        grip_cmd[has] = sums[has] / steps[has, None]
    return ee_prev.astype(np.float32), steps, grip_cmd.astype(np.float32)


def oracle_fields(states: Sequence[Mapping], embed: TextEmbedder) -> dict[str, torch.Tensor]:
    """The four ground-truth raw fields for ``N`` ``info["procedural_state"]`` dicts (privileged)."""
    def text_field(key: str) -> torch.Tensor:
        labels = [str(s[key]).replace("_", " ") for s in states]
        unique = sorted(set(labels))
        table = dict(zip(unique, embed(unique).float()))
        return torch.stack([table[label] for label in labels])

    quats = canonical_quaternion(np.asarray([s["ee_orientation"] for s in states], dtype=np.float32))
    points = np.asarray([s["target_point"] for s in states], dtype=np.float32)
    return {"action_type": text_field("action_type"), "object_geometry": text_field("object_geometry"),
            "ee_orientation": torch.from_numpy(quats), "target_point": torch.from_numpy(points)}


class FieldProjection:
    """Standardise one raw field, project it onto principal components, L2-normalise.

    ``mean`` and ``std`` (raw width), ``basis`` ``(raw width, d)``.
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, basis: torch.Tensor):
        if mean.shape != std.shape or mean.ndim != 1 or basis.ndim != 2 or basis.shape[0] != mean.shape[0]:
            raise ValueError(f"projection shapes do not fit: mean {tuple(mean.shape)}, std {tuple(std.shape)}, "
                             f"basis {tuple(basis.shape)}")
        self.mean, self.std, self.basis = mean.float(), std.float(), basis.float().contiguous()
        self.basis_t = self.basis.T.contiguous()

    @property
    def raw_dim(self) -> int:
        return int(self.mean.shape[0])

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    @classmethod
    def fit(cls, raw: torch.Tensor, max_dim: int) -> FieldProjection:
        """Fit on ``raw`` ``(N, raw width)``: per-dimension statistics and the top principal axes."""
        raw = raw.double()
        mean = raw.mean(0)
        std = raw.std(0, unbiased=False) if raw.shape[0] > 1 else torch.ones_like(mean)
        std = torch.where(std < 1e-6, torch.ones_like(std), std)
        z = (raw - mean) / std
        _, _, vh = torch.linalg.svd(z, full_matrices=False)
        d = max(1, min(int(max_dim), vh.shape[0]))
        return cls(mean.float(), std.float(), vh[:d].T.float())

    def project(self, raw: torch.Tensor) -> torch.Tensor:
        """``(N, raw width)`` -> unit rows ``(N, d)`` (a row with no variance left stays 0)."""
        y = ((raw.float() - self.mean) / self.std) @ self.basis
        return y / y.norm(dim=1, keepdim=True).clamp(min=1e-8)


class StateProjection:
    """The four field projections and weights: raw fields -> one state vector for retrieval."""

    def __init__(self, fields: Mapping[str, FieldProjection], weights: Sequence[float]):
        if list(fields) != list(FIELDS):
            raise ValueError(f"a state projection needs the fields {list(FIELDS)}, got {list(fields)}")
        total = float(sum(weights))
        if len(weights) != len(FIELDS) or total <= 0 or min(weights) < 0:
            raise ValueError(f"field weights must be {len(FIELDS)} values >= 0, not all 0; got {list(weights)}")
        self.fields = dict(fields)
        self.weights = tuple(float(w) / total for w in weights)
        self.slices: dict[str, slice] = {}
        start = 0
        for name in FIELDS:
            self.slices[name] = slice(start, start + self.fields[name].dim)
            start += self.fields[name].dim
        self.dim = start
        self._root_weights = {name: float(np.sqrt(w)) for name, w in zip(FIELDS, self.weights)}

    @classmethod
    def fit(cls, raw: Mapping[str, torch.Tensor], max_dim: int, weights: Sequence[float]) -> StateProjection:
        return cls({name: FieldProjection.fit(raw[name], max_dim) for name in FIELDS}, weights)

    def raw_dims(self) -> dict[str, int]:
        return {name: proj.raw_dim for name, proj in self.fields.items()}

    def encode(self, raw: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Raw fields of ``N`` states -> ``(N, dim)`` state vectors."""
        self._check(raw)
        parts = [self.fields[name].project(raw[name]) * self._root_weights[name] for name in FIELDS]
        return torch.cat(parts, dim=1)

    def renormalize(self, vectors: torch.Tensor) -> torch.Tensor:
        """Make every field block of ``vectors`` unit length again, times its root weight (after averaging)."""
        out = vectors.clone()
        for name in FIELDS:
            block = out[:, self.slices[name]]
            unit = block / block.norm(dim=1, keepdim=True).clamp(min=1e-8)
            out[:, self.slices[name]] = unit * self._root_weights[name]
        return out

    def similarity(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Per-field cosines of two encoded states ``(dim,)`` -> dict-like tensor ``(4,)`` in field order."""
        return torch.stack([(a[s] * b[s]).sum() / max(w, 1e-12)
                            for s, w in zip(self.slices.values(), self.weights)])

    def _check(self, raw: Mapping[str, torch.Tensor]) -> None:
        for name in FIELDS:
            if name not in raw:
                raise KeyError(f"raw state lacks field {name!r}")
            width = raw[name].shape[-1]
            if width != self.fields[name].raw_dim:
                raise ValueError(f"field {name!r} has {width} raw values, the bank's projection expects "
                                 f"{self.fields[name].raw_dim}: was the bank built for this backbone?")

    # -- storage ------------------------------------------------------------------------------
    def tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for name, proj in self.fields.items():
            out[f"{prefix}.{name}.mean"] = proj.mean.contiguous()
            out[f"{prefix}.{name}.std"] = proj.std.contiguous()
            out[f"{prefix}.{name}.basis"] = proj.basis.contiguous()
        return out

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, torch.Tensor], prefix: str,
                     weights: Sequence[float]) -> StateProjection:
        fields = {}
        for name in FIELDS:
            try:
                fields[name] = FieldProjection(tensors[f"{prefix}.{name}.mean"], tensors[f"{prefix}.{name}.std"],
                                               tensors[f"{prefix}.{name}.basis"])
            except KeyError as exc:
                raise KeyError(f"state projection tensor {exc.args[0]!r} is missing") from None
        return cls(fields, weights)


class QueryEncoder:
    """Online, one state at a time, into a reused ``(dim,)`` buffer (no storage allocated per call)."""

    def __init__(self, projection: StateProjection):
        self.projection = projection
        self.query = torch.zeros(projection.dim)
        self._z = {name: torch.empty(p.raw_dim) for name, p in projection.fields.items()}
        self._blocks = {name: self.query[projection.slices[name]] for name in FIELDS}
        self._norm = torch.empty(())
        self._root = {name: torch.tensor(w) for name, w in projection._root_weights.items()}

    @torch.no_grad()
    def encode(self, raw: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Raw fields of one state (each ``(raw width,)`` or ``(1, raw width)``) -> the query buffer."""
        self.projection._check(raw)
        for name in FIELDS:
            proj, z, block = self.projection.fields[name], self._z[name], self._blocks[name]
            torch.sub(raw[name].reshape(-1), proj.mean, out=z)
            z.div_(proj.std)
            torch.mv(proj.basis_t, z, out=block)
            torch.linalg.vector_norm(block, out=self._norm)
            self._norm.clamp_(min=1e-8)
            block.div_(self._norm).mul_(self._root[name])
        return self.query


def phase_keys(vectors: torch.Tensor, phases: torch.Tensor, bins: int, projection: StateProjection) -> torch.Tensor:
    """A task's key sequence: its encoded states averaged per episode-phase bin, in phase order.

    ``phases`` are ``t / (T - 1)`` in [0, 1]. Bin ``j`` covers phases ``[j / bins, (j + 1) / bins)``;
    an empty bin (short demonstrations, coarse stride) takes the nearest filled bin's key.
    Returns ``(bins, dim)`` with every field block renormalised.
    """
    if vectors.shape[0] != phases.shape[0] or vectors.shape[0] == 0:
        raise ValueError(f"need one phase per state and at least one state, got {vectors.shape[0]} states and "
                         f"{phases.shape[0]} phases")
    index = (phases.clamp(0.0, 1.0) * bins).long().clamp(max=bins - 1)
    sums = torch.zeros(bins, vectors.shape[1]).index_add_(0, index, vectors.float())
    counts = torch.bincount(index, minlength=bins)
    filled = torch.nonzero(counts).flatten()
    nearest = filled[(torch.arange(bins)[:, None] - filled[None, :]).abs().argmin(dim=1)]
    keys = sums[nearest] / counts[nearest].unsqueeze(1)
    return projection.renormalize(keys)


__all__ = [
    "EE_ORIENTATION_DIM",
    "PRIVILEGED_VARIANTS",
    "TARGET_POINT_DIM",
    "VARIANTS",
    "FieldProjection",
    "QueryEncoder",
    "StateProjection",
    "canonical_quaternion",
    "gripper_action_indices",
    "history_window",
    "oracle_fields",
    "phase_keys",
    "pose_fields",
    "visible_fields",
]
