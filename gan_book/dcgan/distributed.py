"""Process-group set-up and model wrapping for data-parallel DCGAN training.

Backs the chapter on DCGAN. `torchrun --nproc-per-node N -m gan_book.dcgan train ...`
starts N processes and sets RANK, WORLD_SIZE and LOCAL_RANK; `setup_distributed`
then joins the process group with the gloo backend on CPUs or nccl on GPUs (one GPU
per process, `cuda:LOCAL_RANK`). Without those variables training runs in one
process and nothing here touches `torch.distributed`.

The discriminator step calls the batch-normalised D twice, on a real batch and on a
fake batch, and backpropagates once through the sum of both losses. Two choices make
that safe under `DistributedDataParallel`:

* Real and fake batches are not concatenated into one call, because batch norm would
  then normalise them with shared statistics, which changes the model that a
  one-process run trains.
* D is wrapped with `forward_sync_buffers=False` (PyTorch 2.13's name for the older
  `broadcast_buffers`). With True, each forward call overwrites the other ranks'
  batch-norm running statistics in place with rank 0's, between the two calls whose
  graphs one backward pass later uses. Batch norm in training mode saves its batch
  statistics for backward, not the running ones, so with PyTorch 2.13 on CPUs both
  settings run (checked with two gloo processes). D never runs in evaluation mode,
  its running statistics are never read, and False skips two broadcasts per step.
  DDP still copies rank 0's buffers once when it wraps the model.

The generator step runs the plain D module (`ddp_module.module`) with D's parameters
frozen. No D gradient is needed there, so this skips an all-reduce of D gradients
that the next D step would discard (going through the wrapper also runs with
PyTorch 2.13, frozen or not, but pays for that all-reduce). Gradients of
each network are averaged over processes once per backward pass, and every process
applies the same Adam update, so the weights stay identical on all ranks. Batch-norm
statistics are per process (per shard) unless `sync_batchnorm` is set, which PyTorch
supports on CUDA only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gan_book.dcgan.config import DCGANConfig


@dataclass(frozen=True)
class DistributedContext:
    """Placement of this process: its rank among `world_size` processes and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_process_group: bool = False  # True when setup_distributed created the group

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _device_for(config: DCGANConfig, local_rank: int) -> torch.device:
    if config.device == "cuda" or (
        config.device == "auto" and torch.cuda.is_available()
    ):
        if not torch.cuda.is_available():
            raise ValueError(
                "device 'cuda' was requested but CUDA is not available; use --device cpu"
            )
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def setup_distributed(config: DCGANConfig) -> DistributedContext:
    """Join the torchrun process group when WORLD_SIZE > 1, else return a one-process context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = _device_for(config, local_rank)
    if config.sync_batchnorm and device.type != "cuda":
        raise ValueError(
            "sync_batchnorm needs CUDA devices: PyTorch implements SyncBatchNorm for GPUs "
            "only. Drop --sync-batchnorm on CPUs (each process then normalises its own shard)."
        )
    if world_size == 1:
        return DistributedContext(0, 1, 0, device)

    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        owns = True
    if dist.get_world_size() != world_size:
        raise ValueError(
            f"WORLD_SIZE is {world_size} but the process group has {dist.get_world_size()} processes"
        )
    return DistributedContext(rank, world_size, local_rank, device, owns)


def teardown_distributed(context: DistributedContext) -> None:
    """Leave the process group if `setup_distributed` created it."""
    if context.owns_process_group and dist.is_initialized():
        dist.destroy_process_group()


def wrap_models(
    generator: nn.Module,
    discriminator: nn.Module,
    config: DCGANConfig,
    context: DistributedContext,
) -> tuple[nn.Module, nn.Module]:
    """Return the models to train: DDP-wrapped when distributed, else unchanged.

    The models must already be on `context.device`. DDP copies rank 0's parameters to
    every process when it wraps them.
    """
    # NOTE: the nccl and SyncBatchNorm paths have no test: the suite runs on CPUs only.
    if config.sync_batchnorm:
        generator = nn.SyncBatchNorm.convert_sync_batchnorm(generator)
        discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(discriminator)
    if not context.distributed:
        return generator, discriminator
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    # G runs forward once per step. Syncing its buffers keeps every rank's running
    # statistics (used at sampling time) equal to rank 0's, which the checkpoint saves.
    generator = DistributedDataParallel(
        generator, device_ids=device_ids, forward_sync_buffers=True
    )
    discriminator = DistributedDataParallel(
        discriminator, device_ids=device_ids, forward_sync_buffers=False
    )
    return generator, discriminator


def unwrap(model: nn.Module) -> nn.Module:
    """Return the module inside a DDP wrapper, or the model itself."""
    return model.module if isinstance(model, DistributedDataParallel) else model
