"""MkDocs hooks of the book build (listed under `hooks:` in mkdocs.yml).

* Key mkdocs-jupyter's executed-notebook cache by the `gan_book` source and the library
  versions too, so an edit to the package re-executes the labs while a rebuild with
  nothing changed re-executes none.
* Remove the MathJax 2 loader and the mermaid loader that mkdocs-jupyter writes into
  notebook pages (both point at a CDN); the site's own MathJax 3 typesets those pages.
* Write each lab's `.ipynb` next to its page, for the download link in the lab.
* Run the unit tests that chapters name in their front matter before any page is
  rendered (`gan_book.book.verification`), end each such chapter with a verification
  box, and fill the Verification page. A failing test fails the build.
* Collect the provenance of every computed figure and table and write it to
  `provenance.json` in the built site.
* Offer each chapter's executed blocks as one `.py` file and one notebook.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.gan_book")

MATHJAX_MARKER = "gan-book-site-mathjax"
_NOTEBOOK_MATHJAX = re.compile(
    r'<script src="' + MATHJAX_MARKER + r'">\s*</script>'
    r'|<script type="text/x-mathjax-config">.*?</script>',
    re.DOTALL,
)
# nbconvert's template imports mermaid from a CDN when a notebook has a diagram; the
# labs have none, and the book must not load code from another host.
_NOTEBOOK_MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>',
                               re.DOTALL)


def _package_fingerprint() -> str:
    import matplotlib
    import numpy
    import scipy
    import torch

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    for module in (numpy, scipy, torch, matplotlib):
        digest.update(f"{module.__name__}={module.__version__}".encode())
    return digest.hexdigest()[:16]


VERIFICATION_PAGE = "verification.md"
VERIFICATION_MARKER = "<!-- verification-report -->"
SKIP_TESTS_VARIABLE = "GAN_BOOK_SKIP_BUILD_TESTS"
SKIPPED_NOTE = ("The build-time tests were not run in this build ({variable}=1): it was "
                "made by the test suite, which runs the same tests itself.")
_build: dict = {"chapters": [], "report": None, "files": None}


def on_config(config):
    from gan_book.book import provenance
    from gan_book.book.figures import BUILD_VARIABLE

    os.environ[BUILD_VARIABLE] = "1"
    provenance.reset()
    # The lab notebooks' kernels inherit this environment. A forced backend such as Agg
    # would stop their figures from being embedded, so leave the choice to ipykernel;
    # the chapters' figure helpers select Agg themselves.
    os.environ.pop("MPLBACKEND", None)
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and jupyter.config["cache"]:
        from gan_book.book.cache import cache_dir

        jupyter.config["cache_dir"] = str(cache_dir() / "notebooks" / _package_fingerprint())
    return config


def _nav_paths(items) -> list[str]:
    """Flatten MkDocs' nav configuration into page paths, in reading order."""
    paths = []
    for item in items or []:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            paths.extend(_nav_paths(value))
        elif isinstance(value, str):
            paths.append(value)
    return paths


def _in_nav_order(chapters: list, config) -> list:
    order = {path: index for index, path in enumerate(_nav_paths(config.nav))}
    return sorted(chapters, key=lambda chapter: (order.get(chapter.page, len(order)), chapter.page))


def on_pre_build(config):
    from gan_book.book import verification

    if os.environ.get(SKIP_TESTS_VARIABLE) == "1":
        # The test suite sets this for the builds it makes, because it runs the same
        # unit tests itself. The pages then state that the tests were not run.
        log.info("build-time tests skipped (%s=1)", SKIP_TESTS_VARIABLE)
        _build.update(chapters=_in_nav_order(verification.chapter_tests(Path(config.docs_dir)),
                                             config), report=None)
        return
    try:
        chapters = _in_nav_order(verification.chapter_tests(Path(config.docs_dir)), config)
        files = [name for chapter in chapters for name in chapter.files]
        report = verification.run_tests(files) if files else None
    except verification.VerificationError as error:
        raise PluginError(str(error)) from error
    _build.update(chapters=chapters, report=report)
    if report is not None:
        state = "reused" if report["reused"] else f"ran in {report['seconds']:.1f} s"
        passed = sum(test["outcome"] == "passed" for test in report["tests"].values())
        log.info("build-time tests: %d of %d passed (%s)", passed, len(report["tests"]), state)


def _download_box(page) -> str:
    from gan_book.book.snippets import executed_blocks

    if not page.file.src_uri.startswith("chapters/"):
        return ""
    if not executed_blocks(Path(page.file.abs_src_path)):
        return ""
    stem = Path(page.file.src_uri).stem
    return (
        '\n\n!!! tip "Take this chapter\'s code"\n'
        f'    Every executed block of this chapter, in order, as <a href="{stem}.py" download>'
        f'a Python script</a> or <a href="{stem}.ipynb" download>a notebook</a>. Both run '
        "with the `gan_book` package installed.\n"
    )


