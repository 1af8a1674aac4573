"""Tests of the DCGAN engine in-process: model, losses, data, checkpoints, training.

Every training run uses `smoke_config` (16x16, widths 8, a few steps) and one torch
thread, so that results are bitwise reproducible and the file runs in seconds.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gan_book.dcgan.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from gan_book.dcgan.config import SUPPORTED_IMAGE_SIZES, DCGANConfig, smoke_config
from gan_book.dcgan.data import (
    fit_images,
    from_model_range,
    load_dataset,
    load_idx,
    load_image_folder,
    load_mnist10k,
    read_idx,
    to_model_range,
)
from gan_book.dcgan.model import Generator, build_models, layer_table
from gan_book.dcgan.train import (
    batch_indices,
    discriminator_loss,
    generator_loss,
    sample,
    steps_per_epoch,
    train,
)
from gan_book.images import make_grid, save_grid


def smoke(**overrides) -> DCGANConfig:
    return smoke_config(threads=1, **overrides)


# ---------------------------------------------------------------------------------
# Model


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("image_size", SUPPORTED_IMAGE_SIZES)
def test_model_shapes_every_size(image_size, channels):
    config = DCGANConfig(
        image_size=image_size, channels=channels, latent_dim=8, g_width=4, d_width=4
    )
    generator, discriminator = build_models(config, seed=0)
    images = generator(torch.randn(3, config.latent_dim))
    assert images.shape == (3, channels, image_size, image_size)
    assert discriminator(images).shape == (3,)
    assert images.abs().max() <= 1.0  # tanh output


@pytest.mark.parametrize("image_size", [0, 8, 24, 27, 29, 48, 96, 256])
def test_invalid_image_size_rejected(image_size):
    with pytest.raises(
        ValueError, match=r"image_size .* not supported.*16, 28, 32, 64, 128"
    ):
        DCGANConfig(image_size=image_size)


@pytest.mark.parametrize("channels", [0, 2, 4])
def test_invalid_channels_rejected(channels):
    with pytest.raises(ValueError, match="channels"):
        DCGANConfig(channels=channels)


def test_invalid_fields_named_in_error():
    with pytest.raises(ValueError, match="batch_size"):
        DCGANConfig(batch_size=0)
    with pytest.raises(ValueError, match="beta1"):
        DCGANConfig(beta1=1.0)
    with pytest.raises(ValueError, match="unknown DCGAN config keys"):
        DCGANConfig.from_dict({"image_sise": 32})


def test_config_json_round_trip(tmp_path):
    config = DCGANConfig(image_size=32, history_samples=(1, 5), out=str(tmp_path))
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert DCGANConfig.load(path) == config


def test_initialisation_statistics():
    r"""Conv weights ~ N(0, 0.02^2), batch-norm scales ~ N(1, 0.02^2), shifts 0.

    With n draws, the sample mean has standard error 0.02/sqrt(n) and the sample
    standard deviation about 0.02/sqrt(2n); the bounds are five standard errors.
    """
    config = DCGANConfig(image_size=64)
    generator, discriminator = build_models(config, seed=0)
    models = (generator, discriminator)
    conv = torch.cat(
        [
            m.weight.flatten()
            for model in models
            for m in model.modules()
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
        ]
    ).double()
    norms = [
        m for model in models for m in model.modules() if isinstance(m, nn.BatchNorm2d)
    ]
    scale = torch.cat([m.weight for m in norms]).detach().double()
    shift = torch.cat([m.bias for m in norms]).detach()

    for values, mean in ((conv, 0.0), (scale, 1.0)):
        n = values.numel()
        assert abs(values.mean().item() - mean) < 5 * 0.02 / math.sqrt(n)
        assert abs(values.std().item() - 0.02) < 5 * 0.02 / math.sqrt(2 * n)
    assert torch.count_nonzero(shift) == 0
    assert all(
        m.bias is None
        for model in models
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
    )


def _layer_types(model: nn.Module) -> list[type]:
    return [type(m) for m in model.modules() if not list(m.children())]


@pytest.mark.parametrize("image_size", SUPPORTED_IMAGE_SIZES)
def test_no_batchnorm_at_d_input_or_g_output(image_size):
    config = DCGANConfig(image_size=image_size, latent_dim=8, g_width=4, d_width=4)
    generator, discriminator = build_models(config)
    g_types, d_types = _layer_types(generator), _layer_types(discriminator)

    assert g_types[-2:] == [
        nn.ConvTranspose2d,
        nn.Tanh,
    ]  # no batch norm after G's last conv
    assert d_types[:2] == [
        nn.Conv2d,
        nn.LeakyReLU,
    ]  # no batch norm after D's first conv
    assert d_types[-1] is nn.Conv2d  # logits: no sigmoid
    assert nn.Sigmoid not in d_types
    # Every other conv is followed by batch norm.
    assert g_types.count(nn.BatchNorm2d) == g_types.count(nn.ConvTranspose2d) - 1
    assert d_types.count(nn.BatchNorm2d) == d_types.count(nn.Conv2d) - 2
    assert all(
        m.negative_slope == 0.2
        for m in discriminator.modules()
        if isinstance(m, nn.LeakyReLU)
    )
    assert nn.ReLU in g_types
    assert nn.LeakyReLU not in g_types


@pytest.mark.parametrize("image_size", [28, 64])
def test_layer_table_matches_model(image_size):
    config = DCGANConfig(image_size=image_size)
    generator, discriminator = build_models(config)
    g_rows = layer_table(generator, config)
    d_rows = layer_table(discriminator, config)

    assert g_rows[-1].layer == "total"
    assert g_rows[-1].parameters == sum(p.numel() for p in generator.parameters())
    assert sum(row.parameters for row in g_rows[:-1]) == g_rows[-1].parameters
    assert g_rows[-2].output_shape == (1, image_size, image_size)
    assert g_rows[0].output_shape[1:] == ((7, 7) if image_size == 28 else (4, 4))
    assert d_rows[-2].output_shape == (1, 1, 1)
    assert d_rows[-1].output_shape == ()  # one logit per image: (N,)
    assert d_rows[-1].parameters == sum(p.numel() for p in discriminator.parameters())
    assert generator.training  # the table leaves the mode as it was


def test_layer_table_dcgan_64_total():
    # The PyTorch DCGAN example's 64x64 generator (widths 64, nz 100, 3 channels)
    # has 3,576,704 parameters: conv weights plus batch-norm scales and shifts.
    config = DCGANConfig(image_size=64, channels=3)
    generator, _ = build_models(config)
    assert layer_table(generator, config)[-1].parameters == 3_576_704


# ---------------------------------------------------------------------------------
# Losses


def test_losses_match_closed_form():
    logits_real = torch.tensor([-2.0, 0.0, 3.0])
    logits_fake = torch.tensor([1.5, -0.5, 0.0])
    sigma = torch.sigmoid
    expected_d = (
        -torch.log(sigma(logits_real)).mean() - torch.log(1 - sigma(logits_fake)).mean()
    )
    expected_g = -torch.log(sigma(logits_fake)).mean()
    assert discriminator_loss(logits_real, logits_fake).item() == pytest.approx(
        expected_d.item(), rel=1e-6
    )
    assert generator_loss(logits_fake).item() == pytest.approx(
        expected_g.item(), rel=1e-6
    )


def test_losses_stable_at_extreme_logits():
    # -log sigma(t) = softplus(-t) equals -t for t << 0; a sigmoid-then-log would give inf.
    huge = torch.tensor([1e4, -1e4])
    assert generator_loss(torch.tensor([-1e4])).item() == pytest.approx(1e4)
    assert generator_loss(torch.tensor([1e4])).item() == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(discriminator_loss(huge, huge).item())
    logits = torch.tensor([-40.0], requires_grad=True)
    generator_loss(logits).backward()
    assert logits.grad.item() == pytest.approx(-1.0)  # non-saturating: full gradient


# ---------------------------------------------------------------------------------
# Data


def test_mnist10k_contents():
    images, labels = load_mnist10k()
    assert images.shape == (10000, 28, 28)
    assert images.dtype == np.uint8
    assert labels.shape == (10000,)
    assert labels.dtype == np.uint8
    counts = np.bincount(labels, minlength=10).tolist()
    assert counts == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    assert set(labels[:100].tolist()) == set(range(10))  # classes are interleaved
    assert images.max() == 255  # white ink
    assert np.median(images) == 0  # on a black background


def test_fit_pads_28_to_32_exactly():
    images, _ = load_mnist10k()
    fitted = fit_images(images[:5], 32, 1)
    assert fitted.shape == (5, 1, 32, 32)
    assert np.array_equal(fitted[:, 0, 2:30, 2:30], images[:5])
    assert fitted[:, :, :2].max() == 0


def test_fit_resizes_and_converts_channels():
    images, _ = load_mnist10k()
    colour = fit_images(images[:2], 64, 3)
    assert colour.shape == (2, 3, 64, 64)
    assert np.array_equal(colour[:, 0], colour[:, 2])
    rgb = np.zeros((1, 20, 30, 3), np.uint8)
    rgb[..., 0] = 255
    grey = fit_images(rgb, 16, 1)
    assert grey.shape == (1, 1, 16, 16)
    assert grey[0, 0, 8, 8] == 76  # ITU-R 601 luma of pure red: 0.299 * 255


def test_model_range_round_trip():
    pixels = torch.arange(256, dtype=torch.uint8)
    scaled = to_model_range(pixels)
    assert scaled.min() == -1.0
    assert scaled.max() == 1.0
    assert torch.equal(from_model_range(scaled), pixels)


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = (
        bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    )
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, compress):
    images, labels = load_mnist10k()
    write_idx(tmp_path / "images", images[:50], compress)
    write_idx(tmp_path / "labels", labels[:50], compress)
    loaded, loaded_labels = load_idx(tmp_path / "images", tmp_path / "labels")
    assert np.array_equal(loaded, images[:50])
    assert np.array_equal(loaded_labels, labels[:50])


def test_idx_truncated_names_file(tmp_path):
    images, _ = load_mnist10k()
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, images[:10])
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ValueError, match=f"{path}.*corrupt or truncated"):
        read_idx(path)


def test_idx_bad_gzip_and_header_name_file(tmp_path):
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(ValueError, match=f"{broken}.*not a valid gzip"):
        read_idx(broken)
    text = tmp_path / "text.idx"
    text.write_bytes(b"hello world")
    with pytest.raises(ValueError, match=f"{text} is not an IDX file"):
        read_idx(text)


def test_idx_mismatched_counts_name_both_files(tmp_path):
    images, labels = load_mnist10k()
    write_idx(tmp_path / "images", images[:10])
    write_idx(tmp_path / "labels", labels[:9])
    with pytest.raises(
        ValueError, match="contains 10 images but .*labels contains 9 labels"
    ):
        load_idx(tmp_path / "images", tmp_path / "labels")


def test_mnist_folder_loads_as_dataset(tmp_path):
    images, labels = load_mnist10k()
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images[:40], compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels[:40], compress=True)
    data = load_dataset(DCGANConfig(data=str(tmp_path), image_size=32))
    assert data.shape == (40, 1, 32, 32)
    assert data.dtype == torch.uint8


def test_image_folder_loads_and_rejects_corrupt(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(3):
        pixels = rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"face{index}.png")
    (tmp_path / "notes.txt").write_text("ignored")
    loaded = load_image_folder(tmp_path, 16, 3)
    assert loaded.shape == (3, 3, 16, 16)

    corrupt = tmp_path / "sub" / "broken.jpg"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    with pytest.raises(ValueError, match=f"cannot read image {corrupt}"):
        load_image_folder(tmp_path, 16, 3)


def test_missing_data_source_rejected():
    with pytest.raises(ValueError, match="neither 'mnist10k' nor an existing file"):
        load_dataset(DCGANConfig(data="/nonexistent/digits"))


# ---------------------------------------------------------------------------------
# Data order


def test_batches_cover_epoch_without_repeats():
    config = smoke(batch_size=8)
    per_epoch = steps_per_epoch(64, config)
    seen = torch.cat([batch_indices(64, config, step) for step in range(per_epoch)])
    assert sorted(seen.tolist()) == list(range(64))
    assert not torch.equal(
        batch_indices(64, config, 0), batch_indices(64, config, per_epoch)
    )


def test_shards_are_disjoint():
    config = smoke(batch_size=8)
    first = set(batch_indices(64, config, 0, rank=0, world_size=2).tolist())
    second = set(batch_indices(64, config, 0, rank=1, world_size=2).tolist())
    assert len(first) == len(second) == 8
    assert not first & second


def test_batch_larger_than_data_rejected():
    with pytest.raises(ValueError, match="batch_size 100 exceeds the 64 images"):
        steps_per_epoch(64, smoke(batch_size=100))


# ---------------------------------------------------------------------------------
# Training, checkpoints and resume


def test_one_step_smoke_run():
    history = train(smoke(steps=1))
    assert history.step == [1]
    for series in (
        history.loss_d,
        history.loss_g,
        history.d_real,
        history.d_fake,
        history.d_fake_g,
    ):
        assert len(series) == 1
        assert math.isfinite(series[0])
    assert 0 < history.d_real[0] < 1
    assert history.log_step == [1]
    assert 0 < history.d_fake_after[0] < 1
    assert history.samples[1].shape == (4, 1, 16, 16)
    assert set(history.generator_state) == set(Generator(history.config).state_dict())


def test_same_seed_reproduces_run():
    first = train(smoke())
    second = train(smoke())
    other = train(smoke(seed=1))
    assert first.loss_d == second.loss_d
    assert first.loss_g == second.loss_g
    assert np.array_equal(first.samples[3], second.samples[3])
    assert first.loss_d != other.loss_d


def test_resume_equals_uninterrupted(tmp_path):
    config = smoke(steps=5, out=str(tmp_path / "run"), checkpoint_every=2, log_every=2)
    uninterrupted = train(dataclasses.replace(config, out=None))
    train(dataclasses.replace(config, steps=3))
    resumed = train(config, resume=True)

    assert resumed.step == list(range(1, 6))
    assert resumed.loss_d == uninterrupted.loss_d
    assert resumed.loss_g == uninterrupted.loss_g
    assert resumed.d_fake_g == uninterrupted.d_fake_g
    for name, tensor in uninterrupted.generator_state.items():
        assert torch.equal(resumed.generator_state[name], tensor), name
    for name, tensor in uninterrupted.discriminator_state.items():
        assert torch.equal(resumed.discriminator_state[name], tensor), name
    assert np.array_equal(resumed.samples[5], uninterrupted.samples[5])


def test_run_folder_not_overwritten(tmp_path):
    config = smoke(steps=1, out=str(tmp_path))
    train(config)
    with pytest.raises(ValueError, match="already contains a run.*--resume.*--force"):
        train(config)
    (tmp_path / "keep.txt").write_text("a reader's file")
    train(config, force=True)
    assert (tmp_path / "keep.txt").read_text() == "a reader's file"


def test_resume_with_other_model_rejected(tmp_path):
    train(smoke(steps=1, out=str(tmp_path)))
    with pytest.raises(ValueError, match="g_width: 8 -> 16"):
        train(smoke(steps=2, out=str(tmp_path), g_width=16), resume=True)
    with pytest.raises(ValueError, match="checkpoint.pt not found"):
        train(smoke(steps=2, out=str(tmp_path / "empty")), resume=True)


def test_run_folder_contents(tmp_path):
    train(smoke(steps=4, out=str(tmp_path), sample_every=2, log_every=3))
    assert DCGANConfig.load(tmp_path / "config.json") == smoke(
        steps=4, out=str(tmp_path), sample_every=2, log_every=3
    )
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [3, 4]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "step_000002.png",
        "step_000004.png",
    ]
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["step"] == 4


class _Exploit:
    """Pickles into a call of os.mkdir: loading it unsafely would create a folder."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


