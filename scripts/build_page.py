"""Build a few pages of the book alone, strictly, into a temporary site.

Usage: .venv/bin/python scripts/build_page.py docs/chapters/NAME.md [MORE.md ...]
       [--site-dir DIR]

It copies the named pages and the site assets (javascripts, stylesheets) into a
temporary docs folder and builds it with the project's mkdocs.yml (same plugins,
hooks and extensions), so a contributor can iterate on one chapter without executing
the whole book. Exits with mkdocs' status.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ("javascripts", "stylesheets")


def build_pages(pages: list[Path], site_dir: Path, workdir: Path) -> subprocess.CompletedProcess:
    """Build `pages` with the project's configuration into `site_dir`.

    Pages under docs/ keep their place in the site; other pages go to its top level.
    """
    docs = workdir / "docs"
    for asset in ASSETS:
        shutil.copytree(ROOT / "docs" / asset, docs / asset)
    nav = []
    for page in pages:
        source = page.resolve()
        # A page outside docs/ (a test's temporary page) goes to the top of the site.
        inside = source.is_relative_to(ROOT / "docs")
        relative = source.relative_to(ROOT / "docs") if inside else Path(source.name)
        (docs / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, docs / relative)
        nav.append(f"  - {relative.as_posix()}")
    config = workdir / "mkdocs.yml"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
        f"docs_dir: {docs}\n"
        f"site_dir: {site_dir}\n"
        # Paths in the inherited file resolve against this file's folder, so the
        # theme overrides (404 page, offline search shim) are named absolutely.
        "theme:\n"
        f"  custom_dir: {ROOT / 'overrides'}\n"
        "hooks:\n"
        f"  - {ROOT / 'gan_book' / 'book' / 'hooks.py'}\n"
        "nav:\n" + "\n".join(nav) + "\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
        cwd=ROOT, capture_output=True, text=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+", type=Path, help="Markdown files under docs/")
    parser.add_argument("--site-dir", type=Path, default=None,
                        help="where to write the site (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gan-book-page-") as workdir:
        site_dir = args.site_dir or Path(workdir) / "site"
        result = build_pages(args.pages, site_dir.resolve(), Path(workdir))
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(f"mkdocs exited with {result.returncode}; site in {site_dir}", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
