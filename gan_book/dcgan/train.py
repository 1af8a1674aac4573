r"""The DCGAN training engine: `train(config) -> History`.

Backs the chapter on DCGAN. One step updates D once and then G once, as in Radford,
Metz and Chintala (ICLR 2016) and Goodfellow et al. (NeurIPS 2014), with the
non-saturating generator loss:

$$L_D = -\log \sigma(D(x)) - \log(1 - \sigma(D(G(z)))), \qquad
  L_G = -\log \sigma(D(G(z))),$$

averaged over the batch, where $D$ returns logits and $\sigma$ is the logistic
function. Both losses go through `binary_cross_entropy_with_logits`, which evaluates
$\log \sigma(t) = -\mathrm{softplus}(-t)$ stably. A Sigmoid followed by `BCELoss`
would not: in float32 $\sigma(t)$ rounds to exactly 1 from $t = 17$ and to 0 below
about $t = -103$, and `BCELoss` then clamps each logarithm at $-100$, so the loss
saturates and its gradient vanishes.

Reproducibility. The data order of step $s$ comes from a `DistributedSampler` seeded
with (seed, epoch), and the noise of step $s$ on rank $r$ from a generator seeded
with (seed, $r$, $s$). A run therefore needs no random state beyond its step counter
to continue, and a resumed run repeats an uninterrupted one bit for bit on the CPU
(same thread count and PyTorch build). Checkpoints still store torch's global CPU
and CUDA random states and restore them, so code that draws from them elsewhere
also resumes exactly.

Run folder (`config.out`): `config.json` (the resolved config, written at start),
`log.jsonl` (one JSON line per logged step), `samples/step_NNNNNN.png` (fixed-noise
grids) and `checkpoint.pt` (the latest checkpoint, written atomically).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DistributedSampler

from gan_book.dcgan.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.data import load_dataset, to_model_range
from gan_book.dcgan.distributed import (
    DistributedContext,
    setup_distributed,
    teardown_distributed,
    unwrap,
    wrap_models,
)
from gan_book.dcgan.model import Generator, build_models
from gan_book.images import save_grid

LOGGER = logging.getLogger("gan_book.dcgan")
RUN_FILES = ("config.json", "log.jsonl", CHECKPOINT_NAME, "samples")
# Config fields that a resumed run may change. Every other field must match the
# checkpoint, because it changes the model, the data or the random streams.
RESUMABLE_FIELDS = frozenset(
    {
        "steps",
        "out",
        "log_every",
        "sample_every",
        "checkpoint_every",
        "progress",
        "threads",
        "history_samples",
        "device",
    }
)
FIXED_NOISE_STREAM = 2**32  # stream id of the fixed noise, apart from every rank id
SAMPLE_NOISE_STREAM = 2**32 + 1  # stream id of `sample_noise`


# ---------------------------------------------------------------------------------
# Losses and one training step


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""Return $L_D$ from D's logits on a real batch and on a fake batch (sum of two means)."""
    real_loss = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
    fake_loss = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    return real_loss + fake_loss


def generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""Return the non-saturating $L_G = -\mathrm{mean}\,\log\sigma(D(G(z)))$ from D's logits."""
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


@dataclass
class StepResult:
    """Scalars of one step: losses and mean D outputs as probabilities."""

    loss_d: float
    loss_g: float
    d_real: float  # mean sigma(D(x)) in the D step
    d_fake: float  # mean sigma(D(G(z))) in the D step, before D's update
    d_fake_g: float  # mean sigma(D(G(z))) in the G step: after D's update, before G's


