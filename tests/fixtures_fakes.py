"""Session fixtures built from the fakes (tests/fakes.py): no model is loaded, so tests that
use only these run in the fast tier (`make test-fast`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeKnowledgeBase

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"


@pytest.fixture(scope="session")
def fake_kb(tmp_path_factory: pytest.TempPathFactory) -> FakeKnowledgeBase:
    """The demo corpus in collection `demo`, ingested with the fake embedder (real FAISS+BM25)."""
    from knowledge_base import KnowledgeBaseSettings

    kb = FakeKnowledgeBase(KnowledgeBaseSettings(home=tmp_path_factory.mktemp("kb-fake")))
    report = kb.collection("demo").ingest([DEMO_CORPUS / "en"])
    assert report.count("added") > 0
    return kb
