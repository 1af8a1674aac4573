r"""Sampling cost: how fast a trained generator draws samples, measured on this machine.

Backs the comparison table of the chapter "Why GANs" (docs/chapters/why-gans.md). A GAN
draws a sample with one evaluation of its generator; an iterative sampler (a diffusion
model's, for example) needs one network evaluation per step. The function below times
the book's DCGAN generator, `gan_book.dcgan.model.Generator`, which follows Radford,
Metz and Chintala (2016). Its weights do not change its speed, so an untrained
generator is timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.model import Generator

__all__ = ["Throughput", "generator_throughput"]


@dataclass(frozen=True)
class Throughput:
    """Timing of batched generator evaluations on the CPU."""

    image_size: int
    channels: int
    batch_size: int
    threads: int
    parameters: int
    seconds_per_batch: float  # median over the timed repeats
    samples_per_second: float


def generator_throughput(*, image_size: int = 64, channels: int = 1, batch_size: int = 64,
                         repeats: int = 5, threads: int = 2) -> Throughput:
    """Time `repeats` forward passes of the DCGAN generator and return the median.

    One untimed pass comes first, so that memory allocation and kernel selection are not
    counted. The generator runs in evaluation mode under `torch.inference_mode`.
    """
    for name, value in (("batch_size", batch_size), ("repeats", repeats),
                        ("threads", threads)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be a positive integer, got {name}={value!r}.")
    config = DCGANConfig(image_size=image_size, channels=channels)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            generator = Generator(config).eval()
            latent = torch.randn(batch_size, config.latent_dim, 1, 1)
        timings = []
        with torch.inference_mode():
            generator(latent)
            for _ in range(repeats):
                start = time.perf_counter()
                generator(latent)
                timings.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous_threads)
    median = sorted(timings)[len(timings) // 2]
    return Throughput(
        image_size=image_size, channels=channels, batch_size=batch_size, threads=threads,
        parameters=sum(p.numel() for p in generator.parameters()),
        seconds_per_batch=median, samples_per_second=batch_size / median,
    )
