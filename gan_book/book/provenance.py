"""Provenance of the book's computed figures and tables.

While a page builds, every cached heavy call (`gan_book.book.cache.cached`) is noted
here with its function, arguments (seeds and configurations among them) and the
commit, date, hardware and time of the computation that produced its result. The
next figure or table the page prints takes those notes as its inputs, and its record
is shown under it in a collapsed box and collected for the build's manifest,
`provenance.json` at the top of the built site (written by the MkDocs hooks).

A figure that needs no heavy call still gets a record: the page, the build's commit
and how long matplotlib took to draw it.
"""

from __future__ import annotations

import html
import json
import threading
import time
from typing import Any

import numpy as np

_lock = threading.Lock()
_state: dict[str, Any] = {"page": None, "pending": [], "records": []}


def set_page(page: str | None) -> None:
    """Start collecting for `page` (a docs-relative path); drops unclaimed notes."""
    with _lock:
        _state["page"] = page
        _state["pending"] = []


def reset() -> None:
    """Forget every record, at the start of a build."""
    with _lock:
        _state.update(page=None, pending=[], records=[])


def summarise_arguments(arguments: dict) -> dict:
    """Return JSON-friendly arguments: arrays and long sequences become their shape."""
    def summarise(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return f"array{list(value.shape)} {value.dtype}"
        if isinstance(value, (np.floating, np.integer)):
            return value.item()
        if isinstance(value, (list, tuple)):
            if len(value) > 12:
                return f"{type(value).__name__} of {len(value)} items"
            return [summarise(item) for item in value]
        if isinstance(value, dict):
            return {str(key): summarise(item) for key, item in value.items()}
        if hasattr(value, "__dataclass_fields__"):
            return {name: summarise(getattr(value, name)) for name in value.__dataclass_fields__}
        if hasattr(value, "dist") and hasattr(value, "args"):
            return f"{value.dist.name}{tuple(value.args)}"
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return repr(value)[:120]

    return {name: summarise(value) for name, value in arguments.items()}


def note_call(function: str, arguments: dict, computed: dict, *, hit: bool) -> None:
    """Note a cached call for the next figure or table of the current page."""
    with _lock:
        _state["pending"].append({"function": function, "arguments": arguments,
                                  "computed": computed, "cache_hit": hit})


def take(kind: str, caption: str, *, render_seconds: float) -> dict:
    """Create the record of a figure or table from the notes since the previous one."""
    from gan_book.book.environment import commit, hardware_summary, now

    with _lock:
        record = {
            "page": _state["page"],
            "kind": kind,
            "caption": caption,
            "built": {"commit": commit(), "date": now(), "hardware": hardware_summary()},
            "render_seconds": round(render_seconds, 3),
            "inputs": _state["pending"],
        }
        _state["pending"] = []
        _state["records"].append(record)
    return record


def records() -> list[dict]:
    """Return a copy of the records collected so far."""
    with _lock:
        return json.loads(json.dumps(_state["records"]))


def details_html(record: dict) -> str:
    """Return the collapsed box that shows a record under its figure or table."""
    built = record["built"]
    lines = [f"Built at commit <code>{html.escape(built['commit'])}</code> on "
             f"{html.escape(built['date'])}, {html.escape(built['hardware'])}; drawn in "
             f"{record['render_seconds']:.2f} s."]
    for call in record["inputs"]:
        computed = call["computed"]
        arguments = html.escape(json.dumps(call["arguments"], sort_keys=True))
        origin = "loaded from the build cache" if call["cache_hit"] else "computed in this build"
        lines.append(
            f"<code>{html.escape(call['function'])}</code>, {origin}: "
            f"{computed['seconds']:.2f} s at commit <code>{html.escape(computed['commit'])}"
            f"</code> on {html.escape(computed['date'])}, {html.escape(computed['hardware'])}."
            f" Arguments: <code>{arguments}</code>"
        )
    items = "".join(f"<li>{line}</li>" for line in lines)
    return (f'<details class="gb-provenance"><summary>Provenance</summary>'
            f"<ul>{items}</ul></details>")


class Timer:
    """Measure the time since creation, for the figure helpers."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start
