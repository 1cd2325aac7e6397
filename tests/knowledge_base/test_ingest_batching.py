"""Ingest embeds a window of files in one call; a failing window falls back file by file."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings


class CountingEmbedder:
    """Deterministic vectors from a text's hash; records every call; refuses one word."""

    name = "counting"
    dimension = 8

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if any("POISON" in t for t in texts):
            raise ValueError("cannot embed POISON")
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32) + 1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _kb(tmp_path: Path, window: int, monkeypatch: pytest.MonkeyPatch):
    kb = KnowledgeBase(KnowledgeBaseSettings(home=tmp_path / "home", ingest_batch_files=window))
    embedder = CountingEmbedder()
    monkeypatch.setattr(kb, "embedder", lambda settings: embedder)
    return kb, embedder


def _docs(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"d{i:02d}.md").write_text(f"# Page {i}\nService number {i} opens at 9.\n", "utf-8")
    return root


def test_one_embedding_call_per_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb, embedder = _kb(tmp_path, 4, monkeypatch)
    report = kb.collection("c").ingest([_docs(tmp_path / "docs", 10)])
    assert [f.status for f in report.files] == ["added"] * 10
    assert embedder.calls == [4, 4, 2]  # 10 one-chunk files, windows of 4
    assert report.chunks_embedded == 10


def test_same_vectors_as_file_by_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _docs(tmp_path / "docs", 5)
    batched, _ = _kb(tmp_path / "a", 64, monkeypatch)
    single, _ = _kb(tmp_path / "b", 1, monkeypatch)
    one, two = (kb.collection("c") for kb in (batched, single))
    one.ingest([docs])
    two.ingest([docs])
    assert [c.id for c in one.index().chunks] == [c.id for c in two.index().chunks]
    np.testing.assert_array_equal(one.index().vectors, two.index().vectors)


def test_a_failing_file_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb, embedder = _kb(tmp_path, 64, monkeypatch)
    docs = _docs(tmp_path / "docs", 3)
    (docs / "d01.md").write_text("# Bad\nPOISON text\n", "utf-8")
    report = kb.collection("c").ingest([docs])
    statuses = {f.path: f.status for f in report.files}
    assert statuses == {"d00.md": "added", "d01.md": "failed", "d02.md": "added"}
    assert "POISON" in next(f.reason for f in report.files if f.status == "failed")
    assert embedder.calls[0] == 3  # the window was tried whole first
