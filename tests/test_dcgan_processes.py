"""Tests of the DCGAN engine across processes: the CLI, signals and torchrun.

Each test starts Python subprocesses (a few seconds each for importing torch), so the
runs are smoke-sized with one torch thread per process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_book.dcgan.__main__ import main
from gan_book.dcgan.checkpoint import CHECKPOINT_NAME, load_checkpoint
from gan_book.dcgan.config import DCGANConfig
from gan_book.dcgan.data import load_dataset, to_model_range
from gan_book.dcgan.model import build_models
from gan_book.dcgan.train import (
    batch_indices,
    discriminator_loss,
    generator_loss,
    step_noise,
    train,
)

ROOT = Path(__file__).resolve().parents[1]
SMOKE_ARGS = [
    "--image-size", "16", "--latent-dim", "8", "--g-width", "8", "--d-width", "8",
    "--batch-size", "8", "--max-images", "64", "--num-samples", "4", "--threads", "1",
]  # fmt: skip
TIMEOUT = 120  # seconds; generous for a loaded 2-core machine


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "gan_book.dcgan", *args]


def environment() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def start_and_wait_for(command: list[str], text: str) -> subprocess.Popen:
    """Start `command` and return once its stderr has printed a line containing `text`."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment(), stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + TIMEOUT
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return process
        if time.monotonic() > deadline:
            break
    process.kill()
    raise AssertionError(f"{command} never printed {text!r}")


def test_cli_help_gives_units_and_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "(default 128)" in text  # --batch-size
    assert "pixels" in text
    assert "steps between" in text
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    assert "(default 64)" in capsys.readouterr().out


def test_cli_train_sample_and_errors(tmp_path, capsys):
    out = tmp_path / "run"
    first = run(cli("train", *SMOKE_ARGS, "--steps", "2", "--out", str(out)))
    assert first.returncode == 0, first.stderr
    assert "step 2/2 loss_D" in first.stderr
    assert "D(G(z))" in first.stderr
    assert (out / "samples" / "step_000002.png").is_file()

    # The same entry point in-process, to spare a torch import per call.
    assert main(["train", *SMOKE_ARGS, "--steps", "2", "--out", str(out)]) == 2
    assert "already contains a run" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--steps", "3"]) == 0
    assert load_checkpoint(out / CHECKPOINT_NAME)["step"] == 3

    grid = tmp_path / "grid.png"
    assert (
        main(["sample", "--checkpoint", str(out), "--n", "9", "--out", str(grid)]) == 0
    )
    with Image.open(grid) as image:
        assert image.size == (3 * 18 + 2, 3 * 18 + 2)

    assert main(["train", "--image-size", "48", "--out", str(tmp_path / "x")]) == 2
    assert "image_size 48 is not supported" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("signal_number", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
)
def test_signal_checkpoints_and_resume_matches(tmp_path, signal_number, exit_code):
    out = tmp_path / "run"
    command = cli(
        "train", *SMOKE_ARGS, "--steps", "400", "--log-every", "1", "--out", str(out)
    )
    process = start_and_wait_for(command, "step 3/400")
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == exit_code, stderr
    assert f"stopped by signal {int(signal_number)}" in stderr
    stopped_at = load_checkpoint(out / CHECKPOINT_NAME)["step"]
    assert 3 <= stopped_at < 400

    total = stopped_at + 2
    config = DCGANConfig.load(out / "config.json")
    resumed = train(
        DCGANConfig.from_dict({**config.to_dict(), "steps": total}), resume=True
    )
    uninterrupted = train(
        DCGANConfig.from_dict({**config.to_dict(), "steps": total, "out": None})
    )
    assert resumed.loss_d == uninterrupted.loss_d
    assert resumed.loss_g == uninterrupted.loss_g


def test_sigkill_leaves_loadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    command = cli(
        "train",
        *SMOKE_ARGS,
        "--steps",
        "100000",
        "--log-every",
        "1",
        "--checkpoint-every",
        "1",
        "--out",
        str(out),
    )
    process = start_and_wait_for(command, "step 4/100000")
    time.sleep(0.05)  # land the kill at an arbitrary point of later steps
    process.kill()
    process.communicate(timeout=TIMEOUT)
    assert process.returncode == -signal.SIGKILL
    state = load_checkpoint(out / CHECKPOINT_NAME)
    assert state["step"] >= 3
    assert (
        main(
            ["train", "--out", str(out), "--resume", "--steps", str(state["step"] + 1)]
        )
        == 0
    )


