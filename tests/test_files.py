"""Tests of the shared atomic write."""

import pytest

from gan_book.files import write_atomically


def test_write_replaces_file(tmp_path):
    target = tmp_path / "nested" / "file.bin"
    write_atomically(target, lambda handle: handle.write(b"first"))
    write_atomically(target, lambda handle: handle.write(b"second"))
    assert target.read_bytes() == b"second"
    assert [path.name for path in target.parent.iterdir()] == ["file.bin"]


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "file.bin"
    write_atomically(target, lambda handle: handle.write(b"old"))

    def failing(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, failing)
    assert target.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["file.bin"]