def _autocast(
    config: DCGANConfig, device: torch.device
) -> contextlib.AbstractContextManager:
    if not config.bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def train_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer_g: torch.optim.Optimizer,
    optimizer_d: torch.optim.Optimizer,
    real: torch.Tensor,
    z: torch.Tensor,
    config: DCGANConfig,
) -> StepResult:
    """Update D once on (real, G(z)) and then G once on the same G(z).

    `generator` and `discriminator` may be DDP wrappers; the G step calls the plain D
    module with D's parameters frozen (see `gan_book.dcgan.distributed`).
    """
    device = real.device

    # D step: two calls of the batch-normalised D, one backward pass.
    with _autocast(config, device):
        fake = generator(z)
        d_real = discriminator(real)
        d_fake = discriminator(fake.detach())
        loss_d = discriminator_loss(d_real.float(), d_fake.float())
    optimizer_d.zero_grad(set_to_none=True)
    loss_d.backward()
    optimizer_d.step()

    # G step on the same fake batch, through the updated D.
    plain_discriminator = unwrap(discriminator)
    plain_discriminator.requires_grad_(False)
    try:
        with _autocast(config, device):
            d_fake_g = plain_discriminator(fake)
            loss_g = generator_loss(d_fake_g.float())
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
    finally:
        plain_discriminator.requires_grad_(True)

    with torch.no_grad():
        values = torch.stack(
            [
                loss_d.detach(),
                loss_g.detach(),
                torch.sigmoid(d_real.float()).mean(),
                torch.sigmoid(d_fake.float()).mean(),
                torch.sigmoid(d_fake_g.float()).mean(),
            ]
        ).tolist()
    return StepResult(*values)


# ---------------------------------------------------------------------------------
# Data order and noise


def noise_generator(seed: int, stream: int, step: int) -> torch.Generator:
    """Return a CPU generator for one (seed, stream, step): independent streams per rank and step."""
    state = np.random.SeedSequence([seed, stream, step]).generate_state(
        2, dtype=np.uint32
    )
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def step_noise(
    config: DCGANConfig, rank: int, step: int, batch_size: int | None = None
) -> torch.Tensor:
    """Return the latent batch z (batch_size, latent_dim) that rank `rank` uses at `step` (0-based)."""
    count = config.batch_size if batch_size is None else batch_size
    return torch.randn(
        count, config.latent_dim, generator=noise_generator(config.seed, rank, step)
    )


def fixed_noise(config: DCGANConfig) -> torch.Tensor:
    """Return the fixed latent batch (num_samples, latent_dim) of the sample grids."""
    return torch.randn(
        config.num_samples,
        config.latent_dim,
        generator=noise_generator(config.seed, FIXED_NOISE_STREAM, 0),
    )


def sample_noise(seed: int, count: int, latent_dim: int) -> torch.Tensor:
    """Return `count` latent vectors for sampling, apart from every training stream."""
    return torch.randn(
        count, latent_dim, generator=noise_generator(seed, SAMPLE_NOISE_STREAM, 0)
    )


def steps_per_epoch(num_images: int, config: DCGANConfig, world_size: int = 1) -> int:
    """Return full batches per epoch and process; a partial last batch is dropped."""
    per_process = math.ceil(num_images / world_size)
    count = per_process // config.batch_size
    if count == 0:
        raise ValueError(
            f"batch_size {config.batch_size} exceeds the {per_process} images each of the "
            f"{world_size} process(es) gets; lower --batch-size or add images"
        )
    return count


def batch_indices(
    num_images: int, config: DCGANConfig, step: int, rank: int = 0, world_size: int = 1
) -> torch.Tensor:
    """Return the dataset indices of the batch of rank `rank` at `step` (0-based).

    Epoch e = step // steps_per_epoch shuffles with `DistributedSampler` (seed
    `config.seed`, epoch e), which gives each rank its own shard; the step takes the
    next `batch_size` indices of this rank's shard.
    """
    per_epoch = steps_per_epoch(num_images, config, world_size)
    epoch, position = divmod(step, per_epoch)
    shard = _epoch_shard(num_images, config.seed, epoch, rank, world_size)
    start = position * config.batch_size
    return shard[start : start + config.batch_size].clone()


@functools.lru_cache(maxsize=4)
def _epoch_shard(
    num_images: int, seed: int, epoch: int, rank: int, world_size: int
) -> torch.Tensor:
    """Return one rank's shuffled indices for one epoch, computed once per epoch."""
    sampler = DistributedSampler(
        range(num_images), num_replicas=world_size, rank=rank, shuffle=True, seed=seed
    )
    sampler.set_epoch(epoch)
    return torch.tensor(list(sampler))


# ---------------------------------------------------------------------------------
# History, sampling and run-folder helpers


