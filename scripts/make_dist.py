"""Build the offline edition of the book and pack it as one zip (`make dist`).

Usage: .venv/bin/python scripts/make_dist.py [--out build]

The strict build runs with GAN_BOOK_OFFLINE=true, which turns on Material's `offline`
plugin (mkdocs.yml): pages link to `name.html` files instead of folders, the search
index is inlined into a script, and Material skips instant navigation under file://.
The zip contains one folder, `gan-book-VERSION/`; a reader unpacks it and opens
`index.html` from the file system, with MathJax and every figure served from the
folder itself. Writes build/gan-book-VERSION-offline.zip and prints its path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def book_version() -> str:
    """Return the version in pyproject.toml, which names the zip and its folder."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def build_environment(**variables: str) -> dict[str, str]:
    return dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONHASHSEED="0", **variables)


def build_offline_site(site_dir: Path) -> None:
    """Build the whole book strictly, for file:// reading, into `site_dir`."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, env=build_environment(GAN_BOOK_OFFLINE="true"),
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the offline build failed with status {result.returncode}:\n"
                           f"{result.stdout[-8000:]}\n{result.stderr[-8000:]}")


def place_downloads_beside_pages(site_dir: Path) -> list[Path]:
    """Copy each page's downloads (NAME.py, NAME.ipynb) from NAME/ to beside NAME.html.

    The pages link to their downloads by bare file name, which resolves next to the
    page: inside NAME/ with directory URLs, beside NAME.html without them.
    Returns the copies made.
    """
    # NOTE: the build hooks write downloads into NAME/ even without directory URLs.
    # Once they write beside the page, this finds nothing left to copy.
    copies = []
    for page in sorted(site_dir.rglob("*.html")):
        folder = page.with_suffix("")
        for suffix in (".py", ".ipynb"):
            source = folder / f"{page.stem}{suffix}"
            target = page.with_suffix(suffix)
            if source.is_file() and not target.exists():
                shutil.copy2(source, target)
                copies.append(target)
    return copies


def zip_site(site_dir: Path, archive: Path, folder: str) -> Path:
    """Pack every file under `site_dir` into `archive`, below one top folder `folder`."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as packed:
        for path in sorted(site_dir.rglob("*")):
            if path.is_file():
                packed.write(path, f"{folder}/{path.relative_to(site_dir).as_posix()}")
    return archive


def make_dist(out_dir: Path) -> Path:
    """Build the offline book and return the path of the zip written under `out_dir`."""
    version = book_version()
    folder = f"gan-book-{version}"
    with tempfile.TemporaryDirectory(prefix="gan-book-offline-") as work:
        site_dir = Path(work) / folder
        build_offline_site(site_dir)
        place_downloads_beside_pages(site_dir)
        archive = out_dir / f"{folder}-offline.zip"
        partial = archive.with_suffix(".zip.partial")
        zip_site(site_dir, partial, folder)
        shutil.move(partial, archive)  # a failed run leaves no zip that looks complete
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build",
                        help="folder that receives the zip (default: build/)")
    args = parser.parse_args()
    print(make_dist(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
