"""Image grids and PNG files for generated and real samples, with Pillow only.

Backs the chapter on DCGAN: the training engine writes its fixed-noise sample grids
with `save_grid`, and the chapter shows grids made by `make_grid`. Nothing here
needs torchvision; the layout follows the usual convention of square tiles in rows
separated by a padding line.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image

from gan_book.files import write_atomically


def to_uint8(
    images: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)
) -> np.ndarray:
    """Map float images from `value_range` to uint8, clipping values outside it.

    `value_range` is (low, high): low maps to 0 and high to 255. A uint8 input is
    returned unchanged.
    """
    array = np.asarray(images)
    if array.dtype == np.uint8:
        return array
    low, high = value_range
    if not high > low:
        raise ValueError(f"value_range must have high > low, got {value_range}")
    scaled = (array.astype(np.float64) - low) / (high - low)
    if not np.all(np.isfinite(scaled)):
        raise ValueError("images contain NaN or infinite values; cannot save them")
    return np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def make_grid(
    images: np.ndarray,
    *,
    ncols: int | None = None,
    padding: int = 2,
    pad_value: int = 0,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> np.ndarray:
    """Tile a batch of images into one uint8 image.

    `images` has shape (N, C, H, W) with C = 1 or 3 (the PyTorch layout), or
    (N, H, W) for grey images; float inputs are mapped from `value_range` to 0..255.
    `ncols` defaults to ceil(sqrt(N)). Returns (rows*H + pad, ncols*W + pad) for grey
    images and the same with a trailing axis of 3 for colour ones, where pad is
    `padding` pixels of `pad_value` around and between the tiles.
    """
    array = np.asarray(images)
    if hasattr(images, "detach"):  # a torch tensor
        array = images.detach().cpu().float().numpy()
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4 or array.shape[1] not in (1, 3) or array.shape[0] == 0:
        raise ValueError(
            f"images must have shape (N, C, H, W) with N >= 1 and C in (1, 3), "
            f"or (N, H, W); got {array.shape}"
        )
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")

    tiles = to_uint8(array, value_range)
    count, channels, height, width = tiles.shape
    ncols = ncols or math.ceil(math.sqrt(count))
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = math.ceil(count / ncols)

    grid = np.full(
        (
            channels,
            nrows * (height + padding) + padding,
            ncols * (width + padding) + padding,
        ),
        pad_value,
        dtype=np.uint8,
    )
    for index in range(count):
        row, col = divmod(index, ncols)
        top = padding + row * (height + padding)
        left = padding + col * (width + padding)
        grid[:, top : top + height, left : left + width] = tiles[index]
    return grid[0] if channels == 1 else np.moveaxis(grid, 0, -1)


def save_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write a uint8 (H, W) or (H, W, 3) image as PNG atomically and return the path.

    The file is written under a temporary name in the same folder and renamed, so a
    reader never sees a half-written PNG.
    """
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(
            f"save_png needs a uint8 (H, W) or (H, W, 3) image, got {array.dtype} "
            f"{array.shape}; call make_grid or to_uint8 first"
        )

    def write_png(handle) -> None:
        Image.fromarray(array).save(handle, format="PNG")

    return write_atomically(path, write_png)

def save_grid(images: np.ndarray, path: str | os.PathLike[str], **grid_options) -> Path:
    """Tile `images` with `make_grid` and write the result as a PNG file."""
    return save_png(make_grid(images, **grid_options), path)
