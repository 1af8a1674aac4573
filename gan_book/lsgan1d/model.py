r"""Densities and maps of the one-dimensional least-squares GAN.

The model is the quasi-analytical example of Pulford and Kondrashov, "Quasi-analytical
least-squares generative adversarial networks: further 1-D results and extension to
two data dimensions", IEEE Access, 2021. It backs the chapter "An exactly solvable
1-D LS-GAN" (docs/chapters/lsgan1d.md).

Both spaces are one-dimensional, so the latent dimension equals the data dimension:

* latent $z \ge 0$ with density $p_Z(z) = 2 z e^{-z^2}$ (so $z^2 \sim \mathrm{Exp}(1)$),
* generator $G(z) = g z^2 + h$ with $g > 0$, whose output density is
  $p_g(x) = e^{-(x - h)/g} / g$ for $x \ge h$,
* data $p_X(x) = c e^{-c x}$ for $x \ge 0$ with $c > 0$, matched by $g^* = 1/c$, $h^* = 0$,
* discriminator $D(x) = \tfrac12 (1 + \operatorname{erf}(a x + b))$ with $a > 0$.

Every function accepts numpy arrays that broadcast against each other and raises
`ValueError` naming the parameter for a value outside its range.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

__all__ = [
    "data_density",
    "discriminator",
    "generator",
    "generator_density",
    "latent_density",
]


def _finite(name: str, value) -> np.ndarray:
    """Return `value` as a float array, raising ValueError if any entry is not finite."""
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        bad = float(array[~np.isfinite(array)].flat[0])
        raise ValueError(f"{name} must be finite, got {name}={bad!r}; pass a finite number.")
    return array


def _positive(name: str, value) -> np.ndarray:
    """Return `value` as a float array, raising ValueError unless every entry is > 0."""
    array = _finite(name, value)
    if np.any(array <= 0):
        bad = float(array[array <= 0].flat[0])
        raise ValueError(
            f"{name} must be positive, got {name}={bad!r}; pass a value greater than 0."
        )
    return array


def latent_density(z):
    r"""Return the latent density $p_Z(z) = 2 z e^{-z^2}$ for $z \ge 0$, else 0.

    The argument `z` is the latent value $z$ (any finite array).
    """
    z = _finite("z", z)
    return np.where(z >= 0, 2.0 * z * np.exp(-np.square(np.maximum(z, 0.0))), 0.0)


def generator(z, g, h):
    r"""Return the generator output $G(z) = g z^2 + h$.

    The arguments `z`, `g`, `h` are the latent value $z$, the scale $g > 0$ and the
    offset $h$.
    """
    z = _finite("z", z)
    g = _positive("g", g)
    h = _finite("h", h)
    return g * np.square(z) + h


def generator_density(x, g, h):
    r"""Return the generator density $p_g(x) = e^{-(x - h)/g} / g$ for $x \ge h$, else 0.

    The arguments `x`, `g`, `h` are the data-space point $x$, the generator scale
    $g > 0$ and the generator offset $h$.
    """
    x = _finite("x", x)
    g = _positive("g", g)
    h = _finite("h", h)
    # The exponent is clipped at 0 below x = h so that the discarded branch of
    # np.where never overflows.
    exponent = np.minimum(-(x - h) / g, 0.0)
    return np.where(x >= h, np.exp(exponent) / g, 0.0)


def data_density(x, c):
    r"""Return the data density $p_X(x) = c e^{-c x}$ for $x \ge 0$, else 0.

    The arguments `x` and `c` are the data-space point $x$ and the data rate $c > 0$.
    """
    x = _finite("x", x)
    c = _positive("c", c)
    return np.where(x >= 0, c * np.exp(-c * np.maximum(x, 0.0)), 0.0)


def discriminator(x, a, b):
    r"""Return the discriminator output $D(x) = \tfrac12 (1 + \operatorname{erf}(a x + b))$.

    The arguments `x`, `a`, `b` are the data-space point $x$, the slope $a > 0$ and the
    offset $b$. The output lies in $[0, 1]$ and increases with $x$.
    """
    x = _finite("x", x)
    a = _positive("a", a)
    b = _finite("b", b)
    return 0.5 * (1.0 + erf(a * x + b))
