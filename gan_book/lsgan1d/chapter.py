r"""Heavy results of the chapter "An exactly solvable 1-D LS-GAN", in cacheable form.

Backs docs/chapters/lsgan1d.md and docs/labs/lsgan1d.py, which call these functions
through `gan_book.book.cache.cached`. Each returns plain numpy arrays in a dict, so the
result pickles and the chapter's blocks stay short. The setting (starting points,
step size, iterations, 50 runs of 1,000 samples) is that of Pulford and Kondrashov,
IEEE Access, 2021.
"""

from __future__ import annotations

import numpy as np

from gan_book.lsgan1d.analysis import cost_surface, gradient_field, hessian_report
from gan_book.lsgan1d.dynamics import sgd_trajectory, trajectory
from gan_book.lsgan1d.integrals import key_integral, key_integral_monte_carlo

__all__ = [
    "hessian_along_path",
    "key_integral_errors",
    "paper_paths",
    "state_portrait",
    "step_size_sweep",
    "stochastic_comparison",
    "surface_with_paths",
]


def _as_dict(path):
    return {
        "params": path.params,
        "cost": path.cost,
        "j1": path.j1,
        "j2": path.j2,
        "gradient": path.gradient,
    }


def paper_paths(start, c, step_size=0.4, steps=249):
    """Exact 4-D and 2-D (b, h) paths from `start`, simultaneous and alternating."""
    return {
        "4d": _as_dict(trajectory(start, c, step_size=step_size, steps=steps)),
        "2d": _as_dict(
            trajectory(start, c, step_size=step_size, steps=steps, free=("b", "h"))
        ),
        "4d_alternating": _as_dict(
            trajectory(start, c, step_size=step_size, steps=steps, scheme="alternating")
        ),
    }


def surface_with_paths(start, c, b_range, h_range, points=121):
    """J(b, h) at the start's a and g on a points x points grid, and its gradient."""
    b = np.linspace(*b_range, points)
    h = np.linspace(*h_range, points)
    a, _, g, _ = start
    d_b, d_h = gradient_field(b, h, a=a, g=g, c=c)
    return {"b": b, "h": h, "cost": cost_surface(b, h, a=a, g=g, c=c), "d_b": d_b, "d_h": d_h}


def stochastic_comparison(start, c, runs=50, samples=1000, seed=2021, step_size=0.4, steps=249):
    """Stochastic runs (samples drawn once per run) beside the exact path."""
    exact = trajectory(start, c, step_size=step_size, steps=steps)
    stochastic = sgd_trajectory(
        start, c, step_size=step_size, steps=steps, runs=runs, samples=samples, seed=seed
    )
    return {"exact": _as_dict(exact), "stochastic": _as_dict(stochastic)}


def hessian_along_path(params, c, every=10):
    """Eigenvalues of the full Hessian and its player blocks at every `every`-th iterate."""
    indices = np.arange(0, len(params), every)
    report = hessian_report(params[indices], c)
    return {
        "iterate": indices,
        "full": report.full,
        "discriminator": report.discriminator,
        "generator": report.generator,
    }


def step_size_sweep(start, c, step_sizes, steps=249):
    """Final iterate, cost and gradient of the exact 4-D path for each step size.

    A path that leaves the verified domain is reported with NaN and the iterate at
    which it left is not kept.
    """
    finals, costs, gradients = [], [], []
    for step_size in step_sizes:
        try:
            path = trajectory(start, c, step_size=step_size, steps=steps)
        except ValueError:
            finals.append(np.full(4, np.nan))
            costs.append(np.nan)
            gradients.append(np.full(4, np.nan))
            continue
        finals.append(path.params[-1])
        costs.append(path.cost[-1])
        gradients.append(path.gradient[-1])
    return {
        "step_size": np.asarray(step_sizes, float),
        "final": np.array(finals),
        "cost": np.array(costs),
        "gradient": np.array(gradients),
    }


def state_portrait(a, g, c, b_range, h_range, starts_per_axis=13, step_size=0.4, steps=249):
    """2-D (b, h) paths from a grid of starts, all run in one batched call."""
    b = np.linspace(*b_range, starts_per_axis)
    h = np.linspace(*h_range, starts_per_axis)
    b_grid, h_grid = np.meshgrid(b, h, indexing="ij")
    starts = np.stack(
        [np.full(b_grid.size, a), b_grid.ravel(), np.full(b_grid.size, g), h_grid.ravel()],
        axis=-1,
    )
    path = trajectory(starts, c, step_size=step_size, steps=steps, free=("b", "h"))
    return _as_dict(path)


def key_integral_errors(arguments, samples=1_000_000, seeds=20):
    """Exact key integral and the paper's Monte Carlo estimates over several seeds."""
    exact = float(key_integral(*arguments))
    estimates = np.array(
        [key_integral_monte_carlo(*arguments, samples=samples, seed=seed)[0] for seed in range(seeds)]
    )
    return {"exact": exact, "estimates": estimates}
