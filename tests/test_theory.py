"""Tests of gan_book.theory against closed forms, identities and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from gan_book import theory

standard = stats.norm(0.0, 1.0)
means = st.floats(-4.0, 4.0)
scales = st.floats(0.3, 3.0)


def test_equal_densities_give_minus_log_4():
    assert theory.virtual_training_criterion(standard, stats.norm(0.0, 1.0)) == pytest.approx(
        -np.log(4.0), abs=1e-12)


def test_equal_densities_give_half_everywhere():
    x = np.linspace(-30.0, 30.0, 121)
    d_star = theory.optimal_discriminator_for(standard, stats.norm(0.0, 1.0))(x)
    assert np.all(d_star == 0.5)


def test_optimal_discriminator_at_chosen_points():
    # N(0, 1) against N(2, 1): log(p_data / p_g) = 2 - 2x, so D* = expit(2 - 2x).
    generated = stats.norm(2.0, 1.0)
    x = np.array([-1.0, 0.0, 1.0, 2.5])
    expected = special.expit(2.0 - 2.0 * x)
    from_densities = theory.optimal_discriminator(standard.pdf(x), generated.pdf(x))
    from_distributions = theory.optimal_discriminator_for(standard, generated)(x)
    np.testing.assert_allclose(from_densities, expected, rtol=1e-13)
    np.testing.assert_allclose(from_distributions, expected, rtol=1e-13)
    assert from_distributions[1] == pytest.approx(1.0 / (1.0 + np.exp(-2.0)), rel=1e-14)


def test_optimal_discriminator_far_in_the_tails():
    # Both densities underflow at x = 60, but the log-density form stays exact.
    d_star = theory.optimal_discriminator_for(standard, stats.norm(2.0, 1.0))(60.0)
    assert d_star == pytest.approx(special.expit(2.0 - 120.0), rel=1e-12)
    assert d_star > 0.0


def test_optimal_discriminator_rejects_negative_density():
    with pytest.raises(ValueError, match="non-negative"):
        theory.optimal_discriminator(np.array([0.1, -0.2]), np.array([0.3, 0.3]))


def test_non_distribution_argument_is_rejected():
    with pytest.raises(ValueError, match="frozen scipy.stats"):
        theory.jensen_shannon(standard, [0.1, 0.2])


def test_jsd_is_zero_for_equal_densities():
    assert theory.jensen_shannon(stats.norm(1.0, 2.0), stats.norm(1.0, 2.0)) == pytest.approx(
        0.0, abs=1e-13)


@settings(max_examples=25, deadline=None)
@given(means, scales, means, scales)
def test_jsd_is_symmetric_and_bounded(mean_p, scale_p, mean_q, scale_q):
    p, q = stats.norm(mean_p, scale_p), stats.norm(mean_q, scale_q)
    forward = theory.jensen_shannon(p, q)
    backward = theory.jensen_shannon(q, p)
    assert forward == pytest.approx(backward, abs=1e-11)
    assert -1e-13 <= forward <= np.log(2.0) + 1e-12


@pytest.mark.parametrize("gap", [0.0, 0.5, 3.0, 100.0])
def test_jsd_is_log_2_for_disjoint_supports(gap):
    p = stats.uniform(0.0, 1.0)
    q = stats.uniform(1.0 + gap, 2.0)
    assert theory.jensen_shannon(p, q) == pytest.approx(np.log(2.0), abs=1e-13)
    assert theory.virtual_training_criterion(p, q) == pytest.approx(0.0, abs=1e-12)


def test_jsd_of_uniforms_with_partial_overlap():
    # U(0, 1) against U(0.5, 1.5): the overlap [0.5, 1] has mass 1/2 under each, where
    # p = q and the terms vanish; elsewhere each term is p log 2. JSD = (1/2) log 2.
    p, q = stats.uniform(0.0, 1.0), stats.uniform(0.5, 1.0)
    assert theory.jensen_shannon(p, q) == pytest.approx(0.5 * np.log(2.0), abs=1e-13)


def test_jsd_against_brute_force_riemann_sum():
    p, q = stats.norm(0.0, 1.0), stats.norm(1.5, 0.7)
    x = np.linspace(-12.0, 12.0, 400_001)
    density_p, density_q = p.pdf(x), q.pdf(x)
    mixture = 0.5 * (density_p + density_q)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = 0.5 * np.where(density_p > 0, density_p * np.log(density_p / mixture), 0.0)
        integrand += 0.5 * np.where(density_q > 0, density_q * np.log(density_q / mixture), 0.0)
    brute_force = np.trapezoid(integrand, x)
    assert theory.jensen_shannon(p, q) == pytest.approx(brute_force, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(means, scales)
def test_theorem_1_two_ways_agree(mean, scale):
    generated = stats.norm(mean, scale)
    by_quadrature = theory.virtual_training_criterion(standard, generated)
    from_jsd = theory.criterion_from_jsd(standard, generated)
    fitted = theory.fit_quadratic_logit_discriminator(standard, generated)
    assert by_quadrature == pytest.approx(from_jsd, abs=1e-10)
    assert fitted.value == pytest.approx(from_jsd, abs=1e-8)
    assert from_jsd >= -np.log(4.0) - 1e-12


def test_fitted_discriminator_matches_closed_form_logit():
    # N(0, 1) against N(mu, s^2): log p_data - log p_g =
    # log s + (x - mu)^2 / (2 s^2) - x^2 / 2, a quadratic with known coefficients.
    mu, s = 1.5, 0.7
    fitted = theory.fit_quadratic_logit_discriminator(standard, stats.norm(mu, s))
    expected = (np.log(s) + mu**2 / (2 * s**2), -mu / s**2, 1 / (2 * s**2) - 0.5)
    np.testing.assert_allclose(fitted.coefficients, expected, rtol=1e-6, atol=1e-7)


def test_value_function_below_criterion_for_other_discriminators():
    generated = stats.norm(1.0, 1.0)
    best = theory.virtual_training_criterion(standard, generated)
    for slope in [-2.0, -0.5, 0.0, 0.5]:
        value = theory.value_function(lambda x, a=slope: a * (np.asarray(x) - 0.5), standard,
                                      generated)
        assert value <= best + 1e-12
    assert theory.value_function(lambda x: np.zeros_like(np.asarray(x, dtype=float)),
                                 standard, generated) == pytest.approx(-np.log(4.0), abs=1e-12)


def test_generator_loss_gradients_match_finite_differences():
    logit = np.linspace(-30.0, 30.0, 121)
    step = 1e-5
    for loss, gradient in [
        (theory.saturating_generator_loss, theory.saturating_loss_gradient),
        (theory.non_saturating_generator_loss, theory.non_saturating_loss_gradient),
    ]:
        central = (loss(logit + step) - loss(logit - step)) / (2 * step)
        np.testing.assert_allclose(central, gradient(logit), atol=1e-9)


def test_generator_losses_stay_finite_for_extreme_logits():
    logit = np.array([-1e9, -800.0, 0.0, 800.0, 1e9])
    for loss in (theory.saturating_generator_loss, theory.non_saturating_generator_loss):
        assert np.all(np.isfinite(loss(logit)))
    assert theory.non_saturating_generator_loss(-1e9) == pytest.approx(1e9)
    assert theory.saturating_loss_gradient(-1e9) == 0.0
    assert theory.non_saturating_loss_gradient(-1e9) == -1.0


def test_jsd_of_nearly_equal_gaussians():
    # Support ends 1e-13 apart once produced a quadrature piece of that width.
    jsd = theory.jensen_shannon(stats.norm(1e-13, 1.0), stats.norm(0.0, 1.0))
    assert abs(jsd) < 1e-13


def _jsd_on_tangent_scale(p, q) -> float:
    """Integrate the JSD after x = tan(u), which maps heavy tails to a finite interval."""
    from scipy import integrate

    def integrand(u: float) -> float:
        x = np.tan(u)
        jacobian = 1.0 + x * x
        log_p, log_q = p.logpdf(x), q.logpdf(x)
        log_m = np.logaddexp(log_p, log_q) - np.log(2.0)
        total = 0.0
        if np.isfinite(log_p):
            total += 0.5 * np.exp(log_p) * (log_p - log_m)
        if np.isfinite(log_q):
            total += 0.5 * np.exp(log_q) * (log_q - log_m)
        return total * jacobian

    edge = np.pi / 2 - 1e-12
    return integrate.quad(integrand, -edge, edge, points=[-1.2, -0.5, 0.0, 0.5, 1.2],
                          limit=400, epsabs=1e-13)[0]


@pytest.mark.parametrize("heavy", [stats.cauchy(), stats.t(1), stats.t(2), stats.cauchy(3, 0.1)])
def test_jsd_with_heavy_tails(heavy):
    expected = _jsd_on_tangent_scale(heavy, standard)
    assert expected > 0.01
    assert theory.jensen_shannon(heavy, standard) == pytest.approx(expected, abs=1e-9)


def test_degenerate_distribution_is_rejected():
    with pytest.raises(ValueError, match="degenerate or has invalid parameters"):
        theory.jensen_shannon(standard, stats.norm(0.0, 0.0))


def test_non_finite_density_is_rejected():
    with pytest.raises(ValueError, match="p_data must be finite"):
        theory.optimal_discriminator(np.array([np.nan]), np.array([1.0]))
