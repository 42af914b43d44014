"""The optimiser of every training in the project (backbones and LoRAs): AdamW, fused where torch has the kernel."""

from __future__ import annotations

from collections.abc import Iterable

import torch

#: Device types with a fused AdamW kernel in every torch this project supports (2.4 and later).
FUSED_DEVICE_TYPES = ("cpu", "cuda")


def adamw(params: Iterable[torch.nn.Parameter], lr: float, weight_decay: float,
          device: torch.device) -> torch.optim.AdamW:
    """AdamW, with torch's fused kernel on CPU and CUDA.

    Why fused: torch's default CPU AdamW loops over the parameters in Python, which cost 7.8 ms
    of a ~90 ms training step for the state profile's tinyvla on two cores; the fused kernel
    takes 1.2 ms (``benchmarks/bench_training_step.py``). The update rule is the same; the last
    bits are not, so a run is reproducible under either implementation but not across them. A
    resumed run keeps the implementation its checkpoint recorded (``fused`` is saved with the
    parameter groups and restored by ``load_state_dict``).
    """
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay,
                             fused=True if device.type in FUSED_DEVICE_TYPES else None)


__all__ = ["FUSED_DEVICE_TYPES", "adamw"]
