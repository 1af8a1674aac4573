r"""Computations behind the errata page: where widely used GAN tutorials disagree with
the papers they follow or with their own code, and what each difference does.

Backs the page "Errata of well-known tutorials" (docs/errata.md). Each function isolates
one difference and measures its effect on the book's own DCGAN (`gan_book.dcgan.model`)
or on the losses alone; none of them trains a network, so each runs in well under a
second on a CPU.

Sources: Goodfellow et al., "Generative Adversarial Nets" (NeurIPS 2014), for the
saturating and non-saturating generator losses; Radford, Metz and Chintala,
"Unsupervised Representation Learning with Deep Convolutional Generative Adversarial
Networks" (ICLR 2016), for batch normalisation everywhere except at G's output and D's
input, weights from $\mathcal N(0, 0.02^2)$ and Adam with learning rate
$2\times10^{-4}$ and $\beta_1 = 0.5$. The tutorials themselves are named, with the
version read, on the page.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from scipy.special import expit
from torch import nn
from torch.nn import functional

from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.data import load_mnist10k, to_model_range
from gan_book.dcgan.model import Discriminator, Generator, initialise_weights

PAPER_LEARNING_RATE = 2e-4  # DCGAN paper, Adam's step size for both networks
PAPER_BETAS = (0.5, 0.999)  # DCGAN paper lowers beta1 from Adam's default 0.9
# PyTorch's BCELoss bounds each log term below by -100 and, in its backward pass,
# divides by max(p (1 - p), 1e-12); both are measured, not assumed, by the functions.
BCE_LOG_FLOOR = -100.0
BCE_BACKWARD_EPS = 1e-12


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _mnist_config(**overrides) -> DCGANConfig:
    """Return the book's 28x28 grey DCGAN configuration, with `overrides`."""
    return DCGANConfig(image_size=28, channels=1, **overrides)


def real_digits(count: int, offset: int = 0) -> torch.Tensor:
    """Return `count` shipped MNIST digits as float32 (count, 1, 28, 28) in [-1, 1]."""
    images, _ = load_mnist10k()
    _require(1 <= count and 0 <= offset and offset + count <= len(images),
             f"count={count} and offset={offset} must select digits within the "
             f"{len(images)} shipped ones")
    batch = torch.from_numpy(images[offset:offset + count].copy())[:, None]
    return to_model_range(batch)


# --- 1. Batch normalisation on the discriminator's input layer -----------------------


def discriminator_with_input_batchnorm(config: DCGANConfig) -> nn.Module:
    """Return the book's discriminator with a batch norm after its first convolution.

    This is the layout of a tutorial whose first discriminator block is
    convolution, batch norm, LeakyReLU; the DCGAN paper leaves that layer without one.
    """
    discriminator = Discriminator(config)
    layers = list(discriminator.main)
    first_conv = layers[0]
    layers.insert(1, nn.BatchNorm2d(first_conv.out_channels))
    discriminator.main = nn.Sequential(*layers)
    return discriminator


@dataclasses.dataclass(frozen=True)
class ShiftResult:
    r"""How much a uniform brightness shift of a whole batch, $x \mapsto x + c$, moves D.

    `shifts` are the offsets $c$ (pixel range [-1, 1]); `paper_change[i]` and
    `input_bn_change[i]` are the largest absolute change of any image's logit, in
    training mode, for the paper's layout and for the layout with batch norm on the
    input layer; `paper_logit_spread` is the standard deviation of the paper layout's
    logits on the unshifted batch, the yardstick for those changes.
    """

    shifts: tuple[float, ...]
    paper_change: np.ndarray
    input_bn_change: np.ndarray
    paper_logit_spread: float


