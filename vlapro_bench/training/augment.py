"""Image augmentation for behaviour cloning from few demonstrations.

With 50 demonstrations the policy sees each object position once per episode; a random shift of
a few pixels (pad by replicating the border, crop back at a random offset, as in DrQ and
Diffusion Policy's random crop) teaches the encoder that a target a few pixels away is the same
target, which is what closing the loop on unseen positions needs. The shift is drawn per sample
and per camera from the training generator, so a resumed run augments exactly as an
uninterrupted one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Shift every image of a ``(B, H, W, C)`` batch by up to ``pad`` pixels in x and y.

    The border is replicated, so no black bars appear that the model could key on. ``pad = 0``
    returns the input unchanged.
    """
    if pad <= 0:
        return images
    if images.ndim != 4:
        raise ValueError(f"images must be (B, H, W, C), got {tuple(images.shape)}")
    b, h, w, _ = images.shape
    x = images.permute(0, 3, 1, 2)
    dtype = x.dtype
    padded = F.pad(x.float(), (pad, pad, pad, pad), mode="replicate").to(dtype)
    offsets = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator)
    rows = torch.arange(h)[None, :] + offsets[:, :1]  # (B, H)
    cols = torch.arange(w)[None, :] + offsets[:, 1:]  # (B, W)
    batch = torch.arange(b)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.contiguous()
