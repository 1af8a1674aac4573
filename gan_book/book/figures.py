"""Figure helpers: matplotlib figures embedded in the built pages.

Executed blocks end with `print(figure_html(fig, caption))`, which embeds the figure as
inline SVG (or as a PNG data URI for pixel images), so the page needs no separate image
file and the build cannot lose one. The block itself must call `print`: markdown-exec
captures the output of `print` calls made in the block, not of those made inside
imported modules. Each figure carries a collapsed provenance box (see
`gan_book.book.provenance`). The SVG itself is reproducible: a fixed hash salt and
no date, so an unchanged figure gives a byte-identical image.
"""

from __future__ import annotations

import base64
import html
import io
import os
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gan_book.book import provenance  # noqa: E402

# Set by the book's MkDocs hooks: inside the build, figure_html returns HTML for the
# page; outside it (a reader running a copied block) it shows the figure instead.
BUILD_VARIABLE = "GAN_BOOK_BUILD"

BOOK_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": False,
    # Text stays text in the SVG: smaller files, and the reader's own fonts render it.
    "svg.fonttype": "none",
    "svg.hashsalt": "gan-book",
}

plt.rcParams.update(BOOK_STYLE)

# Colours used for the same roles in every chapter.
DATA_COLOR = "#1f77b4"
GENERATOR_COLOR = "#d62728"
DISCRIMINATOR_COLOR = "#2ca02c"


def figure(*, ncols: int = 1, nrows: int = 1, width: float | None = None,
           height: float | None = None) -> tuple[Figure, object]:
    """Create a figure with the book's style and return (figure, axes)."""
    default_width, default_height = BOOK_STYLE["figure.figsize"]
    fig, axes = plt.subplots(
        nrows, ncols,
        figsize=(width or default_width, height or default_height),
        layout="constrained",
    )
    fig._gan_book_created = time.perf_counter()  # for the provenance record's draw time
    return fig, axes


def building_book() -> bool:
    """Return whether the code runs inside the book's build."""
    return os.environ.get(BUILD_VARIABLE) == "1"


def _show_outside_book(fig: Figure, caption: str) -> str:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(fig)
        plt.close(fig)
        return f"Figure: {caption}"
    plt.close(fig)
    return f"Figure: {caption} (call fig.savefig('figure.svg') before this line to keep it)"


def to_svg(fig: Figure) -> str:
    """Render `fig` as an SVG document string without the XML prologue."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def to_png_data_uri(fig: Figure, *, dpi: int = 100) -> str:
    """Render `fig` as a PNG and return it as a `data:` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_html(fig: Figure, caption: str, *, raster: bool = False) -> str:
    """Return the HTML of a captioned figure, with its provenance, and close `fig`.

    Outside the book's build it shows the figure instead (inline in Jupyter) and
    returns a one-line text, so a reader's copied block prints no page markup.
    """
    if not building_book():
        return _show_outside_book(fig, caption)
    created = getattr(fig, "_gan_book_created", time.perf_counter())
    label = html.escape(caption, quote=True)
    if raster:
        body = f'<img src="{to_png_data_uri(fig)}" alt="{label}">'
    else:
        svg = to_svg(fig).replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
        body = svg
    plt.close(fig)
    record = provenance.take("figure", caption, render_seconds=time.perf_counter() - created)
    return (
        f'<figure class="gb-figure">{body}'
        f"<figcaption>{html.escape(caption)}</figcaption>"
        f"{provenance.details_html(record)}</figure>"
    )


def markdown_table(header: list[str], rows: list[list[object]], *, caption: str = "") -> str:
    """Return a Markdown table; print it from a block without `html="1"`.

    Inside the book's build the table is followed by its provenance box; `caption`
    names the table in the provenance manifest.
    """
    def line(cells: list[object]) -> str:
        return "| " + " | ".join(str(cell).replace("|", r"\|") for cell in cells) + " |"

    table = "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])
    if not building_book():
        return table
    record = provenance.take("table", caption or " / ".join(map(str, header)),
                             render_seconds=0.0)
    return table + "\n\n" + provenance.details_html(record) + "\n"
