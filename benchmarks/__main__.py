"""Run the benchmarks and record their results in benchmarks/results.json.

Usage: python -m benchmarks [NAME ...]   (default: every benchmarks/*.py module that
does not set RUN_BY_DEFAULT = False)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

from gan_book.book.environment import commit, hardware, now

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"


def available() -> list[str]:
    return sorted(path.stem for path in HERE.glob("*.py") if not path.stem.startswith("_"))


def _runs_by_default(name: str) -> bool:
    """Return False for benchmarks that need hardware this run may lack (a GPU)."""
    return getattr(importlib.import_module(f"benchmarks.{name}"), "RUN_BY_DEFAULT", True)


def load_results() -> dict:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text(encoding="utf-8"))
    return {"benchmarks": {}}


def main() -> int:
    parser = argparse.ArgumentParser(description="Run GAN Book's benchmarks.")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    args = parser.parse_args()
    names = args.names or [name for name in available() if _runs_by_default(name)]
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available()}")

    results = load_results()
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running benchmark {name}: {module.TITLE}", file=sys.stderr)
        start = time.perf_counter()
        table = module.run()
        entry = {
            "title": module.TITLE,
            "columns": table["columns"],
            "rows": table["rows"],
            "notes": table.get("notes", ""),
            "commit": commit(),
            "date": now(),
            "hardware": hardware(),
            "seconds": round(time.perf_counter() - start, 1),
        }
        results["benchmarks"][name] = entry
        # Write after every benchmark, so an interrupted run keeps what it measured.
        temporary = RESULTS.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, RESULTS)
        print(f"  done in {entry['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
