r"""Configuration of a DCGAN model and its training run.

Backs the chapter on DCGAN. The defaults follow Radford, Metz and Chintala,
"Unsupervised Representation Learning with Deep Convolutional Generative Adversarial
Networks" (ICLR 2016): latent dimension 100, Adam with learning rate
$2\times10^{-4}$ and $\beta_1 = 0.5$, batch size 128, weights drawn from
$\mathcal{N}(0, 0.02^2)$. They are meant for real training runs, which take far
longer than a book build; `smoke_config` gives a seconds-long one for tests.

Mapping to the paper's symbols: $z \in \mathbb{R}^{d}$ with d = `latent_dim`, the
images are `channels` x `image_size` x `image_size`, and the learning rate $\alpha$
and Adam's $\beta_1, \beta_2$ are `learning_rate`, `beta1`, `beta2`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED_IMAGE_SIZES = (16, 28, 32, 64, 128)
SUPPORTED_CHANNELS = (1, 3)
FIT_MODES = ("auto", "pad", "resize")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DCGANConfig:
    """Model shape, data, optimisation, logging and speed settings of one run.

    Frozen and hashable, so it can key the book's result cache. Build a changed copy
    with `dataclasses.replace(config, steps=10)`.
    """

    # --- model ---
    latent_dim: int = 100
    image_size: int = 64  # pixels per side; one of SUPPORTED_IMAGE_SIZES
    channels: int = 1  # 1 (grey) or 3 (RGB)
    # Channels of the generator's last hidden layer; each earlier layer doubles it
    # (the paper's 64x64 generator runs 1024, 512, 256, 128, i.e. g_width = 128;
    # the PyTorch DCGAN example uses 64).
    g_width: int = 64
    # Channels of the discriminator's first layer; each later layer doubles it.
    d_width: int = 64
    # Batch-norm scale gamma ~ N(1, 0.02^2), shift 0. The paper draws "all weights"
    # from N(0, 0.02^2). Read literally for gamma, that would shrink every normalised
    # activation about fifty-fold, so PyTorch's DCGAN example centres gamma on 1.
    batchnorm_scale_mean: float = 1.0
    init_std: float = 0.02

    # --- data ---
    # "mnist10k" (the shipped digits), an MNIST IDX file or folder holding one, or a
    # folder of images (PNG, JPEG, BMP, GIF, WebP), searched recursively.
    data: str = "mnist10k"
    # How images reach image_size: "pad" centres them on a black border (28 -> 32
    # keeps MNIST pixel-exact), "resize" resamples with Pillow's bicubic filter, and
    # "auto" pads a square image that is at most 4 pixels smaller, resizes otherwise.
    fit: str = "auto"
    max_images: int | None = None  # use only the first N images; None = all

    # --- optimisation ---
    steps: int = 2000  # optimiser steps of each network
    batch_size: int = 128  # images per step and per process
    learning_rate: float = 2e-4
    beta1: float = 0.5  # the paper lowers Adam's beta1 from 0.9 for stability
    beta2: float = 0.999
    seed: int = 0

    # --- output ---
    out: str | None = None  # run folder; None writes nothing (used by the book)
    log_every: int = 50  # steps between log lines (the last step is always logged)
    sample_every: int = 500  # steps between fixed-noise grids; 0 = only at the end
    checkpoint_every: int = 500  # steps between checkpoints; 0 = only at the end
    num_samples: int = 64  # images in the fixed-noise grid
    progress: bool = True  # draw a progress bar on stderr

    # --- speed ---
    device: str = "auto"  # "auto" picks CUDA when available
    bf16: bool = False  # bfloat16 autocast (CUDA, or CPUs with AVX512-BF16/AMX)
    channels_last: bool = False  # NHWC memory format for the convolutions
    sync_batchnorm: bool = False  # SyncBatchNorm across processes (CUDA only)
    threads: int | None = None  # torch intra-op threads; None leaves torch's default

    # Steps after which `train` keeps the fixed-noise samples in the history (the
    # book's grids over training); the last step is always kept.
    history_samples: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        check_config(self)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-compatible dict."""
        values = dataclasses.asdict(self)
        values["history_samples"] = list(self.history_samples)
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DCGANConfig:
        """Build a config from `to_dict` output, rejecting unknown keys."""
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown DCGAN config keys {unknown}; known keys: {sorted(known)}"
            )
        values = dict(values)
        if "history_samples" in values:
            values["history_samples"] = tuple(values["history_samples"])
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> DCGANConfig:
        """Read a config written by `to_json`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def check_config(config: DCGANConfig) -> None:
    """Raise `ValueError` naming the first invalid field of `config`."""
    _require(
        config.image_size in SUPPORTED_IMAGE_SIZES,
        f"image_size {config.image_size!r} is not supported; use one of "
        f"{SUPPORTED_IMAGE_SIZES} (every power of two from 16 to 128, and 28)",
    )
    _require(
        config.channels in SUPPORTED_CHANNELS,
        f"channels {config.channels!r} is not supported; use 1 (grey) or 3 (RGB)",
    )
    for name in (
        "latent_dim",
        "g_width",
        "d_width",
        "steps",
        "batch_size",
        "num_samples",
    ):
        value = getattr(config, name)
        _require(
            isinstance(value, int) and value >= 1,
            f"{name} must be a positive integer, got {value!r}",
        )
    for name in ("log_every", "sample_every", "checkpoint_every"):
        value = getattr(config, name)
        _require(
            isinstance(value, int) and value >= 0,
            f"{name} must be an integer >= 0, got {value!r}",
        )
    _require(config.log_every >= 1, f"log_every must be >= 1, got {config.log_every}")
    _require(
        config.learning_rate > 0,
        f"learning_rate must be > 0, got {config.learning_rate!r}",
    )
    for name in ("beta1", "beta2"):
        value = getattr(config, name)
        _require(0 <= value < 1, f"{name} must lie in [0, 1), got {value!r}")
    _require(config.init_std > 0, f"init_std must be > 0, got {config.init_std!r}")
    _require(
        config.fit in FIT_MODES, f"fit must be one of {FIT_MODES}, got {config.fit!r}"
    )
    _require(
        config.device in DEVICES,
        f"device must be one of {DEVICES}, got {config.device!r}",
    )
    _require(
        config.max_images is None or config.max_images >= 1,
        f"max_images must be None or >= 1, got {config.max_images!r}",
    )
    _require(
        config.threads is None or config.threads >= 1,
        f"threads must be None or >= 1, got {config.threads!r}",
    )
    _require(
        isinstance(config.seed, int) and 0 <= config.seed < 2**63,
        f"seed must be an integer in [0, 2**63), got {config.seed!r}",
    )


def smoke_config(**overrides: Any) -> DCGANConfig:
    """Return a seconds-long configuration for tests: 16x16, narrow, 3 steps."""
    values: dict[str, Any] = dict(
        latent_dim=8,
        image_size=16,
        g_width=8,
        d_width=8,
        steps=3,
        batch_size=8,
        max_images=64,
        log_every=1,
        sample_every=0,
        checkpoint_every=0,
        num_samples=4,
        progress=False,
    )
    values.update(overrides)
    return DCGANConfig(**values)
