"""The HTTP reranker client against a real server on loopback, in all three API shapes
(tests/knowledge_base/rerank_server.py: FastAPI + uvicorn + e5-small from its wheel)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge_base import KnowledgeBaseSettings
from knowledge_base.rerankers import RerankError, get_reranker
from knowledge_base.rerankers.http import HttpReranker
from knowledge_base.types import Chunk, Hit
from tests.servers import free_port, running_process

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rerank_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "tests.knowledge_base.rerank_server:app",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    log = tmp_path_factory.mktemp("rerank") / "server.log"
    with running_process(command, f"http://127.0.0.1:{port}/health", log):
        yield f"http://127.0.0.1:{port}"


def _hits(*texts: str) -> list[Hit]:
    return [
        Hit(Chunk(f"d{i}#0", f"d{i}", "c", text, f"title {i}"), score=1.0 - i / 10)
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize("api", ["tei", "score", "rerank"])
def test_reranker_reorders_hits_by_the_servers_scores(rerank_server: str, api: str) -> None:
    reranker = HttpReranker(base_url=rerank_server, api=api)
    hits = _hits(
        "The weather in Hong Kong is humid in summer.",
        "Bus routes in Kowloon run every ten minutes.",
        "Passport fees: a 32-page passport costs HK$370.",
    )
    reranked = reranker.rerank("How much does a passport cost?", hits)
    assert reranked[0].chunk.doc_id == "d2"  # fused last, reranked first
    assert all(h.rerank_score is not None for h in reranked)
    scores = [h.rerank_score for h in reranked]
    assert scores == sorted(scores, reverse=True)
    reranker.close()


def test_settings_build_the_http_reranker_and_none_by_default(rerank_server: str) -> None:
    assert get_reranker(KnowledgeBaseSettings()) is None
    settings = KnowledgeBaseSettings(reranker="http", reranker_url=rerank_server)
    reranker = get_reranker(settings)
    assert isinstance(reranker, HttpReranker)
    assert len(reranker.scores("passport", ["passport fee", "bus"])) == 2


def test_a_missing_server_is_a_clear_error() -> None:
    reranker = HttpReranker(base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    with pytest.raises(RerankError, match="rerank server"):
        reranker.rerank("q", _hits("a"))


def test_collection_retriever_uses_the_configured_reranker(
    rerank_server: str, tmp_path: Path
) -> None:
    from knowledge_base import KnowledgeBase, QueryOptions

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fees.md").write_text("# Passport fees\nA 32-page passport costs HK$370.\n")
    (corpus / "buses.md").write_text("# Buses\nBus routes in Kowloon run every ten minutes.\n")
    settings = KnowledgeBaseSettings(
        home=tmp_path / "home", reranker="http", reranker_url=rerank_server
    )
    collection = KnowledgeBase(settings).collection("c")
    collection.update_settings(embedder="e5-small")
    collection.ingest([corpus])
    hits = collection.retriever().retrieve("passport cost", QueryOptions(k=2))
    assert hits[0].chunk.doc_id == "fees.md" and hits[0].rerank_score is not None
