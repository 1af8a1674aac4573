"""Shared fixtures: the repository root and one strict build of the whole book.

The build runs once per test session, with the project's result cache, so the first
run of the suite on a fresh clone is a cold build and later runs reuse the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build_environment() -> dict[str, str]:
    """Return the environment of the suite's builds and snippet runs.

    The suite runs every unit test itself, so its builds skip the build-time test run
    (test_site checks that run separately on one chapter).
    """
    return dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONHASHSEED="0",
                GAN_BOOK_SKIP_BUILD_TESTS="1")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the whole book strictly into a temporary folder and return that folder."""
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=build_environment(), capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed with status {result.returncode}:\n"
                    f"{result.stdout[-20000:]}\n{result.stderr[-20000:]}")
    return site
