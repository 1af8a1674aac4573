"""Tests of gan_book.errata against closed forms, finite differences and the
mechanisms its docstrings state: batch norm removes a per-channel offset, Adam's
first step has size lr, and float32 BCELoss breaks down at the logits its clamps
predict."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gan_book import errata
from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.model import Discriminator, initialise_weights

MNIST = DCGANConfig(image_size=28, channels=1)


def test_input_batchnorm_layout_normalises_first_layer():
    paper = Discriminator(MNIST)
    with_bn = errata.discriminator_with_input_batchnorm(MNIST)
    assert [type(layer) for layer in paper.main[:2]] == [nn.Conv2d, nn.LeakyReLU]
    assert [type(layer) for layer in with_bn.main[:3]] == [nn.Conv2d, nn.BatchNorm2d,
                                                          nn.LeakyReLU]
    assert len(with_bn.main) == len(paper.main) + 1


def test_first_convolution_shift_is_constant_inside():
    torch.manual_seed(1)
    conv = Discriminator(MNIST).main[0]
    images = errata.real_digits(8)
    shift = 0.3
    with torch.no_grad():
        change = conv(images + shift) - conv(images)
    expected = shift * conv.weight.sum(dim=(1, 2, 3))  # c * sum(w) per output channel
    # Outputs 1..12 of 14 see no zero padding (kernel 4, stride 2, padding 1).
    inside = change[:, :, 1:-1, 1:-1]
    torch.testing.assert_close(inside, expected[None, :, None, None].expand_as(inside),
                               atol=1e-6, rtol=1e-5)
    border = change[:, :, 0, :]
    assert not torch.allclose(border, expected[None, :, None].expand_as(border), atol=1e-4)


def test_batchnorm_removes_per_channel_offset():
    torch.manual_seed(2)
    norm = nn.BatchNorm2d(5).train()
    features = torch.randn(16, 5, 6, 6)
    offset = torch.randn(5)[None, :, None, None] * 10
    with torch.no_grad():
        torch.testing.assert_close(norm(features + offset), norm(features),
                                   atol=2e-5, rtol=1e-4)


def test_input_batchnorm_halves_shift_response():
    result = errata.input_batchnorm_shift(shifts=(-0.5, 0.2, 0.5), batch_size=32, seed=3)
    assert result.paper_change.shape == (3,)
    assert np.all(result.paper_change > 0)
    assert np.all(result.input_bn_change < 0.6 * result.paper_change)
    assert result.paper_logit_spread > 0


def test_first_adam_step_moves_weights_by_lr():
    rates = (2e-4, 5e-3)
    result = errata.first_adam_step(learning_rates=rates, batch_size=16, seed=0)
    np.testing.assert_allclose(result.step_sizes, rates, rtol=1e-3)
    ratio = result.relative_change[1] / result.relative_change[0]
    assert abs(ratio - 25) < 0.5
    # Random N(0, 0.02^2) weights moved by lr each: relative change about lr / 0.02.
    np.testing.assert_allclose(result.relative_change, np.array(rates) / 0.02, rtol=0.1)


def test_zero_centred_scales_silence_generator():
    result = errata.batchnorm_scale_init(scale_means=(1.0, 0.0), batch_size=16, seed=0)
    assert result.negative_share[0] == 0.0
    # About half of some 450 scales drawn from N(0, 0.02^2) are negative.
    assert 0.4 < result.negative_share[1] < 0.6
    assert result.pixel_std[1] < result.pixel_std[0] / 20


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1 - 1e-6), st.floats(min_value=0.5, max_value=1.0))
def test_generator_gradients_match_closed_forms(d_fake, target):
    grads = errata.generator_loss_gradients(d_fake=(d_fake,), smoothed_target=target)
    assert grads.saturating[0] == pytest.approx(-d_fake, rel=1e-9)
    assert grads.non_saturating[0] == pytest.approx(d_fake - 1, rel=1e-9)
    assert grads.smoothed[0] == pytest.approx(d_fake - target, rel=1e-9, abs=1e-12)


def test_saturating_gradient_matches_finite_difference():
    p = 0.01
    logit = math.log(p / (1 - p))
    step = 1e-6

    def saturating(value: float) -> float:
        return math.log1p(-1 / (1 + math.exp(-value)))

    numeric = (saturating(logit + step) - saturating(logit - step)) / (2 * step)
    grads = errata.generator_loss_gradients(d_fake=(p,))
    assert grads.saturating[0] == pytest.approx(numeric, rel=1e-6)
    assert grads.non_saturating[0] / grads.saturating[0] == pytest.approx(99, rel=1e-9)


def test_sigmoid_bce_agrees_near_zero_and_breaks_far():
    result = errata.sigmoid_bce((-5.0, -20.0, -40.0, -110.0), target=1.0)
    np.testing.assert_allclose(result.fused_gradient, result.exact_gradient, atol=1e-6)
    np.testing.assert_allclose(result.split_gradient[:2], result.exact_gradient[:2],
                               rtol=1e-5)
    assert abs(result.split_gradient[2]) < 1e-4  # should be about -1
    assert result.split_gradient[3] == 0.0
    assert result.split_loss[3] == pytest.approx(-errata.BCE_LOG_FLOOR)


def test_breakdown_logits_match_the_clamps():
    # Target 1: the backward pass divides by max(p (1 - p), 1e-12), so the gradient is
    # off by more than 1% once p (1 - p) < 0.99e-12, that is below log(0.99e-12).
    threshold = math.log(0.99 * errata.BCE_BACKWARD_EPS)
    assert errata.sigmoid_bce_breakdown(1.0) == pytest.approx(threshold, abs=0.05)
    # Target 0: float32 sigmoid rounds to 1 once exp(-l) < 2**-24, near l = 16.6.
    breakdown = errata.sigmoid_bce_breakdown(0.0)
    assert 16.0 < breakdown < 17.5
    assert errata.sigmoid_bce((float(breakdown) + 1,), target=0.0).split_gradient[0] == 0.0


@pytest.mark.parametrize(("call", "message"), [
    (lambda: errata.input_batchnorm_shift(shifts=(0.0,)), "shifts"),
    (lambda: errata.input_batchnorm_shift(batch_size=1), "batch_size"),
    (lambda: errata.first_adam_step(learning_rates=(-1e-3,)), "learning_rates"),
    (lambda: errata.batchnorm_scale_init(scale_means=()), "scale_means"),
    (lambda: errata.generator_loss_gradients(d_fake=(1.0,)), "d_fake"),
    (lambda: errata.generator_loss_gradients(smoothed_target=0.0), "smoothed_target"),
    (lambda: errata.sigmoid_bce((1.0,), target=0.5), "target"),
    (lambda: errata.sigmoid_bce((math.inf,), target=1.0), "logits"),
    (lambda: errata.sigmoid_bce_breakdown(low=1.0), "low < 0 < high"),
    (lambda: errata.real_digits(20_000), "count"),
])
def test_invalid_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_shared_initialisation_is_reproducible():
    first = errata.input_batchnorm_shift(shifts=(0.2,), batch_size=8, seed=5)
    second = errata.input_batchnorm_shift(shifts=(0.2,), batch_size=8, seed=5)
    np.testing.assert_array_equal(first.paper_change, second.paper_change)
    np.testing.assert_array_equal(first.input_bn_change, second.input_bn_change)
    torch.manual_seed(5)
    paper = Discriminator(MNIST)
    paper.apply(lambda module: initialise_weights(module, MNIST))
    assert float(paper.main[0].weight.detach().std()) == pytest.approx(0.02, rel=0.1)
