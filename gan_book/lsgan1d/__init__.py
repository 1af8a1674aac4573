r"""The quasi-analytical one-dimensional least-squares GAN.

Backs the chapter "An exactly solvable 1-D LS-GAN" (docs/chapters/lsgan1d.md). The model
and its expected cost follow Pulford and Kondrashov, IEEE Access, 2021.
"""

from gan_book.lsgan1d.model import (
    data_density,
    discriminator,
    generator,
    generator_density,
    latent_density,
)

__all__ = [
    "data_density",
    "discriminator",
    "generator",
    "generator_density",
    "latent_density",
]
