"""Cold build against a rebuild with nothing changed, for the whole book.

The cold build runs with an empty result cache (a fresh `GAN_BOOK_CACHE_DIR`), so it
executes every example and every heavy computation; the rebuild that follows reuses
that cache, as `make build` does the second time. Both are `mkdocs build --strict`
into a temporary folder, timed as whole processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "Book build: cold build against a rebuild with nothing changed"
ROOT = Path(__file__).resolve().parents[1]
COLD_BUDGET_S = 300.0
WARM_BUDGET_S = 15.0


def _timed_build(site_dir: Path, environment: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"mkdocs build failed with status {result.returncode}:\n"
                           f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return time.perf_counter() - start


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="gan-book-bench-") as workdir:
        environment = dict(os.environ, GAN_BOOK_CACHE_DIR=str(Path(workdir) / "cache"),
                           NO_MKDOCS_2_WARNING="1")
        cold = _timed_build(Path(workdir) / "site-cold", environment)
        warm = _timed_build(Path(workdir) / "site-warm", environment)
    return {
        "columns": ["build", "seconds", "budget (s)", "within budget", "relative to cold"],
        "rows": [
            ["cold (empty cache)", f"{cold:.1f}", f"{COLD_BUDGET_S:g}",
             "yes" if cold <= COLD_BUDGET_S else "no", "1.00"],
            ["rebuild, nothing changed", f"{warm:.1f}", f"{WARM_BUDGET_S:g}",
             "yes" if warm <= WARM_BUDGET_S else "no", f"{warm / cold:.2f}"],
        ],
        "notes": (f"The rebuild is {cold / warm:.1f} times faster than the cold build. "
                  "Both builds are `mkdocs build --strict` of the whole book, timed as "
                  "processes, with MkDocs' own start-up included."),
    }