@dataclass
class History:
    """Result of a run: per-step scalars, fixed-noise samples and the final weights.

    Lists are indexed by step (1-based step numbers in `step`). `d_fake_after` contains
    mean sigma(D(G(z))) after the G step, measured at logged steps only (`log_step`)
    because it costs an extra forward pass of both networks. `samples` maps a step
    to the fixed-noise images (num_samples, C, S, S) in [-1, 1] from G in evaluation
    mode. Picklable, so the book can cache it.
    """

    config: DCGANConfig
    step: list[int] = field(default_factory=list)
    loss_d: list[float] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    d_fake_g: list[float] = field(default_factory=list)
    log_step: list[int] = field(default_factory=list)
    d_fake_after: list[float] = field(default_factory=list)
    samples: dict[int, np.ndarray] = field(default_factory=dict)
    generator_state: dict[str, torch.Tensor] = field(default_factory=dict)
    discriminator_state: dict[str, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0  # wall-clock time of the steps run in this call
    # Real images per second over all processes, for the steps run in this call.
    images_per_second: float = 0.0
    interrupted: bool = False  # stopped early by SIGINT or SIGTERM
    stop_signal: int | None = None  # the signal number that stopped it, on that rank

    _SERIES = (
        "step",
        "loss_d",
        "loss_g",
        "d_real",
        "d_fake",
        "d_fake_g",
        "log_step",
        "d_fake_after",
    )

    def to_state(self) -> dict[str, Any]:
        """Return the per-step series as plain lists (for checkpoints)."""
        return {name: list(getattr(self, name)) for name in self._SERIES}

    def load_state(self, state: dict[str, Any]) -> None:
        for name in self._SERIES:
            setattr(self, name, list(state[name]))

    def generator(self) -> Generator:
        """Return the final generator in evaluation mode on the CPU."""
        return load_generator(self.config, self.generator_state)


def load_generator(config: DCGANConfig, state: dict[str, torch.Tensor]) -> Generator:
    """Build a generator from `config` and load `state` into it (evaluation mode, CPU)."""
    generator = Generator(config)
    generator.load_state_dict(state)
    return generator.eval()


@contextlib.contextmanager
def frozen_batchnorm_statistics(*models: nn.Module) -> Iterator[None]:
    """Restore every buffer (batch-norm running statistics) of `models` on exit.

    Lets a diagnostic forward pass in training mode leave no trace in the models.
    """
    saved = [
        {name: buffer.clone() for name, buffer in model.named_buffers()}
        for model in models
    ]
    try:
        yield
    finally:
        for model, buffers in zip(models, saved, strict=True):
            for name, buffer in model.named_buffers():
                buffer.copy_(buffers[name])


@torch.no_grad()
def sample(
    generator: nn.Module, z: torch.Tensor, *, batch_statistics: bool = False
) -> torch.Tensor:
    """Return G(z) as float32 on the CPU, leaving G's mode and buffers as they were.

    With `batch_statistics=False` (default) G runs in evaluation mode, so each image
    depends on its own z only. With True it normalises with the statistics of this
    batch, as in training, so an image changes with the rest of the batch.
    """
    plain = unwrap(generator)
    was_training = plain.training
    device = next(plain.parameters()).device
    try:
        with frozen_batchnorm_statistics(plain):
            plain.train(batch_statistics)
            images = plain(z.to(device))
    finally:
        plain.train(was_training)
    return images.float().cpu()


class ProgressBar:
    """A one-line progress bar on a terminal: steps, percentage, rate and ETA.

    Redraws at most every `interval` seconds. On a stream that is not a terminal it
    draws nothing, because the log lines carry the same rate and ETA.
    """

    def __init__(
        self,
        total: int,
        start: int = 0,
        stream: TextIO | None = None,
        interval: float = 0.2,
    ) -> None:
        self.total = total
        self.start = start
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.interval = interval
        self.started = time.perf_counter()
        self.last_draw = 0.0
        self.width = 30

    def rate_and_eta(self, step: int) -> tuple[float, float]:
        """Return (steps per second since start, seconds left)."""
        elapsed = time.perf_counter() - self.started
        done = step - self.start
        rate = done / elapsed if elapsed > 0 and done > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else math.inf
        return rate, eta

    def update(self, step: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self.last_draw < self.interval):
            return
        self.last_draw = now
        rate, eta = self.rate_and_eta(step)
        filled = int(self.width * step / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {step}/{self.total} {100 * step / self.total:3.0f}% "
            f"{rate:.2f} step/s ETA {format_seconds(eta)}  "
        )
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 60) + "\r")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def format_seconds(seconds: float) -> str:
    """Format a duration as 1h02m03s, 2m03s or 3.4s; infinity as '?'."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def prepare_run_folder(
    config: DCGANConfig, *, resume: bool, force: bool
) -> Path | None:
    """Check the run folder against --resume/--force and return it (None without `out`).

    Raises `ValueError` when the folder already contains a run and neither flag is set,
    or when --resume finds no checkpoint. --force deletes only the files a run
    writes (config.json, log.jsonl, checkpoint.pt, samples/), never other files.
    """
    if config.out is None:
        if resume:
            raise ValueError("resume needs a run folder: set out (--out)")
        return None
    folder = Path(config.out)
    existing = [name for name in RUN_FILES if (folder / name).exists()]
    if resume:
        if not (folder / CHECKPOINT_NAME).is_file():
            raise ValueError(f"cannot resume: {folder / CHECKPOINT_NAME} not found")
        return folder
    if existing and not force:
        raise ValueError(
            f"run folder {folder} already contains a run ({', '.join(existing)}); pass "
            f"--resume to continue it, --force to overwrite it, or choose another --out"
        )
    for name in existing:
        target = folder / name
        if target.is_dir():
            for child in target.glob("step_*.png"):
                child.unlink()
            with contextlib.suppress(OSError):
                target.rmdir()
        else:
            target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_resumable(saved: DCGANConfig, requested: DCGANConfig, path: Path) -> None:
    """Raise `ValueError` listing the fields that a resumed run may not change."""
    changed = [
        f"{item.name}: {getattr(saved, item.name)!r} -> {getattr(requested, item.name)!r}"
        for item in dataclasses.fields(DCGANConfig)
        if item.name not in RESUMABLE_FIELDS
        and getattr(saved, item.name) != getattr(requested, item.name)
    ]
    if changed:
        raise ValueError(
            f"cannot resume {path} with a different configuration ({'; '.join(changed)}); "
            f"only {sorted(RESUMABLE_FIELDS)} may change"
        )


# ---------------------------------------------------------------------------------
# Signals


class StopRequest:
    """Turns SIGINT and SIGTERM into a flag that the training loop checks after each step."""

    def __init__(self) -> None:
        self.signal_number: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signal_number: int, _frame: Any) -> None:
        self.signal_number = signal_number

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    @property
    def requested(self) -> bool:
        return self.signal_number is not None


# ---------------------------------------------------------------------------------
# The engine


def _check_speed_switches(config: DCGANConfig, device: torch.device) -> None:
    if (
        config.bf16
        and device.type == "cpu"
        and not torch.ops.mkldnn._is_mkldnn_bf16_supported()
    ):
        raise ValueError(
            "bf16 autocast on this CPU would be emulated and slow: it lacks AVX512-BF16 "
            "and AMX. Drop --bf16, or train on a GPU."
        )
    if config.bf16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError("this GPU does not support bfloat16; drop --bf16")


class _Run:
    """The state of one training call: models, optimisers, data, files and history."""

    def __init__(
        self, config: DCGANConfig, context: DistributedContext, folder: Path | None
    ) -> None:
        self.config = config
        self.context = context
        self.folder = folder
        device = context.device
        self.memory_format = (
            torch.channels_last if config.channels_last else torch.contiguous_format
        )

        generator, discriminator = build_models(config, seed=config.seed)
        generator.to(device=device, memory_format=self.memory_format)
        discriminator.to(device=device, memory_format=self.memory_format)
        self.generator, self.discriminator = wrap_models(
            generator, discriminator, config, context
        )
        betas = (config.beta1, config.beta2)
        self.optimizer_g = torch.optim.Adam(
            self.generator.parameters(), lr=config.learning_rate, betas=betas
        )
        self.optimizer_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=config.learning_rate, betas=betas
        )

        self.images = load_dataset(config)  # uint8 (N, C, S, S) on the CPU
        steps_per_epoch(
            len(self.images), config, context.world_size
        )  # validates batch_size
        self.fixed_noise = fixed_noise(config)
        self.history = History(config)
        self.step = 0  # steps completed

    # --- checkpoints ---

    def state(self) -> dict[str, Any]:
        state = {
            "step": self.step,
            "config": self.config.to_dict(),
            "generator": unwrap(self.generator).state_dict(),
            "discriminator": unwrap(self.discriminator).state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            "history": self.history.to_state(),
            "world_size": self.context.world_size,
            "torch_rng_state": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            state["cuda_rng_states"] = torch.cuda.get_rng_state_all()
        return state

    def restore(self, state: dict[str, Any], path: Path) -> None:
        saved = DCGANConfig.from_dict(state["config"])
        check_resumable(saved, self.config, path)
        if state["world_size"] != self.context.world_size:
            raise ValueError(
                f"{path} was written by a run with {state['world_size']} processes; resume "
                f"it with the same number (this run has {self.context.world_size})"
            )
        unwrap(self.generator).load_state_dict(state["generator"])
        unwrap(self.discriminator).load_state_dict(state["discriminator"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        if self.config.steps < int(state["step"]):
            raise ValueError(
                f"cannot resume {path}: steps {self.config.steps} is smaller than the "
                f"checkpoint's step {int(state['step'])}; pass --steps larger than that to "
                "train further"
            )
        self.history.load_state(state["history"])
        self.step = int(state["step"])
        torch.set_rng_state(state["torch_rng_state"])
        if "cuda_rng_states" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng_states"])

    def save(self) -> None:
        if self.folder is not None and self.context.is_main:
            save_checkpoint(self.state(), self.folder / CHECKPOINT_NAME)

    # --- one step ---

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        config, context = self.config, self.context
        indices = batch_indices(
            len(self.images), config, self.step, context.rank, context.world_size
        )
        real = to_model_range(self.images[indices]).to(
            context.device, memory_format=self.memory_format
        )
        z = step_noise(config, context.rank, self.step).to(context.device)
        return real, z

    def record(self, result: StepResult) -> None:
        history = self.history
        history.step.append(self.step)
        history.loss_d.append(result.loss_d)
        history.loss_g.append(result.loss_g)
        history.d_real.append(result.d_real)
        history.d_fake.append(result.d_fake)
        history.d_fake_g.append(result.d_fake_g)

    @torch.no_grad()
    def measure_after_g_step(self, z: torch.Tensor) -> float:
        """Return mean sigma(D(G(z))) with the updated G, leaving no trace in the models."""
        generator, discriminator = unwrap(self.generator), unwrap(self.discriminator)
        with (
            frozen_batchnorm_statistics(generator, discriminator),
            _autocast(self.config, z.device),
        ):
            logits = discriminator(generator(z))
        return float(torch.sigmoid(logits.float()).mean())

    def log(self, result: StepResult, d_fake_after: float, bar: ProgressBar) -> None:
        self.history.log_step.append(self.step)
        self.history.d_fake_after.append(d_fake_after)
        if not self.context.is_main:
            return
        rate, eta = bar.rate_and_eta(self.step)
        images_per_second = rate * self.config.batch_size * self.context.world_size
        bar.clear()
        LOGGER.info(
            "step %d/%d loss_D %.4f loss_G %.4f D(x) %.4f D(G(z)) %.4f / %.4f -> %.4f | %.1f img/s ETA %s",
            self.step, self.config.steps, result.loss_d, result.loss_g, result.d_real,
            result.d_fake, result.d_fake_g, d_fake_after, images_per_second, format_seconds(eta),
        )  # fmt: skip
        if self.folder is not None:
            entry = dict(
                dataclasses.asdict(result), step=self.step, d_fake_after=d_fake_after
            )
            entry["images_per_second"] = images_per_second
            with open(self.folder / "log.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

    def keep_samples(self, last: bool) -> None:
        config = self.config
        grid_due = config.sample_every and self.step % config.sample_every == 0
        wanted = self.step in config.history_samples
        if not (last or grid_due or wanted):
            return
        images = sample(self.generator, self.fixed_noise)
        if last or wanted:
            self.history.samples[self.step] = images.numpy()
        if self.folder is not None and self.context.is_main and (last or grid_due):
            save_grid(
                images.numpy(), self.folder / "samples" / f"step_{self.step:06d}.png"
            )


def train(config: DCGANConfig, *, resume: bool = False, force: bool = False) -> History:
    """Train a DCGAN as `config` describes and return its `History`.

    With `config.out` set, it writes the run folder (see the module docstring). An
    existing run there is continued with `resume=True`, replaced with `force=True`,
    and otherwise rejected with `ValueError`. SIGINT or SIGTERM stop the run after the
    current step with a checkpoint, and the history has `interrupted=True`. Under
    torchrun each process trains on its shard. Rank 0 logs and writes files, and
    every rank returns its own history (identical weights, per-rank scalars).
    Drawing the initial weights reseeds torch's global generator with `config.seed`.
    """
    context = setup_distributed(config)
    previous_threads = torch.get_num_threads()
    try:
        _check_speed_switches(config, context.device)
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        folder = _prepare_run_folder_on_rank0(
            config, context, resume=resume, force=force
        )
        return _train(config, context, folder, resume)
    finally:
        torch.set_num_threads(previous_threads)
        teardown_distributed(context)


def _prepare_run_folder_on_rank0(
    config: DCGANConfig, context: DistributedContext, *, resume: bool, force: bool
) -> Path | None:
    """Run `prepare_run_folder` on rank 0 and raise its error on every rank."""
    if not context.distributed:
        return prepare_run_folder(config, resume=resume, force=force)
    message = None
    if context.is_main:
        try:
            prepare_run_folder(config, resume=resume, force=force)
        except ValueError as error:
            message = str(error)
    box = [message]
    dist.broadcast_object_list(box, src=0)  # the other ranks wait here for rank 0
    if box[0] is not None:
        raise ValueError(box[0])
    return None if config.out is None else Path(config.out)


def _train(
    config: DCGANConfig, context: DistributedContext, folder: Path | None, resume: bool
) -> History:
    run = _Run(config, context, folder)
    if resume:
        assert folder is not None
        run.restore(load_checkpoint(folder / CHECKPOINT_NAME), folder / CHECKPOINT_NAME)
        if context.is_main:
            _drop_log_lines_after(folder / "log.jsonl", run.step)
    if folder is not None and context.is_main:
        (folder / "config.json").write_text(config.to_json() + "\n", encoding="utf-8")
        LOGGER.info(
            "run folder %s, config written to %s", folder, folder / "config.json"
        )
    LOGGER.info(
        "training %d steps from step %d on %s (%d process(es)), %d images of %s",
        config.steps, run.step, context.device, context.world_size, len(run.images), tuple(run.images.shape[1:]),
    )  # fmt: skip

    start_step = run.step
    bar = ProgressBar(
        config.steps,
        start=start_step,
        stream=sys.stderr if config.progress and context.is_main else _NullStream(),
    )
    started = time.perf_counter()
    with StopRequest() as stop:
        while run.step < config.steps:
            real, z = run.next_batch()
            result = train_step(
                run.generator,
                run.discriminator,
                run.optimizer_g,
                run.optimizer_d,
                real,
                z,
                config,
            )
            run.step += 1
            run.record(result)
            last = run.step == config.steps
            stopping = _stop_everywhere(stop, context)
            if run.step % config.log_every == 0 or last or stopping:
                run.log(result, run.measure_after_g_step(z), bar)
            run.keep_samples(last)
            if (
                config.checkpoint_every and run.step % config.checkpoint_every == 0
            ) or last:
                run.save()
            bar.update(run.step, force=last)
            if stopping:
                break
    bar.close()
    seconds = time.perf_counter() - started
    history = run.history
    history.seconds = seconds
    steps_run = run.step - start_step
    history.images_per_second = (
        steps_run * config.batch_size * context.world_size / seconds if seconds else 0.0
    )
    history.generator_state = {
        k: v.detach().cpu().clone()
        for k, v in unwrap(run.generator).state_dict().items()
    }
    history.discriminator_state = {
        k: v.detach().cpu().clone()
        for k, v in unwrap(run.discriminator).state_dict().items()
    }
    if run.step < config.steps:
        history.interrupted = True
        history.stop_signal = stop.signal_number
        run.save()
        if run.step not in history.samples:
            history.samples[run.step] = sample(run.generator, run.fixed_noise).numpy()
        LOGGER.warning(
            "stopped by signal %s at step %d; checkpoint written",
            stop.signal_number,
            run.step,
        )
    if context.distributed:
        dist.barrier()  # peers wait for rank 0's last checkpoint before leaving
    LOGGER.info(
        "finished at step %d in %s (%.1f img/s)",
        run.step,
        format_seconds(seconds),
        history.images_per_second,
    )
    return history


def _drop_log_lines_after(path: Path, step: int) -> None:
    """Remove log lines of steps after the checkpoint, which the resumed run repeats."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _stop_everywhere(stop: StopRequest, context: DistributedContext) -> bool:
    """Return True when any process received SIGINT or SIGTERM (all stop at the same step)."""
    if not context.distributed:
        return stop.requested
    flag = torch.tensor([1.0 if stop.requested else 0.0], device=context.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


class _NullStream:
    def isatty(self) -> bool:
        return False

    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass
