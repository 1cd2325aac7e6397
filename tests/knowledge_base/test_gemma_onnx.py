"""EmbeddingGemma in int8 ONNX (`embeddinggemma-int8`): exported from the assembled weights by
`samyu models` (here by the same function, idempotent: a second session only re-checks the
file), compared with the torch engine. Slow: loads the model in both runtimes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge_base import KnowledgeBaseSettings
from knowledge_base.embedders import EmbeddingError, gemma_onnx, get_embedder

TEXTS = [
    "遺失香港身份證，須親身到人事登記處申請補領。",
    "长者乘搭公共交通工具每程只需两元。",
    "Salaries tax returns are issued in early May.",
    "The Hong Kong Observatory issues typhoon signals. " * 30,  # a long chunk, truncated
]


def test_verify_refuses_a_missing_or_altered_export(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="samyu models"):
        gemma_onnx.verify(tmp_path)
    (tmp_path / gemma_onnx.INT8_FILE).write_bytes(b"not a model")
    manifest = {"model_safetensors_sha256": "a", gemma_onnx.INT8_FILE: "0" * 64}
    (tmp_path / gemma_onnx.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(EmbeddingError, match="sha256"):
        gemma_onnx.verify(tmp_path)
    with pytest.raises(EmbeddingError, match="other weights"):
        gemma_onnx.verify(tmp_path, "b")


def _fake_export(folder: Path, model: bytes) -> Path:
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    (folder / gemma_onnx.INT8_FILE).write_bytes(model)
    manifest = {
        "model_safetensors_sha256": "w",
        gemma_onnx.INT8_FILE: hashlib.sha256(model).hexdigest(),
    }
    (folder / gemma_onnx.MANIFEST).write_text(json.dumps(manifest))
    return gemma_onnx.verify(folder)


def test_the_name_carries_the_export_so_another_export_is_refused_at_load(
    tmp_path: Path,
) -> None:
    from knowledge_base import KnowledgeBase
    from tests.fakes import FakeEmbedder, FakeKnowledgeBase

    first = _fake_export(tmp_path / "first", b"one export")
    second = _fake_export(tmp_path / "second", b"an export with other settings")
    name = gemma_onnx.embedder_name(first)
    assert name.startswith("embeddinggemma-300m-int8-") and name != gemma_onnx.embedder_name(second)
    assert gemma_onnx.embedder_name(first, 256) == name + "-d256"

    class Export(FakeEmbedder):
        def __init__(self, folder: Path) -> None:
            self.name = gemma_onnx.embedder_name(folder)

    class Kb(FakeKnowledgeBase):
        def embedder(self, settings):  # type: ignore[override]
            return self._embedder

    kb: KnowledgeBase = Kb(KnowledgeBaseSettings(home=tmp_path / "home"))
    kb._embedder = Export(first)  # type: ignore[attr-defined]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("Passports cost 460 dollars.", encoding="utf-8")
    collection = kb.collection("c")
    collection.ingest([tmp_path / "docs"])
    assert collection.retriever().retrieve("passport cost")
    kb._embedder = Export(second)  # type: ignore[attr-defined]  # `samyu models` redone
    with pytest.raises(RuntimeError, match=r"built with embedder.*re-ingest"):
        collection.retriever().retrieve("passport cost")


@pytest.mark.slow
def test_int8_vectors_follow_the_torch_engine_and_rank_alike() -> None:
    from knowledge_base.cli import prepare_models

    settings = KnowledgeBaseSettings(embed_cache=False)
    lines = "\n".join(prepare_models(settings))  # what `samyu models` runs: exports once
    assert "kb embedder embeddinggemma-int8: exported" in lines and "FAILED" not in lines
    int8 = get_embedder(settings, "embeddinggemma-int8")
    exact = get_embedder(settings, "embeddinggemma")
    export = gemma_onnx.onnx_dir(settings.model_cache)
    assert int8.name == gemma_onnx.embedder_name(export) != exact.name  # separate vector caches
    assert int8.name.startswith("embeddinggemma-300m-int8-") and f"named {int8.name}" in lines
    fast, slow = int8.embed_documents(TEXTS), exact.embed_documents(TEXTS)
    assert fast.shape == (4, 768) and np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-4)
    # int8 weights move a vector a little (cosine 0.94-0.98 measured), not its neighbours
    assert (np.sum(fast * slow, axis=1) > 0.93).all()
    # one text per pass (always): a text alone gets the vector it gets among others
    assert float(int8.embed_documents(TEXTS[1:2])[0] @ fast[1]) > 0.999
    for query, best in (
        ("How do I replace a lost identity card?", 0),
        ("老人家搭巴士幾錢？", 1),
        ("when do I get my tax return form", 2),
    ):
        assert int(np.argmax(fast @ int8.embed_query(query))) == best, query
