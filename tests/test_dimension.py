"""Tests of gan_book.dimension against closed forms, quadrature and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from gan_book import dimension as dim
from gan_book.lsgan1d.model import data_density, generator, generator_density


def normal_quantile(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2.0))


# --------------------------------------------------------------------------------------
# The singular counterexample


def test_line_generator_lands_on_line():
    z = np.linspace(-3.0, 3.0, 7)
    points = dim.line_generator(z, 0.8)
    assert points.shape == (7, 2)
    assert np.all(dim.distance_to_line(points, 0.8) == 0.0)


def test_distance_to_line_known_points():
    assert dim.distance_to_line([0.0, 1.0], 0.0) == pytest.approx(1.0)
    assert dim.distance_to_line([1.0, 0.0], 1.0) == pytest.approx(1.0 / math.sqrt(2.0))
    assert dim.distance_to_line([2.0, -1.0], -0.5) == pytest.approx(0.0)


@pytest.mark.parametrize("bad_shape", [(3,), (5, 3), (4, 1)])
def test_points_dimension_mismatch_raises(bad_shape):
    with pytest.raises(ValueError, match="dimension mismatch"):
        dim.distance_to_line(np.zeros(bad_shape), 1.0)


def test_data_mass_near_line_monte_carlo():
    # Binomial count of data points within epsilon of the line, 99.9 % normal interval.
    epsilon, n = 0.05, 200_000
    x_data, _ = dim.sample_counterexample(1.3, n, seed=3)
    fraction = np.mean(dim.distance_to_line(x_data, 1.3) < epsilon)
    mass = dim.data_mass_near_line(epsilon)
    half_width = normal_quantile(0.999) * math.sqrt(mass * (1 - mass) / n)
    assert abs(fraction - mass) < half_width


def test_data_mass_near_line_vanishes_linearly():
    for epsilon in (1e-2, 1e-4, 1e-6):
        ratio = dim.data_mass_near_line(epsilon) / epsilon
        assert ratio == pytest.approx(math.sqrt(2.0 / math.pi), rel=epsilon)


def test_singular_discriminator_zero_on_line_one_off():
    x_data, x_generated = dim.sample_counterexample(0.6, 1000, seed=0)
    assert np.all(dim.singular_optimal_discriminator(x_generated, 0.6) == 0.0)
    assert np.all(dim.singular_optimal_discriminator(x_data, 0.6) == 1.0)


@pytest.mark.parametrize("theta", [-2.0, 0.0, 0.5, 3.0])
def test_singular_jensen_shannon_is_log_two(theta):
    x_data, x_generated = dim.sample_counterexample(theta, 500, seed=1)
    js = dim.jensen_shannon_from_discriminator(
        dim.singular_optimal_discriminator(x_data, theta),
        dim.singular_optimal_discriminator(x_generated, theta),
    )
    assert js == math.log(2.0)


def test_jensen_shannon_from_discriminator_rejects_bad_outputs():
    with pytest.raises(ValueError, match="must lie in"):
        dim.jensen_shannon_from_discriminator([0.5, 1.2], [0.1])
    with pytest.raises(ValueError, match="at least one"):
        dim.jensen_shannon_from_discriminator([], [0.1])


# --------------------------------------------------------------------------------------
# The smooth discriminators


@pytest.mark.parametrize("s", [3.0, 1.0, 0.1, 1e-3])
def test_smooth_family_series_matches_quadrature(s):
    assert dim.smooth_family_value(s) == pytest.approx(
        dim.smooth_family_value_quadrature(s), rel=1e-11, abs=1e-15)


@pytest.mark.parametrize(("theta", "s"), [(0.7, 0.5), (-2.0, 0.05), (0.0, 1.0)])
def test_smooth_family_series_matches_plane_integral(theta, s):
    assert dim.smooth_family_value_plane(theta, s) == pytest.approx(
        dim.smooth_family_value(s), rel=1e-9)


def test_smooth_family_sample_mean_within_interval():
    theta, s, n = 1.5, 0.3, 100_000
    x_data, x_generated = dim.sample_counterexample(theta, n, seed=7)
    terms = np.log(dim.smooth_discriminator(x_data, theta, s))
    generator_terms = np.log1p(-dim.smooth_discriminator(x_generated, theta, s))
    assert np.all(generator_terms == 0.0)
    half_width = normal_quantile(0.999) * terms.std(ddof=1) / math.sqrt(n)
    assert abs(terms.mean() - dim.smooth_family_value(s)) < half_width


@given(st.floats(min_value=1e-6, max_value=0.9))
@settings(max_examples=40, deadline=None)
def test_smooth_family_rate_bound(s):
    # V(s) = -zeta(3/2) s + zeta(5/2) s^3 / 2 - ..., an alternating tail for s < 1.
    value = dim.smooth_family_value(s)
    assert value < 0.0
    assert abs(value + dim.SMOOTH_FAMILY_RATE * s) <= special.zeta(2.5) / 2 * s**3 * (1 + 1e-9) + 1e-15


def test_smooth_family_increases_towards_zero():
    widths = np.geomspace(2.0, 1e-4, 15)
    values = [dim.smooth_family_value(s) for s in widths]
    assert np.all(np.diff(values) > 0)


def test_smooth_family_rejects_nonpositive_width():
    with pytest.raises(ValueError, match="s must be positive"):
        dim.smooth_family_value(0.0)
    with pytest.raises(ValueError, match="s must be positive"):
        dim.smooth_discriminator([0.0, 1.0], 1.0, -1.0)


# --------------------------------------------------------------------------------------
# Instance noise


def _jensen_shannon_dblquad(theta, sigma, noise_on_data):
    data, generated = dim.noisy_covariances(theta, sigma, noise_on_data=noise_on_data)
    inverse = np.linalg.inv(generated)
    log_norm = -math.log(2 * math.pi) - 0.5 * math.log(np.linalg.det(generated))
    v_data = data[0, 0]

    def integrand(x2, x1):
        log_p = -(x1 * x1 + x2 * x2) / (2 * v_data) - math.log(2 * math.pi * v_data)
        log_q = log_norm - 0.5 * (inverse[0, 0] * x1 * x1 + 2 * inverse[0, 1] * x1 * x2
                                  + inverse[1, 1] * x2 * x2)
        log_m = np.logaddexp(log_p, log_q) - math.log(2.0)
        return 0.5 * (math.exp(log_p) * (log_p - log_m) + math.exp(log_q) * (log_q - log_m))

    limit = 10.0 * math.sqrt(1 + theta * theta + sigma * sigma)
    return integrate.dblquad(integrand, -limit, limit, -limit, limit, epsabs=1e-11)[0]


@pytest.mark.parametrize(("theta", "sigma", "noise_on_data"),
                         [(0.5, 0.5, True), (2.0, 0.7, False), (1.0, 3.0, False)])
def test_noisy_jensen_shannon_matches_dblquad(theta, sigma, noise_on_data):
    result = dim.noisy_divergence(theta, sigma, noise_on_data=noise_on_data)
    assert result.jensen_shannon == pytest.approx(
        _jensen_shannon_dblquad(theta, sigma, noise_on_data), abs=1e-9)
    assert result.jensen_shannon_error < 1e-12


@pytest.mark.parametrize(("theta", "sigma", "noise_on_data"),
                         [(1.0, 0.3, True), (-0.4, 0.05, True), (2.0, 1e-3, False),
                          (1.0, 1e-6, True)])
def test_noisy_derivative_matches_finite_difference(theta, sigma, noise_on_data):
    step = 1e-5
    plus = dim.noisy_divergence(theta + step, sigma, noise_on_data=noise_on_data)
    minus = dim.noisy_divergence(theta - step, sigma, noise_on_data=noise_on_data)
    difference = (plus.jensen_shannon - minus.jensen_shannon) / (2 * step)
    derivative = dim.noisy_divergence(theta, sigma, noise_on_data=noise_on_data).derivative
    assert derivative == pytest.approx(difference, rel=1e-5, abs=1e-10)


def test_noisy_divergence_symmetric_in_theta():
    plus = dim.noisy_divergence(0.8, 0.2)
    minus = dim.noisy_divergence(-0.8, 0.2)
    assert plus.jensen_shannon == pytest.approx(minus.jensen_shannon, abs=1e-14)
    assert plus.derivative == pytest.approx(-minus.derivative, abs=1e-14)
    assert dim.noisy_divergence(0.0, 0.2).derivative == pytest.approx(0.0, abs=1e-15)


def test_noisy_divergence_degrades_as_sigma_shrinks():
    results = dim.sigma_sweep(1.0, (1.0, 0.3, 0.1, 1e-2, 1e-3, 1e-4, 1e-6))
    deficits = np.array([math.log(2.0) - r.jensen_shannon for r in results])
    derivatives = np.array([r.derivative for r in results])
    assert np.all(deficits > 0)
    assert np.all(np.diff(deficits) < 0)
    # The derivative peaks near sigma = 0.3 at theta = 1 and falls from there on.
    assert np.all(np.diff(derivatives[1:]) < 0)
    assert deficits[-1] < 1e-4
    assert 0 < derivatives[-1] < 1e-5
    samples = [dim.samples_for_relative_error(r, 0.1) for r in results[1:]]
    assert np.all(np.diff(samples) > 0)


@given(st.floats(min_value=-3.0, max_value=3.0), st.floats(min_value=1e-4, max_value=3.0))
@settings(max_examples=30, deadline=None)
def test_noisy_divergence_properties(theta, sigma):
    result = dim.noisy_divergence(theta, sigma)
    assert 0.0 < result.jensen_shannon < math.log(2.0)
    assert result.jensen_shannon_error < 1e-10
    # The generated variance along the line, 1 + theta^2 + sigma^2, already exceeds the
    # data's 1 + sigma^2, so a larger |theta| moves the two laws further apart.
    assert result.derivative * theta >= 0.0
    assert result.score_term_std >= result.stretch_term_std


def test_noisy_divergence_rejects_nonpositive_sigma():
    with pytest.raises(ValueError, match="sigma must be positive"):
        dim.noisy_divergence(1.0, 0.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        dim.noisy_covariances(1.0, -0.1)


def test_samples_for_relative_error_rejects_zero_derivative():
    with pytest.raises(ValueError, match="derivative is 0"):
        dim.samples_for_relative_error(dim.noisy_divergence(0.0, 0.5), 0.1)


def test_noisy_discriminator_tends_to_indicator():
    on_line = np.array([1.0, 0.7])
    off_line = np.array([1.0, 0.9])
    for sigma in (1e-2, 1e-3):
        assert dim.noisy_optimal_discriminator(on_line, 0.7, sigma) < 20 * sigma
        assert dim.noisy_optimal_discriminator(off_line, 0.7, sigma) > 1 - 1e-12
    assert dim.singular_optimal_discriminator(on_line, 0.7) == 0.0
    assert dim.singular_optimal_discriminator(off_line, 0.7) == 1.0


def test_hoeffding_estimate_covers_quadrature():
    tolerance = 0.01
    n = dim.hoeffding_samples(tolerance, 0.99)
    for theta, sigma in [(1.0, 0.1), (0.3, 0.01)]:
        estimate = dim.noisy_jensen_shannon_monte_carlo(
            theta, sigma, n, tolerance=tolerance, confidence=0.99, seed=11)
        assert estimate.half_width <= tolerance
        exact = dim.noisy_divergence(theta, sigma).jensen_shannon
        assert abs(estimate.estimate - exact) <= estimate.half_width


def test_hoeffding_samples_even_and_sufficient():
    for tolerance, confidence in [(0.01, 0.95), (0.003, 0.99), (0.05, 0.5)]:
        n = dim.hoeffding_samples(tolerance, confidence)
        assert n % 2 == 0
        estimate = dim.noisy_jensen_shannon_monte_carlo(
            1.0, 0.2, n + 1, tolerance=tolerance, confidence=confidence, seed=1)
        assert estimate.n_samples == n
        assert estimate.half_width <= tolerance


def test_hoeffding_rejects_too_few_samples():
    with pytest.raises(ValueError, match="too small"):
        dim.noisy_jensen_shannon_monte_carlo(1.0, 0.1, 100, tolerance=0.01)
    with pytest.raises(ValueError, match="tolerance must be positive"):
        dim.hoeffding_samples(0.0)
    with pytest.raises(ValueError, match="confidence"):
        dim.hoeffding_samples(0.01, confidence=1.0)


def test_score_derivative_monte_carlo_matches_quadrature():
    n = 100_000
    quadrature = dim.noisy_divergence(1.0, 0.3)
    estimate = dim.noisy_derivative_monte_carlo(1.0, 0.3, n, confidence=0.999, seed=5)
    assert abs(estimate.estimate - quadrature.derivative) < estimate.half_width
    # The interval's width matches the standard deviation that the quadrature predicts.
    predicted = normal_quantile(0.999) * quadrature.score_term_std / math.sqrt(n)
    assert estimate.half_width == pytest.approx(predicted, rel=0.1)


def test_stretch_only_estimator_matches_quadrature():
    # Sample the generated law in the line's frame and keep only the stretching part of
    # the score: (d v / d theta) (a^2 / v - 1) / (2 v) with v the variance along the line.
    theta, sigma, n = 1.0, 0.05, 200_000
    v = 1 + theta**2 + sigma**2
    v_data = 1 + sigma**2
    rng = np.random.default_rng(9)
    a = math.sqrt(v) * rng.standard_normal(n)
    b = sigma * rng.standard_normal(n)
    log_q = -a**2 / (2 * v) - b**2 / (2 * sigma**2) - math.log(2 * math.pi * sigma * math.sqrt(v))
    log_p = -(a**2 + b**2) / (2 * v_data) - math.log(2 * math.pi * v_data)
    stretch = 2 * theta * (a**2 / v - 1) / (2 * v)
    terms = -0.5 * stretch * np.logaddexp(0.0, log_p - log_q)
    quadrature = dim.noisy_divergence(theta, sigma)
    half_width = normal_quantile(0.999) * terms.std(ddof=1) / math.sqrt(n)
    assert abs(terms.mean() - quadrature.derivative) < half_width
    assert terms.std(ddof=1) == pytest.approx(quadrature.stretch_term_std, rel=0.05)
    assert quadrature.stretch_term_std < quadrature.score_term_std / 10
    assert dim.samples_for_relative_error(quadrature, 0.1, stretch_only=True) < \
        dim.samples_for_relative_error(quadrature, 0.1)


def test_score_derivative_rejects_too_few_samples():
    with pytest.raises(ValueError, match="too small"):
        dim.noisy_derivative_monte_carlo(1.0, 0.3, 50)


# --------------------------------------------------------------------------------------
# Wasserstein distances


@pytest.mark.parametrize("theta", [-1.5, 0.0, 0.4, 3.0])
def test_line_wasserstein2_matches_gaussian_formula(theta):
    covariance = np.array([[1.0, theta], [theta, theta * theta]])
    general = dim.gaussian_wasserstein2(np.zeros(2), np.eye(2), np.zeros(2), covariance)
    assert dim.line_wasserstein2(theta) == pytest.approx(general, rel=1e-7)


def test_line_wasserstein2_coupling_cost_monte_carlo():
    # The map (a, b) -> (r a, 0) in the line's frame: cost E|(1 - r) a|^2 + b^2.
    theta, n = 1.2, 200_000
    rng = np.random.default_rng(2)
    r = math.hypot(1.0, theta)
    a, b = rng.standard_normal((2, n))
    cost = ((1 - r) * a) ** 2 + b**2
    half_width = normal_quantile(0.999) * cost.std(ddof=1) / math.sqrt(n)
    assert abs(cost.mean() - dim.line_wasserstein2(theta) ** 2) < half_width


def test_gaussian_wasserstein2_one_dimensional():
    value = dim.gaussian_wasserstein2([1.0], [[4.0]], [-1.0], [[1.0]])
    assert value == pytest.approx(math.sqrt(4.0 + 1.0))


def test_gaussian_wasserstein2_rejects_mismatch_and_indefinite():
    with pytest.raises(ValueError, match="dimension mismatch"):
        dim.gaussian_wasserstein2(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="positive semi-definite"):
        dim.gaussian_wasserstein2(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2))


@pytest.mark.parametrize("theta", [0.0, 0.5, 1.0, 4.0])
def test_wasserstein1_bounds_ordered(theta):
    lower, upper = dim.line_wasserstein1_bounds(theta)
    assert lower <= upper + 1e-15
    assert upper <= dim.line_wasserstein2(theta)


def test_wasserstein1_upper_bound_monte_carlo():
    theta, n = 2.0, 200_000
    rng = np.random.default_rng(4)
    alpha = math.hypot(1.0, theta) - 1.0
    a, b = rng.standard_normal((2, n))
    norms = np.hypot(alpha * a, b)
    half_width = normal_quantile(0.999) * norms.std(ddof=1) / math.sqrt(n)
    assert abs(norms.mean() - dim.line_wasserstein1_bounds(theta)[1]) < half_width


def test_wasserstein1_exact_at_theta_zero():
    lower, upper = dim.line_wasserstein1_bounds(0.0)
    assert lower == pytest.approx(math.sqrt(2.0 / math.pi))
    assert upper == pytest.approx(math.sqrt(2.0 / math.pi))


def test_wasserstein1_assignment_near_bounds():
    # The empirical value carries a sampling bias of order n^-1/2 on top of the spread
    # over repeats, so the bracket gets 4 standard errors plus 0.03.
    for theta in (0.0, 1.0):
        estimate = dim.line_wasserstein1_assignment(theta, 400, 4, seed=0)
        lower, upper = dim.line_wasserstein1_bounds(theta)
        slack = 4 * estimate.standard_error + 0.03
        assert lower - slack < estimate.mean < upper + slack


def test_wasserstein1_assignment_rejects_small_inputs():
    with pytest.raises(ValueError, match="repeats=1 is too small"):
        dim.line_wasserstein1_assignment(1.0, 100, 1)
    with pytest.raises(ValueError, match="n_samples=5 is too small"):
        dim.line_wasserstein1_assignment(1.0, 5, 3)


@pytest.mark.parametrize(("latent_dim", "data_dim", "rank"),
                         [(100, 784, 100), (100, 4096, 100), (3, 2, 2), (2, 2, 2)])
def test_random_relu_jacobian_rank(latent_dim, data_dim, rank):
    assert dim.random_relu_jacobian_rank(latent_dim, data_dim, 512) == rank


# --------------------------------------------------------------------------------------
# The contrast with dim z = dim x


def test_pushforward_density_matches_lsgan_density():
    x = np.linspace(-2.0, 12.0, 301)
    for g, h in [(1.5, 0.0), (0.35, -4.0), (2.0, 1.0)]:
        np.testing.assert_allclose(dim.pushforward_density(x, g, h),
                                   generator_density(x, g, h), rtol=1e-13, atol=1e-300)


def test_pushforward_density_against_samples():
    # Dvoretzky-Kiefer-Wolfowitz: sup |F_n - F| <= sqrt(log(2/alpha) / 2n) w.p. 1 - alpha.
    g, h, n, alpha = 1.5, -0.5, 50_000, 1e-6
    rng = np.random.default_rng(8)
    z = np.sqrt(rng.exponential(size=n))
    x = np.sort(generator(z, g, h))
    cdf = np.array([integrate.quad(lambda t: float(dim.pushforward_density(t, g, h)),
                                   h, value)[0] for value in x[::500]])
    empirical = np.arange(1, n + 1)[::500] / n
    assert np.max(np.abs(empirical - cdf)) < math.sqrt(math.log(2 / alpha) / (2 * n))


def test_lsgan_discriminator_matches_pointwise_maximiser():
    # The objective is flat to second order at its maximum, so a search on function
    # values locates the maximiser only to about the square root of the rounding error.
    g, h, c = 1.5, -1.0, 0.5
    for x in np.linspace(-0.5, 10.0, 23):
        p = float(data_density(x, c))
        q = float(generator_density(x, g, h))
        expected = dim.pointwise_maximiser(p, q)
        assert float(dim.lsgan_laws_optimal_discriminator(x, g, h, c)) == pytest.approx(
            expected, abs=1e-7)


def test_logistic_fit_reaches_optimal_value():
    g, h, c = 1.5, 0.0, 0.5
    fit = dim.fit_logistic_discriminator(g, h, c)
    alpha, beta, gamma = fit.coefficients
    assert alpha == pytest.approx(math.log(c * g), abs=1e-5)
    assert beta == pytest.approx(1 / g - c, abs=1e-5)
    assert gamma == pytest.approx(0.0, abs=1e-5)
    assert fit.value == pytest.approx(fit.optimal_value, abs=1e-10)


def test_logistic_fit_falls_short_when_supports_differ():
    fit = dim.fit_logistic_discriminator(1.5, -1.0, 0.5)
    assert fit.value < fit.optimal_value - 0.01


def test_lsgan_optimal_value_at_matching_generator():
    assert dim.lsgan_laws_optimal_value(2.0, 0.0, 0.5) == pytest.approx(-math.log(4.0), abs=1e-12)


def test_contrast_rejects_invalid_parameters():
    with pytest.raises(ValueError, match="g must be positive"):
        dim.pushforward_density(1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="c must be positive"):
        dim.lsgan_laws_optimal_value(1.0, 0.0, -1.0)
    with pytest.raises(ValueError, match="not both 0"):
        dim.pointwise_maximiser(0.0, 0.0)
    with pytest.raises(ValueError, match="epsilon must be positive"):
        dim.data_mass_near_line(0.0)
