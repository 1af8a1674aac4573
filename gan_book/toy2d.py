r"""Two-dimensional toy GANs: the ring of Gaussians, mode metrics and GAN Lab-style views.

Backs the chapter "Failure modes, and seeing them" (docs/chapters/failure-modes.md) and
the measured parts of "Why GANs" (docs/chapters/why-gans.md).

* Data: an equal-weight mixture of `modes` isotropic Gaussians with standard deviation
  `std` whose centres sit evenly on a circle of radius `radius`. Metz, Poole, Pfau and
  Sohl-Dickstein, "Unrolled Generative Adversarial Networks" (ICLR 2017) popularised
  this test because a collapsed generator is easy to see on it.
* Networks: small multilayer perceptrons. The generator maps a 2-D standard normal
  latent $z$ to a point $x = G(z)$ in the plane, so its image of a latent grid is a
  2-D sheet that can be drawn. The discriminator returns a logit $\ell(x)$ with
  $D(x) = \sigma(\ell(x))$.
* Losses: the discriminator minimises $-\log D(x) - \log(1 - D(G(z)))$. The generator
  minimises $\log(1 - D(G(z)))$ (the saturating loss of Goodfellow et al., 2014) or
  $-\log D(G(z))$ (the non-saturating loss).
* Remedy: the R1 gradient penalty $\tfrac{\gamma}{2}\,\mathbb E_{data}\|\nabla_x \ell(x)\|^2$
  added to the discriminator's loss (Mescheder, Geiger and Nowozin, "Which Training
  Methods for GANs do actually Converge?", ICML 2018).
* Detector metrics: a sample is of high quality when it lies within
  `quality_radius` standard deviations of its nearest centre (three, as in Srivastava et
  al., "VEEGAN", NeurIPS 2017). A mode is covered when it receives at least
  `min_fair_share` of the high-quality samples a perfect generator would give it.
* Views in the manner of GAN Lab (Kahng et al., "GAN Lab: Understanding Complex Deep
  Generative Models using Interactive Visual Experimentation", IEEE TVCG 2019): the
  generator's image of a latent grid, the discriminator's output as a heat map and the
  direction in which the generator's loss pushes each generated point.

Every run is reproducible from `TrainConfig.seed` on CPU with a fixed thread count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "COLLAPSE",
    "OVERPOWERED",
    "PACKED",
    "animate_views",
    "draw_view",
    "LOSSES",
    "ModeMetrics",
    "RingConfig",
    "TrainConfig",
    "TrainResult",
    "View",
    "build_discriminator",
    "build_generator",
    "discriminator_gap",
    "generator_arrows",
    "mode_centres",
    "mode_metrics",
    "sample_ring",
    "train",
]

LOSSES = ("saturating", "non_saturating")


@dataclass(frozen=True)
class RingConfig:
    """The data: `modes` Gaussians with standard deviation `std` on a circle."""

    modes: int = 8
    radius: float = 2.0
    # Five times the 0.02 of Metz et al., so that two thousand steps of a small MLP can
    # land within three standard deviations of a centre. Neighbouring centres are still
    # 1.53 apart at radius 2, fifteen standard deviations.
    std: float = 0.1

    def __post_init__(self):
        if not (isinstance(self.modes, int) and self.modes >= 1):
            raise ValueError(
                f"modes must be a positive integer, got modes={self.modes!r}; pass e.g. 8."
            )
        _require_positive("radius", self.radius)
        _require_positive("std", self.std)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one toy GAN run; the defaults give a plain non-saturating GAN."""

    ring: RingConfig = field(default_factory=RingConfig)
    steps: int = 2000
    batch_size: int = 128
    latent_dim: int = 2  # 2, so the image of a latent grid is a drawable sheet
    hidden: int = 64
    generator_lr: float = 1e-3
    discriminator_lr: float = 1e-3
    # Adam's beta1 = 0.5 as in DCGAN (Radford, Metz and Chintala, 2016).
    adam_betas: tuple[float, float] = (0.5, 0.999)
    discriminator_steps: int = 1  # discriminator updates per generator update
    loss: str = "non_saturating"
    gradient_penalty: float = 0.0  # R1 weight gamma; 0 turns the penalty off
    # Packing (Lin et al., "PacGAN", NeurIPS 2018): the discriminator judges `pack`
    # samples at once, all real or all generated, so it can see a lack of diversity.
    pack: int = 1
    record_every: int = 100
    eval_samples: int = 2000
    snapshot_steps: tuple[int, ...] = ()  # steps at which to store a View
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "latent_dim", "hidden", "discriminator_steps",
                     "record_every", "eval_samples", "pack"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(
                    f"{name} must be a positive integer, got {name}={value!r}."
                )
        _require_positive("generator_lr", self.generator_lr)
        _require_positive("discriminator_lr", self.discriminator_lr)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got loss={self.loss!r}.")
        if not (math.isfinite(self.gradient_penalty) and self.gradient_penalty >= 0):
            raise ValueError(
                "gradient_penalty must be a finite number >= 0, got "
                f"gradient_penalty={self.gradient_penalty!r}; pass 0 to turn it off."
            )
        for name in ("batch_size", "eval_samples"):
            if getattr(self, name) % self.pack:
                raise ValueError(
                    f"{name}={getattr(self, name)} must be a multiple of pack={self.pack}."
                )
        if self.pack > 1 and self.snapshot_steps:
            raise ValueError(
                "views need a discriminator of single points; pass pack=1 with "
                f"snapshot_steps, got pack={self.pack}."
            )
        bad = [s for s in self.snapshot_steps if not (0 <= s <= self.steps)]
        if bad:
            raise ValueError(
                f"snapshot_steps must lie in [0, steps={self.steps}], got {bad}."
            )


