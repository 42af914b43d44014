"""``tinyvla``: a small ACT-style vision-language-action backbone that trains on a CPU.

Layout of one forward pass::

    images (per camera) --shared CNN--> feature map --vision_proj--> camera tokens (+ camera, cell embeddings)
        (optional) an earlier CNN map --spatial softmax--> keypoint xy --keypoint_proj--> one token per camera
    agent_pos (normalised) --state_proj--> state token
    (optional) object_state (normalised poses) --object_proj--> object token
    instruction embedding (frozen MiniLM, 384-d) --instruction_proj--> instruction token
    [instruction, state, camera tokens, object token] --transformer encoder--> memory
    chunk_size learned queries --transformer decoder (self-attn, cross-attn to memory)--> action_head
        --> normalised action chunk (B, chunk_size, action_dim)

The action chunk and the L1 loss on normalised actions follow ACT (Zhao et al., 2023); ACT's
CVAE (its style latent) is left out: one deterministic chunk per observation.

LoRA and adapter fusion: every linear map of the model is a plain ``nn.Linear`` whose attribute
name ends in one of the names of :data:`LORA_TARGET_REGEX` (attention ``q_proj`` / ``k_proj`` /
``v_proj`` / ``out_proj``, MLP ``fc1`` / ``fc2``, input projections ``*_proj`` and the
``action_head``), so ``peft.LoraConfig(target_modules=LORA_TARGET_REGEX)`` reaches all of them
and a narrower regex (e.g. :data:`LORA_TRANSFORMER_REGEX`) reaches a documented subset. Attention
is written with separate q/k/v/out linears because ``nn.MultiheadAttention`` keeps its input
projection as a bare parameter that LoRA cannot wrap. The convolutional encoder has no linear
layers, so :meth:`TinyVLA.visual_features` (computed before any linear) does not change when
adapters are fused: it is a stable retrieval key for the procedural memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vlapro_bench.training.features import ee_position_reference, object_offsets, offset_width

from .configuration import TinyVLAConfig
from .text_encoder import InstructionEncoder, shared_instruction_encoder

#: Full-name regex (``re.fullmatch`` over ``named_modules`` names, as peft applies a string
#: ``target_modules``) that matches every ``nn.Linear`` in :class:`TinyVLA`.
LORA_TARGET_REGEX = (
    r"^(?:.*\.)?(?:q_proj|k_proj|v_proj|out_proj|fc1|fc2|vision_proj|keypoint_proj|state_proj|instruction_proj|action_head)$"
)
#: Only the transformer's attention and MLP linears (encoder and decoder), the usual LoRA target.
LORA_TRANSFORMER_REGEX = (
    r"^(?:.*\.)?(?:encoder|decoder)\.layers\.\d+\.(?:self_attn|cross_attn|mlp)\.(?:q_proj|k_proj|v_proj|out_proj|fc1|fc2)$"
)


class Attention(nn.Module):
    """Multi-head attention with separate ``q_proj``/``k_proj``/``v_proj``/``out_proj`` linears (LoRA-addressable)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from ``x`` (B, T, D) to ``context`` (B, S, D); self-attention when ``context`` is None."""
        context = x if context is None else context
        q, k, v = self._split(self.q_proj(x)), self._split(self.k_proj(context)), self._split(self.v_proj(context))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        b, _, t, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))


class MLP(nn.Module):
    """Transformer feed-forward block, ``fc1`` -> GELU -> ``fc2``."""

    def __init__(self, d_model: int, hidden: int, dropout: float):
        super().__init__()
        self.fc1 = nn.Linear(d_model, hidden)
        self.fc2 = nn.Linear(hidden, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(F.gelu(self.fc1(x))))


class EncoderLayer(nn.Module):
    """Pre-norm transformer encoder layer (pre-norm trains stably without warm-up on small batches)."""

    def __init__(self, cfg: TinyVLAConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.self_attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg.d_model, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.self_attn(self.norm1(x)))
        return x + self.dropout(self.mlp(self.norm2(x)))


class DecoderLayer(nn.Module):
    """Pre-norm decoder layer: the action queries attend to each other, then to the observation tokens."""

    def __init__(self, cfg: TinyVLAConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.self_attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.cross_attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.norm3 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg.d_model, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.self_attn(self.norm1(x)))
        x = x + self.dropout(self.cross_attn(self.norm2(x), memory))
        return x + self.dropout(self.mlp(self.norm3(x)))


class TransformerStack(nn.Module):
    """``layers`` (a ModuleList, so names read ``encoder.layers.0.self_attn.q_proj``) and a final LayerNorm."""

    def __init__(self, layers: list[nn.Module], d_model: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x) if memory is None else layer(x, memory)
        return self.norm(x)


class ConvStage(nn.Module):
    """One CNN stage: a stride-2 3x3 convolution (5x5 for the RGB stem), GroupNorm, GELU."""

    def __init__(self, c_in: int, c_out: int, groups: int, stem: bool):
        super().__init__()
        k = 5 if stem else 3
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=k, stride=2, padding=k // 2, bias=False)
        self.norm = nn.GroupNorm(groups, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """Two stride-1 3x3 convolutions with GroupNorm and a skip: depth added at low resolution, where it is cheap."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(groups, channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(groups, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm2(self.conv2(F.gelu(self.norm1(self.conv1(x)))))
        return F.gelu(x + y)


