"""Facts about where the book is built: the commit, the hardware, library versions.

Used by the provenance records, the build-time test report and the benchmarks.
"""

from __future__ import annotations

import datetime
import functools
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def commit() -> str:
    """Return the short commit of the working tree, with "+uncommitted" if it is dirty."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted" if dirty.strip() else "")


@functools.lru_cache(maxsize=1)
def hardware() -> dict:
    """Return the processor model, usable cores, memory and architecture."""
    model = platform.processor() or "unknown"
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": cores, "memory_gib": memory_gib,
            "machine": platform.machine(), "python": platform.python_version()}


@functools.lru_cache(maxsize=1)
def library_versions() -> dict:
    """Return the versions of Python, numpy, scipy and torch ("absent" if missing)."""
    import numpy
    import scipy

    versions = {"python": platform.python_version(), "numpy": numpy.__version__,
                "scipy": scipy.__version__}
    try:
        import torch
    except ImportError:
        versions["torch"] = "absent"
    else:
        versions["torch"] = torch.__version__
    return versions


def now() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def hardware_summary() -> str:
    """Return the hardware as one short phrase, e.g. "Intel Xeon (2 cores, 24.0 GiB)"."""
    facts = hardware()
    return f"{facts['cpu']} ({facts['cores']} cores, {facts['memory_gib']} GiB)"
