r"""DCGAN generator and discriminator built from a `DCGANConfig`.

Backs the chapter on DCGAN. The architecture follows the rules of Radford, Metz and
Chintala, "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks" (ICLR 2016):

* all-convolutional, with strided convolutions in D and transposed ("fractionally
  strided") convolutions in G, no pooling and no fully connected hidden layers;
* batch normalisation in both networks except at G's output and D's input;
* ReLU in G with tanh at the output, LeakyReLU with slope 0.2 in D;
* weights drawn from $\mathcal{N}(0, 0.02^2)$.

Sizes. For a power of two $S$ from 16 to 128, G projects $z$ to a 4x4 map with a
4x4 transposed convolution (stride 1, no padding) and doubles the side
$\log_2 S - 2$ times with kernel 4, stride 2, padding 1; D mirrors it and ends with a
4x4 convolution to one logit. Size 28 (MNIST) is native, not padded: G starts at 7x7
(a 7x7 transposed convolution) and doubles twice, D halves twice and ends with a 7x7
convolution. D returns logits, one per image; the losses apply the sigmoid inside
`binary_cross_entropy_with_logits`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from gan_book.dcgan.config import DCGANConfig

KERNEL = (
    4  # kernel side of every stride-2 layer: 4 = 2 x stride avoids checkerboard gaps
)
STRIDE = 2
PADDING = 1  # with kernel 4 and stride 2, maps a side of n to exactly 2n (G) or n/2 (D)
LEAKY_SLOPE = 0.2
MNIST_START = 7  # side of the first (last) feature map at image size 28


def _plan(image_size: int) -> tuple[int, int]:
    """Return (side of the smallest feature map, number of stride-2 layers)."""
    if image_size == 28:
        return MNIST_START, 2
    doublings = int(math.log2(image_size)) - 2
    return 4, doublings


class Generator(nn.Module):
    """Map latent vectors z (N, latent_dim) to images (N, channels, S, S) in [-1, 1]."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        start, doublings = _plan(config.image_size)

        # Hidden widths from the smallest map outwards: g_width * 2^(doublings-1) ... g_width.
        widths = [config.g_width * 2**index for index in reversed(range(doublings))]
        layers: list[nn.Module] = [
            # (N, latent_dim, 1, 1) -> (N, widths[0], start, start)
            nn.ConvTranspose2d(config.latent_dim, widths[0], start, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        for narrow, wide in zip(widths[1:], widths[:-1], strict=True):
            # (N, wide, s, s) -> (N, narrow, 2s, 2s)
            layers += [
                nn.ConvTranspose2d(wide, narrow, KERNEL, STRIDE, PADDING, bias=False),
                nn.BatchNorm2d(narrow),
                nn.ReLU(inplace=True),
            ]
        # Output layer: no batch norm (see the note in Discriminator), so G's output
        # can take the data's own mean and spread per pixel.
        # (N, g_width, S/2, S/2) -> (N, channels, S, S)
        layers += [
            nn.ConvTranspose2d(
                widths[-1], config.channels, KERNEL, STRIDE, PADDING, bias=False
            ),
            nn.Tanh(),
        ]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim == 2:
            z = z[:, :, None, None]  # (N, latent_dim) -> (N, latent_dim, 1, 1)
        return self.main(z)


class Discriminator(nn.Module):
    """Map images (N, channels, S, S) to one real-versus-fake logit each, shape (N,)."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        end, halvings = _plan(config.image_size)
        widths = [config.d_width * 2**index for index in range(halvings)]

        # Input layer: no batch norm. Radford et al. report that batch norm on every
        # layer made samples oscillate and training unstable, which leaving it out
        # here and at G's output avoided.
        layers: list[nn.Module] = [
            # (N, channels, S, S) -> (N, d_width, S/2, S/2)
            nn.Conv2d(config.channels, widths[0], KERNEL, STRIDE, PADDING, bias=False),
            nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
        ]
        for narrow, wide in zip(widths[:-1], widths[1:], strict=True):
            # (N, narrow, s, s) -> (N, wide, s/2, s/2)
            layers += [
                nn.Conv2d(narrow, wide, KERNEL, STRIDE, PADDING, bias=False),
                nn.BatchNorm2d(wide),
                nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
            ]
        # (N, widths[-1], end, end) -> (N, 1, 1, 1): one logit, no sigmoid.
        layers.append(nn.Conv2d(widths[-1], 1, end, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).flatten()  # (N, 1, 1, 1) -> (N,)


def initialise_weights(module: nn.Module, config: DCGANConfig) -> None:
    r"""Draw conv weights from $\mathcal{N}(0, \sigma^2)$ and batch-norm scales from $\mathcal{N}(\mu_\gamma, \sigma^2)$.

    $\sigma$ is `config.init_std` (0.02) and $\mu_\gamma$ is
    `config.batchnorm_scale_mean` (1.0, see `DCGANConfig`); batch-norm shifts
    are set to 0. Apply with `model.apply(lambda m: initialise_weights(m, config))`
    or through `build_models`.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, config.init_std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.SyncBatchNorm)):
        nn.init.normal_(module.weight, config.batchnorm_scale_mean, config.init_std)
        nn.init.zeros_(module.bias)


def build_models(
    config: DCGANConfig, seed: int | None = None
) -> tuple[Generator, Discriminator]:
    """Return an initialised (generator, discriminator) pair on the CPU.

    With `seed` the initial weights come from `torch.manual_seed(seed)` (G first,
    then D); without it they draw from torch's global generator in its current state.
    """
    if seed is not None:
        torch.manual_seed(seed)
    generator = Generator(config)
    generator.apply(lambda module: initialise_weights(module, config))
    discriminator = Discriminator(config)
    discriminator.apply(lambda module: initialise_weights(module, config))
    return generator, discriminator


class LayerRow(NamedTuple):
    """One row of `layer_table`: module name, output shape (C, H, W) and parameters."""

    layer: str
    output_shape: tuple[int, ...]
    parameters: int


def layer_table(model: nn.Module, config: DCGANConfig) -> list[LayerRow]:
    """Return (layer, output shape without the batch axis, parameter count) per layer.

    Runs one forward pass on a batch of two in evaluation mode and records every leaf
    module, so the table is read from the model itself. The last row, "total",
    has the model's output shape and its total parameter count.
    Layer names are like "ConvTranspose2d(100->512, k4 s1 p0)".
    """
    if isinstance(model, Generator):
        example = torch.zeros(2, config.latent_dim)
    else:
        example = torch.zeros(2, config.channels, config.image_size, config.image_size)
    rows: list[LayerRow] = []

    def record(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        count = sum(parameter.numel() for parameter in module.parameters(recurse=False))
        rows.append(LayerRow(_describe(module), tuple(output.shape[1:]), count))

    leaves = [module for module in model.modules() if not list(module.children())]
    handles = [leaf.register_forward_hook(record) for leaf in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            output = model(example)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    total = sum(parameter.numel() for parameter in model.parameters())
    rows.append(LayerRow("total", tuple(output.shape[1:]), total))
    return rows


def _describe(module: nn.Module) -> str:
    name = type(module).__name__
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        return (
            f"{name}({module.in_channels}->{module.out_channels}, "
            f"k{module.kernel_size[0]} s{module.stride[0]} p{module.padding[0]})"
        )
    if isinstance(module, nn.BatchNorm2d):
        return f"{name}({module.num_features})"
    if isinstance(module, nn.LeakyReLU):
        return f"{name}({module.negative_slope})"
    return name