@dataclass(frozen=True)
class ModeMetrics:
    """Mode coverage of a sample set.

    `modes_covered` counts modes with enough high-quality samples. `modes_reached`
    counts modes with enough samples nearest to them, sharp or not, so it separates a
    collapsed generator (mass on few modes) from a blurry one (mass everywhere).
    """

    modes_covered: int
    modes_reached: int
    high_quality_share: float
    counts: np.ndarray  # high-quality samples per mode, shape (modes,)
    nearest_counts: np.ndarray  # samples whose nearest centre is each mode, (modes,)


@dataclass
class View:
    """One GAN Lab-style picture of a run at training step `step` (all numpy arrays)."""

    step: int
    real: np.ndarray  # (n, 2) data samples
    fake: np.ndarray  # (n, 2) generator samples
    grid_lines: np.ndarray  # (2 * lines, points, 2) images of latent grid lines
    heat_extent: tuple[float, float, float, float]  # (x_min, x_max, y_min, y_max)
    heat: np.ndarray  # (pixels, pixels) D(x) on a regular grid, rows along y
    arrow_origins: np.ndarray  # (m, 2) generated points
    arrow_directions: np.ndarray  # (m, 2) minus the gradient of the generator's loss


@dataclass
class TrainResult:
    """History of a run, recorded every `record_every` steps and at the last step."""

    config: TrainConfig
    steps: np.ndarray
    modes_covered: np.ndarray
    modes_reached: np.ndarray
    high_quality_share: np.ndarray
    d_real: np.ndarray  # mean D(x) on the evaluation data
    d_fake: np.ndarray  # mean D(G(z)) on the evaluation latents
    generator_grad_norm: np.ndarray  # norm of the generator's loss gradient (parameters)
    final_samples: np.ndarray  # (eval_samples, 2)
    views: list[View]
    seconds: float


def _require_positive(name: str, value) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}.")