def input_batchnorm_shift(shifts: tuple[float, ...] = (-0.5, -0.2, 0.2, 0.5),
                          batch_size: int = 64, seed: int = 0) -> ShiftResult:
    r"""Score a batch of real digits and the same batch plus $c$ with two discriminators.

    Both discriminators share one initialisation (`seed`) and run in training mode, as
    during a GAN update. The first convolution has no bias, so adding $c$ to every
    pixel adds $c \sum w$ to each of its output channels, except where the kernel
    overlaps the zero padding. A batch norm right after it subtracts each channel's
    batch mean and so removes that offset: the input-layer layout sees a brightness
    shift of the whole batch only through the image border.
    """
    _require(len(shifts) >= 1 and all(math.isfinite(c) and c != 0 for c in shifts),
             f"shifts must be finite non-zero offsets, got {shifts!r}")
    _require(batch_size >= 2, f"batch_size must be >= 2 for batch statistics, got {batch_size}")
    config = _mnist_config()
    torch.manual_seed(seed)
    paper = Discriminator(config)
    paper.apply(lambda module: initialise_weights(module, config))
    input_bn = discriminator_with_input_batchnorm(config)
    input_bn.apply(lambda module: initialise_weights(module, config))
    # The same first-layer weights in both, so the inserted layer is the difference.
    input_bn.main[0].load_state_dict(paper.main[0].state_dict())
    paper.train()
    input_bn.train()

    images = real_digits(batch_size)
    with torch.no_grad():
        paper_base = paper(images)
        input_bn_base = input_bn(images)
        paper_change = [float((paper(images + c) - paper_base).abs().max()) for c in shifts]
        input_bn_change = [float((input_bn(images + c) - input_bn_base).abs().max())
                           for c in shifts]
    return ShiftResult(tuple(float(c) for c in shifts), np.array(paper_change),
                       np.array(input_bn_change), float(paper_base.std()))


# --- 2. A learning rate 25 times the paper's ----------------------------------------


@dataclasses.dataclass(frozen=True)
class AdamStepResult:
    r"""The first Adam update of the discriminator, for each learning rate.

    `learning_rates[i]` moved the weights by `step_sizes[i]` (median $|\Delta w|$ over
    every convolution weight with a non-zero gradient) and changed the convolution
    weights by `relative_change[i]` $= \|\Delta w\| / \|w\|$.
    """

    learning_rates: tuple[float, ...]
    step_sizes: np.ndarray
    relative_change: np.ndarray
    init_std: float


def first_adam_step(learning_rates: tuple[float, ...] = (PAPER_LEARNING_RATE, 5e-3),
                    batch_size: int = 32, seed: int = 0) -> AdamStepResult:
    r"""Take one Adam step of the discriminator's loss on real digits at each rate.

    Adam's first bias-corrected update is $-\eta\, g / (|g| + \epsilon)$, so every
    weight with $|g| \gg \epsilon$ moves by the learning rate $\eta$ whatever its
    gradient's size. With weights drawn at standard deviation 0.02, one step at
    $\eta = 5\times10^{-3}$ moves each of them by a quarter of its typical size; at
    the paper's $2\times10^{-4}$, by a hundredth.
    """
    _require(len(learning_rates) >= 1 and all(rate > 0 for rate in learning_rates),
             f"learning_rates must be positive, got {learning_rates!r}")
    _require(batch_size >= 2, f"batch_size must be >= 2, got {batch_size}")
    config = _mnist_config()
    images = real_digits(batch_size)
    step_sizes, relative = [], []
    for rate in learning_rates:
        torch.manual_seed(seed)
        discriminator = Discriminator(config)
        discriminator.apply(lambda module: initialise_weights(module, config))
        weights = [module.weight for module in discriminator.modules()
                   if isinstance(module, nn.Conv2d)]
        before = [weight.detach().clone() for weight in weights]
        optimiser = torch.optim.Adam(discriminator.parameters(), lr=rate, betas=PAPER_BETAS)
        logits = discriminator(images)
        loss = functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        loss.backward()
        optimiser.step()
        moves = torch.cat([(weight.detach() - old).flatten()
                           for weight, old in zip(weights, before, strict=True)])
        gradients = torch.cat([weight.grad.flatten() for weight in weights])
        moved = moves[gradients.abs() > 1e-6].abs()
        step_sizes.append(float(moved.median()))
        old_norm = torch.cat([old.flatten() for old in before]).norm()
        relative.append(float(moves.norm() / old_norm))
    return AdamStepResult(tuple(float(rate) for rate in learning_rates), np.array(step_sizes),
                          np.array(relative), config.init_std)


# --- 3. The batch-norm scale initialisation -----------------------------------------