class SpatialSoftmax(nn.Module):
    """K learned heat maps (1x1 convolution) -> their expected (x, y) positions in [-1, 1].

    Soft-argmax keeps the layer differentiable and the output continuous: a keypoint can sit
    between grid cells, so positions are read more finely than the feature map's resolution.
    """

    def __init__(self, channels: int, keypoints: int, height: int, width: int):
        super().__init__()
        self.heat = nn.Conv2d(channels, keypoints, kernel_size=1)
        self.log_temperature = nn.Parameter(torch.zeros(()))
        ys, xs = torch.meshgrid(torch.linspace(-1.0, 1.0, height), torch.linspace(-1.0, 1.0, width), indexing="ij")
        self.register_buffer("grid", torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) -> (N, 2K): the K x coordinates, then the K y coordinates."""
        attention = (self.heat(x).flatten(2) / self.log_temperature.exp()).softmax(dim=-1)  # (N, K, h*w)
        xy = attention @ self.grid  # (N, K, 2)
        return xy.transpose(1, 2).flatten(1)


#: The dataset statistics that normalise actions, per ``config.action_reference``.
ACTION_STATS = {"": "action", "agent_pos": "action_delta", "ee_position": "action_delta_ee"}


class ObjectStateNorm(nn.Module):
    """Standardises the env's ``object_state`` with the dataset's statistics (buffers, no weights).

    A module of its own so a state model has a visual tap like a camera model's CNN: its output
    is the model's ``visual_features``, taken before any linear layer.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class VisionEncoder(nn.Module):
    """Shared CNN: every camera goes through the same weights, so cameras share what they learn.

    Only convolutions and GroupNorm: it has no ``nn.Linear``, so LoRA adapters never change it.
    With ``config.keypoints`` it also computes spatial-softmax keypoints from stage
    ``config.keypoint_stage`` in the same pass (see :meth:`forward`).
    """

    def __init__(self, cfg: TinyVLAConfig):
        super().__init__()
        stages, c_in = [], 3
        n = len(cfg.vision_channels)
        self.tap = 0  # number of modules in ``stages`` before the keypoint read-out
        for i, c_out in enumerate(cfg.vision_channels):
            stages.append(ConvStage(c_in, c_out, cfg.vision_groups, stem=i == 0))
            if i >= n - cfg.vision_res_stages:
                stages.append(ResidualBlock(c_out, cfg.vision_groups))
            if i + 1 == cfg.keypoint_stage:
                self.tap, tap_channels = len(stages), c_out
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.out_channels = c_in
        self.keypoints: SpatialSoftmax | None = None
        self.last_keypoints: torch.Tensor | None = None
        if cfg.keypoints:
            h, w = (size // 2 ** cfg.keypoint_stage for size in cfg.image_size)
            self.keypoints = SpatialSoftmax(tap_channels, cfg.keypoints, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) float in [-1, 1] -> (N, C, h, w).

        The output is the feature map alone, so hooks on this module (the procedural memory's
        visual tap) see the same thing with or without keypoints. The keypoints of this call are
        left in :attr:`last_keypoints` for the caller to take.
        """
        if self.keypoints is None:
            return self.stages(x)
        tapped = self.stages[: self.tap](x)
        self.last_keypoints = self.keypoints(tapped)
        return self.stages[self.tap :](tapped)

    def take_keypoints(self) -> torch.Tensor | None:
        """The keypoints ``(N, 2K)`` of the last forward call (None without keypoints); cleared on read."""
        keypoints, self.last_keypoints = self.last_keypoints, None
        return keypoints


def _as_tensor(x: Any) -> torch.Tensor:
    """Tensor view of arrays and lists; read-only arrays (e.g. from a replay buffer) are copied, not aliased."""
    if isinstance(x, torch.Tensor):
        return x
    arr = np.asarray(x)
    return torch.from_numpy(arr if arr.flags.writeable else arr.copy())


class TinyVLA(nn.Module):
    """The ``tinyvla`` backbone. See the module docstring for the architecture.

    Batches are dicts of tensors with a leading batch dimension ``B``:

    - ``images``: a dict ``camera -> (B, H, W, 3)`` (the env's channels-last layout) or one tensor
      ``(B, n_cameras, H, W, 3)`` in ``config.cameras`` order. ``uint8`` is read as 0..255, float as
      0..1. Any size is resized to ``config.image_size``.
    - ``agent_pos``: ``(B, state_dim)``, unnormalised (the model normalises with its buffers).
    - ``instruction_embedding``: ``(B, instruction_dim)``; or ``instruction``: a list of ``B`` strings,
      embedded by the instruction encoder (training loops should pass cached embeddings instead).
    - ``action`` (loss only): ``(B, chunk_size, action_dim)``, unnormalised; optional
      ``action_is_pad`` ``(B, chunk_size)`` bool marks steps past the episode end (excluded from the loss).
    """

    def __init__(self, config: TinyVLAConfig | None = None, instruction_encoder: InstructionEncoder | None = None):
        super().__init__()
        self.config = cfg = config or TinyVLAConfig()
        # Not a submodule (InstructionEncoder is no nn.Module): stays out of state_dict and LoRA matching.
        self._instruction_encoder = instruction_encoder

        self.vision: VisionEncoder | None = None
        if cfg.cameras:
            self.vision = VisionEncoder(cfg)
            with torch.no_grad():
                h, w = self.vision(torch.zeros(1, 3, *cfg.image_size)).shape[-2:]
                self.vision.take_keypoints()
            self.feature_hw = (int(h), int(w))
            self.vision_proj = nn.Linear(self.vision.out_channels, cfg.d_model)
            if cfg.keypoints:
                self.keypoint_proj = nn.Linear(2 * cfg.keypoints, cfg.d_model)
                self.keypoint_embed = nn.Parameter(torch.zeros(1, 1, cfg.d_model))
            self.camera_embed = nn.Parameter(torch.zeros(len(cfg.cameras), 1, cfg.d_model))
            self.cell_embed = nn.Parameter(torch.zeros(1, h * w, cfg.d_model))
        self.object_norm: ObjectStateNorm | None = None
        if cfg.object_state_dim:
            self.object_norm = ObjectStateNorm(cfg.object_state_dim)
            self.object_proj = nn.Linear(cfg.object_state_dim, cfg.d_model)
            self.object_embed = nn.Parameter(torch.zeros(1, cfg.d_model))
        self.offset_norm: ObjectStateNorm | None = None
        if cfg.object_offsets:
            width = offset_width(cfg.object_state_dim, cfg.ee_pose_dim)
            self.offset_norm = ObjectStateNorm(width)
            self.offset_proj = nn.Linear(width, cfg.d_model)
            self.offset_embed = nn.Parameter(torch.zeros(1, cfg.d_model))
        self.state_proj = nn.Linear(cfg.state_dim, cfg.d_model)
        self.instruction_proj = nn.Linear(cfg.instruction_dim, cfg.d_model)

        self.token_type_embed = nn.Parameter(torch.zeros(2, cfg.d_model))  # instruction, state
        self.action_queries = nn.Parameter(torch.zeros(cfg.chunk_size, cfg.d_model))

        self.encoder = TransformerStack([EncoderLayer(cfg) for _ in range(cfg.n_encoder_layers)], cfg.d_model)
        self.decoder = TransformerStack([DecoderLayer(cfg) for _ in range(cfg.n_decoder_layers)], cfg.d_model)
        self.action_head = nn.Linear(cfg.d_model, cfg.action_dim)

        # Dataset statistics. Buffers, so they travel with state_dict / safetensors and a loaded
        # checkpoint normalises exactly as in training. Identity until set_normalization().
        self.register_buffer("action_mean", torch.zeros(cfg.action_dim))
        self.register_buffer("action_std", torch.ones(cfg.action_dim))
        self.register_buffer("state_mean", torch.zeros(cfg.state_dim))
        self.register_buffer("state_std", torch.ones(cfg.state_dim))
        self.register_buffer("normalization_set", torch.zeros((), dtype=torch.bool))
        self._init_embeddings()

    def _init_embeddings(self) -> None:
        for p in (self.token_type_embed, self.action_queries):
            nn.init.trunc_normal_(p, std=0.02)
        if self.vision is not None:
            for p in (self.camera_embed, self.cell_embed):
                nn.init.trunc_normal_(p, std=0.02)
            if self.config.keypoints:
                nn.init.trunc_normal_(self.keypoint_embed, std=0.02)
        if self.object_norm is not None:
            nn.init.trunc_normal_(self.object_embed, std=0.02)
        if self.offset_norm is not None:
            nn.init.trunc_normal_(self.offset_embed, std=0.02)

    # -- helpers --------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.action_mean.device

    @property
    def instruction_encoder(self) -> InstructionEncoder:
        """The encoder given at construction, else the process-wide shared one (loaded on first use)."""
        if self._instruction_encoder is None:
            return shared_instruction_encoder()
        return self._instruction_encoder

    @property
    def visual_feature_dim(self) -> int:
        """Width of :meth:`visual_features`: CNN channels times cameras (a state model: the object state)."""
        if self.vision is None:
            return int(self.config.object_state_dim)
        return self.vision.out_channels * len(self.config.cameras)

    #: The memory's default LoRA targets (the backbone contract, :mod:`vlapro_bench.memory.contract`).
    lora_target_regex = LORA_TRANSFORMER_REGEX

    def visual_feature_tap(self) -> tuple[nn.Module, Any]:
        """``(module, pool)``: the submodule whose output, pooled, is :meth:`visual_features` (the
        backbone contract's visual tap): the CNN, or the object-state normaliser of a state model."""
        if self.vision is None:
            assert self.object_norm is not None
            return self.object_norm, _identity_pool
        return self.vision, _camera_pool(len(self.config.cameras))

    def linear_module_names(self) -> list[str]:
        """Names of every ``nn.Linear`` (what a LoRA target regex is checked against)."""
        return [name for name, m in self.named_modules() if isinstance(m, nn.Linear)]

    @staticmethod
    def lora_target_names(model: nn.Module, pattern: str = LORA_TARGET_REGEX) -> list[str]:
        """Linear module names that ``pattern`` fully matches, as peft's string ``target_modules`` selects them."""
        return [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and re.fullmatch(pattern, n)]

    # -- normalisation --------------------------------------------------------------------------
    def set_normalization(self, stats: Mapping[str, Mapping[str, Any]]) -> None:
        """Set action and state statistics from a dataset.

        ``stats`` has ``"action"`` and ``"agent_pos"`` (alias ``"state"``) entries, each with
        ``"mean"`` and ``"std"`` of matching width (lists, arrays or tensors, e.g. from JSON).
        Standard deviations are floored at ``config.min_std``.
        """
        state = stats.get("agent_pos", stats.get("state"))
        action_key = ACTION_STATS[self.config.action_reference]
        if action_key not in stats or state is None:
            raise KeyError(f"stats needs '{action_key}' and 'agent_pos' (or 'state') entries, got {sorted(stats)}")
        entries = [(action_key, stats[action_key], self.action_mean, self.action_std),
                   ("agent_pos", state, self.state_mean, self.state_std)]
        for key, norm in (("object_state", self.object_norm), ("object_offsets", self.offset_norm)):
            if norm is None:
                continue
            if key not in stats:
                raise KeyError(f"this model reads {key}: stats need an '{key}' entry, got {sorted(stats)}")
            entries.append((key, stats[key], norm.mean, norm.std))
        for key, entry, mean_buf, std_buf in entries:
            mean = _as_tensor(entry["mean"]).to(torch.float32).reshape(-1)
            std = _as_tensor(entry["std"]).to(torch.float32).reshape(-1)
            if mean.shape != mean_buf.shape or std.shape != std_buf.shape:
                raise ValueError(f"{key} statistics must have {mean_buf.numel()} entries, "
                                 f"got mean {tuple(mean.shape)} and std {tuple(std.shape)}")
            if not (torch.isfinite(mean).all() and torch.isfinite(std).all()) or (std < 0).any():
                raise ValueError(f"{key} statistics must be finite with std >= 0")
            mean_buf.copy_(mean)
            std_buf.copy_(std.clamp(min=self.config.min_std))
        self.normalization_set.fill_(True)

    def normalization_stats(self) -> dict[str, dict[str, list[float]]]:
        """The statistics as JSON-ready lists (stds already floored), the inverse of :meth:`set_normalization`."""
        out = {ACTION_STATS[self.config.action_reference]: {"mean": self.action_mean.tolist(),
                                                             "std": self.action_std.tolist()},
               "agent_pos": {"mean": self.state_mean.tolist(), "std": self.state_std.tolist()}}
        for key, norm in (("object_state", self.object_norm), ("object_offsets", self.offset_norm)):
            if norm is not None:
                out[key] = {"mean": norm.mean.tolist(), "std": norm.std.tolist()}
        return out

    def action_reference(self, batch: Mapping[str, Any]) -> torch.Tensor | float:
        """What predicted actions are relative to (``config.action_reference``), ``(B, 1, A)``, or 0."""
        kind = self.config.action_reference
        if not kind:
            return 0.0
        source = _as_tensor(_require(batch, "agent_pos" if kind == "agent_pos" else "ee_pose"))
        source = source.to(self.device, torch.float32)
        return (source if kind == "agent_pos" else ee_position_reference(source)).unsqueeze(1)

    def normalize_action(self, action: torch.Tensor, reference: torch.Tensor | float = 0.0) -> torch.Tensor:
        """Actions -> the model's output space (relative to ``reference``, see :meth:`action_reference`)."""
        return (action - reference - self.action_mean) / self.action_std

    def unnormalize_action(self, action: torch.Tensor, reference: torch.Tensor | float = 0.0) -> torch.Tensor:
        """The model's output -> actions (adding back ``reference``, see :meth:`action_reference`)."""
        return action * self.action_std + self.action_mean + reference

    def normalize_state(self, state: torch.Tensor) -> torch.Tensor:
        return (state - self.state_mean) / self.state_std

    # -- inputs ---------------------------------------------------------------------------------
    def _image_stack(self, images: Mapping[str, torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """Any accepted image layout -> (B, n_cameras, 3, H', W') float in [-1, 1] at ``config.image_size``."""
        cams = self.config.cameras
        if isinstance(images, Mapping):
            missing = [c for c in cams if c not in images]
            if missing:
                raise KeyError(f"images lack cameras {missing} that this model reads; got {sorted(images)}")
            x = torch.stack([_as_tensor(images[c]) for c in cams], dim=1)
        else:
            x = _as_tensor(images)
        if x.ndim != 5 or x.shape[1] != len(cams) or x.shape[-1] != 3:
            raise ValueError(f"images must be (B, {len(cams)}, H, W, 3), got {tuple(x.shape)}")
        x = x.to(self.device)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        b, n, h, w, _ = x.shape
        x = x.permute(0, 1, 4, 2, 3).reshape(b * n, 3, h, w)
        if (h, w) != self.config.image_size:
            x = F.interpolate(x, size=self.config.image_size, mode="bilinear", align_corners=False, antialias=True)
        return (x * 2.0 - 1.0).view(b, n, 3, *self.config.image_size)

    def _instruction_embedding(self, batch: Mapping[str, Any], batch_size: int) -> torch.Tensor:
        if "instruction_embedding" in batch:
            emb = _as_tensor(batch["instruction_embedding"])
        elif "instruction" in batch:
            texts = batch["instruction"]
            emb = self.instruction_encoder.encode([texts] if isinstance(texts, str) else list(texts))
        else:
            raise KeyError("batch needs 'instruction_embedding' (B, 384) or 'instruction' (list of B strings)")
        if emb.shape != (batch_size, self.config.instruction_dim):
            raise ValueError(f"instruction embedding must be ({batch_size}, {self.config.instruction_dim}), "
                             f"got {tuple(emb.shape)}")
        return emb.to(self.device, torch.float32)

    def _object_state(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Normalised ``object_state`` ``(B, object_state_dim)`` (through :attr:`object_norm`, the state tap)."""
        assert self.object_norm is not None
        x = _as_tensor(_require(batch, "object_state")).to(self.device, torch.float32)
        if x.ndim != 2 or x.shape[1] != self.config.object_state_dim:
            raise ValueError(f"object_state must be (B, {self.config.object_state_dim}), got {tuple(x.shape)}")
        return self.object_norm(x)

    def _feature_maps(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """CNN output per camera ``(B, n_cameras, C, h, w)`` and keypoints ``(B, n_cameras, 2K)`` (None without)."""
        assert self.vision is not None
        x = self._image_stack(batch["images"])
        b, n = x.shape[:2]
        feats = self.vision(x.flatten(0, 1))
        keypoints = self.vision.take_keypoints()
        return feats.view(b, n, *feats.shape[1:]), None if keypoints is None else keypoints.view(b, n, -1)

    # -- model ----------------------------------------------------------------------------------
    def visual_features(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Pooled visual feature ``(B, n_cameras * C)``: per-camera spatial mean of the CNN output, concatenated.

        Taken before any linear layer, so fusing LoRA adapters does not move it: the procedural
        memory can score the current observation against stored keys with whatever adapter is on.
        A state model's visual feature is its normalised object state.
        """
        if self.vision is None:
            return self._object_state(batch)
        return self._feature_maps(batch)[0].mean(dim=(-2, -1)).flatten(1)

    def encode_observation(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Observation tokens after the transformer encoder, ``(B, 2 + n_cameras * (h * w + k) + o, d_model)``
        where ``k`` is 1 with keypoints and 0 without, and ``o`` is 1 with object state and 0 without."""
        # The visual tap (CNN or object-state normaliser) runs before any linear layer: the
        # procedural memory retrieves inside it and fuses adapters for every linear after it.
        observed = []
        if self.vision is not None:
            feats, keypoints = self._feature_maps(batch)  # (B, n, C, h, w), (B, n, 2K) or None
            cam_tokens = self.vision_proj(feats.flatten(3).transpose(2, 3))  # (B, n, h*w, D)
            cam_tokens = cam_tokens + self.camera_embed + self.cell_embed
            if keypoints is not None:
                kp_tokens = self.keypoint_proj(keypoints.unsqueeze(2)) + self.camera_embed + self.keypoint_embed
                cam_tokens = torch.cat([cam_tokens, kp_tokens], dim=2)
            observed.append(cam_tokens.flatten(1, 2))
        if self.object_norm is not None:
            observed.append((self.object_proj(self._object_state(batch)) + self.object_embed)[:, None])
        if self.offset_norm is not None:
            offsets = object_offsets(_as_tensor(_require(batch, "object_state")).to(self.device, torch.float32),
                                     _as_tensor(_require(batch, "ee_pose")).to(self.device, torch.float32))
            observed.append((self.offset_proj(self.offset_norm(offsets)) + self.offset_embed)[:, None])
        state = _as_tensor(_require(batch, "agent_pos")).to(self.device, torch.float32)
        b = observed[0].shape[0]
        if state.shape != (b, self.config.state_dim):
            raise ValueError(f"agent_pos must be ({b}, {self.config.state_dim}), got {tuple(state.shape)}")
        state_token = self.state_proj(self.normalize_state(state)) + self.token_type_embed[1]
        instr_token = self.instruction_proj(self._instruction_embedding(batch, b)) + self.token_type_embed[0]
        return self.encoder(torch.cat([instr_token[:, None], state_token[:, None], *observed], dim=1))

    def forward(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Normalised action chunk ``(B, chunk_size, action_dim)``; :meth:`unnormalize_action` maps it back."""
        memory = self.encode_observation(batch)
        queries = self.action_queries.unsqueeze(0).expand(memory.shape[0], -1, -1)
        return self.action_head(self.decoder(queries, memory))

    def compute_loss(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Mean L1 between predicted and target normalised actions over non-padded steps (ACT's loss)."""
        pred = self(batch)
        target = _as_tensor(batch["action"]).to(self.device, torch.float32)
        if target.shape != pred.shape:
            raise ValueError(f"action must be (B, chunk_size, action_dim) = {tuple(pred.shape)}, "
                             f"got {tuple(target.shape)}")
        l1 = (pred - self.normalize_action(target, self.action_reference(batch))).abs()
        if "action_is_pad" not in batch:
            return l1.mean()
        valid = (~_as_tensor(batch["action_is_pad"]).to(self.device, torch.bool)).unsqueeze(-1).to(l1.dtype)
        return (l1 * valid).sum() / (valid.sum() * l1.shape[-1]).clamp(min=1.0)

    def predict_action_chunk(self, observation: Mapping[str, Any]) -> np.ndarray:
        """One env observation (no batch dimension) -> unnormalised actions ``(chunk_size, action_dim)`` float32.

        Reads ``images`` (camera -> HxWx3 uint8; a state model ``object_state``), ``agent_pos`` and
        ``instruction`` (or a precomputed ``instruction_embedding``). Runs in eval mode without
        gradients and restores the previous mode.
        """
        batch: dict[str, Any] = {"agent_pos": _as_tensor(_require(observation, "agent_pos")).reshape(1, -1)}
        if self.vision is not None:
            batch["images"] = {c: _as_tensor(img)[None] for c, img in _require(observation, "images").items()}
        if self.object_norm is not None:
            batch["object_state"] = _as_tensor(_require(observation, "object_state")).reshape(1, -1)
        if self.config.ee_pose_dim:
            batch["ee_pose"] = _as_tensor(_require(observation, "ee_pose")).reshape(1, -1)
        if "instruction_embedding" in observation:
            batch["instruction_embedding"] = _as_tensor(observation["instruction_embedding"]).reshape(1, -1)
        else:
            batch["instruction"] = [str(_require(observation, "instruction"))]
        was_training = self.training
        if was_training:  # eval() walks every submodule: 0.3 ms a chunk on the CPU, so only when needed
            self.eval()
        try:
            with torch.inference_mode():
                actions = self.unnormalize_action(self(batch), self.action_reference(batch))[0]
        finally:
            if was_training:
                self.train()
        return actions.float().cpu().numpy()


def _camera_pool(n_cameras: int):
    def pool(output: torch.Tensor, batch_size: int) -> torch.Tensor:
        # visual_features: vision(x.flatten(0, 1)) viewed as (B, n, C, h, w), spatial mean, flatten.
        return output.mean(dim=(-2, -1)).reshape(batch_size, n_cameras * output.shape[1])

    return pool


def _identity_pool(output: torch.Tensor, batch_size: int) -> torch.Tensor:
    return output


def _require(observation: Mapping[str, Any], key: str) -> Any:
    if key not in observation:
        raise KeyError(f"observation lacks {key!r}; it has {sorted(observation)}")
    return observation[key]


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Parameter count (trainable only by default), for model cards and the README."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


__all__ = ["TinyVLA", "LORA_TARGET_REGEX", "LORA_TRANSFORMER_REGEX", "count_parameters"]
