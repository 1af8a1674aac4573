r"""The quasi-analytical one-dimensional least-squares GAN.

Backs the chapter "An exactly solvable 1-D LS-GAN" (docs/chapters/lsgan1d.md). The model
and its expected cost follow Pulford and Kondrashov, IEEE Access, 2021:

* `model`: densities, maps, the verified domain and `cost_and_gradient`,
* `integrals`: the key integrals through bivariate normal tails (Owen's T),
* `dynamics`: exact and stochastic gradient ascent-descent paths,
* `analysis`: cost surfaces, gradient fields, Hessians and KL.
"""

from gan_book.lsgan1d.analysis import (
    HessianReport,
    cost_surface,
    gradient_field,
    hessian,
    hessian_report,
    kl_divergence,
)
from gan_book.lsgan1d.dynamics import PARAMETERS, Trajectory, sgd_trajectory, trajectory
from gan_book.lsgan1d.integrals import (
    key_integral,
    key_integral_monte_carlo,
    squared_cdf_expectation,
)
from gan_book.lsgan1d.model import (
    DOMAIN,
    CostGradient,
    check_domain,
    cost_and_gradient,
    data_density,
    discriminator,
    generator,
    generator_density,
    latent_density,
)

# The two starting points of the authors' published code (a, b, g, h) and data rate c.
CASE_A = {"start": (2.2, -3.0, 1.5, -2.0), "c": 0.5}
CASE_B = {"start": (1.21, -1.0, 0.35, -4.0), "c": 4.04}

__all__ = [
    "CASE_A",
    "CASE_B",
    "DOMAIN",
    "PARAMETERS",
    "CostGradient",
    "HessianReport",
    "Trajectory",
    "check_domain",
    "cost_and_gradient",
    "cost_surface",
    "data_density",
    "discriminator",
    "generator",
    "generator_density",
    "gradient_field",
    "hessian",
    "hessian_report",
    "key_integral",
    "key_integral_monte_carlo",
    "kl_divergence",
    "latent_density",
    "sgd_trajectory",
    "squared_cdf_expectation",
    "trajectory",
]
