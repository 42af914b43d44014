"""Fit an upstream camera image to the size our observation space declares.

Upstream simulators render at their own sizes (RoboTwin's D435 is 240x320, 4:3) while a policy
trained on the embedded engine expects ``camera_size`` (128x128 by default). Images are fitted,
never passed through at another size, so one policy runs unchanged on every backend.

Fit modes, for an aspect ratio that differs from the target's:

- ``crop`` (default): cut the centre to the target aspect ratio, then resize. Keeps pixels square
  (objects keep their shape) and loses the image's sides.
- ``pad``: resize to fit inside the target and fill the border with zeros (letterbox), as
  ``resize_with_padding`` in several VLA code bases. Keeps the whole view.
- ``stretch``: resize straight to the target. Keeps the whole view, distorts shapes.

Colour images are resampled with Pillow's bilinear filter (which low-pass filters when it
shrinks); depth with nearest neighbour, so no depth value is invented at an object's edge.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FIT_MODES = ("crop", "pad", "stretch")


def _check_fit(fit: str) -> None:
    if fit not in FIT_MODES:
        raise ValueError(f"image fit must be one of {list(FIT_MODES)}, got {fit!r}")


def _centre_crop_box(height: int, width: int, target: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, crop height, crop width) of the largest centred box with the target's aspect."""
    th, tw = target
    if width * th > height * tw:  # too wide: cut the sides
        crop_h, crop_w = height, max(1, round(height * tw / th))
    else:  # too tall: cut top and bottom
        crop_h, crop_w = max(1, round(width * th / tw)), width
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def _resize(array: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    """Resize a 2-d array (one channel) to ``size = (height, width)``."""
    if array.shape == size:
        return array.copy()
    return np.asarray(Image.fromarray(array).resize((size[1], size[0]), resample=resample))


def _fit_channels(image: np.ndarray, size: tuple[int, int], fit: str, resample: Image.Resampling) -> np.ndarray:
    """Fit an (H, W, C) array channel by channel (Pillow's float mode has one channel)."""
    _check_fit(fit)
    h, w = image.shape[:2]
    if (h, w) == size:
        return np.ascontiguousarray(image).copy()
    if fit == "crop":
        top, left, ch, cw = _centre_crop_box(h, w, size)
        image = image[top : top + ch, left : left + cw]
        inner, offset = size, (0, 0)
    elif fit == "pad":
        scale = min(size[0] / h, size[1] / w)
        inner = (max(1, round(h * scale)), max(1, round(w * scale)))
        offset = ((size[0] - inner[0]) // 2, (size[1] - inner[1]) // 2)
    else:
        inner, offset = size, (0, 0)
    out = np.zeros((*size, image.shape[2]), dtype=image.dtype)
    for c in range(image.shape[2]):
        out[offset[0] : offset[0] + inner[0], offset[1] : offset[1] + inner[1], c] = _resize(
            np.ascontiguousarray(image[..., c]), inner, resample
        )
    return out


def fit_rgb(image: np.ndarray, size: tuple[int, int], fit: str = "crop") -> np.ndarray:
    """An (H, W, 3) uint8 image fitted to ``size = (height, width)``; the input is not modified."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) colour image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 colour image, got dtype {image.dtype}")
    return _fit_channels(image[..., :3], tuple(size), fit, Image.Resampling.BILINEAR)


def fit_depth(depth: np.ndarray, size: tuple[int, int], fit: str = "crop") -> np.ndarray:
    """An (H, W) or (H, W, 1) depth map fitted to ``size``, returned as (height, width, 1) float32."""
    depth = np.asarray(depth)
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise ValueError(f"expected an (H, W) depth map, got shape {depth.shape}")
    return _fit_channels(depth.astype(np.float32)[..., None], tuple(size), fit, Image.Resampling.NEAREST)
