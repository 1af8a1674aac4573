"""Read the executed Python blocks of the book's Markdown pages.

Shared by the snippet tests (each block runs outside the book) and by the build hook
that offers each chapter's code as one `.py` file and one notebook.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

FENCE_START = re.compile(r"^(?P<indent>[ \t]*)```python\s+(?P<options>[^\n]*)$")
OPTION = re.compile(r'(\w+)="([^"]*)"')
EXECUTED = {"on", "1", "true", "yes"}


@dataclass(frozen=True)
class Block:
    """One fenced Python block: its page, first line, fence options and dedented code."""

    page: str
    line: int
    options: dict
    code: str

    @property
    def executed(self) -> bool:
        return self.options.get("exec") in EXECUTED

    @property
    def block_id(self) -> str:
        return self.options.get("id", "")

    @property
    def session(self) -> str | None:
        return self.options.get("session")


def read_blocks(page: Path, *, root: Path | None = None) -> list[Block]:
    """Return the fenced Python blocks of a Markdown page, dedented, in page order.

    Blocks nested in admonitions or lists are found too; their indentation is removed.
    `root`, when given, makes the recorded page path relative to it.
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    name = str(page.relative_to(root)) if root else str(page)
    blocks = []
    index = 0
    while index < len(lines):
        match = FENCE_START.match(lines[index])
        if not match:
            index += 1
            continue
        indent = match["indent"]
        body = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            line = lines[end]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            end += 1
        options = dict(OPTION.findall(match["options"]))
        blocks.append(Block(name, index + 1, options, textwrap.dedent("\n".join(body)) + "\n"))
        index = end + 1
    return blocks


def executed_blocks(page: Path, *, root: Path | None = None) -> list[Block]:
    """Return only the blocks that markdown-exec runs."""
    return [block for block in read_blocks(page, root=root) if block.executed]


def chapter_script(page: Path, title: str) -> str:
    """Return a chapter's executed blocks as one Python script, with block markers."""
    parts = [f'"""Code of the GAN Book chapter "{title}", block by block.\n\n'
             "Run it with the gan_book package installed. Figures are shown in Jupyter\n"
             'and summarised as a line of text elsewhere."""\n']
    for block in executed_blocks(page):
        parts.append(f"\n# %% block {block.block_id}\n{block.code}")
    return "".join(parts)


def chapter_notebook(page: Path, title: str):
    """Return a chapter's executed blocks as an nbformat v4 notebook."""
    import nbformat

    cells = [nbformat.v4.new_markdown_cell(
        f"# {title}\n\nThe code of this GAN Book chapter, one cell per executed block. "
        "Run it with the `gan_book` package installed.")]
    for block in executed_blocks(page):
        cells.append(nbformat.v4.new_code_cell(block.code.rstrip("\n"),
                                               metadata={"block_id": block.block_id}))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook
