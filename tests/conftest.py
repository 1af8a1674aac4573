"""Shared fixtures: the repository root and one strict build of the whole book.

The build runs once per test session, with the project's result cache, so the first
run of the suite on a fresh clone is a cold build and later runs reuse the cache.
"""

from __future__ import annotations

import os
import shutil
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


CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def browser():
    """Start Debian's headless Chromium through Playwright, or skip (fail in CI)."""
    path = chromium_path()
    if path is None:
        message = ("Debian's chromium is not installed, so the browser tests cannot run; "
                   "install it with `apt-get install chromium` (make test does so as root)")
        if os.environ.get("GAN_BOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
