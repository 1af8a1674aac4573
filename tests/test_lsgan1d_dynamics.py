"""Tests of exact and stochastic ascent-descent paths of the 1-D LS-GAN."""

import numpy as np
import pytest

from gan_book.lsgan1d import CASE_A, CASE_B, cost_and_gradient, sgd_trajectory, trajectory


@pytest.fixture(scope="module")
def case_a():
    return trajectory(CASE_A["start"], CASE_A["c"])


def test_shapes_and_start(case_a):
    assert case_a.params.shape == (250, 4)
    assert case_a.cost.shape == case_a.j1.shape == case_a.j2.shape == (250,)
    assert case_a.gradient.shape == (250, 4)
    assert np.array_equal(case_a.params[0], CASE_A["start"])


def test_first_step_follows_update_rule(case_a):
    gradient = cost_and_gradient(*CASE_A["start"], CASE_A["c"]).gradient
    expected = np.array(CASE_A["start"]) + 0.4 * np.array([1, 1, -1, -1]) * gradient
    assert np.allclose(case_a.params[1], expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("case", [CASE_A, CASE_B])
@pytest.mark.parametrize("free", [("a", "b", "g", "h"), ("b", "h")])
def test_paper_cases_reach_plateau(case, free):
    path = trajectory(case["start"], case["c"], free=free)
    # The cost saturates near 1 and the gradients nearly vanish (the plateau).
    assert abs(path.cost[-1] - 1.0) < 3e-3
    assert np.abs(path.gradient[-1] * np.isin(["a", "b", "g", "h"], free)).max() < 0.02
    assert path.cost[0] > path.cost[-1] or case is CASE_B


def test_two_dimensional_variant_freezes_a_and_g():
    path = trajectory(CASE_B["start"], CASE_B["c"], free=("b", "h"), steps=20)
    assert np.all(path.params[:, 0] == CASE_B["start"][0])
    assert np.all(path.params[:, 2] == CASE_B["start"][2])
    assert not np.all(path.params[:, 1] == CASE_B["start"][1])


def test_batch_equals_single_runs():
    starts = np.array([CASE_A["start"], (1.0, 0.0, 2.0, -1.0)])
    batch = trajectory(starts, 0.5, steps=15)
    assert batch.params.shape == (16, 2, 4)
    single = trajectory(starts[1], 0.5, steps=15)
    assert np.allclose(batch.params[:, 1], single.params, rtol=0, atol=1e-14)


def test_alternating_updates_generator_after_discriminator():
    simultaneous = trajectory(CASE_A["start"], CASE_A["c"], steps=1)
    alternating = trajectory(CASE_A["start"], CASE_A["c"], steps=1, scheme="alternating")
    # The discriminator step is the same; the generator then uses the new gradient.
    assert np.array_equal(alternating.params[1, :2], simultaneous.params[1, :2])
    moved = np.concatenate([simultaneous.params[1, :2], CASE_A["start"][2:]])
    gradient = cost_and_gradient(*moved, CASE_A["c"]).gradient
    expected = np.array(CASE_A["start"][2:]) - 0.4 * gradient[2:]
    assert np.allclose(alternating.params[1, 2:], expected, rtol=0, atol=1e-15)
    assert not np.allclose(alternating.params[1, 2:], simultaneous.params[1, 2:])


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"free": ("x",)}, "free"),
        ({"free": ()}, "free"),
        ({"scheme": "jacobi"}, "scheme"),
        ({"step_size": -0.1}, "step_size"),
        ({"step_size": np.nan}, "step_size"),
        ({"steps": 2.5}, "steps"),
    ],
)
def test_invalid_settings_rejected(kwargs, word):
    with pytest.raises(ValueError, match=word):
        trajectory(CASE_A["start"], CASE_A["c"], **kwargs)


def test_invalid_start_rejected():
    with pytest.raises(ValueError, match="start"):
        trajectory((1.0, 2.0, 3.0), 0.5)
    with pytest.raises(ValueError, match=r"\bg\b"):
        trajectory((1.0, 0.0, -1.0, 0.0), 0.5)


def test_leaving_domain_raises():
    with pytest.raises(ValueError, match="left the verified domain"):
        trajectory((1.0, 0.0, 1.0, -9.9), 0.5, step_size=100.0, steps=10)


def test_sgd_mean_path_matches_exact_path(case_a):
    runs = sgd_trajectory(CASE_A["start"], CASE_A["c"], runs=50, samples=1000, seed=7)
    assert runs.params.shape == (250, 50, 4)
    mean = runs.params.mean(axis=1)
    standard_error = runs.params.std(axis=1, ddof=1) / np.sqrt(50)
    for k in range(10, 250, 10):
        for i in range(4):
            assert abs(mean[k, i] - case_a.params[k, i]) <= 4 * standard_error[k, i], (k, i)


def test_sgd_runs_reuse_or_redraw_samples():
    reused = sgd_trajectory(CASE_A["start"], CASE_A["c"], runs=3, samples=200, steps=5)
    again = sgd_trajectory(CASE_A["start"], CASE_A["c"], runs=3, samples=200, steps=5)
    fresh = sgd_trajectory(
        CASE_A["start"], CASE_A["c"], runs=3, samples=200, steps=5, resample=True
    )
    assert np.array_equal(reused.params, again.params)
    assert np.array_equal(reused.params[1], fresh.params[1])
    assert not np.array_equal(reused.params[2], fresh.params[2])


def test_sgd_gradient_is_sample_mean():
    # With one run of many samples the sample gradient approaches the exact one.
    runs = sgd_trajectory(CASE_A["start"], CASE_A["c"], runs=1, samples=400_000, steps=0)
    exact = cost_and_gradient(*CASE_A["start"], CASE_A["c"]).gradient
    assert np.allclose(runs.gradient[0, 0], exact, atol=5e-3)
    assert runs.cost[0, 0] == pytest.approx(float(cost_and_gradient(*CASE_A["start"], 0.5).cost), abs=5e-3)


def test_sgd_invalid_settings_rejected():
    with pytest.raises(ValueError, match="runs"):
        sgd_trajectory(CASE_A["start"], CASE_A["c"], runs=0)
    with pytest.raises(ValueError, match="start"):
        sgd_trajectory(np.array([CASE_A["start"]] * 2), CASE_A["c"])
