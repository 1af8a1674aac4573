"""Publishing: the GitHub Pages workflow lints clean, the citation and licence files
are valid, site_url comes from the environment, and the offline zip and the PDF keep
their math and figures.

The workflow cannot run here, so actionlint (the workflow linter, with shellcheck on
the run scripts when it is installed) and yamllint check it instead. The offline and
PDF tests build two small pages with the project's configuration, not the whole book,
so they take seconds; `make dist` and `make pdf` run the same code on every page.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
MATH_TIMEOUT_MS = 30_000


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool(name: str) -> str:
    """Return the path of a console script installed beside this interpreter."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run `make setup` (it is in the test extra)")
    return found


def test_workflow_passes_actionlint():
    result = subprocess.run([tool("actionlint"), "-no-color", str(WORKFLOW)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_passes_yamllint():
    result = subprocess.run([sys.executable, "-m", "yamllint", "--strict", str(WORKFLOW)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_uses_official_pages_actions():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    used = [step["uses"].split("@")[0] for step in build["steps"] if "uses" in step]
    for action in ("actions/checkout", "actions/setup-python", "actions/configure-pages",
                   "actions/upload-pages-artifact"):
        assert action in used, f"the build job does not use {action}"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    commands = "\n".join(step.get("run", "") for step in build["steps"])
    for command in ("bash .ci/run", "make build", "make dist", "make pdf"):
        assert command in commands, f"the build job does not run {command}"


def test_citation_file_matches_cff_schema():
    schema = json.loads((ROOT / "scripts" / "cff-schema-1.2.0.json").read_text(encoding="utf-8"))
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, error.path))}: {error.message}"
              for error in validator.iter_errors(citation)]
    assert not errors, errors


def test_cff_schema_rejects_invalid_citation():
    schema = json.loads((ROOT / "scripts" / "cff-schema-1.2.0.json").read_text(encoding="utf-8"))
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    del citation["authors"]
    assert not jsonschema.Draft7Validator(schema).is_valid(citation)


def test_citation_version_matches_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["version"] == project["version"]
    assert citation["preferred-citation"]["version"] == project["version"]
    assert citation["license"] == ["MIT", "CC-BY-4.0"]
    assert project["license"] == "MIT"


def test_licence_files_are_present():
    mit = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert mit.startswith("MIT License\n")
    assert "Copyright (c) 2026 GAN Book contributors" in mit
    assert "<year>" not in mit
    cc_by = (ROOT / "LICENSES" / "CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert cc_by.startswith("Creative Commons Attribution 4.0 International")
    for heading in ("Section 1 – Definitions.", "Section 3 – License Conditions.",
                    "Section 8 – Interpretation."):
        assert heading in cc_by, f"the CC BY 4.0 text lacks {heading!r}"


def site_url_for(environment: dict[str, str]) -> str:
    code = ("from mkdocs.config import load_config; "
            "print(load_config('mkdocs.yml').site_url or '')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_site_url_comes_from_environment():
    base = {name: value for name, value in os.environ.items() if name != "GAN_BOOK_SITE_URL"}
    assert site_url_for(base) == ""
    published = "https://example.github.io/gan-book/"
    assert site_url_for(dict(base, GAN_BOOK_SITE_URL=published)) == published


# --- The offline zip and the PDF, on two small pages ---------------------------------

SAMPLE_PAGE = """# Offline sample

Inline math $p_g(x) = \\frac{1}{2}$ and display math

$$
V(D, G) = \\mathbb{E}_{x}\\big[\\log D(x)\\big] + \\mathbb{E}_{z}\\big[\\log(1 - D(G(z)))\\big].
$$

A link to [the citation page](cite.md).

```python exec="on" id="offline-sample-figure" html="1"
import numpy as np

from gan_book.book.figures import figure, figure_html

fig, axis = figure()
axis.imshow(np.linspace(0.0, 1.0, 64).reshape(8, 8))
print(figure_html(fig, "A raster sample figure.", raster=True))
```
"""


def build_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str) -> Path:
    """Build the sample page and docs/cite.md with `variable`=true; return the site."""
    page = tmp_path / "docs" / "sample.md"
    page.parent.mkdir()
    page.write_text(SAMPLE_PAGE, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    site = tmp_path / "site"
    monkeypatch.setenv(variable, "true")
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    result = load_script("build_page").build_pages([page, ROOT / "docs" / "cite.md"], site, work)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return site


@pytest.mark.browser
def test_offline_zip_opens_from_file_urls(browser, tmp_path, monkeypatch):
    make_dist = load_script("make_dist")
    site = build_sample(tmp_path, monkeypatch, "GAN_BOOK_OFFLINE")
    archive = make_dist.zip_site(site, tmp_path / "book.zip", "gan-book")
    with zipfile.ZipFile(archive) as packed:
        names = packed.namelist()
        packed.extractall(tmp_path / "unpacked")
    assert all(name.startswith("gan-book/") for name in names)
    book = tmp_path / "unpacked" / "gan-book"
    # Offline pages are files, not folders, and search works from an inlined index.
    assert (book / "sample.html").is_file()
    assert (book / "search" / "search_index.js").is_file()
    assert (book / "assets" / "javascripts" / "iframe-worker" / "shim.js").is_file()

    page = browser.new_page()
    other: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(("file://", "data:"))
            else other.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((book / "sample.html").as_uri(), wait_until="load")
    page.wait_for_function("() => document.documentElement.dataset.mathTypeset === 'done'",
                           timeout=MATH_TIMEOUT_MS)
    math = page.evaluate("""() => ({
      spans: document.querySelectorAll('.arithmatex').length,
      typeset: document.querySelectorAll('.arithmatex mjx-container').length,
      errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    })""")
    images = page.evaluate("() => [...document.images].map(i => i.complete && i.naturalWidth > 0)")
    page.click("a[href='cite.html']")
    page.wait_for_url("**/cite.html")
    cite_text = page.inner_text("article")
    page.close()
    assert not other, f"the offline page requested other URLs: {other}"
    assert not failed, f"failed requests: {failed}"
    assert math["spans"] == 2, math
    assert math["typeset"] == 2, math
    assert math["errors"] == 0, math
    assert images and all(images), images
    assert "@misc{gan_book" in cite_text


@pytest.mark.browser
def test_pdf_keeps_math_and_figures(browser, tmp_path, monkeypatch):
    make_pdf = load_script("make_pdf")
    site = build_sample(tmp_path, monkeypatch, "GAN_BOOK_PRINT")
    assert (site / "print_page" / "index.html").is_file()
    pdf = tmp_path / "book.pdf"
    statistics = make_pdf.print_to_pdf(site, pdf, browser)
    assert statistics == {"foreign_requests": 0, "untypeset": 0, "errors": 0}
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    # The raster figure is embedded as an image; the math is drawn as vector paths.
    assert b"/Subtype /Image" in data