def test_malicious_checkpoint_rejected(tmp_path):
    marker = tmp_path / "created-by-pickle"
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "payload": _Exploit(str(marker))}, path)
    with pytest.raises(ValueError, match="rejected.*could run code"):
        load_checkpoint(path)
    assert not marker.exists()


def test_corrupt_checkpoint_rejected(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"step": 1, "weights": torch.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=f"{path} is corrupt or truncated"):
        load_checkpoint(path)


def test_checkpoint_write_is_atomic_on_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"step": 1}, path)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_checkpoint(
            {"step": 2, "bad": lambda: None}, path
        )  # lambdas cannot be pickled
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


# ---------------------------------------------------------------------------------
# Sampling, speed switches and images


def test_sample_eval_mode_ignores_batch():
    history = train(smoke(steps=2))
    generator = history.generator()
    z = torch.randn(6, history.config.latent_dim)
    alone = sample(generator, z[:1])
    together = sample(generator, z)
    assert torch.allclose(alone[0], together[0], atol=1e-6)
    batch_alone = sample(generator, z[:2], batch_statistics=True)
    batch_together = sample(generator, z, batch_statistics=True)
    assert not torch.allclose(batch_alone[0], batch_together[0], atol=1e-3)
    assert not generator.training


def test_channels_last_matches_default():
    default = train(smoke(steps=2))
    nhwc = train(smoke(steps=2, channels_last=True))
    assert np.allclose(default.loss_d, nhwc.loss_d, rtol=1e-4)
    assert np.allclose(default.loss_g, nhwc.loss_g, rtol=1e-4)


