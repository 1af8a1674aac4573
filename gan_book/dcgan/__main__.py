"""Command line of the DCGAN engine: `python -m gan_book.dcgan {train,sample}`.

Backs the chapter on DCGAN. Examples:

    python -m gan_book.dcgan train --data mnist10k --image-size 32 --steps 2000 \\
        --batch-size 128 --seed 0 --out runs/digits
    python -m gan_book.dcgan train --out runs/digits --resume --steps 4000
    python -m gan_book.dcgan sample --checkpoint runs/digits/checkpoint.pt --n 64 --out grid.png
    torchrun --nproc-per-node 2 -m gan_book.dcgan train --data mnist10k --out runs/ddp

Options left out of `train` take the defaults of `DCGANConfig`, or, with --resume,
the values stored in the run's checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

from gan_book.dcgan.checkpoint import CHECKPOINT_NAME, load_checkpoint
from gan_book.dcgan.config import SUPPORTED_IMAGE_SIZES, DCGANConfig
from gan_book.dcgan.model import Generator
from gan_book.dcgan.train import sample, sample_noise, train
from gan_book.images import save_grid

DEFAULTS = DCGANConfig()
SIGNAL_EXIT_CODES = {2: 130, 15: 143}  # SIGINT, SIGTERM -> 128 + signal number


def _train_options(parser: argparse.ArgumentParser) -> None:
    """Add one option per config field; every default is None, meaning 'not given'."""
    add = parser.add_argument
    d = DEFAULTS
    add(
        "--data",
        help=f"'mnist10k' (the shipped 10,000 digits), an MNIST IDX file or folder, or a folder of images (default {d.data})",
    )
    add(
        "--image-size",
        type=int,
        help=f"image side in pixels, one of {SUPPORTED_IMAGE_SIZES} (default {d.image_size})",
    )
    add("--channels", type=int, help=f"1 (grey) or 3 (RGB) (default {d.channels})")
    add(
        "--fit",
        choices=("auto", "pad", "resize"),
        help=f"how images reach --image-size (default {d.fit})",
    )
    add("--max-images", type=int, help="use only the first N images (default: all)")
    add(
        "--latent-dim",
        type=int,
        help=f"length of the noise vector z (default {d.latent_dim})",
    )
    add(
        "--g-width",
        type=int,
        help=f"channels of G's last hidden layer; earlier layers double it (default {d.g_width})",
    )
    add(
        "--d-width",
        type=int,
        help=f"channels of D's first layer; later layers double it (default {d.d_width})",
    )
    add(
        "--steps",
        type=int,
        help=f"total optimiser steps of each network, counted from the start of the run (default {d.steps})",
    )
    add(
        "--batch-size",
        type=int,
        help=f"images per step and per process (default {d.batch_size})",
    )
    add(
        "--learning-rate",
        type=float,
        help=f"Adam learning rate of both networks (default {d.learning_rate})",
    )
    add("--beta1", type=float, help=f"Adam beta1 (default {d.beta1})")
    add("--beta2", type=float, help=f"Adam beta2 (default {d.beta2})")
    add(
        "--seed",
        type=int,
        help=f"seed of the weights, data order and noise (default {d.seed})",
    )
    add(
        "--out",
        help="run folder for config.json, log.jsonl, samples/ and checkpoint.pt (required)",
    )
    add(
        "--log-every",
        type=int,
        help=f"steps between log lines; the last step is always logged (default {d.log_every})",
    )
    add(
        "--sample-every",
        type=int,
        help=f"steps between fixed-noise grids, 0 = at the end only (default {d.sample_every})",
    )
    add(
        "--checkpoint-every",
        type=int,
        help=f"steps between checkpoints, 0 = at the end only (default {d.checkpoint_every})",
    )
    add(
        "--num-samples",
        type=int,
        help=f"images in each fixed-noise grid (default {d.num_samples})",
    )
    add(
        "--device",
        choices=("auto", "cpu", "cuda"),
        help=f"'auto' uses CUDA when available (default {d.device})",
    )
    add(
        "--threads",
        type=int,
        help="torch intra-op CPU threads (default: torch's choice)",
    )
    add(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        help="bfloat16 autocast on CUDA or CPUs with AVX512-BF16/AMX (default off)",
    )
    add(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        help="NHWC memory format (default off)",
    )
    add(
        "--sync-batchnorm",
        action=argparse.BooleanOptionalAction,
        help="batch-norm statistics over all processes, CUDA only (default off)",
    )
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="progress bar on a terminal (default on)",
    )
    add(
        "--resume",
        action="store_true",
        help="continue the run in --out from its checkpoint",
    )
    add("--force", action="store_true", help="overwrite the run files in --out")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan_book.dcgan",
        description="Train a DCGAN or draw samples from a checkpoint. Defaults are for real "
        "training runs (DCGAN paper settings) and can take hours on a CPU.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser(
        "train", help="train a DCGAN", description="Train a DCGAN; writes a run folder."
    )
    _train_options(train_parser)
    sample_parser = commands.add_parser(
        "sample", help="write a grid of samples from a checkpoint"
    )
    sample_parser.add_argument(
        "--checkpoint",
        required=True,
        help="checkpoint.pt file or a run folder holding one",
    )
    sample_parser.add_argument(
        "--n", type=int, default=64, help="number of images (default 64)"
    )
    sample_parser.add_argument("--out", required=True, help="PNG file to write")
    sample_parser.add_argument(
        "--seed", type=int, default=0, help="seed of the noise (default 0)"
    )
    sample_parser.add_argument(
        "--batch-statistics",
        action="store_true",
        help="normalise with the statistics of the sampled batch instead of G's running "
        "statistics (default off: evaluation mode)",
    )
    return parser


def _given_fields(args: argparse.Namespace) -> dict[str, object]:
    names = {item.name for item in dataclasses.fields(DCGANConfig)}
    return {
        name: value
        for name, value in vars(args).items()
        if name in names and value is not None
    }


def run_train(args: argparse.Namespace) -> int:
    given = _given_fields(args)
    if "out" not in given:
        raise ValueError("--out is required: name a run folder such as runs/digits")
    if args.resume:
        saved = load_checkpoint(Path(args.out) / CHECKPOINT_NAME)["config"]
        config = DCGANConfig.from_dict({**saved, **given})
    else:
        config = DCGANConfig(**given)
    history = train(config, resume=args.resume, force=args.force)
    if history.interrupted:
        return SIGNAL_EXIT_CODES.get(history.stop_signal, 1)
    return 0


def run_sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    if Path(args.out).suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file (the grid is written as PNG), got "
                         f"{args.out!r}")
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    state = load_checkpoint(path)
    config = DCGANConfig.from_dict(state["config"])
    generator = Generator(config)
    generator.load_state_dict(state["generator"])
    z = sample_noise(args.seed, args.n, config.latent_dim)
    images = sample(generator, z, batch_statistics=args.batch_statistics)
    save_grid(images.numpy(), args.out)
    logging.getLogger("gan_book.dcgan").info(
        "wrote %d samples from %s to %s", args.n, path, args.out
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    try:
        if args.command == "train":
            return run_train(args)
        return run_sample(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