@dataclasses.dataclass(frozen=True)
class ScaleInitResult:
    r"""The generator at initialisation, for each mean of the batch-norm scales $\gamma$.

    `pixel_std[i]` is the standard deviation of the generated pixels (range [-1, 1])
    when $\gamma \sim \mathcal N(\mu_i, 0.02^2)$ with $\mu_i$ = `scale_means[i]`;
    `negative_share[i]` is the share of $\gamma$ entries below zero.
    """

    scale_means: tuple[float, ...]
    pixel_std: np.ndarray
    negative_share: np.ndarray


def batchnorm_scale_init(scale_means: tuple[float, ...] = (1.0, 0.0), batch_size: int = 64,
                         seed: int = 0) -> ScaleInitResult:
    r"""Generate one batch at initialisation for each mean $\mu$ of the scales $\gamma$.

    $\mu = 1$ is the reading of pytorch/examples and the PyTorch DCGAN tutorial code;
    $\mu = 0$ applies "all weights from $\mathcal N(0, 0.02^2)$" to $\gamma$ literally.
    Each batch norm's output is $\gamma \hat x + \beta$, so with $|\gamma| \approx 0.016$
    every feature map reaching the output layer shrinks about sixty-fold, the images
    start out nearly flat grey, and half the channels have their sign flipped.
    """
    _require(len(scale_means) >= 1, "scale_means must name at least one mean")
    _require(batch_size >= 2, f"batch_size must be >= 2, got {batch_size}")
    pixel_std, negative_share = [], []
    for mean in scale_means:
        config = _mnist_config(batchnorm_scale_mean=float(mean))
        torch.manual_seed(seed)
        generator = Generator(config)
        generator.apply(lambda module: initialise_weights(module, config))
        generator.train()
        scales = torch.cat([module.weight.detach() for module in generator.modules()
                            if isinstance(module, nn.BatchNorm2d)])
        with torch.no_grad():
            images = generator(torch.randn(batch_size, config.latent_dim))
        pixel_std.append(float(images.std()))
        negative_share.append(float((scales < 0).float().mean()))
    return ScaleInitResult(tuple(float(mean) for mean in scale_means), np.array(pixel_std),
                           np.array(negative_share))


# --- 4. Saturating loss in the prose, non-saturating loss in the code ----------------


@dataclasses.dataclass(frozen=True)
class GeneratorGradients:
    r"""Gradients of generator losses with respect to the logit $\ell$ of $D(G(z))$.

    At each `d_fake` $= D(G(z)) = \sigma(\ell)$: `saturating` is
    $\partial_\ell \log(1 - \sigma(\ell)) = -\sigma(\ell)$, the loss written in the
    docstring that the generator descends; `non_saturating` is
    $\partial_\ell[-\log \sigma(\ell)] = \sigma(\ell) - 1$, what binary cross-entropy
    with target 1 trains; `smoothed` is $\sigma(\ell) - y$ for the smoothed target
    `target`. All three come from torch's autograd on the loss functions.
    """

    d_fake: np.ndarray
    saturating: np.ndarray
    non_saturating: np.ndarray
    smoothed: np.ndarray
    target: float


def generator_loss_gradients(d_fake: tuple[float, ...] = (0.001, 0.01, 0.1, 0.5),
                             smoothed_target: float = 0.9) -> GeneratorGradients:
    r"""Differentiate the saturating and the non-saturating generator loss at `d_fake`.

    Both losses fall as $D(G(z))$ rises, so they share their fixed points, but early
    in training, when D rejects the fakes ($D(G(z)) \to 0$), the saturating loss's
    gradient vanishes like $D(G(z))$ while the non-saturating one stays near $-1$.
    `smoothed_target` is one label $y$ from a smoothed range such as $[0.8, 1]$.
    """
    values = np.asarray(d_fake, dtype=np.float64)
    _require(values.ndim == 1 and values.size >= 1 and bool(np.all((values > 0) & (values < 1))),
             f"d_fake must be probabilities strictly between 0 and 1, got {d_fake!r}")
    _require(0 < smoothed_target <= 1, f"smoothed_target must lie in (0, 1], got {smoothed_target}")
    logits = torch.tensor(np.log(values) - np.log1p(-values), dtype=torch.float64,
                          requires_grad=True)

    def gradient(loss: torch.Tensor) -> np.ndarray:
        (result,) = torch.autograd.grad(loss.sum(), logits)
        return result.numpy()

    saturating = gradient(torch.log1p(-torch.sigmoid(logits)))
    non_saturating = gradient(functional.binary_cross_entropy_with_logits(
        logits, torch.ones_like(logits), reduction="none"))
    smoothed = gradient(functional.binary_cross_entropy_with_logits(
        logits, torch.full_like(logits, smoothed_target), reduction="none"))
    return GeneratorGradients(values, saturating, non_saturating, smoothed,
                              float(smoothed_target))


