"""Atomic, safely loadable checkpoints of a DCGAN training run.

Backs the chapter on DCGAN. A checkpoint is a `torch.save` dict of tensors, numbers,
strings, lists and dicts only, so that `torch.load(..., weights_only=True)` can read
it: that loader refuses to rebuild arbitrary Python objects, which is what lets a
reader open a checkpoint from elsewhere without running code hidden in its pickle.

Writes go to a temporary file in the same folder, which is flushed, synced and then
renamed over the target with `os.replace`, atomic on POSIX file systems. A crash or
SIGKILL at any moment therefore leaves the old checkpoint or the new one, never a
truncated file (a stray `.checkpoint.pt.*.tmp` file may remain).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from gan_book.files import write_atomically

FORMAT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write `state` to `path` atomically and return the path."""
    return write_atomically(
        path, lambda handle: torch.save({"format_version": FORMAT_VERSION, **state}, handle)
    )


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True` onto the CPU.

    Raises `ValueError` naming the file when it is missing, not a torch checkpoint,
    truncated, from another format version, or when its pickle contains anything other
    than tensors and plain containers (such a file is rejected without running it).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} not found")
    if not zipfile.is_zipfile(path):
        # torch.save has written zip archives since PyTorch 1.6; anything else is not a
        # checkpoint of this package (or is truncated), whatever pickle it contains.
        raise ValueError(
            f"checkpoint {path} is corrupt or truncated, or not a PyTorch checkpoint at all "
            "(torch.save writes a zip archive and this file is none); pass a checkpoint.pt "
            "written by gan_book.dcgan"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"checkpoint {path} was rejected: it contains pickled objects other than "
            f"tensors and plain containers, which could run code when loaded. Load only "
            f"checkpoints written by gan_book.dcgan. Details: {str(error).splitlines()[0]}"
        ) from error
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"checkpoint {path} is corrupt or truncated: {error}"
        ) from error
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        found = (
            state.get("format_version")
            if isinstance(state, dict)
            else type(state).__name__
        )
        raise ValueError(
            f"checkpoint {path} has format version {found!r}; this gan_book reads "
            f"version {FORMAT_VERSION}"
        )
    return state
