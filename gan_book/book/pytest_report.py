"""A pytest plugin that writes each test's outcome, duration and docstring as JSON.

Loaded by the build-time test run (`-p gan_book.book.pytest_report`); the report path
comes from the environment variable GAN_BOOK_TEST_REPORT.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

_results: dict[str, dict] = {}


def _claim(item) -> str:
    function = getattr(item, "function", None)
    doc = inspect.getdoc(function) if function is not None else None
    if doc:
        return doc.splitlines()[0]
    return item.originalname.removeprefix("test_").replace("_", " ") if hasattr(
        item, "originalname") else item.name


def pytest_runtest_logreport(report) -> None:
    entry = _results.setdefault(report.nodeid, {"outcome": "not run", "seconds": 0.0})
    entry["seconds"] += report.duration
    if report.failed:
        entry["outcome"] = "failed"
    elif entry["outcome"] == "failed":
        return
    elif report.skipped:
        entry["outcome"] = "skipped"
    elif report.when == "call":
        entry["outcome"] = "passed"


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        _results.setdefault(item.nodeid, {"outcome": "not run", "seconds": 0.0})
        _results[item.nodeid]["claim"] = _claim(item)
        _results[item.nodeid]["file"] = str(Path(str(item.fspath)).name)


def pytest_sessionfinish(session, exitstatus) -> None:
    path = os.environ.get("GAN_BOOK_TEST_REPORT")
    if path:
        Path(path).write_text(json.dumps({"exit_status": int(exitstatus), "tests": _results},
                                         indent=1), encoding="utf-8")
