"""Tests of gan_book.games: closed-form eigenvalues against numerics and trajectories."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_book import games

step_sizes = st.floats(min_value=1e-3, max_value=1.9)


def _finite_difference_jacobian(update, point, delta=1e-6):
    point = np.asarray(point, dtype=float)
    columns = []
    for index in range(2):
        shift = np.zeros(2)
        shift[index] = delta
        columns.append((update(point + shift) - update(point - shift)) / (2 * delta))
    return np.stack(columns, axis=1)


def _sorted(values):
    return np.array(sorted(np.asarray(values, dtype=complex), key=lambda v: (v.real, v.imag)))


@settings(max_examples=50, deadline=None)
@given(step_size=step_sizes, scheme=st.sampled_from(games.SCHEMES))
def test_bilinear_eigenvalues_match_numerics(step_size, scheme):
    jacobian = games.bilinear_jacobian(step_size, scheme)
    exact = games.bilinear_eigenvalues(step_size, scheme)
    np.testing.assert_allclose(_sorted(exact), _sorted(np.linalg.eigvals(jacobian)),
                               atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(step_size=step_sizes, scheme=st.sampled_from(games.SCHEMES))
def test_bilinear_jacobian_matches_update(step_size, scheme):
    def update(point):
        return games.bilinear_trajectory(point[0], point[1], step_size, 1, scheme)[1]

    numeric = _finite_difference_jacobian(update, (0.3, -0.7))
    np.testing.assert_allclose(numeric, games.bilinear_jacobian(step_size, scheme),
                               atol=1e-8)


def test_simultaneous_radius_grows_exactly():
    step_size, steps = 0.1, 200
    path = games.bilinear_trajectory(1.0, 0.0, step_size, steps, "simultaneous")
    radius = np.linalg.norm(path, axis=1)
    expected = (1 + step_size**2) ** (np.arange(steps + 1) / 2)
    np.testing.assert_allclose(radius, expected, rtol=1e-12)


def test_alternating_conserves_quadratic_form():
    step_size = 0.3
    path = games.bilinear_trajectory(1.0, 0.5, step_size, 1000, "alternating")
    x, y = path.T
    invariant = x**2 + y**2 - step_size * x * y
    np.testing.assert_allclose(invariant, invariant[0], rtol=1e-10)


def test_alternating_eigenvalues_on_unit_circle():
    for step_size in (0.01, 0.5, 1.0, 1.99):
        moduli = np.abs(games.bilinear_eigenvalues(step_size, "alternating"))
        np.testing.assert_allclose(moduli, 1.0, atol=1e-12)


def test_alternating_diverges_beyond_two():
    assert games.spectral_radius(games.bilinear_jacobian(2.5, "alternating")) > 1


@pytest.mark.parametrize("loss", games.DIRAC_LOSSES)
@pytest.mark.parametrize("penalty, noise", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.8), (2.0, 1.5)])
def test_dirac_field_jacobian_exact(loss, penalty, noise):
    def field(point):
        return games.dirac_field(point[0], point[1], loss=loss, gradient_penalty=penalty,
                                 noise_std=noise)

    numeric = _finite_difference_jacobian(field, (0.0, 0.0))
    exact = games.dirac_field_jacobian(gradient_penalty=penalty, noise_std=noise)
    np.testing.assert_allclose(numeric, exact, atol=1e-8)
    np.testing.assert_allclose(
        _sorted(games.dirac_field_eigenvalues(gradient_penalty=penalty, noise_std=noise)),
        _sorted(np.linalg.eigvals(exact)), atol=1e-12)


@pytest.mark.parametrize("scheme", games.SCHEMES)
@pytest.mark.parametrize("penalty, noise", [(0.0, 0.0), (0.5, 0.0), (0.0, 1.0)])
def test_dirac_update_jacobian_exact(scheme, penalty, noise):
    step_size = 0.2

    def update(point):
        return games.dirac_trajectory(point[0], point[1], step_size, 1, scheme,
                                      gradient_penalty=penalty, noise_std=noise)[1]

    exact = games.dirac_update_jacobian(step_size, scheme, gradient_penalty=penalty,
                                        noise_std=noise)
    np.testing.assert_allclose(_finite_difference_jacobian(update, (0.0, 0.0)), exact,
                               atol=1e-8)
    np.testing.assert_allclose(
        _sorted(games.dirac_update_eigenvalues(step_size, scheme, gradient_penalty=penalty,
                                               noise_std=noise)),
        _sorted(np.linalg.eigvals(exact)), atol=1e-12)


def test_dirac_noise_matches_monte_carlo():
    rng = np.random.default_rng(0)
    theta, psi, sigma = 0.7, -1.3, 0.9
    eps_fake, eps_real = sigma * rng.standard_normal((2, 400_000))
    fake, real = theta + eps_fake, eps_real
    sigmoid = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    samples = real * sigmoid(-psi * real) - fake * sigmoid(psi * fake)
    field = games.dirac_field(theta, psi, noise_std=sigma)
    standard_error = samples.std() / np.sqrt(samples.size)
    assert abs(field[1] - samples.mean()) < 4 * standard_error


def test_dirac_plain_never_converges():
    saturating = games.dirac_trajectory(0.1, 0.0, 0.1, 3000, "simultaneous",
                                        loss="saturating")
    assert np.linalg.norm(saturating[-1]) > 10 * np.linalg.norm(saturating[0])
    # The non-saturating loss pulls far points inwards, so the outward spiral near the
    # equilibrium ends on a cycle instead of at (0, 0).
    for start in (0.1, 3.0):
        path = games.dirac_trajectory(start, 0.0, 0.1, 3000, "simultaneous")
        radius = np.linalg.norm(path[-500:], axis=1)
        assert radius.min() > 0.3


@pytest.mark.parametrize("loss", games.DIRAC_LOSSES)
def test_dirac_regularised_converges(loss):
    damped = games.dirac_trajectory(1.0, 0.0, 0.1, 3000, "simultaneous", loss=loss,
                                    gradient_penalty=1.0)
    assert np.linalg.norm(damped[-1]) < 1e-3
    noisy = games.dirac_trajectory(1.0, 0.0, 0.1, 3000, "simultaneous", loss=loss,
                                   noise_std=1.0)
    assert np.linalg.norm(noisy[-1]) < 0.1


def test_dirac_spectral_radius_signs():
    plain = games.dirac_update_eigenvalues(0.1, "simultaneous")
    assert np.all(np.abs(plain) > 1)
    damped = games.dirac_update_eigenvalues(0.1, "simultaneous", gradient_penalty=1.0)
    assert np.all(np.abs(damped) < 1)


@pytest.mark.parametrize("call, match", [
    (lambda: games.bilinear_jacobian(0.0, "simultaneous"), "step_size"),
    (lambda: games.bilinear_jacobian(float("nan"), "simultaneous"), "step_size"),
    (lambda: games.bilinear_jacobian(0.1, "sequential"), "scheme"),
    (lambda: games.bilinear_trajectory(1.0, 0.0, 0.1, -1, "alternating"), "steps"),
    (lambda: games.bilinear_trajectory(float("inf"), 0.0, 0.1, 3, "alternating"), "x0"),
    (lambda: games.dirac_field(0.0, 0.0, loss="wasserstein"), "loss"),
    (lambda: games.dirac_field(0.0, 0.0, gradient_penalty=-1.0), "gradient_penalty"),
    (lambda: games.dirac_field_jacobian(noise_std=float("nan")), "noise_std"),
])
def test_invalid_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
