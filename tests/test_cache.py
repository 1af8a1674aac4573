"""Tests of the build's result cache: keys, invalidation by source, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gan_book import theory
from gan_book.book import cache

ROOT = Path(__file__).resolve().parents[1]

calls: list[tuple] = []


def slow_square(value, *, scale=1.0):
    calls.append((value, scale))
    return np.asarray(value) ** 2 * scale


@pytest.fixture()
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GAN_BOOK_CACHE_DIR", str(folder))
    calls.clear()
    return folder


def test_second_call_is_a_hit(cache_folder):
    cached = cache.cached(slow_square)
    first = cached(3.0)
    second = cached(3.0)
    assert first == second == 9.0
    assert len(calls) == 1
    assert cached.last_call["hit"] is True
    assert len(list(cache_folder.glob("*.pkl"))) == 1


def test_arguments_change_the_key(cache_folder):
    cached = cache.cached(slow_square)
    cached(3.0)
    cached(3.0, scale=2.0)
    cached(np.array([1.0, 2.0]))
    cached(np.array([1.0, 2.5]))
    assert len(calls) == 4


def test_positional_and_keyword_forms_share_a_key(cache_folder):
    cached = cache.cached(slow_square)
    cached(2.0, scale=1.0)
    cached(value=2.0, scale=1.0)
    assert len(calls) == 1


def test_data_file_contents_are_part_of_the_key(cache_folder, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"first")
    first = cache.cache_key(slow_square, (data,), {})
    data.write_bytes(b"second")
    second = cache.cache_key(slow_square, (data,), {})
    assert first != second


def test_frozen_distributions_are_keyed_by_parameters():
    from scipy import stats

    key = cache.cache_key
    assert key(theory.jensen_shannon, (stats.norm(0, 1), stats.norm(1, 2)), {}) == key(
        theory.jensen_shannon, (stats.norm(0, 1), stats.norm(1, 2)), {})
    assert key(theory.jensen_shannon, (stats.norm(0, 1), stats.norm(1, 2)), {}) != key(
        theory.jensen_shannon, (stats.norm(0, 1), stats.norm(1, 2.5)), {})


def test_unsupported_argument_is_rejected(cache_folder):
    with pytest.raises(TypeError, match="cannot build a cache key from an argument of type object"):
        cache.cached(slow_square)(object())


def test_write_leaves_no_temporary_files(cache_folder):
    cache.cached(slow_square)(5.0)
    assert [path.suffix for path in cache_folder.iterdir()] == [".pkl"]


def test_clear_removes_results(cache_folder):
    cached = cache.cached(slow_square)
    cached(1.0)
    cached(2.0)
    assert cache.clear() == 2
    cached(1.0)
    assert len(calls) == 3


FINGERPRINT = "from gan_book.book.cache import source_fingerprint; print(source_fingerprint({!r}))"


def fingerprint_in_copy(package_parent: Path, module: str) -> str:
    environment = dict(os.environ, PYTHONPATH=str(package_parent))
    result = subprocess.run([sys.executable, "-c", FINGERPRINT.format(module)],
                            cwd=package_parent, env=environment, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_source_edits_invalidate_only_dependents(tmp_path):
    shutil.copytree(ROOT / "gan_book", tmp_path / "gan_book",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    package = tmp_path / "gan_book"
    (package / "probe_base.py").write_text("VALUE = 1\n")
    (package / "probe_user.py").write_text(
        "from .probe_base import VALUE\n\ndef use():\n    return VALUE\n")
    (package / "probe_other.py").write_text("OTHER = 1\n")

    before = fingerprint_in_copy(tmp_path, "gan_book.probe_user")
    (package / "probe_other.py").write_text("OTHER = 2\n")
    assert fingerprint_in_copy(tmp_path, "gan_book.probe_user") == before
    (package / "probe_base.py").write_text("VALUE = 2\n")
    assert fingerprint_in_copy(tmp_path, "gan_book.probe_user") != before


def test_dependency_files_follow_absolute_and_relative_imports():
    files = {path.name for path in cache._dependency_files("gan_book.book.figures")}
    assert {"figures.py", "__init__.py"} <= files
    assert "theory.py" not in files


def test_versions_are_part_of_the_key():
    payload_versions = cache._library_versions()
    assert set(payload_versions) == {"python", "numpy", "scipy", "torch"}
    assert json.dumps(payload_versions)
