"""``lerobot_bridge`` policy: a pretrained LeRobot policy folder, run through the adapter."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

from vlapro_bench.policies.tinyvla.policy import BackbonePolicy
from vlapro_bench.policy import PolicyTraits

from .adapter import LeRobotBackbone

#: ``pretrained_path`` names the weights it loads.
TRAITS = PolicyTraits(weights=("pretrained_path",))


def make_policy(env: gym.Env, pretrained_path: str | Path, policy_type: str = "act",
                execute: int | None = None, device: str = "cpu") -> BackbonePolicy:
    """Load ``pretrained_path`` (a LeRobot ``pretrained_model`` folder, local: no hub access).

    Needs ``lerobot`` installed, which as of 0.4.4 requires torch < 2.11.
    """
    try:
        from lerobot.policies.factory import get_policy_class  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            "policy 'lerobot_bridge' needs the lerobot package (pip install lerobot; it pins torch<2.11, so "
            "use a separate environment from torch 2.13)."
        ) from exc
    path = Path(pretrained_path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a LeRobot pretrained_model folder (no config.json)")
    policy = get_policy_class(policy_type).from_pretrained(str(path)).to(device)
    cameras = [key.rsplit(".", 1)[-1] for key in policy.config.input_features if key.startswith("observation.images.")]
    backbone = LeRobotBackbone(policy, cameras, chunk_size=int(policy.config.chunk_size)).to(device)
    backbone.normalization_set.fill_(True)
    return BackbonePolicy(backbone, execute)
