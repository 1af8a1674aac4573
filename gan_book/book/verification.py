"""Run the unit tests behind each chapter while the book builds, and report them.

A chapter names its test files in its front matter (`tests: [tests/test_theory.py]`).
The build runs all of them in one pytest process, without the tests marked `slow`
(and never the site and browser tests, which build the book themselves). A report is
reused only while the `gan_book` source, the test files, the pytest configuration and
the library versions are unchanged: its key is the hash of all of them, so a pass shown
on a page is a pass of exactly this source. A failing test fails the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gan_book.book.cache import cache_dir
from gan_book.book.environment import ROOT, commit, library_versions, now
from gan_book.files import write_atomically

EXCLUDED_MARKERS = "not slow and not site and not browser"


class VerificationError(RuntimeError):
    """A build-time test failed or could not run."""


@dataclass(frozen=True)
class ChapterTests:
    page: str
    title: str
    files: tuple[str, ...]


def _front_matter(path: Path) -> dict:
    import yaml

    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    end = text.find("\n---\n", 4)
    return yaml.safe_load(text[4:end]) or {} if end > 0 else {}


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def chapter_tests(docs: Path) -> list[ChapterTests]:
    """Return each page's declared test files, checking that they exist."""
    chapters = []
    for path in sorted(docs.rglob("*.md")):
        files = _front_matter(path).get("tests") or []
        for name in files:
            if not (ROOT / name).is_file():
                raise VerificationError(f"{path.relative_to(docs)} lists the test file {name}, "
                                        "which does not exist; fix the front matter")
        if files:
            chapters.append(ChapterTests(path.relative_to(docs).as_posix(), _title(path),
                                         tuple(files)))
    return chapters


def _report_key(files: list[str]) -> str:
    digest = hashlib.sha256()
    sources = sorted((ROOT / "gan_book").rglob("*.py")) + [ROOT / name for name in files]
    sources += [ROOT / "tests" / "conftest.py", ROOT / "pyproject.toml"]
    for path in sources:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    digest.update(json.dumps(library_versions(), sort_keys=True).encode())
    digest.update(EXCLUDED_MARKERS.encode())
    return digest.hexdigest()


def run_tests(files: list[str]) -> dict:
    """Run `files` with pytest (or reuse the report of an identical run) and return it."""
    files = sorted(set(files))
    key = _report_key(files)
    stored = cache_dir() / "verification" / f"report-{key[:32]}.json"
    if stored.exists():
        report = json.loads(stored.read_text(encoding="utf-8"))
        report["reused"] = True
        return report

    with tempfile.TemporaryDirectory(prefix="gan-book-tests-") as folder:
        output = Path(folder) / "report.json"
        environment = dict(os.environ, GAN_BOOK_TEST_REPORT=str(output))
        environment.pop("GAN_BOOK_BUILD", None)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "gan_book.book.pytest_report",
             "-p", "no:cacheprovider", "-m", EXCLUDED_MARKERS, *files],
            cwd=ROOT, env=environment, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - start
        if not output.exists():
            raise VerificationError(f"the build-time tests could not run:\n{result.stdout[-4000:]}"
                                    f"\n{result.stderr[-4000:]}")
        raw = json.loads(output.read_text(encoding="utf-8"))
    failed = [name for name, test in raw["tests"].items() if test["outcome"] == "failed"]
    if failed or result.returncode != 0:
        raise VerificationError(
            f"build-time tests failed ({len(failed)} failing: {failed[:10]}); "
            f"pytest exited with {result.returncode}:\n{result.stdout[-6000:]}")
    report = {"tests": raw["tests"], "seconds": round(seconds, 2), "commit": commit(),
              "date": now(), "versions": library_versions(), "files": files,
              "source_key": key}
    write_atomically(stored, lambda handle: handle.write(json.dumps(report, indent=1).encode()))
    report["reused"] = False
    return report


def tests_of_file(report: dict, name: str) -> dict[str, dict]:
    """Return the report's tests that live in the test file `name`."""
    prefix = name + "::"
    return {node: test for node, test in report["tests"].items() if node.startswith(prefix)}


def chapter_box(chapter: ChapterTests, report: dict, verification_link: str) -> str:
    """Return the Markdown of the verification box that ends a chapter."""
    tests = {node: test for name in chapter.files for node, test in tests_of_file(report, name).items()}
    passed = sum(test["outcome"] == "passed" for test in tests.values())
    skipped = sum(test["outcome"] == "skipped" for test in tests.values())
    seconds = sum(test["seconds"] for test in tests.values())
    versions = report["versions"]
    files = ", ".join(f"`{name}`" for name in chapter.files)
    reuse = (" (the report of an earlier run on identical source was reused)"
             if report.get("reused") else "")
    skipped_text = f", {skipped} skipped" if skipped else ""
    listing = (f" The [verification page]({verification_link}) lists each test and the claim"
               " it checks." if verification_link else "")
    return (
        f'\n\n??? success "Verified: {passed} tests passed{skipped_text} in {seconds:.1f} s"\n'
        f"    The unit tests behind this chapter ({files}) ran while this book was built,"
        f" at commit `{report['commit']}` on {report['date']}{reuse}, with Python"
        f" {versions['python']}, numpy {versions['numpy']}, scipy {versions['scipy']} and"
        f" torch {versions['torch']}.{listing}\n"
    )


def verification_page(chapters: list[ChapterTests], report: dict) -> str:
    """Return the Markdown body of the Verification page."""
    versions = report["versions"]
    parts = [
        f"The build ran {len(report['tests'])} unit tests in {report['seconds']:.1f} s at "
        f"commit `{report['commit']}` on {report['date']}, with Python {versions['python']}, "
        f"numpy {versions['numpy']}, scipy {versions['scipy']} and torch "
        f"{versions['torch']}. Tests marked `slow` run in `make test` only.\n"
    ]
    for chapter in chapters:
        # The Verification page sits at the top of docs/, so a page path is its link.
        parts.append(f"\n## [{chapter.title}]({chapter.page})\n")
        rows = []
        for name in chapter.files:
            for node, test in sorted(tests_of_file(report, name).items()):
                rows.append([f"`{node.split('::', 1)[1]}`", test.get("claim", ""),
                             test["outcome"], f"{test['seconds']:.2f}"])
        header = ["test", "claim it checks", "outcome", "seconds"]
        table = "\n".join(
            ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |"
               for row in rows])
        parts.append(table + "\n")
    return "".join(parts)
