"""The built book: no error text, every image and internal link resolves, nothing
external is loaded, and a raising example fails the build naming its block id."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT

pytestmark = pytest.mark.site

ERROR_TEXT = ["Traceback (most recent call last)", "exited with errors",
              "exited with unexpected code", "CellExecutionError"]


class PageParser(HTMLParser):
    """Collect the references of a page: images, links, scripts, styles, anchors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self.links: list[str] = []
        self.resources: list[tuple[str, str]] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.anchors.add(attributes["id"])
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        elif tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        elif tag == "script" and attributes.get("src"):
            self.resources.append((tag, attributes["src"]))
        elif tag == "link" and attributes.get("href"):
            self.resources.append((tag, attributes["href"]))
        elif tag in {"iframe", "source", "video", "audio", "embed"} and attributes.get("src"):
            self.resources.append((tag, attributes["src"]))


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


@functools.lru_cache(maxsize=None)
def parse(page: Path) -> PageParser:
    parser = PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme in {"http", "https"} or url.startswith("//"))


def resolve(site: Path, page: Path, url: str) -> Path | None:
    """Return the file a relative URL on `page` points to, or None for non-file URLs."""
    parts = urlsplit(url)
    if parts.scheme or url.startswith("//") or not parts.path:
        return None
    # The 404 page uses site-absolute links, because it is served at any depth.
    base = site if parts.path.startswith("/") else page.parent
    target = (base / unquote(parts.path).lstrip("/")).resolve()
    if target.is_dir() or parts.path.endswith("/"):
        target = target / "index.html"
    return target


def test_site_has_the_expected_pages(built_site):
    for path in ["index.html", "notation/index.html", "benchmarks/index.html",
                 "chapters/adversarial-game/index.html"]:
        assert (built_site / path).is_file(), path


def test_no_error_text_in_pages(built_site):
    for page in pages(built_site):
        text = page.read_text(encoding="utf-8")
        for marker in ERROR_TEXT:
            assert marker not in text, f"{page.relative_to(built_site)} contains {marker!r}"


def test_every_image_resolves(built_site):
    count = 0
    for page in pages(built_site):
        for source in parse(page).images:
            count += 1
            assert source, f"{page.relative_to(built_site)} has an <img> without src"
            assert not is_external(source), f"{page.relative_to(built_site)}: external image {source}"
            if source.startswith("data:"):
                assert re.match(r"data:image/(png|svg\+xml|gif|jpeg);base64,[A-Za-z0-9+/=]{100,}",
                                source), f"malformed data URI on {page.relative_to(built_site)}"
                continue
            target = resolve(built_site, page, source)
            assert target is not None and target.is_file(), (
                f"{page.relative_to(built_site)}: image {source} not found")


def test_every_internal_link_resolves(built_site):
    checked = 0
    for page in pages(built_site):
        parser = parse(page)
        for href in parser.links:
            if is_external(href) or href.startswith(("mailto:", "javascript:")):
                continue
            parts = urlsplit(href)
            target = page if not parts.path else resolve(built_site, page, href)
            if target is None:
                continue
            checked += 1
            assert target.is_file(), f"{page.relative_to(built_site)}: link {href} not found"
            if parts.fragment and target.suffix == ".html":
                anchors = parse(target).anchors
                assert unquote(parts.fragment) in anchors, (
                    f"{page.relative_to(built_site)}: anchor {href} not found")
    assert checked > 20


def test_no_external_scripts_styles_or_fonts(built_site):
    for page in pages(built_site):
        for tag, url in parse(page).resources:
            assert not is_external(url), f"{page.relative_to(built_site)} loads {tag} {url}"
    for stylesheet in built_site.rglob("*.css"):
        text = stylesheet.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"url\(\s*['\"]?([^)'\"]+)", text) + re.findall(
                r"@import\s+['\"]([^'\"]+)", text):
            assert not is_external(url), f"{stylesheet.relative_to(built_site)} loads {url}"


def test_labs_are_offered_as_notebooks_with_their_figures(built_site):
    labs = sorted((ROOT / "docs" / "labs").glob("*.py"))
    assert labs, "the book has no lab notebooks"
    for lab in labs:
        folder = built_site / "labs" / lab.stem
        page = (folder / "index.html").read_text(encoding="utf-8")
        assert (folder / f"{lab.stem}.ipynb").is_file(), f"{lab.name}: no .ipynb download"
        assert f'href="{lab.stem}.ipynb"' in page, f"{lab.name}: no link to the download"
        if "plt.show()" in lab.read_text(encoding="utf-8"):
            assert "data:image/png;base64," in page, f"{lab.name}: its figures are missing"


