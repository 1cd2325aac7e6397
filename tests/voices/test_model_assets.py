"""voices.model_assets: the staged (atomic) write shared by assembled and derived models."""

from __future__ import annotations

from pathlib import Path

import pytest

from voices.model_assets import _write_concatenation, sha256_of, staged


def test_a_staged_write_replaces_the_target_only_when_it_completes(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), staged(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"  # a reader never sees the torn write
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]  # and nothing is left over
    with staged(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"


def test_parts_are_concatenated_in_order_with_their_digest(tmp_path: Path) -> None:
    parts = [tmp_path / "a.part", tmp_path / "b.part"]
    parts[0].write_bytes(b"abc")
    parts[1].write_bytes(b"def")
    target = tmp_path / "whole.bin"
    digest = _write_concatenation(target, parts)
    assert target.read_bytes() == b"abcdef"
    assert digest == sha256_of(target)
