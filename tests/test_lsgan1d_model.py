"""Tests of the 1-D LS-GAN model and its exact cost against quadrature."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import test_lsgan1d_reference as reference
from gan_book.lsgan1d import (
    DOMAIN,
    cost_and_gradient,
    data_density,
    discriminator,
    generator,
    generator_density,
    latent_density,
)


def domain_values(name):
    """Values across DOMAIN[name], edges included; positive ones also log-uniform."""
    low, high = DOMAIN[name]
    plain = st.floats(min_value=low, max_value=high)
    if low <= 0:
        return plain
    logarithmic = st.floats(min_value=np.log(low), max_value=np.log(high)).map(
        lambda v: float(np.clip(np.exp(v), low, high))
    )
    return st.one_of(plain, logarithmic, st.sampled_from([low, high]))


parameters = st.tuples(*(domain_values(name) for name in ("a", "b", "g", "h", "c")))


def close(value, expected, relative=1e-9, absolute=1e-15):
    return abs(value - expected) <= max(absolute, relative * abs(expected))


def test_densities_integrate_to_one():
    assert quad(latent_density, 0, np.inf)[0] == pytest.approx(1.0, abs=1e-12)
    assert quad(lambda x: generator_density(x, 1.5, -2.0), -2.0, np.inf)[0] == pytest.approx(
        1.0, abs=1e-12
    )
    assert quad(lambda x: data_density(x, 0.5), 0, np.inf)[0] == pytest.approx(1.0, abs=1e-12)


def test_generator_pushes_latent_to_generator_density():
    # G(z) = g z^2 + h with z^2 ~ Exp(1), so P(G(z) > x) = exp(-(x - h)/g).
    g, h, x = 1.5, -2.0, 0.7
    tail = quad(lambda z: latent_density(z), np.sqrt((x - h) / g), np.inf)[0]
    density_tail = quad(lambda y: generator_density(y, g, h), x, np.inf)[0]
    assert tail == pytest.approx(density_tail, rel=1e-10)
    assert generator(np.sqrt((x - h) / g), g, h) == pytest.approx(x, rel=1e-14)


def test_discriminator_range_and_midpoint():
    assert discriminator(1.5, 2.0, -3.0) == pytest.approx(0.5, abs=1e-15)
    values = discriminator(np.linspace(-50, 50, 101), 0.5, 0.0)
    assert np.all((values >= 0) & (values <= 1))
    assert np.all(np.diff(values) >= 0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: generator(1.0, 0.0, 0.0), "g"),
        (lambda: generator_density(1.0, -1.0, 0.0), "g"),
        (lambda: data_density(1.0, 0.0), "c"),
        (lambda: discriminator(1.0, 0.0, 0.0), "a"),
        (lambda: discriminator(1.0, 1.0, np.nan), "b"),
        (lambda: latent_density(np.inf), "z"),
        (lambda: cost_and_gradient(-1.0, 0.0, 1.0, 0.0, 1.0), "a"),
        (lambda: cost_and_gradient(1.0, 0.0, 0.0, 0.0, 1.0), "g"),
        (lambda: cost_and_gradient(1.0, 0.0, 1.0, 0.0, -2.0), "c"),
        (lambda: cost_and_gradient(1.0, 11.0, 1.0, 0.0, 1.0), "b"),
        (lambda: cost_and_gradient(1.0, 0.0, 1.0, np.inf, 1.0), "h"),
        (lambda: cost_and_gradient(25.0, 0.0, 1.0, 0.0, 1.0), "a"),
    ],
)
def test_invalid_parameter_named(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_unknown_key_integral_mode_rejected():
    with pytest.raises(ValueError, match="key_integral"):
        cost_and_gradient(1.0, 0.0, 1.0, 0.0, 1.0, key_integral="quadrature")


@settings(max_examples=150, deadline=None)
@given(parameters)
def test_cost_matches_quadrature(point):
    result = cost_and_gradient(*point)
    j1, j2 = reference.cost_terms(*point)
    assert close(float(result.j1), j1), (float(result.j1), j1)
    assert close(float(result.j2), j2), (float(result.j2), j2)


@settings(max_examples=100, deadline=None)
@given(parameters)
def test_gradient_matches_quadrature(point):
    gradient = cost_and_gradient(*point).gradient
    expected, scales = reference.gradient(*point)
    for i in range(4):
        # Where the data and generator terms cancel, the tolerance is relative to the
        # sum of their magnitudes (`scales`), the size of what is being subtracted.
        tolerance = max(1e-15, 1e-9 * abs(expected[i]), 5e-11 * scales[i])
        assert abs(gradient[i] - expected[i]) <= tolerance, (i, gradient[i], expected[i])


@pytest.mark.parametrize(
    "point",
    [(2.2, -3.0, 1.5, -2.0, 0.5), (1.21, -1.0, 0.35, -4.0, 4.04), (0.3, 1.5, 2.0, 0.4, 10.0)],
)
def test_gradient_matches_finite_differences(point):
    theta = np.array(point[:4])
    gradient = cost_and_gradient(*point).gradient
    for i in range(4):
        step = 1e-5 * max(abs(theta[i]), 1.0)
        offset = np.zeros(4)
        offset[i] = step
        forward = float(cost_and_gradient(*(theta + offset), point[4]).cost)
        backward = float(cost_and_gradient(*(theta - offset), point[4]).cost)
        difference = (forward - backward) / (2 * step)
        assert difference == pytest.approx(gradient[i], rel=1e-6, abs=1e-10)


def test_batch_equals_pointwise():
    rng = np.random.default_rng(3)
    a = rng.uniform(0.1, 5, 7)
    b = rng.uniform(-5, 5, 7)
    batch = cost_and_gradient(a[:, None], b[:, None], 1.5, np.array([-2.0, 0.5]), 0.5)
    assert batch.gradient.shape == (7, 2, 4)
    single = cost_and_gradient(a[3], b[3], 1.5, 0.5, 0.5)
    assert batch.cost[3, 1] == single.cost
    assert np.array_equal(batch.gradient[3, 1], single.gradient)


def test_monte_carlo_mode_close_to_exact():
    exact = cost_and_gradient(2.2, -3.0, 1.5, -2.0, 0.5)
    estimate = cost_and_gradient(2.2, -3.0, 1.5, -2.0, 0.5, key_integral="monte-carlo")
    # With 10^6 uniform samples the key integral is good to about three decimals.
    assert abs(float(estimate.cost) - float(exact.cost)) < 5e-3
    assert not np.array_equal(estimate.gradient, exact.gradient)


def test_monte_carlo_mode_rejects_arrays():
    with pytest.raises(ValueError, match="scalar"):
        cost_and_gradient(np.ones(2), 0.0, 1.0, 0.0, 1.0, key_integral="monte-carlo")
