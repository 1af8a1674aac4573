r"""Saturation: how the generator's gradient dies when the discriminator wins early.

Backs the section on saturation in the chapter "Training dynamics"
(docs/chapters/training-dynamics.md). Source of the two losses: Goodfellow et al.,
"Generative Adversarial Nets" (NeurIPS 2014), section 3.

With $D = \sigma(\ell)$ for a logit $\ell$, the saturating generator loss
$\log(1 - D)$ has $\partial_\ell \log(1 - D) = -D$, and the non-saturating loss
$-\log D$ has $\partial_\ell(-\log D) = -(1 - D)$. Per generated sample the two
parameter gradients are therefore parallel, in the exact ratio $D / (1 - D)$: once the
discriminator rejects the generated points ($D \to 0$) the saturating gradient vanishes
while the non-saturating one keeps its size.

The experiment freezes a freshly initialised toy generator (its points sit near the
origin, far from the ring of data), trains only the discriminator, and measures both
gradients of the generator's parameters on one fixed latent batch as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from gan_book.toy2d import (
    RingConfig,
    build_discriminator,
    build_generator,
    discriminator_loss,
    generator_loss,
    sample_ring,
)

__all__ = ["SaturationConfig", "SaturationResult", "measure_saturation"]


@dataclass(frozen=True)
class SaturationConfig:
    """Settings of the saturation measurement."""

    ring: RingConfig = field(default_factory=RingConfig)
    discriminator_steps: int = 400
    record_every: int = 20
    batch_size: int = 256
    latent_dim: int = 2
    hidden: int = 64
    discriminator_lr: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        for name in ("discriminator_steps", "record_every", "batch_size", "latent_dim",
                     "hidden"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {name}={value!r}.")
        if not (isinstance(self.discriminator_lr, (int, float))
                and 0 < self.discriminator_lr < float("inf")):
            raise ValueError(
                "discriminator_lr must be a finite number > 0, got "
                f"discriminator_lr={self.discriminator_lr!r}."
            )


@dataclass
class SaturationResult:
    """Measurements at each recorded discriminator step."""

    steps: np.ndarray
    d_real: np.ndarray  # mean D(x) on the fixed data batch
    d_fake: np.ndarray  # mean D(G(z)) on the fixed latent batch
    saturating_grad_norm: np.ndarray  # norm of the gradient of mean log(1 - D(G(z)))
    non_saturating_grad_norm: np.ndarray  # norm of the gradient of mean -log D(G(z))
    max_odds: np.ndarray  # max over the batch of D(G(z)) / (1 - D(G(z)))


def _gradient_norm(loss: torch.Tensor, parameters: list[torch.Tensor]) -> float:
    gradients = torch.autograd.grad(loss, parameters, retain_graph=True)
    return float(torch.sqrt(sum(g.square().sum() for g in gradients)))


def measure_saturation(config: SaturationConfig) -> SaturationResult:
    """Train only the discriminator against a frozen generator and record both gradients.

    Runs on one thread, like `gan_book.toy2d.train`, because the networks are tiny.
    """
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure(config)
    finally:
        torch.set_num_threads(previous_threads)


def _measure(config: SaturationConfig) -> SaturationResult:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        generator = build_generator(config.latent_dim, config.hidden)
        discriminator = build_discriminator(config.hidden)
    rng = torch.Generator().manual_seed(config.seed + 1)
    fixed_latent = torch.randn(config.batch_size, config.latent_dim, generator=rng)
    fixed_real = sample_ring(config.ring, config.batch_size, rng)
    optimiser = torch.optim.Adam(discriminator.parameters(), lr=config.discriminator_lr,
                                 betas=(0.5, 0.999))
    parameters = list(generator.parameters())
    rows = []
    for step in range(config.discriminator_steps + 1):
        if step % config.record_every == 0 or step == config.discriminator_steps:
            logits = discriminator(generator(fixed_latent))
            d_fake = torch.sigmoid(logits)
            with torch.no_grad():
                d_real = torch.sigmoid(discriminator(fixed_real)).mean().item()
            rows.append((
                step, d_real, d_fake.mean().item(),
                _gradient_norm(generator_loss(logits, "saturating"), parameters),
                _gradient_norm(generator_loss(logits, "non_saturating"), parameters),
                # odds = exp(logit), computed from the logit so it cannot round to 0/0
                torch.exp(logits).max().item(),
            ))
        if step == config.discriminator_steps:
            break
        real = sample_ring(config.ring, config.batch_size, rng)
        latent = torch.randn(config.batch_size, config.latent_dim, generator=rng)
        with torch.no_grad():
            fake = generator(latent)
        loss = discriminator_loss(discriminator(real), discriminator(fake))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    columns = np.array(rows, dtype=float).T
    return SaturationResult(
        steps=columns[0].astype(int), d_real=columns[1], d_fake=columns[2],
        saturating_grad_norm=columns[3], non_saturating_grad_norm=columns[4],
        max_odds=columns[5],
    )
