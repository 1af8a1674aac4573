"""Training images for the DCGAN engine: shipped digits, MNIST IDX files, image folders.

Backs the chapter on DCGAN. Every loader returns uint8 pixels; `load_dataset` fits
them to the configured size and channel count as a uint8 tensor (N, C, S, S), and
`to_model_range` maps a batch to [-1, 1], the range of the generator's tanh output.

* `load_mnist10k`: the 10,000 real MNIST digits shipped in `gan_book/data` (see
  the README there for their source and licence).
* `read_idx` and `load_idx`: the IDX format of LeCun's MNIST files
  (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number `0 0 type ndim`, then
  `ndim` big-endian uint32 sizes, then the data. Gzipped files are detected by their
  first two bytes, so a name need not end in `.gz`.
* `load_image_folder`: every PNG, JPEG, BMP, GIF or WebP file under a folder, for
  CelebA or a reader's own pictures.

Each loader reads whole datasets into memory: 60,000 MNIST digits at 64x64 take
246 MB, but CelebA's 202,599 faces at 64x64x3 take 2.5 GB (limit them with
`DCGANConfig.max_images`).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gan_book.dcgan.config import DCGANConfig

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MNIST10K_PATH = DATA_DIR / "mnist10k.npz"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
IDX_UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"
# File names of the four MNIST files, gzipped or not, looked for inside a folder.
MNIST_TRAIN_IMAGES = "train-images-idx3-ubyte"
MNIST_TRAIN_LABELS = "train-labels-idx1-ubyte"
# "auto" fitting pads an image that is at most this many pixels smaller per side.
MAX_AUTO_PAD = 4


def load_mnist10k() -> tuple[np.ndarray, np.ndarray]:
    """Return the shipped digits: images uint8 (10000, 28, 28) and labels uint8 (10000,).

    Pixels are 0 for the black background and 255 for white ink; the classes are
    interleaved so that any prefix contains all ten.
    """
    with np.load(MNIST10K_PATH) as archive:
        return archive["images"], archive["labels"]


def _read_maybe_gzipped(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read IDX file {path}: {error}") from error
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"{path} is not a valid gzip file ({error}); download it again"
        ) from error


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an unsigned-byte IDX file (gzipped or not) into a uint8 array.

    Raises `ValueError` naming the file when the header is invalid, the data type is
    not unsigned byte, or the file is shorter or longer than its header states.
    """
    path = Path(path)
    data = _read_maybe_gzipped(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: it must start with two zero bytes, "
            f"found {data[:4].hex() or 'an empty file'}"
        )
    if data[2] != IDX_UBYTE:
        raise ValueError(
            f"{path}: IDX data type 0x{data[2]:02x} is not supported; only unsigned byte (0x08) is"
        )
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(data) < header_size:
        raise ValueError(
            f"{path}: truncated IDX header ({len(data)} bytes for {ndim} dimensions)"
        )
    shape = tuple(int(size) for size in np.frombuffer(data[4:header_size], dtype=">u4"))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(
            f"{path}: the header announces shape {shape} ({expected} bytes) but the "
            f"file contains {len(data)} bytes; the file is corrupt or truncated"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def load_idx(
    images_path: str | os.PathLike[str],
    labels_path: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return images uint8 (N, H, W) from an IDX file, and labels uint8 (N,) if given.

    Raises `ValueError` naming the files when the images are not 3-dimensional, the
    labels not 1-dimensional, or their counts differ.
    """
    images = read_idx(images_path)
    if images.ndim != 3:
        raise ValueError(
            f"{images_path}: expected an image file (N, H, W), found shape {images.shape}"
        )
    if labels_path is None:
        return images, None
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise ValueError(
            f"{labels_path}: expected a label file (N,), found shape {labels.shape}"
        )
    if len(labels) != len(images):
        raise ValueError(
            f"{images_path} contains {len(images)} images but {labels_path} contains "
            f"{len(labels)} labels; pass files of the same split"
        )
    return images, labels


def _find_mnist_file(folder: Path, stem: str) -> Path | None:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / name).is_file():
            return folder / name
    return None


def _load_pillow_image(path: Path, channels: int) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image.load()
            converted = image.convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ValueError(
            f"cannot read image {path}: {error}; remove or replace the file"
        ) from error
    return np.asarray(converted, dtype=np.uint8)


def _fit_one(image: np.ndarray, image_size: int, fit: str, source: str) -> np.ndarray:
    """Return one (H, W) or (H, W, 3) uint8 image fitted to image_size x image_size."""
    height, width = image.shape[:2]
    if (height, width) == (image_size, image_size):
        return image
    square = height == width
    pad = image_size - height
    if fit == "pad" or (fit == "auto" and square and 0 < pad <= MAX_AUTO_PAD):
        if not square or pad < 0:
            raise ValueError(
                f"{source}: cannot pad a {height}x{width} image to {image_size}x{image_size}; "
                f"use fit='resize'"
            )
        before = pad // 2
        widths = [(before, pad - before), (before, pad - before)] + [(0, 0)] * (
            image.ndim - 2
        )
        return np.pad(image, widths)
    resized = Image.fromarray(image).resize(
        (image_size, image_size), Image.Resampling.BICUBIC
    )
    return np.asarray(resized, dtype=np.uint8)


def fit_images(
    images: np.ndarray,
    image_size: int,
    channels: int,
    fit: str = "auto",
    source: str = "images",
) -> np.ndarray:
    """Return uint8 (N, channels, image_size, image_size) from (N, H, W) or (N, H, W, C).

    Grey images are repeated into three channels when `channels` is 3, and colour
    images are converted to grey with ITU-R 601 luma (Pillow's "L" mode) when it is 1.
    `fit` chooses between padding and bicubic resizing as in `DCGANConfig.fit`.
    """
    array = np.asarray(images)
    if (
        array.dtype != np.uint8
        or array.ndim not in (3, 4)
        or (array.ndim == 4 and array.shape[3] not in (1, 3))
    ):
        raise ValueError(
            f"{source}: expected uint8 (N, H, W) or (N, H, W, C), got {array.dtype} {array.shape}"
        )
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    fitted = []
    for image in array:
        if image.ndim == 3 and channels == 1:
            image = np.asarray(Image.fromarray(image).convert("L"))
        fitted.append(_fit_one(image, image_size, fit, source))
    stacked = np.stack(fitted)
    if stacked.ndim == 3:
        stacked = stacked[:, None]
        if channels == 3:
            stacked = np.repeat(stacked, 3, axis=1)
    else:
        stacked = np.moveaxis(stacked, -1, 1)
    return np.ascontiguousarray(stacked)


def load_image_folder(
    folder: str | os.PathLike[str],
    image_size: int,
    channels: int,
    fit: str = "auto",
    max_images: int | None = None,
) -> np.ndarray:
    """Return uint8 (N, channels, image_size, image_size) from the images under `folder`.

    Files are taken in sorted path order, recursively, by suffix (case-insensitive);
    other files are ignored. An unreadable image raises `ValueError` naming it.
    """
    folder = Path(folder)
    paths = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )
    if not paths:
        raise ValueError(
            f"no images ({', '.join(IMAGE_SUFFIXES)}) found under {folder}"
        )
    if max_images is not None:
        paths = paths[:max_images]
    fitted = [
        fit_images(
            _load_pillow_image(path, channels)[None],
            image_size,
            channels,
            fit,
            str(path),
        )
        for path in paths
    ]
    return np.concatenate(fitted)


def load_dataset(config: DCGANConfig) -> torch.Tensor:
    """Load `config.data` as a uint8 tensor (N, channels, image_size, image_size).

    `config.data` is "mnist10k", an IDX image file, a folder that contains the MNIST
    training files (`train-images-idx3-ubyte`, gzipped or not), or a folder of images.
    """
    source = config.data
    if source == "mnist10k":
        images, _ = load_mnist10k()
        origin = str(MNIST10K_PATH)
    else:
        path = Path(source).expanduser()
        if path.is_file():
            images, _ = load_idx(path)
            origin = str(path)
        elif path.is_dir():
            idx_images = _find_mnist_file(path, MNIST_TRAIN_IMAGES)
            if idx_images is None:
                array = load_image_folder(
                    path,
                    config.image_size,
                    config.channels,
                    config.fit,
                    config.max_images,
                )
                return torch.from_numpy(array)
            idx_labels = _find_mnist_file(path, MNIST_TRAIN_LABELS)
            images, _ = load_idx(idx_images, idx_labels)
            origin = str(idx_images)
        else:
            raise ValueError(
                f"data {source!r} is neither 'mnist10k' nor an existing file or folder"
            )
    if config.max_images is not None:
        images = images[: config.max_images]
    return torch.from_numpy(
        fit_images(images, config.image_size, config.channels, config.fit, origin)
    )


def to_model_range(batch: torch.Tensor) -> torch.Tensor:
    """Map uint8 pixels 0..255 to float32 in [-1, 1]."""
    return batch.to(torch.float32).div_(127.5).sub_(1.0)


def from_model_range(batch: torch.Tensor) -> torch.Tensor:
    """Map float images in [-1, 1] to uint8 pixels 0..255, clipping outside values."""
    return (
        batch.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    )
