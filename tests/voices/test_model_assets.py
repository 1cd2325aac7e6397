"""voices.model_assets: the staged (atomic) write shared by assembled and derived models."""

from __future__ import annotations

import threading
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


def test_a_derived_file_is_made_once_recorded_and_remade_when_it_does_not_match(
    tmp_path: Path,
) -> None:
    from voices.model_assets import ModelAssetError, derive_file, verify_derived

    made: list[Path] = []

    def make(path: Path) -> None:
        made.append(path)
        path.write_bytes(b"derived weights")

    target = tmp_path / "model.q4.bin"
    recipe = {"source_sha256": "abc", "quantisation": "q4_0"}
    assert derive_file(target, recipe, make) == target
    assert derive_file(target, recipe, make) == target
    assert len(made) == 1  # a good copy is used as it is
    assert verify_derived(target, recipe) == target
    target.write_bytes(b"tampered")
    with pytest.raises(ModelAssetError, match="sha256"):
        verify_derived(target, recipe)
    derive_file(target, recipe, make)
    assert target.read_bytes() == b"derived weights" and len(made) == 2
    with pytest.raises(ModelAssetError, match="another model"):
        verify_derived(target, {**recipe, "source_sha256": "another"})
    derive_file(target, {**recipe, "quantisation": "q5_0"}, make)
    assert len(made) == 3  # another recipe: made again


def test_a_derived_file_that_fails_to_be_made_leaves_nothing(tmp_path: Path) -> None:
    from voices.model_assets import derive_file

    def make(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("quantiser failed")

    target = tmp_path / "model.q4.bin"
    with pytest.raises(RuntimeError, match="quantiser"):
        derive_file(target, {"source_sha256": "abc"}, make)
    assert list(tmp_path.iterdir()) == []


def test_a_derived_file_is_hashed_once_per_process_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import voices.model_assets as assets

    target = tmp_path / "model.bf16.bin"
    recipe = {"source_sha256": "abc", "quantisation": "bf16"}
    assets.derive_file(target, recipe, lambda path: path.write_bytes(b"derived weights"))
    hashed: list[Path] = []
    real = assets.sha256_of
    monkeypatch.setattr(assets, "sha256_of", lambda path: hashed.append(path) or real(path))
    assets.verify_derived(target, recipe)
    assets.verify_derived(target, recipe)
    assert hashed == []  # made and hashed in this process: a 1 GB file is not hashed again
    stat = target.stat()
    target.write_bytes(b"tampered weight")  # same size
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(assets.ModelAssetError, match="sha256"):
        assets.verify_derived(target, recipe)


def test_a_derived_file_replaced_while_it_is_hashed_is_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The once-per-process record is of the file that was hashed, not of whatever is on disk
    when the hash is done: another process replacing it meanwhile is not trusted unread."""
    import voices.model_assets as assets

    target = tmp_path / "model.bf16.bin"
    recipe = {"source_sha256": "abc", "quantisation": "bf16"}
    assets.derive_file(target, recipe, lambda path: path.write_bytes(b"derived weights"))
    monkeypatch.setattr(assets, "_hashed", {})  # a process that did not make it
    real = assets.sha256_of

    def hash_then_replace(path: Path) -> str:
        digest = real(path)
        replacement = tmp_path / "replacement"
        replacement.write_bytes(b"tampered weights, another size")
        replacement.replace(target)
        return digest

    monkeypatch.setattr(assets, "sha256_of", hash_then_replace)
    assets.verify_derived(target, recipe)  # the file it hashed was the right one
    monkeypatch.setattr(assets, "sha256_of", real)
    with pytest.raises(assets.ModelAssetError, match="sha256"):
        assets.verify_derived(target, recipe)


def test_a_same_size_rewrite_with_its_mtime_put_back_is_hashed_again(tmp_path: Path) -> None:
    import os
    import time

    import voices.model_assets as assets

    target = tmp_path / "model.bf16.bin"
    recipe = {"source_sha256": "abc", "quantisation": "bf16"}
    assets.derive_file(target, recipe, lambda path: path.write_bytes(b"derived weights"))
    stat = target.stat()
    time.sleep(0.05)  # past the kernel's coarse clock tick, so the ctime moves
    with target.open("r+b") as fh:  # same inode, same size
        fh.write(b"tampered weight")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` or `touch -r` do
    with pytest.raises(assets.ModelAssetError, match="sha256"):
        assets.verify_derived(target, recipe)


def test_a_derived_file_made_from_a_source_it_assembles_does_not_wait_on_itself(
    tmp_path: Path,
) -> None:
    # the Q4 embedded model's `make` assembles the packaged Q8 inside derive_file: with a
    # lock that is not re-entrant this waited forever on a machine without the derived file
    from voices.model_assets import PackagedFile, PackagedModel, assemble, derive_file

    part = tmp_path / "weights.part"
    part.write_bytes(b"packaged weights")
    source = PackagedModel("source", (PackagedFile("weights.bin", (part,)),))
    cache = tmp_path / "cache"

    def make(out: Path) -> None:
        out.write_bytes((assemble(source, cache) / "weights.bin").read_bytes()[::-1])

    target = cache / "source" / "weights-derived.bin"
    target.parent.mkdir(parents=True)  # as set-up leaves it: the source's directory exists
    # in a thread, so that a lock waiting on itself fails the test instead of hanging the run
    done = threading.Thread(target=derive_file, args=(target, {"source_sha256": "abc"}, make))
    done.daemon = True
    done.start()
    done.join(timeout=30)
    assert not done.is_alive(), "derive_file waited on its own lock"
    assert target.read_bytes() == b"sthgiew degakcap"