# --- 5. A sigmoid followed by a plain binary cross-entropy ---------------------------


@dataclasses.dataclass(frozen=True)
class SigmoidBCEResult:
    r"""Binary cross-entropy through `sigmoid` then `BCELoss`, against the logit form.

    At each float32 logit `logits[i]` with target `target`: `split_loss` and
    `split_gradient` come from `binary_cross_entropy(sigmoid(l), y)`, `fused_gradient`
    from `binary_cross_entropy_with_logits(l, y)`, and `exact_gradient` is
    $\sigma(\ell) - y$ in float64.
    """

    logits: np.ndarray
    target: float
    split_loss: np.ndarray
    split_gradient: np.ndarray
    fused_gradient: np.ndarray
    exact_gradient: np.ndarray


def sigmoid_bce(logits: tuple[float, ...], target: float) -> SigmoidBCEResult:
    r"""Differentiate both forms of binary cross-entropy at each logit, in float32.

    `target` is the label $y$, 1 for "real" or 0 for "fake".
    """
    _require(target in (0.0, 1.0), f"target must be 0 or 1, got {target!r}")
    values = np.asarray(logits, dtype=np.float32)
    _require(values.ndim == 1 and values.size >= 1 and bool(np.all(np.isfinite(values))),
             f"logits must be a non-empty sequence of finite numbers, got {logits!r}")
    split_loss, split_gradient, fused_gradient = [], [], []
    for value in values:
        split_input = torch.tensor([value], requires_grad=True)
        loss = functional.binary_cross_entropy(torch.sigmoid(split_input),
                                               torch.full((1,), target))
        loss.backward()
        split_loss.append(float(loss.detach()))
        split_gradient.append(float(split_input.grad))
        fused_input = torch.tensor([value], requires_grad=True)
        functional.binary_cross_entropy_with_logits(fused_input,
                                                    torch.full((1,), target)).backward()
        fused_gradient.append(float(fused_input.grad))
    exact = expit(values.astype(np.float64)) - target
    return SigmoidBCEResult(values, float(target), np.array(split_loss),
                            np.array(split_gradient), np.array(fused_gradient), exact)


def sigmoid_bce_breakdown(target: float = 1.0, tolerance: float = 0.01,
                          low: float = -200.0, high: float = 200.0,
                          points: int = 40_001) -> float:
    r"""Return the logit nearest 0 at which `sigmoid` + `BCELoss` has a gradient off by more than `tolerance`.

    Scans a float32 grid of `points` logits on [`low`, `high`] from the side where the
    gradient matters: for target 1 (the generator's non-saturating loss, and D on real
    images) the negative logits, for target 0 (D on fakes) the positive ones.
    Returns `nan` when no logit of the grid breaks down.
    """
    _require(low < 0 < high, f"the scan needs low < 0 < high, got low={low}, high={high}")
    _require(points >= 3, f"points must be >= 3, got {points}")
    _require(tolerance > 0, f"tolerance must be > 0, got {tolerance}")
    _require(target in (0.0, 1.0), f"target must be 0 or 1, got {target!r}")
    grid = torch.linspace(low, high, points, dtype=torch.float32)
    grid = grid[grid < 0] if target == 1.0 else grid[grid > 0]
    split_input = grid.clone().requires_grad_(True)
    functional.binary_cross_entropy(torch.sigmoid(split_input),
                                    torch.full_like(grid, target), reduction="sum").backward()
    exact = expit(grid.double().numpy()) - target
    error = np.abs(split_input.grad.double().numpy() - exact) / np.abs(exact)
    broken = grid.numpy()[error > tolerance]
    if broken.size == 0:
        return math.nan
    return float(broken.max() if target == 1.0 else broken.min())
