"""Tests of the cost surface, gradient field, Hessian and KL of the 1-D LS-GAN."""

import numpy as np
import pytest
from scipy.integrate import quad

from gan_book.lsgan1d import (
    CASE_A,
    cost_and_gradient,
    cost_surface,
    data_density,
    generator_density,
    gradient_field,
    hessian,
    hessian_report,
    kl_divergence,
)


def test_surface_and_field_match_pointwise():
    b = np.linspace(-5, 5, 4)
    h = np.linspace(-4, 2, 3)
    surface = cost_surface(b, h, a=2.2, g=1.5, c=0.5)
    d_b, d_h = gradient_field(b, h, a=2.2, g=1.5, c=0.5)
    assert surface.shape == d_b.shape == d_h.shape == (4, 3)
    point = cost_and_gradient(2.2, b[2], 1.5, h[1], 0.5)
    assert surface[2, 1] == point.cost
    assert d_b[2, 1] == point.gradient[1]
    assert d_h[2, 1] == point.gradient[3]


def test_hessian_matches_second_differences():
    theta = np.array(CASE_A["start"])
    matrix = hessian(theta, CASE_A["c"])
    assert np.allclose(matrix, matrix.T)
    step = 1e-3
    for i in range(4):
        for j in range(4):
            e_i = np.eye(4)[i] * step
            e_j = np.eye(4)[j] * step

            def cost(t):
                return float(cost_and_gradient(*t, CASE_A["c"]).cost)

            second = (
                cost(theta + e_i + e_j)
                - cost(theta + e_i - e_j)
                - cost(theta - e_i + e_j)
                + cost(theta - e_i - e_j)
            ) / (4 * step * step)
            assert second == pytest.approx(matrix[i, j], abs=1e-5)


def test_hessian_report_blocks():
    report = hessian_report(np.array([CASE_A["start"]] * 2), CASE_A["c"])
    matrix = hessian(CASE_A["start"], CASE_A["c"])
    assert report.full.shape == (2, 4)
    assert np.allclose(report.discriminator[0], np.linalg.eigvalsh(matrix[:2, :2]))
    assert np.allclose(report.generator[1], np.linalg.eigvalsh(matrix[2:, 2:]))


@pytest.mark.parametrize(("g", "h", "c"), [(1.5, -2.0, 0.5), (0.2, -0.1, 4.04), (3.0, 0.0, 0.3)])
def test_kl_matches_quadrature(g, h, c):
    def integrand(x):
        # log p_X - log p_g written out, so that neither density underflows first.
        log_ratio = np.log(c) - c * x + np.log(g) + (x - h) / g
        return data_density(x, c) * log_ratio

    expected = quad(integrand, 0, np.inf, limit=200)[0]
    assert kl_divergence(g, h, c) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_kl_zero_at_optimum_and_infinite_past_zero():
    assert kl_divergence(1 / 0.5, 0.0, 0.5) == pytest.approx(0.0, abs=1e-15)
    assert kl_divergence(1.0, 0.1, 0.5) == np.inf
    assert np.all(kl_divergence(2.0, np.array([-1.0, 0.5]), 0.5) == [kl_divergence(2.0, -1.0, 0.5), np.inf])


@pytest.mark.parametrize(("g", "h", "c", "name"), [(0.0, 0, 1, "g"), (1, np.nan, 1, "h"), (1, 0, -1, "c")])
def test_kl_invalid_named(g, h, c, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        kl_divergence(g, h, c)


def test_hessian_at_domain_edge():
    edge = np.array([0.05, -10.0, 100.0, 10.0])
    matrix = hessian(edge, 0.01)
    assert np.all(np.isfinite(matrix))
    assert np.allclose(matrix, matrix.T)
