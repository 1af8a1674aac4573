"""Tests of the DCGAN chapter's run and experiments (`gan_book.dcgan_study`).

`test_book_run_is_recognisable` makes the same cached calls as the chapter, so after
a build it reads the cached run and classifier. Without a cache it trains the book's
small configuration once (under a minute on an idle two-core machine).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_book.book.cache import cached
from gan_book.dcgan import smoke_config
from gan_book.dcgan.train import train
from gan_book.dcgan_quality import (
    RECOGNISABLE_MIN_CLASSES,
    RECOGNISABLE_MIN_CONFIDENCE,
    ClassifierConfig,
    score_samples,
    train_classifier,
)
from gan_book.dcgan_study import batchnorm_sampling, book_config, generate, interpolate, slerp


@pytest.fixture(scope="module")
def smoke_history():
    return train(smoke_config(steps=2, threads=1))


def test_book_run_is_recognisable():
    history = cached(train)(book_config())
    classifier = cached(train_classifier)(ClassifierConfig())
    report = score_samples(classifier, generate(history, 1000, seed=1))
    assert report.covered_classes >= RECOGNISABLE_MIN_CLASSES
    assert report.mean_top_probability >= RECOGNISABLE_MIN_CONFIDENCE
    assert report.recognisable


def test_book_config_fits_mnist():
    config = book_config()
    assert config.image_size == 28
    assert config.out is None
    assert max(config.history_samples) < config.steps


def test_slerp_keeps_endpoints_and_norm():
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(50, generator=generator)
    end = torch.randn(50, generator=generator)
    end = end * start.norm() / end.norm()
    path = slerp(start, end, torch.linspace(0, 1, 7))
    assert torch.allclose(path[0], start, atol=1e-5)
    assert torch.allclose(path[-1], end, atol=1e-5)
    assert torch.allclose(path.norm(dim=1), start.norm().expand(7), rtol=1e-5)


def test_slerp_of_parallel_vectors_is_a_line():
    start = torch.ones(4)
    path = slerp(start, 3 * start, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(path, torch.stack([start, 2 * start, 3 * start]))


def test_interpolate_shape_and_endpoints(smoke_history):
    walks = interpolate(smoke_history, seed=3, rows=2, steps=5)
    config = smoke_history.config
    assert walks.shape == (10, config.channels, config.image_size, config.image_size)
    assert not np.allclose(walks[0], walks[4])


def test_interpolate_rejects_short_walks(smoke_history):
    with pytest.raises(ValueError, match="steps >= 2"):
        interpolate(smoke_history, seed=0, steps=1)


def test_batchnorm_sampling_modes(smoke_history):
    demo = batchnorm_sampling(smoke_history, seed=5, batch_size=8)
    assert demo.training_difference > 0
    assert demo.evaluation_difference == 0.0
    assert demo.training_mode.shape == (2, 1, 16, 16)


def test_generate_is_seeded(smoke_history):
    first = generate(smoke_history, 4, seed=9)
    assert np.array_equal(first, generate(smoke_history, 4, seed=9))
    assert not np.array_equal(first, generate(smoke_history, 4, seed=10))
