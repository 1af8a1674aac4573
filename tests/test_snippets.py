"""Every executed code block of the book runs outside the book, as a reader runs it.

A block is run in a fresh interpreter after the earlier blocks of its markdown-exec
session (a block without a session runs alone), with warnings as errors. The whole
book is built first, so heavy results come from the same cache the build filled.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import pytest
from conftest import ROOT, build_environment

from gan_book.book.snippets import Block, executed_blocks

def all_executed_blocks() -> list[Block]:
    return [block for page in sorted((ROOT / "docs").rglob("*.md"))
            for block in executed_blocks(page, root=ROOT)]


def runs() -> dict[str, list[Block]]:
    """Group blocks into the runs a reader makes: one per session, one per lone block."""
    grouped: dict[str, list[Block]] = defaultdict(list)
    for block in all_executed_blocks():
        session = block.options.get("session")
        key = f"{block.page}::{session}" if session else f"{block.page}::{block.options.get('id')}"
        grouped[key].append(block)
    return dict(grouped)


def test_book_has_executed_blocks():
    assert len(all_executed_blocks()) >= 5


def test_every_executed_block_has_unique_id():
    blocks = all_executed_blocks()
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
