"""Tests of the key integrals of the 1-D LS-GAN against quadrature and Monte Carlo."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import erf, log_ndtr

import test_lsgan1d_reference as reference
from gan_book.lsgan1d import key_integral, key_integral_monte_carlo, squared_cdf_expectation

# The arguments the cost implies over the verified domain: sqrt(2)(a h + b) reaches
# about +-297 and the rates c/(sqrt2 a), 1/(sqrt2 a g) span 3.5e-4 to 1.4e3.
offsets = st.one_of(st.floats(-300, 300), st.floats(-15, 15), st.sampled_from([-300.0, 300.0]))
rates = st.one_of(
    st.floats(np.log(3.5e-4), np.log(1.5e3)).map(np.exp),
    st.sampled_from([3.5e-4, 1.5e3]),
)


def expected_square(x0, kappa, upper):
    """log E T(x0 + s)^2, s ~ Exp(kappa), T = Q or Phi, by quadrature in u = kappa s."""
    sign = -1.0 if upper else 1.0
    # In u the normal CDF ramps at u = -x0 kappa over a width kappa.
    points = reference.feature_points(kappa, -x0 * kappa)
    return reference.log_integral(
        lambda u: 2 * log_ndtr(sign * (x0 + u / kappa)) - u, 1.0, points
    )


@settings(max_examples=200, deadline=None)
@given(offsets, rates, st.booleans())
def test_squared_cdf_expectation_relative(x0, kappa, upper):
    value, _, _ = squared_cdf_expectation(x0, kappa, upper=upper)
    log_expected = expected_square(x0, kappa, upper)
    if log_expected < -700:
        # Below the double range; the engine must return a value that underflows too.
        assert value < 1e-290
        return
    expected = np.exp(log_expected)
    assert abs(value - expected) <= max(1e-300, 1e-9 * expected), (value, expected)


@settings(max_examples=40, deadline=None)
@given(st.floats(-15, 15), rates, st.booleans())
def test_squared_cdf_expectation_derivatives(x0, kappa, upper):
    value, d_x0, d_kappa = squared_cdf_expectation(x0, kappa, upper=upper)
    # Central differences carry the error of F divided by the step. F is accurate to
    # about 1e-10 relative where Q(x0)^2 - 2K cancels (small kappa, moderate x0).
    for step, expected, shift in (
        (1e-5, d_x0, lambda v: (x0 + v, kappa)),
        (1e-5 * kappa, d_kappa, lambda v: (x0, kappa + v)),
    ):
        plus = squared_cdf_expectation(*shift(step), upper=upper)[0]
        minus = squared_cdf_expectation(*shift(-step), upper=upper)[0]
        difference = (plus - minus) / (2 * step)
        noise = 1e-10 * max(value, 1e-300) / step
        assert abs(difference - expected) <= 1e-6 * abs(expected) + noise, (difference, expected)


@pytest.mark.parametrize(
    ("x0", "kappa", "upper"),
    [
        # I_E2 near a = 0.3, b = 1.5, c = 10, where exp(d^2/kappa^2) overflows.
        (np.sqrt(2) * 1.5, 10 / (np.sqrt(2) * 0.3), False),
        # I_E1 near a = 2, b = -27, c = 1.
        (np.sqrt(2) * -27, 1 / (np.sqrt(2) * 2), False),
        # J2 far below 1e-17.
        (np.sqrt(2) * 8.0, 1 / (np.sqrt(2) * 2.0), True),
    ],
)
def test_literal_failure_points_stay_accurate(x0, kappa, upper):
    value, d_x0, d_kappa = squared_cdf_expectation(x0, kappa, upper=upper)
    expected = np.exp(expected_square(x0, kappa, upper))
    assert np.isfinite([value, d_x0, d_kappa]).all()
    assert value == pytest.approx(expected, rel=1e-9)


def test_vectorised_shapes():
    value, d_x0, d_kappa = squared_cdf_expectation(np.zeros((3, 1)), np.ones(4))
    assert value.shape == d_x0.shape == d_kappa.shape == (3, 4)


key_arguments = st.tuples(
    st.floats(0.05, 20), st.floats(-10, 10), st.floats(-5, 5), st.floats(0.01, 10)
)


@settings(max_examples=40, deadline=None)
@given(key_arguments)
def test_key_integral_matches_quadrature(arguments):
    alpha, beta, m, s = arguments
    sd = np.sqrt(s)

    def integrand(x):
        return erf(alpha * x + beta) * np.exp(-((x - m) ** 2) / (2 * s)) / np.sqrt(2 * np.pi * s)

    points = sorted({max(m, 0.0), max(-beta / alpha, 0.0)})
    upper = max(m, 0.0) + 40 * sd
    pieces = [0.0] + [p for p in points if 0 < p < upper] + [upper]
    expected = sum(
        quad(integrand, left, right, epsabs=1e-16, epsrel=1e-12, limit=200)[0]
        for left, right in zip(pieces[:-1], pieces[1:])
    )
    assert abs(key_integral(alpha, beta, m, s) - expected) <= max(1e-13, 1e-9 * abs(expected))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("arguments", [(2.2, -3.0, 0.3, 0.1), (1.21, 0.5, -0.4, 0.34)])
def test_monte_carlo_within_four_standard_errors(arguments, seed):
    estimate, standard_error = key_integral_monte_carlo(*arguments, samples=200_000, seed=seed)
    exact = key_integral(*arguments)
    assert standard_error > 0
    assert abs(estimate - exact) < 4 * standard_error


@pytest.mark.parametrize("arguments, name", [
    ((1.0, 1.0, 0.0, 0.0), "s"),
    ((1.0, 1.0, 0.0, -1.0), "s"),
    ((float("nan"), 1.0, 0.0, 1.0), "alpha"),
    ((1.0, float("inf"), 0.0, 1.0), "beta"),
])
def test_key_integral_rejects_invalid_arguments(arguments, name):
    from gan_book.lsgan1d import integrals

    with pytest.raises(ValueError, match=f"{name} must be"):
        integrals.key_integral(*arguments)


def test_squared_cdf_expectation_rejects_non_positive_rate():
    from gan_book.lsgan1d import integrals

    with pytest.raises(ValueError, match="kappa must be positive"):
        integrals.squared_cdf_expectation(0.0, -1.0)