def test_math_is_served_from_the_site(built_site):
    assert (built_site / "javascripts/vendor/mathjax/tex-svg-full.js").is_file()
    assert (built_site / "javascripts/vendor/mathjax/LICENSE").is_file()
    chapter = (built_site / "chapters/adversarial-game/index.html").read_text(encoding="utf-8")
    assert chapter.count('class="arithmatex"') > 20


def _load_build_page():
    spec = importlib.util.spec_from_file_location("build_page", ROOT / "scripts" / "build_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_raising_block_fails_build_naming_its_id(tmp_path):
    build_page = _load_build_page()
    page = tmp_path / "docs" / "canary.md"
    page.parent.mkdir()
    page.write_text(
        "# Canary\n\n"
        '```python exec="on" id="canary-raises"\n'
        "raise RuntimeError('the canary block raises on purpose')\n"
        "```\n",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    result = build_page.build_pages([page], tmp_path / "site", work)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "canary-raises" in output
    assert "the canary block raises on purpose" in output


def test_build_runs_chapter_tests_and_shows_them(tmp_path):
    build_page = _load_build_page()
    work = tmp_path / "work"
    work.mkdir()
    # The chapter links to the next one, which a strict build needs present.
    pages = [ROOT / "docs" / "chapters" / name
             for name in ("adversarial-game.md", "dimension.md")]
    pages.append(ROOT / "docs" / "verification.md")
    result = build_page.build_pages(pages, tmp_path / "site", work)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    chapter = (tmp_path / "site" / "chapters" / "adversarial-game" / "index.html").read_text(
        encoding="utf-8")
    match = re.search(r"Verified: (\d+) tests passed", chapter)
    assert match, "the chapter has no verification box"
    assert int(match[1]) >= 10
    report = (tmp_path / "site" / "verification" / "index.html").read_text(encoding="utf-8")
    assert "test_theorem_1_two_ways_agree" in report
    assert "failed" not in report


def test_failing_chapter_test_fails_build(tmp_path):
    build_page = _load_build_page()
    failing = ROOT / "tests" / "test_zz_build_canary.py"
    page = tmp_path / "canary-chapter.md"
    page.write_text("---\ntests:\n  - tests/test_zz_build_canary.py\n---\n\n# Canary\n",
                    encoding="utf-8")
    failing.write_text("def test_canary_fails():\n    assert 1 + 1 == 3\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    try:
        result = build_page.build_pages([page], tmp_path / "site", work)
    finally:
        failing.unlink()
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "test_canary_fails" in output


def test_chapter_downloads_are_offered(built_site):
    folder = built_site / "chapters" / "adversarial-game"
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert (folder / "adversarial-game.py").is_file()
    assert (folder / "adversarial-game.ipynb").is_file()
    assert 'href="adversarial-game.py"' in page


def test_provenance_manifest_lists_figures(built_site):
    manifest = json.loads((built_site / "provenance.json").read_text(encoding="utf-8"))
    pages = {record["page"] for record in manifest["records"]}
    assert "chapters/adversarial-game.md" in pages
    for record in manifest["records"]:
        assert record["built"]["commit"]
        assert record["kind"] in {"figure", "table"}


def test_chapter_scripts_run_on_their_own(built_site):
    from conftest import build_environment

    scripts = sorted((built_site / "chapters").glob("*/*.py"))
    assert scripts
    for script in scripts:
        result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=build_environment(),
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{script.name}:\n{result.stderr[-6000:]}"


def test_chapter_notebooks_are_valid(built_site):
    import nbformat

    for notebook_path in sorted((built_site / "chapters").glob("*/*.ipynb")):
        notebook = nbformat.read(notebook_path, as_version=4)
        nbformat.validate(notebook)
        script = notebook_path.with_suffix(".py").read_text(encoding="utf-8")
        for cell in notebook.cells[1:]:
            assert cell.source in script, f"{notebook_path.name}: a cell differs from the script"


def test_animation_is_a_multi_frame_gif(built_site):
    import base64
    import io

    from PIL import Image

    page = (built_site / "chapters" / "failure-modes" / "index.html").read_text(encoding="utf-8")
    match = re.search(r'class="gb-animation"[^>]*src="data:image/gif;base64,([^"]+)"', page) or \
        re.search(r'src="data:image/gif;base64,([^"]+)"[^>]*class="gb-animation"', page)
    assert match, "the failure-modes chapter has no GIF animation"
    animation = Image.open(io.BytesIO(base64.b64decode(match[1])))
    assert animation.n_frames >= 4