@pytest.mark.skipif(
    not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="CPU lacks AVX512-BF16/AMX"
)
def test_bf16_close_to_float32():
    default = train(smoke(steps=2))
    bf16 = train(smoke(steps=2, bf16=True))
    # bfloat16 keeps 8 significant bits: losses agree to about 1%.
    assert np.allclose(default.loss_d, bf16.loss_d, rtol=3e-2)
    assert np.allclose(default.loss_g, bf16.loss_g, rtol=3e-2)


def test_sync_batchnorm_rejected_on_cpu():
    with pytest.raises(ValueError, match="sync_batchnorm needs CUDA"):
        train(smoke(sync_batchnorm=True, device="cpu"))


def test_make_grid_layout(tmp_path):
    images = np.linspace(-1, 1, 5 * 3 * 4 * 4, dtype=np.float32).reshape(5, 3, 4, 4)
    grid = make_grid(images, ncols=3, padding=1)
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1, 3)
    assert grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0  # the darkest tile
    assert grid[-2, 5 + 4, 2] == 255  # the brightest tile
    path = save_grid(images[:, :1], tmp_path / "grid.png")
    with Image.open(path) as written:
        assert written.size == (3 * 6 + 2, 2 * 6 + 2)
    with pytest.raises(ValueError, match="NaN"):
        make_grid(np.full((1, 1, 2, 2), np.nan))
