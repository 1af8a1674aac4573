r"""A reference DCGAN training loop in the structure of PyTorch's DCGAN example.

Backs the chapter on DCGAN and the benchmarks `benchmarks/dcgan.py` (CPU) and
`benchmarks/dcgan_gpu.py`: it is the baseline that the engine's fast path
(`gan_book.dcgan.train` with bf16 autocast and channels-last tensors) is measured
against. It follows the structure of `dcgan/main.py` in pytorch/examples (commit
13caa07, read in December 2026) and of the PyTorch DCGAN tutorial: float32
throughout, contiguous NCHW tensors, and per step

1. D on the real batch and a backward pass;
2. G(z), D on the detached fakes and a second backward pass (the gradients add up),
   then D's optimiser step;
3. D on the same fakes, with D's parameters still requiring gradients, and a
   backward pass into G, then G's optimiser step.

Step 3 also computes D's weight gradients, which nothing uses; the engine freezes D
there. Both loops use the same models, initial weights, data order and noise
(`build_models`, `batch_indices`, `step_noise`), so a run of each from one config
trains on the same batches. One deliberate departure from the example: D returns logits
and the losses use `binary_cross_entropy_with_logits`, not a Sigmoid followed by
`BCELoss`, so the comparison measures loop structure, precision and memory layout,
not a numerical flaw.

`training_flops_per_image` counts the model FLOPs of one training step per real
image, for the benchmarks' achieved-FLOP/s figures.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.data import load_dataset, to_model_range
from gan_book.dcgan.model import Discriminator, Generator, build_models
from gan_book.dcgan.train import (
    History,
    StepResult,
    batch_indices,
    fixed_noise,
    sample,
    step_noise,
    steps_per_epoch,
)


def reference_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer_g: torch.optim.Optimizer,
    optimizer_d: torch.optim.Optimizer,
    real: torch.Tensor,
    z: torch.Tensor,
) -> StepResult:
    """Run one D update and one G update the way PyTorch's DCGAN example does."""
    # D step, real half: label 1.
    discriminator.zero_grad()
    d_real = discriminator(real)
    loss_real = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
    loss_real.backward()

    # D step, fake half: label 0, on fakes detached from G.
    fake = generator(z)
    d_fake = discriminator(fake.detach())
    loss_fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    loss_fake.backward()
    optimizer_d.step()

    # G step: the non-saturating loss, label 1 on the fakes, through the updated D.
    generator.zero_grad()
    d_fake_g = discriminator(fake)
    loss_g = F.binary_cross_entropy_with_logits(d_fake_g, torch.ones_like(d_fake_g))
    loss_g.backward()
    optimizer_g.step()

    with torch.no_grad():
        return StepResult(
            loss_d=float(loss_real + loss_fake),
            loss_g=float(loss_g),
            d_real=float(torch.sigmoid(d_real).mean()),
            d_fake=float(torch.sigmoid(d_fake).mean()),
            d_fake_g=float(torch.sigmoid(d_fake_g).mean()),
        )


def train_reference(config: DCGANConfig) -> History:
    """Train with `reference_step` for `config.steps` steps and return a `History`.

    The model, data, optimiser, seed, device and thread settings come from `config`.
    The loop writes no files, logs nothing and keeps the fixed-noise samples of the
    last step only. `config.bf16` and `config.channels_last` must be off, because the
    reference recipe is float32 and contiguous by definition.
    """
    if config.bf16 or config.channels_last:
        raise ValueError(
            "the reference loop runs float32 with contiguous tensors; build its config "
            "with bf16=False and channels_last=False"
        )
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("config.device is 'cuda' but torch finds no CUDA device; use device='cpu'")
    device = torch.device("cuda" if config.device != "cpu" and torch.cuda.is_available() else "cpu")
    previous_threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        return _train_reference(config, device)
    finally:
        torch.set_num_threads(previous_threads)


def _train_reference(config: DCGANConfig, device: torch.device) -> History:
    generator, discriminator = build_models(config, seed=config.seed)
    generator.to(device)
    discriminator.to(device)
    betas = (config.beta1, config.beta2)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=config.learning_rate, betas=betas)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=config.learning_rate, betas=betas)
    images = load_dataset(config)
    steps_per_epoch(len(images), config)  # rejects a batch larger than the data

    history = History(config)
    started = time.perf_counter()
    for step in range(config.steps):
        real = to_model_range(images[batch_indices(len(images), config, step)]).to(device)
        z = step_noise(config, 0, step).to(device)
        result = reference_step(generator, discriminator, optimizer_g, optimizer_d, real, z)
        history.step.append(step + 1)
        history.loss_d.append(result.loss_d)
        history.loss_g.append(result.loss_g)
        history.d_real.append(result.d_real)
        history.d_fake.append(result.d_fake)
        history.d_fake_g.append(result.d_fake_g)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    history.seconds = time.perf_counter() - started
    history.images_per_second = config.steps * config.batch_size / history.seconds

    history.samples[config.steps] = sample(generator, fixed_noise(config)).numpy()
    history.generator_state = {name: value.detach().cpu().clone() for name, value in generator.state_dict().items()}
    history.discriminator_state = {
        name: value.detach().cpu().clone() for name, value in discriminator.state_dict().items()
    }
    return history


def forward_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Count the FLOPs of one forward pass of `model` on `example` in its convolutions.

    A multiply-add counts as 2 FLOPs. A `Conv2d` costs 2 x (output elements) x
    (input channels per group) x (kernel area). A `ConvTranspose2d` costs
    2 x (input elements) x (output channels per group) x (kernel area), because each
    input element is scattered through the whole kernel. Batch norm, activations and
    biases are not counted: in a DCGAN they are under 1 % of the total.
    """
    total = 0

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        kernel_area = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            per_group = module.out_channels // module.groups
            total += 2 * inputs[0].numel() * per_group * kernel_area
        else:
            per_group = module.in_channels // module.groups
            total += 2 * output.numel() * per_group * kernel_area

    convolutions = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    handles = [module.register_forward_hook(count) for module in convolutions]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return total


def training_flops_per_image(config: DCGANConfig) -> int:
    r"""Return the model FLOPs of one training step per real image: $3F_G + 8F_D$.

    $F_G$ and $F_D$ are the forward FLOPs of G and D per image (`forward_flops`), and
    a backward pass is taken to cost twice its forward pass (gradients with respect
    to the inputs and to the weights). The necessary work of one step is G forward
    and backward ($3F_G$), then D forward and backward on the real and on the fake
    batch ($6F_D$), then D forward plus the input-gradient half of its backward in
    the G step ($2F_D$). Work a loop does beyond that, such as the weight gradients of D in
    the G step of the reference loop, is not counted, so both loops are credited with
    the same FLOPs per image, and their FLOP/s compare like their images per second.
    """
    generator, discriminator = Generator(config), Discriminator(config)
    z = torch.zeros(1, config.latent_dim)
    image = torch.zeros(1, config.channels, config.image_size, config.image_size)
    return 3 * forward_flops(generator, z) + 8 * forward_flops(discriminator, image)
