"""Tests of the reference DCGAN loop and the FLOP count that the benchmarks use.

The reference loop must compute the same updates as the engine's float32 step, so
that the benchmark compares two ways of running one algorithm.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from gan_book.dcgan import smoke_config
from gan_book.dcgan.data import load_dataset, to_model_range
from gan_book.dcgan.model import build_models
from gan_book.dcgan.train import batch_indices, step_noise, train, train_step
from gan_book.dcgan_reference import (
    forward_flops,
    reference_step,
    train_reference,
    training_flops_per_image,
)


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one torch thread: on a loaded two-core machine two threads
    make these small steps many times slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _optimisers(generator, discriminator, config):
    betas = (config.beta1, config.beta2)
    return (
        torch.optim.Adam(generator.parameters(), lr=config.learning_rate, betas=betas),
        torch.optim.Adam(discriminator.parameters(), lr=config.learning_rate, betas=betas),
    )


def test_reference_step_matches_engine_step():
    config = smoke_config()
    generator, discriminator = build_models(config, seed=config.seed)
    twin_generator, twin_discriminator = copy.deepcopy(generator), copy.deepcopy(discriminator)
    images = load_dataset(config)
    real = to_model_range(images[batch_indices(len(images), config, 0)])
    z = step_noise(config, 0, 0)

    engine = train_step(generator, discriminator, *_optimisers(generator, discriminator, config), real, z, config)
    reference = reference_step(
        twin_generator, twin_discriminator, *_optimisers(twin_generator, twin_discriminator, config), real, z
    )

    assert reference.loss_d == pytest.approx(engine.loss_d, abs=1e-6)
    assert reference.loss_g == pytest.approx(engine.loss_g, abs=1e-6)
    assert reference.d_fake_g == pytest.approx(engine.d_fake_g, abs=1e-6)
    for ours, theirs in ((generator, twin_generator), (discriminator, twin_discriminator)):
        for (name, value), twin in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.allclose(value.float(), twin.float(), atol=1e-6), name


def test_reference_run_matches_engine_run():
    config = smoke_config(steps=4)
    engine = train(config)
    reference = train_reference(config)
    assert reference.step == engine.step
    assert reference.loss_d == pytest.approx(engine.loss_d, abs=1e-5)
    assert reference.loss_g == pytest.approx(engine.loss_g, abs=1e-5)
    assert reference.images_per_second > 0


@pytest.mark.parametrize("switch", ["bf16", "channels_last"])
def test_reference_rejects_speed_switches(switch):
    with pytest.raises(ValueError, match="float32 with contiguous tensors"):
        train_reference(smoke_config(**{switch: True}))


def test_forward_flops_of_one_convolution():
    # 2 x output elements (8 x 16 x 16) x input channels (3) x kernel area (16).
    layer = nn.Conv2d(3, 8, 4, 2, 1, bias=False)
    assert forward_flops(layer, torch.zeros(1, 3, 32, 32)) == 2 * 8 * 16 * 16 * 3 * 16


def test_forward_flops_of_one_transposed_convolution():
    # 2 x input elements (8 x 16 x 16) x output channels (3) x kernel area (16).
    layer = nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False)
    assert forward_flops(layer, torch.zeros(1, 8, 16, 16)) == 2 * 8 * 16 * 16 * 3 * 16


def test_training_flops_of_the_benchmark_config():
    # 64x64 grey images, 64 base channels: G's layers 100->512 (4x4), 512->256,
    # 256->128, 128->64, 64->1, and D's mirror image, counted by hand.
    config = smoke_config(image_size=64, g_width=64, d_width=64, latent_dim=100)
    generator_flops = 2 * (
        100 * 512 * 16 + 4 * 4 * 512 * 256 * 16 + 8 * 8 * 256 * 128 * 16 + 16 * 16 * 128 * 64 * 16 + 32 * 32 * 64 * 1 * 16
    )
    discriminator_flops = 2 * (
        32 * 32 * 64 * 1 * 16 + 16 * 16 * 128 * 64 * 16 + 8 * 8 * 256 * 128 * 16 + 4 * 4 * 512 * 256 * 16 + 512 * 16
    )
    assert training_flops_per_image(config) == 3 * generator_flops + 8 * discriminator_flops
