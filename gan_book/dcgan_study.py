r"""The DCGAN chapter's experiments on a trained generator: samples, interpolation, batch norm.

Backs the chapter on DCGAN. Each function takes the `History` that
`gan_book.dcgan.train.train` returns and works on its final generator:

* `generate` draws seeded samples (the quality section scores 1,000 of them);
* `interpolate` walks a straight or spherical path between two latent vectors.
  Radford, Metz and Chintala (ICLR 2016; README of their code, Newmu/dcgan_code)
  show such walks to argue that the generator has not memorised training images:
  a memorising generator would jump between them instead of changing smoothly;
* `batchnorm_sampling` shows that in training mode an image depends on the rest of
  its batch, because batch norm normalises with that batch's statistics, and that
  in evaluation mode it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.train import History, sample


def book_config(**overrides) -> DCGANConfig:
    """Return the small configuration that the book trains while it is built.

    28x28 digits at MNIST's own size (no padding), narrow networks and 1,200 steps of
    64 images. Where the CPU supports bf16 (AVX512-BF16 or AMX), the run uses bf16
    autocast and channels-last tensors and takes about a minute on two cores.
    Elsewhere the same run in float32 takes several times longer. The CLI's defaults
    are for real training.
    """
    fast = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    values = dict(
        image_size=28, g_width=48, d_width=32, batch_size=64, steps=1200,
        learning_rate=5e-4, threads=1, bf16=fast, channels_last=fast,
        progress=False, log_every=100, sample_every=0, checkpoint_every=0,
        num_samples=64, history_samples=(1, 100, 300, 600, 900),
    )  # fmt: skip
    values.update(overrides)
    return DCGANConfig(**values)


def latent_batch(config: DCGANConfig, count: int, seed: int) -> torch.Tensor:
    """Return `count` latent vectors z ~ N(0, I), shape (count, latent_dim), from `seed`."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(count, config.latent_dim, generator=generator)


def generate(history: History, count: int, seed: int) -> np.ndarray:
    """Return `count` samples (count, C, S, S) in [-1, 1] from the final generator.

    The generator runs in evaluation mode, so every image depends on its own z only.
    """
    z = latent_batch(history.config, count, seed)
    return sample(history.generator(), z).numpy()


def slerp(start: torch.Tensor, end: torch.Tensor, fractions: torch.Tensor) -> torch.Tensor:
    r"""Interpolate on the great circle from `start` to `end` at each of `fractions`.

    With $\cos\Omega = \hat a \cdot \hat b$ the angle between the two vectors,
    $\mathrm{slerp}(a, b; t) = \frac{\sin((1-t)\Omega)}{\sin\Omega} a
    + \frac{\sin(t\Omega)}{\sin\Omega} b$; it falls back to the straight line when the
    vectors are (anti)parallel. Returns shape (len(fractions), D).
    """
    cosine = torch.dot(start, end) / (start.norm() * end.norm())
    omega = torch.arccos(cosine.clamp(-1.0, 1.0))
    t = fractions[:, None]
    if torch.sin(omega).abs() < 1e-6:
        return (1 - t) * start + t * end
    return (torch.sin((1 - t) * omega) * start + torch.sin(t * omega) * end) / torch.sin(omega)


def interpolate(
    history: History, seed: int, *, rows: int = 4, steps: int = 10, spherical: bool = True
) -> np.ndarray:
    r"""Return `rows` latent walks of `steps` images each, shape (rows * steps, C, S, S).

    Each row walks from one random z to another (drawn from `seed`), spherically by
    default: a straight line between two Gaussian vectors of dimension d passes
    through vectors shorter than the typical length $\sqrt d$, which the generator
    rarely saw in training.
    """
    if rows < 1 or steps < 2:
        raise ValueError(f"need rows >= 1 and steps >= 2, got rows={rows}, steps={steps}")
    ends = latent_batch(history.config, 2 * rows, seed)
    fractions = torch.linspace(0.0, 1.0, steps)
    paths = []
    for row in range(rows):
        start, end = ends[2 * row], ends[2 * row + 1]
        if spherical:
            paths.append(slerp(start, end, fractions))
        else:
            paths.append((1 - fractions[:, None]) * start + fractions[:, None] * end)
    return sample(history.generator(), torch.cat(paths)).numpy()


@dataclass
class BatchNormSampling:
    """One latent vector z sampled inside two different batches, in both modes.

    `training_mode` and `evaluation_mode` have shape (2, C, S, S): G(z) inside batch A
    and inside batch B. The differences are max |G_A(z) - G_B(z)| over the pixels.
    """

    training_mode: np.ndarray
    evaluation_mode: np.ndarray
    training_difference: float
    evaluation_difference: float


def batchnorm_sampling(history: History, seed: int, batch_size: int = 16) -> BatchNormSampling:
    """Sample one z as the first member of two batches that differ in every other member."""
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2 so the batches can differ, got {batch_size}")
    generator = history.generator()
    latents = latent_batch(history.config, 2 * batch_size - 1, seed)
    shared = latents[:1]
    batch_a = torch.cat([shared, latents[1:batch_size]])
    batch_b = torch.cat([shared, latents[batch_size:]])

    outputs = {}
    for name, batch_statistics in (("training", True), ("evaluation", False)):
        first_a = sample(generator, batch_a, batch_statistics=batch_statistics)[0]
        first_b = sample(generator, batch_b, batch_statistics=batch_statistics)[0]
        outputs[name] = torch.stack([first_a, first_b]).numpy()
    return BatchNormSampling(
        training_mode=outputs["training"],
        evaluation_mode=outputs["evaluation"],
        training_difference=float(np.abs(outputs["training"][0] - outputs["training"][1]).max()),
        evaluation_difference=float(np.abs(outputs["evaluation"][0] - outputs["evaluation"][1]).max()),
    )