def on_page_markdown(markdown, page, config, files):
    from gan_book.book import provenance, verification

    provenance.set_page(page.file.src_uri)
    report = _build["report"]
    skipped = SKIPPED_NOTE.format(variable=SKIP_TESTS_VARIABLE)
    if page.file.src_uri == VERIFICATION_PAGE:
        if report is None and os.environ.get(SKIP_TESTS_VARIABLE) == "1":
            return markdown.replace(VERIFICATION_MARKER, f'!!! warning "Not verified"\n    {skipped}\n')
        if report is None:
            raise PluginError("the Verification page needs build-time tests, but no chapter "
                              "names test files in its front matter")
        return markdown.replace(VERIFICATION_MARKER,
                                verification.verification_page(_build["chapters"], report))
    markdown += _download_box(page)
    for chapter in _build["chapters"]:
        if chapter.page != page.file.src_uri:
            continue
        if report is None:
            markdown += f'\n\n!!! warning "Not verified in this build"\n    {skipped}\n'
            continue
        link = "../" * page.file.src_uri.count("/") + VERIFICATION_PAGE
        if files.get_file_from_path(VERIFICATION_PAGE) is None:
            link = ""  # a partial build (scripts/build_page.py) without that page
        markdown += verification.chapter_box(chapter, report, link)
    return markdown


_MARKDOWN_LINK = re.compile(r'href="(?P<path>[^":#]+\.md)(?P<fragment>#[^"]*)?"')


def _rewrite_markdown_links(output: str, page) -> str:
    """Point a notebook's links to other pages (`../chapters/x.md`) at their URLs.

    MkDocs rewrites such links in Markdown pages, but mkdocs-jupyter leaves them as they
    are in notebooks. A link to a missing page fails the build, as in a chapter.
    """
    files = _build["files"]
    folder = Path(page.file.src_uri).parent

    def replace(match: re.Match) -> str:
        target = os.path.normpath(folder / match["path"]).replace(os.sep, "/")
        file = files.get_file_from_path(target)
        if file is None:
            raise PluginError(f"{page.file.src_uri} links to {match['path']}, which is not a "
                              "page of the book; fix the link")
        return f'href="{file.url_relative_to(page.file)}{match["fragment"] or ""}"'

    return _MARKDOWN_LINK.sub(replace, output)


def on_post_page(output, page, config):
    if page.file.src_uri.startswith("labs/"):
        output = _rewrite_markdown_links(output, page)
        output, count = _NOTEBOOK_MATHJAX.subn("", output)
        output, mermaid_count = _NOTEBOOK_MERMAID.subn("", output)
        log.debug("removed %d MathJax and %d mermaid tags from %s", count, mermaid_count,
                  page.file.src_uri)
    return output


def _page_folder(site: Path, files, src_uri: str) -> Path:
    """Return the built page's folder, where its relative download links point.

    With directory URLs (the normal build) that is `chapters/NAME/`; without them (the
    offline build) it is `chapters/`.
    """
    file = files.get_file_from_path(src_uri)
    return (site / file.dest_uri).parent


def _write_chapter_downloads(docs: Path, site: Path, files) -> None:
    import nbformat

    from gan_book.book import snippets
    from gan_book.book.verification import _title

    for page in sorted((docs / "chapters").glob("*.md")):
        src_uri = page.relative_to(docs).as_posix()
        if files.get_file_from_path(src_uri) is None or not snippets.executed_blocks(page):
            continue
        title = _title(page)
        folder = _page_folder(site, files, src_uri)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{page.stem}.py").write_text(snippets.chapter_script(page, title),
                                                encoding="utf-8")
        nbformat.write(snippets.chapter_notebook(page, title), folder / f"{page.stem}.ipynb")


def _write_provenance(site: Path) -> None:
    from gan_book.book import provenance
    from gan_book.book.environment import commit, hardware, library_versions, now

    manifest = {"commit": commit(), "date": now(), "hardware": hardware(),
                "versions": library_versions(), "records": provenance.records()}
    (site / "provenance.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def on_files(files, config):
    _build["files"] = files
    return files


def on_post_build(config):
    import jupytext

    docs = Path(config.docs_dir)
    site = Path(config.site_dir)
    files = _build["files"]
    _write_chapter_downloads(docs, site, files)
    _write_provenance(site)
    for source in sorted((docs / "labs").glob("*.py")):
        notebook = jupytext.read(source)
        notebook.metadata.pop("jupytext", None)
        src_uri = source.relative_to(docs).as_posix()
        if files.get_file_from_path(src_uri) is None:
            continue
        target = _page_folder(site, files, src_uri) / f"{source.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")
