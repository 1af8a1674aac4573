"""Tests of gan_book.sampling_cost: the throughput record and its input checks."""

import pytest
import torch

from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.model import Generator
from gan_book.sampling_cost import generator_throughput


def test_throughput_record_consistent():
    result = generator_throughput(image_size=16, batch_size=2, repeats=1, threads=1)
    expected_parameters = sum(p.numel() for p in Generator(DCGANConfig(image_size=16))
                              .parameters())
    assert result.parameters == expected_parameters
    assert result.seconds_per_batch > 0
    assert result.samples_per_second == pytest.approx(2 / result.seconds_per_batch)


def test_throughput_restores_threads():
    before = torch.get_num_threads()
    generator_throughput(image_size=16, batch_size=1, repeats=1, threads=1)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size"),
    ({"repeats": -1}, "repeats"),
    ({"threads": 1.5}, "threads"),
])
def test_throughput_invalid_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generator_throughput(**kwargs)
