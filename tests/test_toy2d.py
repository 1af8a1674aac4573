"""Tests of gan_book.toy2d and gan_book.saturation: metrics on constructed cases and
short seeded runs that reproduce each failure mode."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from gan_book import saturation, toy2d

RING = toy2d.RingConfig(std=0.1)


def _points_at(modes, per_mode, spread, seed=0):
    rng = np.random.default_rng(seed)
    centres = toy2d.mode_centres(RING)[list(modes)]
    points = np.repeat(centres, per_mode, axis=0)
    return points + spread * rng.standard_normal(points.shape)


def test_metrics_all_modes_covered():
    metrics = toy2d.mode_metrics(_points_at(range(8), 250, 0.5 * RING.std), RING)
    assert metrics.modes_covered == 8
    assert metrics.modes_reached == 8
    assert metrics.high_quality_share > 0.99


def test_metrics_one_mode_only():
    metrics = toy2d.mode_metrics(_points_at([3], 2000, 0.5 * RING.std), RING)
    assert metrics.modes_covered == 1
    assert metrics.modes_reached == 1
    assert metrics.counts[3] == metrics.counts.sum()
    assert metrics.high_quality_share > 0.99


def test_metrics_blurry_reaches_but_does_not_cover():
    # Mass on every mode, but spread far beyond three standard deviations.
    metrics = toy2d.mode_metrics(_points_at(range(8), 250, 6 * RING.std), RING)
    assert metrics.modes_reached == 8
    assert metrics.modes_covered == 0
    # Within 3s of a centre when spread 6s: 1 - exp(-(3/6)^2 / 2) = 0.1175.
    assert abs(metrics.high_quality_share - (1 - np.exp(-0.125))) < 0.03


def test_metrics_quality_radius_exact():
    centre = toy2d.mode_centres(RING)[0]
    inside = centre + np.array([[2.99 * RING.std, 0.0]])
    outside = centre + np.array([[3.01 * RING.std, 0.0]])
    assert toy2d.mode_metrics(inside, RING).high_quality_share == 1.0
    assert toy2d.mode_metrics(outside, RING).high_quality_share == 0.0


def test_metrics_fair_share_threshold():
    # 8 modes, 800 points: a quarter of the fair share is 25 points.
    few = np.concatenate([_points_at([0], 776, 0.1 * RING.std),
                          _points_at([1], 24, 0.1 * RING.std)])
    enough = np.concatenate([_points_at([0], 775, 0.1 * RING.std),
                             _points_at([1], 25, 0.1 * RING.std)])
    assert toy2d.mode_metrics(few, RING).modes_covered == 1
    assert toy2d.mode_metrics(enough, RING).modes_covered == 2


def test_ring_samples_match_mixture():
    samples = toy2d.sample_ring(RING, 8000, torch.Generator().manual_seed(0)).numpy()
    metrics = toy2d.mode_metrics(samples, RING)
    # Within 3 std in 2-D: chi-square(2) tail exp(-9/2) = 1.1 %.
    assert abs(metrics.high_quality_share - (1 - np.exp(-4.5))) < 0.005
    assert metrics.modes_covered == 8
    # Each mode count is Binomial(8000, 1/8): sd about 30.
    assert np.all(np.abs(metrics.nearest_counts - 1000) < 5 * 30)


def test_discriminator_gap_cases():
    assert toy2d.discriminator_gap([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert toy2d.discriminator_gap([1.0], [0.0]) == 1.0


def test_seeded_run_reproduces():
    config = replace(toy2d.COLLAPSE, steps=40, record_every=20)
    first = toy2d.train(config)
    second = toy2d.train(config)
    np.testing.assert_array_equal(first.final_samples, second.final_samples)
    other = toy2d.train(replace(config, seed=1))
    assert not np.array_equal(first.final_samples, other.final_samples)


def test_short_collapse_run_and_remedy():
    steps = 800
    collapsed = toy2d.train(replace(toy2d.COLLAPSE, steps=steps))
    packed = toy2d.train(replace(toy2d.PACKED, steps=steps))
    assert collapsed.modes_reached[-1] <= 3
    assert packed.modes_reached[-1] >= 7
    assert packed.high_quality_share[-1] > collapsed.high_quality_share[-1]


def test_short_overpowered_run():
    result = toy2d.train(replace(toy2d.OVERPOWERED, steps=60))
    gaps = result.d_real - result.d_fake
    late = result.steps >= 30
    assert np.all(gaps[late] > 0.95)
    assert np.all(result.high_quality_share[late] == 0.0)


def test_views_and_animation():
    config = replace(toy2d.COLLAPSE, steps=20, record_every=10, snapshot_steps=(0, 20))
    result = toy2d.train(config)
    assert [view.step for view in result.views] == [0, 20]
    view = result.views[0]
    assert view.heat.shape == (64, 64)
    assert np.all((view.heat >= 0) & (view.heat <= 1))
    gif = toy2d.animate_views(result.views)
    assert gif[:6] == b"GIF89a"


@pytest.mark.parametrize("loss", toy2d.LOSSES)
def test_arrows_exact_for_linear_discriminator(loss):
    weight = torch.tensor([[0.7, -1.2]])
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(weight)
        linear.bias.fill_(0.3)
    points = np.array([[0.5, 0.5], [-2.0, 1.0], [3.0, -1.0]], dtype=np.float32)
    d = 1 / (1 + np.exp(-(points @ weight.numpy().T + 0.3)))  # (3, 1)
    scale = d if loss == "saturating" else 1 - d
    expected = scale * weight.numpy()
    np.testing.assert_allclose(toy2d.generator_arrows(linear, points, loss), expected,
                               rtol=1e-5)


def test_r1_penalty_linear_discriminator():
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[0.7, -1.2]]))
    points = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    penalty = toy2d.r1_penalty(linear, points)
    assert abs(penalty.item() - (0.7**2 + 1.2**2)) < 1e-6


def test_penalised_run_is_finite():
    result = toy2d.train(replace(toy2d.COLLAPSE, steps=20, record_every=10,
                                 gradient_penalty=1.0))
    assert np.all(np.isfinite(result.final_samples))
    assert np.all(np.isfinite(result.generator_grad_norm))


def test_saturation_short():
    result = saturation.measure_saturation(
        saturation.SaturationConfig(discriminator_steps=200, record_every=50))
    assert result.d_fake[-1] < 0.05
    assert result.saturating_grad_norm[-1] < 0.25 * result.saturating_grad_norm[0]
    assert result.non_saturating_grad_norm[-1] > 5 * result.non_saturating_grad_norm[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps"),
    ({"loss": "hinge"}, "loss"),
    ({"gradient_penalty": -1.0}, "gradient_penalty"),
    ({"generator_lr": float("nan")}, "generator_lr"),
    ({"pack": 3}, "multiple of pack"),
    ({"pack": 2, "snapshot_steps": (0,)}, "pack=1"),
    ({"snapshot_steps": (5000,)}, "snapshot_steps"),
])
def test_invalid_config_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        toy2d.TrainConfig(**kwargs)


@pytest.mark.parametrize("call, match", [
    (lambda: toy2d.RingConfig(modes=0), "modes"),
    (lambda: toy2d.RingConfig(std=-0.1), "std"),
    (lambda: toy2d.mode_metrics(np.zeros((5, 3)), RING), "shape"),
    (lambda: toy2d.mode_metrics(np.full((5, 2), np.nan), RING), "NaN"),
    (lambda: toy2d.discriminator_gap([1.5], [0.0]), "d_real"),
    (lambda: toy2d.animate_views([]), "empty"),
    (lambda: saturation.SaturationConfig(batch_size=0), "batch_size"),
])
def test_invalid_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
