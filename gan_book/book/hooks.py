"""MkDocs hooks of the book build (listed under `hooks:` in mkdocs.yml).

* Key mkdocs-jupyter's executed-notebook cache by the `gan_book` source and the library
  versions too, so an edit to the package re-executes the labs while a rebuild with
  nothing changed re-executes none.
* Remove the MathJax 2 loader and the mermaid loader that mkdocs-jupyter writes into
  notebook pages (both point at a CDN); the site's own MathJax 3 typesets those pages.
* Write each lab's `.ipynb` next to its page, for the download link in the lab.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

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


def on_config(config):
    # The lab notebooks' kernels inherit this environment. A forced backend such as Agg
    # would stop their figures from being embedded, so leave the choice to ipykernel;
    # the chapters' figure helpers select Agg themselves.
    os.environ.pop("MPLBACKEND", None)
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and jupyter.config["cache"]:
        from gan_book.book.cache import cache_dir

        jupyter.config["cache_dir"] = str(cache_dir() / "notebooks" / _package_fingerprint())
    return config


def on_post_page(output, page, config):
    if page.file.src_uri.startswith("labs/"):
        output, count = _NOTEBOOK_MATHJAX.subn("", output)
        output, mermaid_count = _NOTEBOOK_MERMAID.subn("", output)
        log.debug("removed %d MathJax and %d mermaid tags from %s", count, mermaid_count,
                  page.file.src_uri)
    return output


def on_post_build(config):
    import jupytext

    docs = Path(config.docs_dir)
    site = Path(config.site_dir)
    for source in sorted((docs / "labs").glob("*.py")):
        notebook = jupytext.read(source)
        notebook.metadata.pop("jupytext", None)
        target = site / "labs" / source.stem / f"{source.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")
