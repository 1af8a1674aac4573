"""Every executed code block of the book runs outside the book, as a reader runs it.

A block is run in a fresh interpreter after the earlier blocks of its markdown-exec
session (a block without a session runs alone), with warnings as errors. The whole
book is built first, so heavy results come from the same cache the build filled.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, build_environment

FENCE_START = re.compile(r"^(?P<indent>[ \t]*)```python\s+(?P<options>[^\n]*)$")
OPTION = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    options: dict
    code: str

    @property
    def executed(self) -> bool:
        return self.options.get("exec") in {"on", "1", "true", "yes"}


def read_blocks(page: Path) -> list[Block]:
    """Return the fenced Python blocks of a Markdown page, dedented, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
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
            body.append(lines[end][len(indent):] if lines[end].startswith(indent) else lines[end])
            end += 1
        blocks.append(Block(str(page.relative_to(ROOT)), index + 1,
                            dict(OPTION.findall(match["options"])),
                            textwrap.dedent("\n".join(body)) + "\n"))
        index = end + 1
    return blocks


def executed_blocks() -> list[Block]:
    return [block for page in sorted((ROOT / "docs").rglob("*.md"))
            for block in read_blocks(page) if block.executed]


def runs() -> dict[str, list[Block]]:
    """Group blocks into the runs a reader makes: one per session, one per lone block."""
    grouped: dict[str, list[Block]] = defaultdict(list)
    for block in executed_blocks():
        session = block.options.get("session")
        key = f"{block.page}::{session}" if session else f"{block.page}::{block.options.get('id')}"
        grouped[key].append(block)
    return dict(grouped)


def test_book_has_executed_blocks():
    assert len(executed_blocks()) >= 5


def test_every_executed_block_has_unique_id():
    blocks = executed_blocks()
    missing = [f"{block.page}:{block.line}" for block in blocks if not block.options.get("id")]
    assert not missing, f"executed blocks without an id: {missing}"
    ids = [block.options["id"] for block in blocks]
    duplicates = sorted({name for name in ids if ids.count(name) > 1})
    assert not duplicates, f"block ids used more than once: {duplicates}"


RUNNER = r'''
import sys, traceback
blocks = {blocks!r}
namespace = {{"__name__": "__main__"}}
for block_id, code in blocks:
    try:
        exec(compile(code, f"<block {{block_id}}>", "exec"), namespace)
    except BaseException:
        print(f"block {{block_id}} raised:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
'''


@pytest.mark.parametrize("run_name", sorted(runs()))
def test_blocks_run_outside_the_book(run_name, built_site):
    blocks = runs()[run_name]
    script = RUNNER.format(blocks=[(block.options["id"], block.code) for block in blocks])
    result = subprocess.run([sys.executable, "-W", "error", "-c", script], cwd=ROOT,
                            env=build_environment(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-8000:]
