"""Hyper-parameters of the ``tinyvla`` backbone, as a plain dataclass with a JSON round trip.

The configuration is saved next to trained weights (and, later, into the memory bank's backbone
fingerprint), so it must survive ``json.dumps`` / ``json.loads`` unchanged: tuples become lists
in JSON, and ``from_dict`` turns them back into tuples so a reloaded config compares equal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: Fields left out of :meth:`TinyVLAConfig.to_dict` when 0 or off, so the configs and bank
#: fingerprints of models that do not use them stay what they were before the fields existed.
OMITTED_WHEN_OFF = ("object_state_dim", "action_reference", "object_offsets", "ee_pose_dim")
#: What predicted actions can be relative to (see ``TinyVLAConfig.action_reference``).
ACTION_REFERENCES = ("", "agent_pos", "ee_position")
#: The four RoboTwin cameras, in the order the environment lists them.
DEFAULT_CAMERAS: tuple[str, ...] = ("head_camera", "left_camera", "right_camera", "front_camera")


@dataclass(frozen=True)
class TinyVLAConfig:
    """Everything needed to rebuild a :class:`~vlapro_bench.policies.tinyvla.TinyVLA` with the same shapes.

    The defaults give a model of 1.65M trainable parameters that trains at about 80 samples/s
    (forward + backward + AdamW, batch 32, four 96x96 cameras) on a 2-core CPU; raise
    ``image_size``, ``d_model`` and the layer counts on a GPU.

    Attributes:
        cameras: camera names the model reads, in the order their tokens are laid out. Every
            observation must contain these cameras; extra cameras are ignored. Empty for a model
            over state alone (then ``object_state_dim`` must be set).
        image_size: ``(height, width)`` the images are resized to before the CNN. Observations of
            another size are resized (bilinear, antialiased), so the env's ``camera_size`` need not
            match, but matching it avoids the resize cost.
        chunk_size: number of future actions predicted per forward pass (ACT's action chunk, ``H``).
        state_dim: length of the proprioceptive vector (``agent_pos``: 14 joint positions).
        action_dim: length of one action (14-d absolute joint targets in ``qpos`` control).
        instruction_dim: width of the frozen sentence embedding (384 for all-MiniLM-L6-v2).
        vision_channels: output channels of the CNN stages; every stage halves the resolution, so
            ``len(vision_channels)`` stages give a ``image_size / 2**len`` feature map whose cells
            become one token each per camera (6x6 = 36 tokens per camera at 96x96 and 4 stages).
        vision_groups: GroupNorm groups in the CNN. GroupNorm rather than BatchNorm because the
            batch statistics of small CPU batches are noisy and LoRA fine-tuning on a few demos
            must not shift running statistics.
        vision_res_stages: how many of the last CNN stages get a residual block (two stride-1 3x3
            convolutions). Depth is added only at low resolution, where it is cheap: on the
            default config each block costs about 10% of CPU training throughput.
        keypoints: learned spatial-softmax keypoints per camera (0: none). Each is the expected
            image position of a learned heat map (Levine et al., 2016; robomimic and Diffusion
            Policy use the same layer); the 2 * ``keypoints`` coordinates of a camera become one
            extra token. Grid-cell tokens only locate things to a cell (16 px at 96x96, about 20 cm
            of table for the head camera); keypoints are continuous coordinates, which is what
            pressing a 2 cm plunger needs.
        keypoint_stage: which CNN stage (1-based) the keypoint heat maps are computed from; the
            default 3 reads the 12x12 map at 96x96, finer than the last stage's 6x6.
        object_state_dim: width of ``object_state`` (the env's state-mode object poses, 7 per
            tracked object: 28 for the RoboTwin suite) read as one more token; 0 (the default)
            reads none. A model with no cameras and object state is a state-based policy: the
            same transformer, chunking and LoRA targets, with the pose vector in place of images
            (for testing the procedural memory at full statistical power on a CPU; it is not a
            vision-language-action model). Omitted from :meth:`to_dict` when 0, so the configs
            and bank fingerprints of camera models stay what they were.
        d_model: token width of the transformer.
        n_heads: attention heads; must divide ``d_model``.
        n_encoder_layers: transformer encoder layers over the observation tokens.
        n_decoder_layers: transformer decoder layers in which the ``chunk_size`` action queries
            cross-attend to the encoder output.
        ffn_dim: hidden width of the transformer MLPs.
        dropout: dropout in attention weights, after attention and in the MLPs (training only).
        action_reference: what the predicted actions are relative to. ``""`` (default): absolute.
            ``"agent_pos"``: each action of a chunk minus the measured joint vector at the chunk's
            start (needs ``state_dim == action_dim``: RoboTwin ``qpos``). ``"ee_position"``: for
            end-effector actions (``[xyz, wxyz, gripper]`` per arm, RoboTwin ``ee``), the target
            positions and gripper minus the measured ``ee_pose``'s, orientations absolute.
            Normalised with the statistics of those differences. Absolute joint targets spread over
            about a radian across a multi-task dataset, so a normalised error the loss barely
            notices is a centimetre or two at the gripper: a state model trained on absolute
            targets brought the gripper to 5 cm above the bell and hovered there, on its own
            training seeds. The differences spread over a tenth of that.
        object_offsets: with object state, one more token of every tracked object's position
            minus each gripper's (``ee_pose``): where things are relative to the hands, which is
            what reaching and placing need, instead of leaving the subtraction to the network.
        ee_pose_dim: width of the observation's ``ee_pose`` (8 per arm: 16 RoboTwin, 8 RLBench),
            read by ``object_offsets`` and ``action_reference="ee_position"``; 0 when unused.
        min_std: floor on the dataset standard deviations used for normalisation, so a dimension
            that never moves in the data (a gripper that stays open) does not blow up to inf.
    """

    cameras: tuple[str, ...] = DEFAULT_CAMERAS
    image_size: tuple[int, int] = (96, 96)
    chunk_size: int = 16
    state_dim: int = 14
    action_dim: int = 14
    instruction_dim: int = 384
    vision_channels: tuple[int, ...] = (32, 64, 96, 128)
    vision_groups: int = 8
    vision_res_stages: int = 2
    keypoints: int = 0
    keypoint_stage: int = 3
    object_state_dim: int = 0
    d_model: int = 128
    n_heads: int = 4
    n_encoder_layers: int = 2
    n_decoder_layers: int = 2
    ffn_dim: int = 512
    dropout: float = 0.1
    action_reference: str = ""
    object_offsets: bool = False
    ee_pose_dim: int = 0
    min_std: float = 1e-2

    def __post_init__(self) -> None:
        # Frozen dataclass: normalise sequences to tuples through object.__setattr__ so configs
        # built from lists (JSON, YAML, CLI) compare equal to ones built from tuples.
        object.__setattr__(self, "cameras", tuple(str(c) for c in self.cameras))
        object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))
        object.__setattr__(self, "vision_channels", tuple(int(c) for c in self.vision_channels))
        self._validate()

    def _validate(self) -> None:
        """Refuse shapes that would only fail later, deep inside a forward pass."""
        for name in ("chunk_size", "state_dim", "action_dim", "instruction_dim", "d_model", "n_heads",
                     "n_encoder_layers", "n_decoder_layers", "ffn_dim", "vision_groups"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.object_state_dim < 0:
            raise ValueError(f"object_state_dim must be >= 0, got {self.object_state_dim}")
        if not self.cameras and not self.object_state_dim:
            raise ValueError("cameras must name at least one camera (or set object_state_dim for a state model)")
        if len(set(self.cameras)) != len(self.cameras):
            raise ValueError(f"cameras must be distinct, got {list(self.cameras)}")
        if not self.vision_channels:
            raise ValueError("vision_channels must list at least one CNN stage")
        if len(self.image_size) != 2 or min(self.image_size) < 2 ** len(self.vision_channels):
            raise ValueError(
                f"image_size must be (height, width) of at least {2 ** len(self.vision_channels)} pixels "
                f"for {len(self.vision_channels)} CNN stages, got {self.image_size}"
            )
        for c in self.vision_channels:
            if c <= 0 or c % self.vision_groups:
                raise ValueError(f"every vision channel count must be a positive multiple of vision_groups="
                                 f"{self.vision_groups}, got {list(self.vision_channels)}")
        if not 0 <= self.vision_res_stages <= len(self.vision_channels):
            raise ValueError(f"vision_res_stages must be between 0 and {len(self.vision_channels)}, "
                             f"got {self.vision_res_stages}")
        if self.keypoints < 0:
            raise ValueError(f"keypoints must be >= 0, got {self.keypoints}")
        if self.keypoints and not 1 <= self.keypoint_stage <= len(self.vision_channels):
            raise ValueError(f"keypoint_stage must be between 1 and {len(self.vision_channels)} (a CNN stage), "
                             f"got {self.keypoint_stage}")
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide d_model={self.d_model}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.min_std <= 0:
            raise ValueError(f"min_std must be > 0, got {self.min_std}")
        if self.action_reference not in ACTION_REFERENCES:
            raise ValueError(f"action_reference must be one of {list(ACTION_REFERENCES)}, "
                             f"got {self.action_reference!r}")
        if self.action_reference == "agent_pos" and self.state_dim != self.action_dim:
            raise ValueError(f"action_reference='agent_pos' needs state_dim == action_dim, got {self.state_dim} and "
                             f"{self.action_dim}")
        if self.action_reference == "ee_position" and self.ee_pose_dim != self.action_dim:
            raise ValueError(f"action_reference='ee_position' needs end-effector actions ([xyz, wxyz, gripper] per "
                             f"arm) as wide as ee_pose_dim, got action_dim={self.action_dim}, "
                             f"ee_pose_dim={self.ee_pose_dim}")
        if self.object_offsets and not (self.object_state_dim and self.ee_pose_dim):
            raise ValueError("object_offsets needs object_state_dim and ee_pose_dim (the poses to offset)")
        if self.ee_pose_dim % 8:
            raise ValueError(f"ee_pose_dim must be 8 per arm, got {self.ee_pose_dim}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        for name in OMITTED_WHEN_OFF:  # fields added later: absent = off, as in configs written before them
            if not out[name]:
                del out[name]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TinyVLAConfig:
        """Inverse of :meth:`to_dict`. Unknown keys are an error: a typo must not silently fall back to a default."""
        data = dict(data)
        if "relative_actions" in data:  # its first spelling (commit 67d5047): a bool for agent_pos
            data.setdefault("action_reference", "agent_pos" if data.pop("relative_actions") else "")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown TinyVLAConfig fields {unknown}; known: {sorted(known)}")
        return cls(**data)
