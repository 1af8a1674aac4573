r"""Gradient ascent-descent paths of the 1-D LS-GAN, exact and stochastic.

Backs the chapter "An exactly solvable 1-D LS-GAN" (docs/chapters/lsgan1d.md). The update
rule, the step size 0.4, the 250 iterates and the 50 stochastic runs of 1,000 samples
follow Pulford and Kondrashov, IEEE Access, 2021, and the authors' published code.

With $\theta = (a, b, g, h)$ the discriminator ascends and the generator descends the
one zero-sum cost: $\theta_{k+1} = \theta_k + \epsilon\, s \odot m \odot \nabla J(\theta_k)$
with $s = (+1, +1, -1, -1)$ and $m$ the mask of free parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from gan_book.lsgan1d.model import cost_and_gradient

__all__ = ["PARAMETERS", "Trajectory", "sgd_trajectory", "trajectory"]

PARAMETERS = ("a", "b", "g", "h")
# The discriminator (a, b) ascends J; the generator (g, h) descends it.
ASCENT_SIGN = np.array([1.0, 1.0, -1.0, -1.0])


@dataclass(frozen=True)
class Trajectory:
    """Iterates of a run, the start included, with the cost at each iterate.

    `params` has shape (steps + 1, 4) for one start, (steps + 1, n, 4) for n starts
    and (steps + 1, runs, 4) for stochastic runs, in the order a, b, g, h. `cost`,
    `j1`, `j2` drop the last axis and `gradient` keeps it. For stochastic runs these
    are the sample estimates that drove the updates.
    """

    params: np.ndarray
    cost: np.ndarray
    j1: np.ndarray
    j2: np.ndarray
    gradient: np.ndarray


def _mask(free) -> np.ndarray:
    unknown = [name for name in free if name not in PARAMETERS]
    if unknown or not free:
        raise ValueError(
            f"free must name some of {PARAMETERS}, got free={tuple(free)!r}; "
            "for the 2-D variant pass free=('b', 'h')."
        )
    return np.array([name in free for name in PARAMETERS], dtype=float)


def _start_array(start) -> np.ndarray:
    start = np.asarray(start, dtype=float)
    if start.shape[-1:] != (4,) or start.ndim > 2:
        raise ValueError(
            f"start must be (a, b, g, h) or an array of shape (n, 4), got shape "
            f"{start.shape}."
        )
    return start


def _check_step(step_size, steps) -> None:
    if not np.isfinite(step_size) or step_size <= 0:
        raise ValueError(f"step_size must be a positive number, got step_size={step_size!r}.")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got steps={steps!r}.")


def _evaluate(theta, c, step):
    a, b, g, h = np.moveaxis(theta, -1, 0)
    try:
        return cost_and_gradient(a, b, g, h, c)
    except ValueError as error:
        if step == 0:
            raise
        # The parameter check's own advice is dropped: the caller sets the step.
        reason = str(error).split(";")[0]
        raise ValueError(
            f"the trajectory left the verified domain at iterate {step}: {reason}. "
            "Use a smaller step_size, fewer steps or another start."
        ) from None


def trajectory(
    start,
    c,
    *,
    step_size=0.4,
    steps=249,
    free=PARAMETERS,
    scheme="simultaneous",
) -> Trajectory:
    r"""Run exact gradient ascent in (a, b) and descent in (g, h) from `start`.

    `start` is $(a, b, g, h)$ or an (n, 4) array of n starts run together; `c` is the
    data rate, `step_size` is $\epsilon$, and the parameters not named in `free` stay
    frozen. With `scheme="simultaneous"` both players step from the same iterate; with
    `scheme="alternating"` the discriminator steps first and the generator then steps
    from the gradient at the updated discriminator. The recorded cost and gradient are
    those at each stored iterate. Raises ValueError if an iterate leaves `DOMAIN`.
    """
    _check_step(step_size, steps)
    if scheme not in ("simultaneous", "alternating"):
        raise ValueError(
            f"scheme must be 'simultaneous' or 'alternating', got scheme={scheme!r}."
        )
    mask = _mask(free)
    theta = _start_array(start)
    direction = step_size * ASCENT_SIGN * mask
    discriminator_part = direction * np.array([1.0, 1.0, 0.0, 0.0])
    generator_part = direction * np.array([0.0, 0.0, 1.0, 1.0])

    params = [theta]
    results = [_evaluate(theta, c, 0)]
    for step in range(1, int(steps) + 1):
        current = results[-1]
        if scheme == "simultaneous":
            theta = theta + direction * current.gradient
        else:
            moved = theta + discriminator_part * current.gradient
            theta = moved + generator_part * _evaluate(moved, c, step).gradient
        params.append(theta)
        results.append(_evaluate(theta, c, step))
    return Trajectory(
        params=np.stack(params),
        cost=np.stack([r.cost for r in results]),
        j1=np.stack([r.j1 for r in results]),
        j2=np.stack([r.j2 for r in results]),
        gradient=np.stack([r.gradient for r in results]),
    )


def _sample_cost_and_gradient(theta, data, latent_squared):
    r"""Sample-mean $J_1$, $J_2$ and $\nabla J$ for each run.

    `theta` is (runs, 4); `data` contains x ~ Exp(c) and `latent_squared` contains
    $z^2 \sim \mathrm{Exp}(1)$, each (runs, samples).
    """
    a, b, g, h = (theta[:, i : i + 1] for i in range(4))
    u_data = a * data + b
    d_data = 0.5 * (1.0 + erf(u_data))
    slope_data = np.exp(-np.square(u_data)) / np.sqrt(np.pi)  # dD/du
    fake = g * latent_squared + h
    u_fake = a * fake + b
    miss = 0.5 * (1.0 - erf(u_fake))  # 1 - D(G(z))
    slope_fake = np.exp(-np.square(u_fake)) / np.sqrt(np.pi)

    weight_data = 2.0 * d_data * slope_data
    weight_fake = -2.0 * miss * slope_fake
    gradient = np.stack(
        [
            (weight_data * data).mean(axis=1) + (weight_fake * fake).mean(axis=1),
            weight_data.mean(axis=1) + weight_fake.mean(axis=1),
            (weight_fake * a * latent_squared).mean(axis=1),
            (weight_fake * a).mean(axis=1),
        ],
        axis=-1,
    )
    j1 = np.square(d_data).mean(axis=1)
    j2 = np.square(miss).mean(axis=1)
    return j1, j2, gradient


def sgd_trajectory(
    start,
    c,
    *,
    step_size=0.4,
    steps=249,
    free=PARAMETERS,
    runs=50,
    samples=1000,
    seed=0,
    resample=False,
) -> Trajectory:
    r"""Run the stochastic counterpart: the same update with sample-mean gradients.

    Each of `runs` runs draws `samples` values of $x \sim \mathrm{Exp}(c)$ and of
    $z$ (as $z^2 \sim \mathrm{Exp}(1)$) from `numpy.random.default_rng(seed)`. With
    `resample=False` (the paper's comparison) a run reuses its samples at every step,
    so it follows the exact gradient of its own empirical cost; with `resample=True`
    fresh samples are drawn at each step. `start` is one $(a, b, g, h)$ shared by all
    runs. Returns every run's path, shape (steps + 1, runs, 4).
    """
    _check_step(step_size, steps)
    mask = _mask(free)
    theta0 = _start_array(start)
    if theta0.ndim != 1:
        raise ValueError(f"start must be one (a, b, g, h) point, got shape {theta0.shape}.")
    cost_and_gradient(*theta0, c)  # validates the start and c
    if int(runs) != runs or runs < 1 or int(samples) != samples or samples < 2:
        raise ValueError(
            f"runs must be >= 1 and samples >= 2 (integers), got runs={runs!r}, "
            f"samples={samples!r}."
        )
    rng = np.random.default_rng(seed)
    shape = (int(runs), int(samples))

    def draw():
        return rng.exponential(1.0 / c, size=shape), rng.exponential(1.0, size=shape)

    data, latent_squared = draw()
    theta = np.broadcast_to(theta0, (int(runs), 4)).copy()
    direction = step_size * ASCENT_SIGN * mask
    params, j1s, j2s, gradients = [theta], [], [], []
    for step in range(int(steps) + 1):
        j1, j2, gradient = _sample_cost_and_gradient(theta, data, latent_squared)
        j1s.append(j1)
        j2s.append(j2)
        gradients.append(gradient)
        if step == steps:
            break
        theta = theta + direction * gradient
        params.append(theta)
        if resample:
            data, latent_squared = draw()
    j1 = np.stack(j1s)
    j2 = np.stack(j2s)
    return Trajectory(
        params=np.stack(params), cost=j1 + j2, j1=j1, j2=j2, gradient=np.stack(gradients)
    )
