r"""Cost surfaces, gradient fields, Hessians and KL for the 1-D LS-GAN.

Backs the chapter "An exactly solvable 1-D LS-GAN" (docs/chapters/lsgan1d.md); the model
is from Pulford and Kondrashov, IEEE Access, 2021. Everything here is built on the exact
`cost_and_gradient`, so a whole grid is one vectorised call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gan_book.lsgan1d.model import DOMAIN, check_domain, cost_and_gradient

__all__ = [
    "HessianReport",
    "cost_surface",
    "gradient_field",
    "hessian",
    "hessian_report",
    "kl_divergence",
]

# Relative step of the central differences of the exact gradient. The gradient is
# accurate to about 1e-12, so a step near its cube root balances truncation (step^2)
# against rounding (1e-12 / step).
HESSIAN_RELATIVE_STEP = 1e-4


def cost_surface(b, h, *, a, g, c):
    r"""Return $J(b, h)$ on the grid `b` x `h` with $a$, $g$, $c$ fixed.

    `b` and `h` are 1-D arrays; the result has shape (len(b), len(h)).
    """
    b_grid, h_grid = np.meshgrid(np.asarray(b, float), np.asarray(h, float), indexing="ij")
    return cost_and_gradient(a, b_grid, g, h_grid, c).cost


def gradient_field(b, h, *, a, g, c):
    r"""Return $(\partial J/\partial b, \partial J/\partial h)$ on the grid `b` x `h`.

    Each has shape (len(b), len(h)). The 2-D update moves $b$ along $+\partial J/\partial b$
    and $h$ along $-\partial J/\partial h$.
    """
    b_grid, h_grid = np.meshgrid(np.asarray(b, float), np.asarray(h, float), indexing="ij")
    gradient = cost_and_gradient(a, b_grid, g, h_grid, c).gradient
    return gradient[..., 1], gradient[..., 3]


def hessian(theta, c):
    r"""Return the 4 x 4 Hessian of $J$ in $(a, b, g, h)$ at `theta` (shape (..., 4)).

    Central differences of the exact gradient, with a step of `HESSIAN_RELATIVE_STEP`
    times max(|theta_i|, 1) (one-sided at an edge of `DOMAIN`), symmetrised. Result
    shape (..., 4, 4).
    """
    theta = np.asarray(theta, float)
    a, b, g, h = np.moveaxis(theta, -1, 0)
    check_domain(a=a, b=b, g=g, h=h, c=c)
    columns = []
    for i, name in enumerate(("a", "b", "g", "h")):
        step = HESSIAN_RELATIVE_STEP * np.maximum(np.abs(theta[..., i]), 1.0)
        # At an edge of DOMAIN the difference becomes one-sided, so no evaluation
        # point leaves the verified box.
        low, high = DOMAIN[name]
        upper = theta.copy()
        lower = theta.copy()
        upper[..., i] = np.minimum(theta[..., i] + step, high)
        lower[..., i] = np.maximum(theta[..., i] - step, low)
        forward = cost_and_gradient(*np.moveaxis(upper, -1, 0), c).gradient
        backward = cost_and_gradient(*np.moveaxis(lower, -1, 0), c).gradient
        width = upper[..., i] - lower[..., i]
        columns.append((forward - backward) / width[..., None])
    matrix = np.stack(columns, axis=-1)
    return 0.5 * (matrix + np.swapaxes(matrix, -1, -2))


@dataclass(frozen=True)
class HessianReport:
    """Eigenvalues of the full Hessian and of its two player blocks, ascending.

    `discriminator` is the (a, b) block, which the discriminator's ascent wants
    negative definite; `generator` is the (g, h) block, which the generator's descent
    wants positive definite. Shapes (..., 4), (..., 2), (..., 2).
    """

    full: np.ndarray
    discriminator: np.ndarray
    generator: np.ndarray


def hessian_report(theta, c) -> HessianReport:
    """Return the eigenvalues of the Hessian of J and of its two diagonal blocks."""
    matrix = hessian(theta, c)
    return HessianReport(
        full=np.linalg.eigvalsh(matrix),
        discriminator=np.linalg.eigvalsh(matrix[..., :2, :2]),
        generator=np.linalg.eigvalsh(matrix[..., 2:, 2:]),
    )


def kl_divergence(g, h, c):
    r"""Return $\mathrm{KL}(p_X \| p_g) = \log(gc) - 1 + (1 - hc)/(gc)$ for $h \le 0$.

    `g`, `h` are the generator scale and offset and `c` the data rate. For $h > 0$ the
    generator puts no mass on $[0, h)$ where the data has some, so the divergence is
    infinite and `inf` is returned.
    """
    g, h, c = np.broadcast_arrays(*(np.asarray(v, float) for v in (g, h, c)))
    for name, value in (("g", g), ("c", c)):
        if not np.all(np.isfinite(value)) or np.any(value <= 0):
            bad = float(value[~(np.isfinite(value) & (value > 0))].flat[0])
            raise ValueError(f"{name} must be positive and finite, got {name}={bad!r}.")
    if not np.all(np.isfinite(h)):
        raise ValueError(f"h must be finite, got h={float(h[~np.isfinite(h)].flat[0])!r}.")
    scale = g * c
    with np.errstate(invalid="ignore"):
        finite = np.log(scale) - 1.0 + (1.0 - h * c) / scale
    return np.where(h > 0, np.inf, finite)
