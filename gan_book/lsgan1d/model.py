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

from dataclasses import dataclass

import numpy as np
from scipy.special import erf, erfcx

from gan_book.lsgan1d.integrals import (
    key_integral_monte_carlo,
    squared_cdf_expectation,
    squared_cdf_expectation_from_key,
)

__all__ = [
    "DOMAIN",
    "CostGradient",
    "check_domain",
    "cost_and_gradient",
    "data_density",
    "discriminator",
    "generator",
    "generator_density",
    "latent_density",
]

SQRT2 = np.sqrt(2.0)


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


# The box over which the exact engine is verified against quadrature (tests/test_lsgan1d*).
# The intermediate arguments it implies, sqrt(2)(a h + b) up to about 300 and rates
# c / (sqrt(2) a) and 1 / (sqrt(2) a g) from 3.5e-4 to 1.5e3, are the ones tested.
DOMAIN = {
    "a": (0.05, 20.0),
    "b": (-10.0, 10.0),
    "g": (0.01, 100.0),
    "h": (-10.0, 10.0),
    "c": (0.01, 100.0),
}


def check_domain(**values) -> None:
    """Raise ValueError unless every named parameter is finite and inside `DOMAIN`.

    The message names the parameter, its value and the allowed interval.
    """
    for name, value in values.items():
        array = _finite(name, value)
        low, high = DOMAIN[name]
        if name in ("a", "g", "c"):
            _positive(name, array)
        outside = (array < low) | (array > high)
        if np.any(outside):
            bad = float(array[outside].flat[0])
            raise ValueError(
                f"{name}={bad!r} is outside the verified domain [{low}, {high}] of the "
                f"exact 1-D LS-GAN engine; pass a value inside it."
            )


@dataclass(frozen=True)
class CostGradient:
    r"""Expected cost $J = J_1 + J_2$ of the 1-D LS-GAN and its gradient.

    `gradient[..., i]` is $\partial J/\partial\theta_i$ for $\theta = (a, b, g, h)$.
    """

    j1: np.ndarray
    j2: np.ndarray
    cost: np.ndarray
    gradient: np.ndarray


def _arguments(a, b, g, h, c):
    r"""Map (a, b, g, h, c) to the arguments of the two expectations.

    $J_1 = \mathbb E\,\Phi(\sqrt2 b + s)^2$ with $s \sim \mathrm{Exp}(c/(\sqrt2 a))$ and
    $J_2 = \mathbb E\,Q(\sqrt2\eta + s)^2$ with $s \sim \mathrm{Exp}(1/(\sqrt2 a g))$,
    $\eta = a h + b$, because $D(x) = \Phi(\sqrt2(a x + b))$.
    """
    beta = SQRT2 * b
    rate_data = c / (SQRT2 * a)
    gamma = SQRT2 * (a * h + b)
    rate_generator = 1.0 / (SQRT2 * a * g)
    return beta, rate_data, gamma, rate_generator


def _assemble(a, b, g, h, c, first, second):
    """Combine the two expectations and their partial derivatives by the chain rule."""
    j1, j1_x0, j1_rate = first
    j2, j2_x0, j2_rate = second
    _, rate_data, _, rate_generator = _arguments(a, b, g, h, c)
    gradient = np.stack(
        np.broadcast_arrays(
            -rate_data / a * j1_rate + SQRT2 * h * j2_x0 - rate_generator / a * j2_rate,
            SQRT2 * (j1_x0 + j2_x0),
            -rate_generator / g * j2_rate,
            SQRT2 * a * j2_x0,
        ),
        axis=-1,
    )
    return CostGradient(j1=j1, j2=j2, cost=j1 + j2, gradient=gradient)


def cost_and_gradient(
    a, b, g, h, c, *, key_integral="exact", samples=1_000_000, seed=0
) -> CostGradient:
    r"""Return $J_1 = \mathbb E_x[D(x)^2]$, $J_2 = \mathbb E_z[(1 - D(G(z)))^2]$ and
    $\nabla_{(a,b,g,h)} J$.

    The arguments `a`, `b` are the discriminator slope and offset, `g`, `h` the
    generator scale and offset and `c` the data rate; numpy arrays broadcast, and
    every value must lie in `DOMAIN`. With `key_integral="exact"` the two key integrals
    come from bivariate normal tails (see `gan_book.lsgan1d.integrals`). With
    `key_integral="monte-carlo"` they are estimated as the paper does, with `samples`
    uniform points from `numpy.random.default_rng(seed)` for the data term and
    `default_rng(seed + 1)` for the generator term, and composed through the paper's
    error-function formulas. That mode takes scalars only.
    """
    check_domain(a=a, b=b, g=g, h=h, c=c)
    a, b, g, h, c = np.broadcast_arrays(*(np.asarray(v, float) for v in (a, b, g, h, c)))
    beta, rate_data, gamma, rate_generator = _arguments(a, b, g, h, c)
    if key_integral == "exact":
        first = squared_cdf_expectation(beta, rate_data)
        second = squared_cdf_expectation(gamma, rate_generator, upper=True)
    elif key_integral == "monte-carlo":
        if a.ndim != 0:
            raise ValueError(
                f"key_integral='monte-carlo' takes scalar parameters, got shape {a.shape}; "
                "loop over the points or use key_integral='exact'."
            )
        key_data = _monte_carlo_key(float(a), float(b), float(c), samples, seed, upper=False)
        key_generator = _monte_carlo_key(
            float(a), float(a * h + b), float(1.0 / g), samples, seed + 1, upper=True
        )
        first = squared_cdf_expectation_from_key(beta, rate_data, key_data, upper=False)
        second = squared_cdf_expectation_from_key(
            gamma, rate_generator, key_generator, upper=True
        )
    else:
        raise ValueError(
            f"key_integral must be 'exact' or 'monte-carlo', got {key_integral!r}."
        )
    return _assemble(a, b, g, h, c, first, second)


def _monte_carlo_key(a, offset, rate, samples, seed, *, upper):
    r"""Key integral $K$ from the paper's Monte Carlo estimate of $\tilde I_8$.

    In the paper's notation, with $d = -(a\,\mathrm{offset} + \mathrm{rate}/2)$,
    $I_{E1} - \operatorname{erf} = e^{-\mathrm{off}^2}\operatorname{erfcx}(\mathrm{off}
    + \mathrm{rate}/2a)$ and $I_{E2} - \operatorname{erf}^2 = 4 e^{-\mathrm{off}^2 + d^2/a^2}
    \tilde I_8(a, \mathrm{off}, d/a^2, 1/2a^2)$; comparing with $F = \Phi^2 \pm 2K$
    gives $K$. The exponentials are composed literally, as the paper does.
    """
    d = -(a * offset + 0.5 * rate)
    estimate, _ = key_integral_monte_carlo(a, offset, d / a**2, 0.5 / a**2, samples=samples, seed=seed)
    first_order = 2.0 * np.exp(-(offset**2)) * erfcx(offset + rate / (2.0 * a))
    with np.errstate(over="ignore", invalid="ignore"):
        second_order = 4.0 * np.exp(-(offset**2) + d**2 / a**2) * estimate
    if upper:
        return -(second_order - first_order) / 8.0
    return (first_order + second_order) / 8.0
