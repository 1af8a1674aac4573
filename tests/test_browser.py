"""The built book in a real browser: headless Chromium (Debian's package) opens every
page from a loopback server, and the test checks that no request leaves the server,
that MathJax typeset every formula, that every image loaded, and that math is typeset
again after Material's instant navigation swaps the page.

Without Chromium the tests skip with a message that says how to install it; with
GAN_BOOK_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails them instead.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

MATH_TIMEOUT_MS = 30_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def server(built_site: Path):
    handler = functools.partial(QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def site_pages(site: Path) -> list[str]:
    """Return the URL paths of the book's pages (not the 404 page)."""
    paths = []
    for page in sorted(site.rglob("index.html")):
        relative = page.parent.relative_to(site).as_posix()
        paths.append("/" if relative == "." else f"/{relative}/")
    return paths


MATH_STATE = """() => {
  const spans = [...document.querySelectorAll('.arithmatex')];
  const notebookCells = [...document.querySelectorAll('.jp-RenderedMarkdown')];
  return {
    spans: spans.length,
    untypeset: spans.filter(s => !s.querySelector('mjx-container')).length,
    errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    notebookRawDollars: notebookCells.filter(c => /\\$[^$\\s][^$]*\\$/.test(
      [...c.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join(''))).length,
    typeset: document.documentElement.dataset.mathTypeset === 'done',
  };
}"""

IMAGE_STATE = """() => [...document.images].filter(
  i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))"""


def open_page(browser, url: str, base: str):
    page = browser.new_page()
    foreign: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: None if request.url.startswith((base, "data:", "blob:"))
            else foreign.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(url, wait_until="load")
    return page, foreign, failed


def wait_for_math(page) -> dict:
    page.wait_for_function(
        "() => document.documentElement.dataset.mathTypeset === 'done'",
        timeout=MATH_TIMEOUT_MS,
    )
    return page.evaluate(MATH_STATE)


def test_every_page_is_offline_typeset_and_complete(browser, server, built_site):
    paths = site_pages(built_site)
    assert "/chapters/adversarial-game/" in paths
    for path in paths:
        page, foreign, failed = open_page(browser, server + path, server)
        state = wait_for_math(page)
        broken_images = page.evaluate(IMAGE_STATE)
        page.wait_for_load_state("networkidle")
        page.close()
        assert not foreign, f"{path} requested other hosts: {foreign}"
        assert not failed, f"{path} had failed requests: {failed}"
        assert state["untypeset"] == 0, f"{path}: {state['untypeset']} formulas not typeset"
        assert state["errors"] == 0, f"{path}: {state['errors']} MathJax errors"
        assert state["notebookRawDollars"] == 0, f"{path}: raw $...$ left in notebook cells"
        assert not broken_images, f"{path}: images not loaded: {broken_images}"


def test_math_is_typeset_after_instant_navigation(browser, server):
    page, foreign, failed = open_page(browser, server + "/", server)
    wait_for_math(page)
    page.click("a[href$='chapters/adversarial-game/']")
    page.wait_for_url("**/chapters/adversarial-game/")
    page.wait_for_function(
        """() => {
          const spans = [...document.querySelectorAll('.arithmatex')];
          return spans.length > 20 && spans.every(s => s.querySelector('mjx-container'));
        }""",
        timeout=MATH_TIMEOUT_MS,
    )
    # The swap happened without a full load: Material's instant navigation was used.
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].name").endswith("/")
    page.click("a[href$='notation/']")
    page.wait_for_url("**/notation/")
    page.wait_for_function(
        """() => {
          const spans = [...document.querySelectorAll('.arithmatex')];
          return spans.length > 5 && spans.every(s => s.querySelector('mjx-container'));
        }""",
        timeout=MATH_TIMEOUT_MS,
    )
    page.close()
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not failed, f"failed requests: {failed}"


def test_training_animation_plays(browser, server):
    page, foreign, failed = open_page(browser, server + "/chapters/failure-modes/", server)
    animation = page.locator("img.gb-animation").first
    animation.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.gb-animation')].every(i => i.naturalWidth > 0)")
    frames = set()
    for _ in range(4):
        frames.add(animation.screenshot())
        page.wait_for_timeout(700)
    page.close()
    assert not foreign, f"requests to other hosts: {foreign}"
    assert len(frames) > 1, "the animation showed the same picture for 2 seconds"