def _averaged_reference(
    config: DCGANConfig, shards: tuple[int, ...], world_size: int
) -> dict[str, torch.Tensor]:
    """Train `config.steps` steps in one process, averaging the gradients of `shards`.

    Each shard's gradients come from its own forward passes (so batch norm uses that
    shard's statistics), exactly as one DDP rank computes them.
    """
    images = load_dataset(config)
    generator, discriminator = build_models(config, seed=config.seed)
    betas = (config.beta1, config.beta2)
    optimizer_g = torch.optim.Adam(
        generator.parameters(), lr=config.learning_rate, betas=betas
    )
    optimizer_d = torch.optim.Adam(
        discriminator.parameters(), lr=config.learning_rate, betas=betas
    )

    def averaged_gradients(model, loss_of_rank) -> None:
        total = [torch.zeros_like(p) for p in model.parameters()]
        for rank in shards:
            model.zero_grad(set_to_none=True)
            loss_of_rank(rank).backward()
            for accumulated, parameter in zip(total, model.parameters(), strict=True):
                accumulated += parameter.grad
        for accumulated, parameter in zip(total, model.parameters(), strict=True):
            parameter.grad = accumulated / len(shards)

    for step in range(config.steps):

        def real(rank, step=step):
            return to_model_range(
                images[batch_indices(len(images), config, step, rank, world_size)]
            )

        def fake(rank, step=step):
            return generator(step_noise(config, rank, step))

        averaged_gradients(
            discriminator,
            lambda rank: discriminator_loss(
                discriminator(real(rank)), discriminator(fake(rank).detach())
            ),
        )
        optimizer_d.step()
        discriminator.requires_grad_(False)
        averaged_gradients(
            generator, lambda rank: generator_loss(discriminator(fake(rank)))
        )
        discriminator.requires_grad_(True)
        optimizer_g.step()
    parameters = {
        f"generator.{n}": p.detach().clone() for n, p in generator.named_parameters()
    }
    parameters.update(
        {
            f"discriminator.{n}": p.detach().clone()
            for n, p in discriminator.named_parameters()
        }
    )
    return parameters


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> Path:
    """Run two gloo processes under torchrun for two steps; return the run folder."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    # A large learning rate makes Adam's second update depend on the gradients'
    # sizes, not only their signs, so a wrong average cannot pass by luck.
    args = [
        *SMOKE_ARGS,
        "--steps",
        "2",
        "--learning-rate",
        "0.01",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "gan_book.dcgan", "train", *args]  # fmt: skip
    result = run(command)
    errors = [
        line
        for line in result.stderr.splitlines()
        if "rror" in line or "terminate" in line or "what()" in line
    ]
    assert result.returncode == 0, "\n".join(errors) + "\n" + result.stderr[-3000:]
    assert "2 process(es)" in result.stderr
    return out


def test_two_process_gloo_matches_averaged_updates(ddp_run):
    state = load_checkpoint(ddp_run / CHECKPOINT_NAME)
    assert state["world_size"] == 2
    config = DCGANConfig.from_dict(state["config"])
    trained = {f"generator.{n}": t for n, t in state["generator"].items()}
    trained.update({f"discriminator.{n}": t for n, t in state["discriminator"].items()})

    expected = _averaged_reference(config, shards=(0, 1), world_size=2)
    worst = max(
        (trained[name] - value).abs().max().item() for name, value in expected.items()
    )
    assert worst < 1e-6

    # The comparison can fail: rank 0's gradients alone give other weights.
    rank0_only = _averaged_reference(config, shards=(0,), world_size=2)
    gap = max(
        (trained[name] - value).abs().max().item() for name, value in rank0_only.items()
    )
    assert gap > 1e-4


def test_resume_rejects_other_world_size(ddp_run):
    config = DCGANConfig.from_dict(
        {**load_checkpoint(ddp_run / CHECKPOINT_NAME)["config"], "steps": 3}
    )
    with pytest.raises(ValueError, match="2 processes; resume it with the same number"):
        train(config, resume=True)


def test_resume_with_fewer_steps_is_rejected(tmp_path):
    from gan_book.dcgan.config import smoke_config
    from gan_book.dcgan.train import train

    run = tmp_path / "run"
    train(smoke_config(out=str(run), steps=4))
    before = (run / "config.json").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="steps 2 is smaller than the checkpoint's step 4"):
        train(smoke_config(out=str(run), steps=2), resume=True)
    assert (run / "config.json").read_text(encoding="utf-8") == before


def test_corrupt_checkpoint_is_not_called_malicious(tmp_path):
    from gan_book.dcgan.checkpoint import load_checkpoint

    broken = tmp_path / "checkpoint.pt"
    broken.write_text("not a checkpoint\n", encoding="utf-8")
    with pytest.raises(ValueError, match="corrupt or truncated, or not a PyTorch checkpoint") as error:
        load_checkpoint(broken)
    assert "weights_only=False" not in str(error.value)


def test_sample_rejects_non_png_output(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gan_book.dcgan", "sample", "--checkpoint", str(tmp_path),
         "--out", str(tmp_path / "grid.jpg")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "--out must name a .png file" in result.stderr
    assert not (tmp_path / "grid.jpg").exists()
