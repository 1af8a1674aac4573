"""Tests of the digit-classifier quality measure behind the DCGAN chapter.

The classifier comes from the book's result cache, so after a build these tests
cost a fraction of a second. Without a cache the first one trains it (about 7 s).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_book.book.cache import cached
from gan_book.dcgan.data import fit_images, load_mnist10k
from gan_book.dcgan_quality import (
    RECOGNISABLE_MIN_CONFIDENCE,
    ClassifierConfig,
    TrainedClassifier,
    class_coverage,
    frechet_distance,
    prepare_images,
    real_reference_images,
    score_samples,
    train_classifier,
)

ACCURACY_FLOOR = 0.95


@pytest.fixture(scope="module")
def classifier() -> TrainedClassifier:
    return cached(train_classifier)(ClassifierConfig())


def test_classifier_accuracy_floor(classifier):
    assert classifier.test_accuracy >= ACCURACY_FLOOR
    assert len(classifier.test_indices) == ClassifierConfig().test_size


def test_held_out_split_is_disjoint_from_training(classifier):
    images, _ = load_mnist10k()
    held_out = set(classifier.test_indices.tolist())
    assert len(held_out) == len(classifier.test_indices)
    assert held_out <= set(range(len(images)))


def test_real_digits_are_recognisable(classifier):
    first_half, _ = real_reference_images(classifier)
    report = score_samples(classifier, first_half)
    assert report.recognisable
    assert report.covered_classes == 10
    assert report.mean_top_probability >= 0.9
    # Scored against the other half, the real digits reproduce the reference value.
    assert report.frechet_distance == pytest.approx(report.reference_frechet_distance)


def test_uniform_noise_is_not_recognisable(classifier):
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1.0, 1.0, size=(1000, 1, 28, 28)).astype(np.float32)
    report = score_samples(classifier, noise)
    assert not report.recognisable
    assert report.mean_top_probability < RECOGNISABLE_MIN_CONFIDENCE
    assert report.frechet_distance > 20 * report.reference_frechet_distance


def test_blank_images_are_not_recognisable(classifier):
    blank = np.full((500, 1, 28, 28), -1.0, dtype=np.float32)
    report = score_samples(classifier, blank)
    assert not report.recognisable
    assert report.covered_classes == 1


def test_single_class_is_not_recognisable(classifier):
    # A fully mode-collapsed generator: sharp, real digits, but all ones.
    images, labels = load_mnist10k()
    ones = images[labels == 1][:500]
    report = score_samples(classifier, ones)
    assert report.mean_top_probability >= 0.9
    assert report.covered_classes == 1
    assert not report.recognisable
    assert report.frechet_distance > 20 * report.reference_frechet_distance


def test_padded_32_matches_28(classifier):
    images, _ = load_mnist10k()
    sample = images[:50]
    padded = fit_images(sample, 32, 1, fit="pad")
    assert torch.equal(prepare_images(padded), prepare_images(sample))


def test_colour_and_resized_inputs_are_accepted(classifier):
    images, _ = load_mnist10k()
    first_half, _ = real_reference_images(classifier)
    large = fit_images(first_half, 64, 3, fit="resize")
    report = score_samples(classifier, large)
    assert report.recognisable
    assert prepare_images(large).shape == (len(first_half), 1, 28, 28)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((4, 2, 28, 28), np.float32), "shape"),
        (np.zeros((4, 1, 28, 30), np.float32), "shape"),
        (np.zeros((0, 28, 28), np.float32), "empty"),
        (np.full((2, 28, 28), np.nan, np.float32), "NaN"),
        (np.zeros((2, 28, 28), np.int32), "uint8 or floating"),
    ],
)
def test_prepare_images_rejects_bad_input(images, message):
    with pytest.raises(ValueError, match=message):
        prepare_images(images)


def test_frechet_distance_zero_for_identical_sets():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9 * np.trace(np.cov(features.T)))


def test_frechet_distance_of_a_shift():
    # Equal covariances cancel, leaving |mu_a - mu_b|^2 exactly.
    rng = np.random.default_rng(2)
    features = rng.normal(size=(400, 8)) @ rng.normal(size=(8, 8))
    shift = rng.normal(size=8)
    assert frechet_distance(features, features + shift) == pytest.approx(shift @ shift, rel=1e-8)


@pytest.mark.parametrize("scale", [0.0, 0.5, 2.0, 3.0])
def test_frechet_distance_of_a_scaling(scale):
    # b = s a gives mu_b = s mu_a and Sigma_b = s^2 Sigma_a, so
    # d_F^2 = (1 - s)^2 (|mu_a|^2 + tr Sigma_a).
    rng = np.random.default_rng(3)
    features = rng.normal(loc=1.0, size=(300, 6)) @ rng.normal(size=(6, 6))
    mean = features.mean(axis=0)
    expected = (1.0 - scale) ** 2 * (mean @ mean + np.trace(np.cov(features.T)))
    assert frechet_distance(features, scale * features) == pytest.approx(expected, rel=1e-7, abs=1e-9)


def test_frechet_distance_positive_and_symmetric():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(300, 5))
    b = rng.normal(size=(300, 5)) * 1.5 + 0.2
    forward = frechet_distance(a, b)
    assert forward > 0
    assert frechet_distance(b, a) == pytest.approx(forward, rel=1e-9)


@pytest.mark.parametrize(
    "a, b, message",
    [
        (np.zeros((5, 3)), np.zeros((5, 4)), "same number of columns"),
        (np.zeros(5), np.zeros(5), "2-D"),
        (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2 rows"),
        (np.full((5, 3), np.inf), np.zeros((5, 3)), "NaN or infinite"),
    ],
)
def test_frechet_distance_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(a, b)


def test_class_coverage_threshold():
    # 100 images: 60 of class 0, 38 of class 1, 2 of class 2 (below 2.5 %).
    labels = np.array([0] * 60 + [1] * 38 + [2] * 2)
    probabilities = np.eye(10)[labels]
    covered, counts = class_coverage(probabilities)
    assert covered == 2
    assert counts[:3].tolist() == [60, 38, 2]
    assert class_coverage(probabilities, min_class_share=0.0)[0] == 3


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"test_size": 0}, "test_size"),
        ({"test_size": 9995}, "too few"),
        ({"epochs": 0}, "epochs"),
        ({"max_learning_rate": 0.0}, "max_learning_rate"),
        ({"conv_widths": (8,)}, "conv_widths"),
    ],
)
def test_classifier_config_rejects_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        ClassifierConfig(**overrides)
