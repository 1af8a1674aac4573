"""Print the whole book to one PDF with headless Chromium (`make pdf`).

Usage: .venv/bin/python scripts/make_pdf.py [--out build]

The strict build runs with GAN_BOOK_PRINT=true, which turns on the print-site plugin
(mkdocs.yml): one extra page, print_page/, contains every page of the nav in order with a
table of contents. Debian's Chromium opens that page from a loopback server, waits
until the site's MathJax reports every formula typeset
(`document.documentElement.dataset.mathTypeset == "done"`, set by
docs/javascripts/mathjax-config.js) and every image has loaded, opens collapsed
solutions, and prints A4 pages with backgrounds. Writes build/gan-book-VERSION.pdf and
prints its path.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from make_dist import book_version, build_environment  # noqa: E402

from gan_book.book.hooks import _NOTEBOOK_MATHJAX, _NOTEBOOK_MERMAID  # noqa: E402

MATH_TIMEOUT_MS = 300_000  # the print page typesets every formula of the book at once
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-extensions"]

IMAGES_LOADED = """() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"""
BROKEN_MATH = """() => ({
  untypeset: [...document.querySelectorAll('.arithmatex')]
    .filter(s => !s.querySelector('mjx-container')).length,
  errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
})"""


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("chromium is not installed; install Debian's package with "
                       "`apt-get install chromium` (make test does so as root)")


def build_print_site(site_dir: Path) -> Path:
    """Build the book strictly with the print page into `site_dir`; return its HTML file."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, env=build_environment(GAN_BOOK_PRINT="true"),
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the print build failed with status {result.returncode}:\n"
                           f"{result.stdout[-8000:]}\n{result.stderr[-8000:]}")
    page = site_dir / "print_page" / "index.html"
    # The plugin assembles this page after the build hooks ran, so the lab notebooks'
    # MathJax 2 and mermaid loaders (CDN addresses) are still in it: remove them as the
    # hooks do on the lab pages.
    html = page.read_text(encoding="utf-8")
    html = _NOTEBOOK_MERMAID.sub("", _NOTEBOOK_MATHJAX.sub("", html))
    page.write_text(html, encoding="utf-8")
    return page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def print_to_pdf(site_dir: Path, pdf: Path, browser=None) -> dict:
    """Print site_dir's print page to `pdf`; return the request and math statistics.

    `browser` is a running Playwright Chromium to reuse (the tests pass theirs);
    without it, Debian's Chromium is started for this call.
    """
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            own = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_ARGS)
            try:
                return print_to_pdf(site_dir, pdf, own)
            finally:
                own.close()

    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    foreign: list[str] = []
    page = browser.new_page()
    try:
        page.on("request", lambda request: None if request.url.startswith(
            (base, "data:", "blob:")) else foreign.append(request.url))
        page.goto(f"{base}/print_page/", wait_until="load")
        page.wait_for_function(
            "() => document.documentElement.dataset.mathTypeset === 'done'",
            timeout=MATH_TIMEOUT_MS)
        page.wait_for_function(IMAGES_LOADED, timeout=MATH_TIMEOUT_MS)
        page.evaluate("() => document.querySelectorAll('details')"
                      ".forEach(d => { d.open = true; })")
        math = page.evaluate(BROKEN_MATH)
        page.emulate_media(media="print")
        pdf.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(pdf), format="A4", print_background=True,
                 margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
    finally:
        page.close()
        server.shutdown()
        server.server_close()
    if foreign:
        raise RuntimeError(f"the print page requested other hosts: {foreign}")
    if math["untypeset"] or math["errors"]:
        raise RuntimeError(f"the print page has {math['untypeset']} untypeset formulas and "
                           f"{math['errors']} MathJax errors")
    return {"foreign_requests": len(foreign), **math}


def make_pdf(out_dir: Path) -> Path:
    """Build the print page, print it and return the path of the PDF under `out_dir`."""
    pdf = out_dir / f"gan-book-{book_version()}.pdf"
    with tempfile.TemporaryDirectory(prefix="gan-book-print-") as work:
        site_dir = Path(work) / "site"
        build_print_site(site_dir)
        partial = pdf.with_suffix(".pdf.partial")
        print_to_pdf(site_dir, partial)
        shutil.move(partial, pdf)  # a failed run leaves no PDF that looks complete
    return pdf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build",
                        help="folder that receives the PDF (default: build/)")
    args = parser.parse_args()
    print(make_pdf(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