def mode_centres(ring: RingConfig) -> np.ndarray:
    """Return the `(modes, 2)` centres, the first at angle 0, counter-clockwise."""
    angles = 2 * np.pi * np.arange(ring.modes) / ring.modes
    return ring.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_ring(ring: RingConfig, n: int, generator: torch.Generator) -> torch.Tensor:
    """Draw `n` points of the ring mixture, each mode chosen with probability 1/modes."""
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be a positive integer, got n={n!r}.")
    centres = torch.as_tensor(mode_centres(ring), dtype=torch.float32)
    index = torch.randint(ring.modes, (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    return centres[index] + ring.std * noise


def mode_metrics(samples, ring: RingConfig, *, quality_radius: float = 3.0,
                 min_fair_share: float = 0.25) -> ModeMetrics:
    r"""Count covered modes and the share of high-quality samples.

    A sample $x$ is of high quality when $\min_k \|x - \mu_k\| \le$ `quality_radius`
    $\cdot$ `ring.std`, where $\mu_k$ are the centres. A mode is covered when at least
    `min_fair_share` $\cdot\, n /$ `ring.modes` high-quality samples land on it, so a
    handful of stray points does not count as coverage. It is reached when that many
    samples of any quality have it as their nearest centre.
    """
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 2 or samples.shape[1] != 2 or samples.shape[0] == 0:
        raise ValueError(
            f"samples must have shape (n, 2) with n >= 1, got shape {samples.shape}."
        )
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples contain NaN or infinity; a diverged run has no metrics.")
    _require_positive("quality_radius", quality_radius)
    if not (0 < min_fair_share <= 1):
        raise ValueError(
            f"min_fair_share must lie in (0, 1], got min_fair_share={min_fair_share!r}."
        )
    centres = mode_centres(ring)
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= quality_radius * ring.std
    counts = np.bincount(nearest[good], minlength=ring.modes)
    nearest_counts = np.bincount(nearest, minlength=ring.modes)
    threshold = min_fair_share * len(samples) / ring.modes
    return ModeMetrics(
        modes_covered=int(np.sum(counts >= threshold)),
        modes_reached=int(np.sum(nearest_counts >= threshold)),
        nearest_counts=nearest_counts,
        high_quality_share=float(good.mean()),
        counts=counts,
    )


def discriminator_gap(d_real, d_fake) -> float:
    r"""Return $\overline{D(x)} - \overline{D(G(z))}$, the overpowering detector.

    Near 0 the discriminator cannot tell the two apart. Near 1 it separates them
    completely, and under the saturating loss the generator's gradient vanishes with
    it, because that gradient is proportional to $D(G(z))$.
    """
    d_real = np.asarray(d_real, dtype=float)
    d_fake = np.asarray(d_fake, dtype=float)
    for name, values in (("d_real", d_real), ("d_fake", d_fake)):
        if values.size == 0 or np.any(~np.isfinite(values)) or np.any(values < 0) \
                or np.any(values > 1):
            raise ValueError(
                f"{name} must be a non-empty array of probabilities in [0, 1], got "
                f"{name}={values!r}; pass the mean discriminator outputs."
            )
    return float(d_real.mean() - d_fake.mean())


def build_generator(latent_dim: int, hidden: int) -> nn.Module:
    """Return the generator MLP: latent (B, latent_dim) to points (B, 2)."""
    return nn.Sequential(
        nn.Linear(latent_dim, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 2),
    )


def build_discriminator(hidden: int, pack: int = 1) -> nn.Module:
    """Return the discriminator MLP: packs of points (B, 2 * pack) to logits (B, 1)."""
    return nn.Sequential(
        nn.Linear(2 * pack, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
    )


def generator_loss(fake_logits: torch.Tensor, loss: str) -> torch.Tensor:
    r"""Return the generator's loss from the logits $\ell$ of generated points.

    Saturating: mean of $\log(1 - \sigma(\ell)) = -\operatorname{softplus}(\ell)$.
    Non-saturating: mean of $-\log\sigma(\ell) = \operatorname{softplus}(-\ell)$.
    Both are written with softplus so that confident logits cannot overflow.
    """
    if loss == "saturating":
        return -F.softplus(fake_logits).mean()
    if loss == "non_saturating":
        return F.softplus(-fake_logits).mean()
    raise ValueError(f"loss must be one of {LOSSES}, got loss={loss!r}.")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Return the discriminator's cross-entropy: real labelled 1, generated labelled 0."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> torch.Tensor:
    r"""Return $\mathbb E\|\nabla_x \ell(x)\|^2$ over the real batch, differentiable."""
    real = real.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return gradient.square().sum(dim=1).mean()


def generator_arrows(discriminator: nn.Module, points, loss: str) -> np.ndarray:
    r"""Return $-\nabla_x$ of the generator's per-point loss at each of `points` (n, 2).

    For a logit $\ell$ this is $D\,\nabla_x\ell$ under the saturating loss and
    $(1 - D)\,\nabla_x\ell$ under the non-saturating one: the direction in which the
    generator's update would move each generated point.
    """
    origins = torch.as_tensor(np.asarray(points), dtype=torch.float32).requires_grad_(True)
    # The mean times n is the sum of per-point losses, so row i of the gradient is
    # the gradient of point i's own loss.
    total = generator_loss(discriminator(origins), loss) * origins.shape[0]
    (gradient,) = torch.autograd.grad(total, origins)
    return -gradient.numpy()


def _grid_lines(generator: nn.Module, latent_dim: int, lines: int = 15,
                points: int = 60, extent: float = 2.5) -> np.ndarray:
    """Map the lines of a latent grid over [-extent, extent]^2 through the generator.

    With latent_dim > 2 the remaining latent coordinates are held at 0.
    """
    ticks = torch.linspace(-extent, extent, lines)
    along = torch.linspace(-extent, extent, points)
    latent = torch.zeros(2 * lines, points, latent_dim)
    latent[:lines, :, 0] = ticks[:, None]
    latent[:lines, :, 1] = along[None, :]
    latent[lines:, :, 0] = along[None, :]
    latent[lines:, :, 1] = ticks[:, None]
    with torch.no_grad():
        image = generator(latent.reshape(-1, latent_dim))  # (2 * lines * points, 2)
    return image.reshape(2 * lines, points, 2).numpy()


def _view(step: int, generator: nn.Module, discriminator: nn.Module, config: TrainConfig,
          real: torch.Tensor, latent: torch.Tensor, pixels: int = 64,
          arrows: int = 60) -> View:
    half = config.ring.radius * 1.75
    axis = torch.linspace(-half, half, pixels)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (pixels**2, 2)
    with torch.no_grad():
        heat = torch.sigmoid(discriminator(grid)).reshape(pixels, pixels).numpy()
        fake = generator(latent).numpy()
    origins = fake[:arrows]
    return View(
        step=step, real=real.numpy(), fake=fake,
        grid_lines=_grid_lines(generator, config.latent_dim),
        heat_extent=(-half, half, -half, half), heat=heat,
        arrow_origins=origins,
        arrow_directions=generator_arrows(discriminator, origins, config.loss),
    )


def _parameter_grad_norm(module: nn.Module) -> float:
    squares = [p.grad.square().sum() for p in module.parameters() if p.grad is not None]
    return float(torch.sqrt(torch.stack(squares).sum())) if squares else 0.0


def train(config: TrainConfig) -> TrainResult:
    """Train a toy GAN on the ring and return its recorded history and views.

    Each step makes `discriminator_steps` discriminator updates, then one generator
    update, both with Adam. Metrics are computed on `eval_samples` fixed latents and
    data points every `record_every` steps, at step 0 and at the last step.
    """
    previous_threads = torch.get_num_threads()
    # One thread: these networks are so small that a second thread only adds
    # synchronisation, which turns into long spin-waits when the cores are shared.
    torch.set_num_threads(1)
    try:
        return _train(config)
    finally:
        torch.set_num_threads(previous_threads)


def _train(config: TrainConfig) -> TrainResult:
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        generator = build_generator(config.latent_dim, config.hidden)
        discriminator = build_discriminator(config.hidden, config.pack)
    rng = torch.Generator().manual_seed(config.seed + 1)
    eval_rng = torch.Generator().manual_seed(10_000 + config.seed)
    eval_latent = torch.randn(config.eval_samples, config.latent_dim, generator=eval_rng)
    eval_real = sample_ring(config.ring, config.eval_samples, eval_rng)
    optimiser_g = torch.optim.Adam(generator.parameters(), lr=config.generator_lr,
                                   betas=config.adam_betas)
    optimiser_d = torch.optim.Adam(discriminator.parameters(), lr=config.discriminator_lr,
                                   betas=config.adam_betas)

    def judge(points: torch.Tensor) -> torch.Tensor:
        return discriminator(points.reshape(-1, 2 * config.pack))  # (B / pack, 1)

    history: dict[str, list[float]] = {name: [] for name in (
        "steps", "modes_covered", "modes_reached", "high_quality_share", "d_real", "d_fake",
        "generator_grad_norm")}
    views: list[View] = []

    def record(step: int) -> None:
        with torch.no_grad():
            fake = generator(eval_latent)
            d_real = torch.sigmoid(judge(eval_real)).mean().item()
            d_fake = torch.sigmoid(judge(fake)).mean().item()
        generator.zero_grad(set_to_none=True)
        generator_loss(judge(generator(eval_latent[:config.batch_size])),
                       config.loss).backward()
        metrics = mode_metrics(fake.numpy(), config.ring)
        history["steps"].append(step)
        history["modes_covered"].append(metrics.modes_covered)
        history["modes_reached"].append(metrics.modes_reached)
        history["high_quality_share"].append(metrics.high_quality_share)
        history["d_real"].append(d_real)
        history["d_fake"].append(d_fake)
        history["generator_grad_norm"].append(_parameter_grad_norm(generator))
        generator.zero_grad(set_to_none=True)
        discriminator.zero_grad(set_to_none=True)

    for step in range(config.steps + 1):
        if step % config.record_every == 0 or step == config.steps:
            record(step)
        if step in config.snapshot_steps:
            views.append(_view(step, generator, discriminator, config,
                               eval_real[:500], eval_latent[:500]))
        if step == config.steps:
            break

        for _ in range(config.discriminator_steps):
            real = sample_ring(config.ring, config.batch_size, rng)
            latent = torch.randn(config.batch_size, config.latent_dim, generator=rng)
            with torch.no_grad():
                fake = generator(latent)
            loss_d = discriminator_loss(judge(real), judge(fake))
            if config.gradient_penalty > 0:
                loss_d = loss_d + 0.5 * config.gradient_penalty * r1_penalty(
                    discriminator, real.reshape(-1, 2 * config.pack))
            optimiser_d.zero_grad(set_to_none=True)
            loss_d.backward()
            optimiser_d.step()

        latent = torch.randn(config.batch_size, config.latent_dim, generator=rng)
        loss_g = generator_loss(judge(generator(latent)), config.loss)
        optimiser_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimiser_g.step()

    with torch.no_grad():
        final = generator(eval_latent).numpy()
    if not np.all(np.isfinite(final)):
        raise ValueError(
            f"training diverged (non-finite samples) with config {config!r}; "
            "lower the learning rates."
        )
    return TrainResult(
        config=config,
        **{name: np.asarray(values) for name, values in history.items()},
        final_samples=final, views=views, seconds=time.perf_counter() - start,
    )


# --- Presets used by the chapter "Failure modes, and seeing them" ---------------------

# A generator learning rate three times the discriminator's: the generator outruns the
# discriminator, piles its mass on one or two modes and hops between them.
COLLAPSE = TrainConfig(steps=2000, generator_lr=3e-3, discriminator_lr=1e-3)
# The same run with the discriminator judging pairs of samples (PacGAN with pack = 2).
PACKED = replace(COLLAPSE, pack=2)
# Five discriminator steps per generator step, a ten times smaller generator learning
# rate and the saturating loss: the discriminator wins at once.
OVERPOWERED = TrainConfig(steps=200, record_every=10,
                          discriminator_steps=5, generator_lr=1e-4,
                          discriminator_lr=1e-3, loss="saturating")


# --- Drawing the views ----------------------------------------------------------------


def draw_view(ax, view: View, *, data_color: str = "#1f77b4",
              generator_color: str = "#d62728", arrow_color: str = "black") -> None:
    """Draw one View on matplotlib axes: heat map, latent grid image, samples, arrows."""
    x_min, x_max, y_min, y_max = view.heat_extent
    ax.imshow(view.heat, origin="lower", extent=view.heat_extent, cmap="Greens",
              vmin=0.0, vmax=1.0, interpolation="bilinear", alpha=0.8)
    for line in view.grid_lines:
        ax.plot(line[:, 0], line[:, 1], color=generator_color, lw=0.5, alpha=0.5)
    ax.scatter(view.real[:, 0], view.real[:, 1], s=3, color=data_color, label="data")
    ax.scatter(view.fake[:, 0], view.fake[:, 1], s=3, color=generator_color,
               label="generator")
    lengths = np.linalg.norm(view.arrow_directions, axis=1, keepdims=True)
    # Unit arrows show directions; the magnitudes differ by orders of magnitude.
    directions = view.arrow_directions / np.maximum(lengths, 1e-12)
    ax.quiver(view.arrow_origins[:, 0], view.arrow_origins[:, 1], directions[:, 0],
              directions[:, 1], color=arrow_color, angles="xy", scale_units="xy",
              scale=3.0, width=0.004, alpha=0.7)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"step {view.step}", fontsize=9)


def animate_views(views: list[View], *, frame_ms: int = 300, size_inches: float = 3.6,
                  dpi: int = 80) -> bytes:
    """Render the views as the frames of a looping GIF and return the GIF's bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    if not views:
        raise ValueError("views is empty; train with snapshot_steps to record some.")
    if not (isinstance(frame_ms, int) and frame_ms >= 20):
        raise ValueError(f"frame_ms must be an integer >= 20, got frame_ms={frame_ms!r}.")
    frames = []
    for view in views:
        fig, ax = plt.subplots(figsize=(size_inches, size_inches), dpi=dpi,
                               layout="constrained")
        ax.grid(False)
        draw_view(ax, view)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        plt.close(fig)
        frames.append(Image.open(buffer).convert("RGB").quantize(colors=64))
    output = io.BytesIO()
    frames[0].save(output, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0, optimize=True)
    return output.getvalue()
