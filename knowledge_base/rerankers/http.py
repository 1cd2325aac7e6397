"""A cross-encoder served over HTTP: Hugging Face TEI's `POST /rerank`, vLLM's `POST /v1/score`
or the Jina/Cohere-style `POST /v1/rerank` that vLLM also serves (bge-reranker-v2-m3 in
production). The hits come back re-ordered by the server's score, in `Hit.rerank_score`.

Request and response shapes (as the servers document them):
- tei:     {"query", "texts": [...], "truncate": true} -> [{"index", "score"}, ...]
- score:   {"model", "text_1": query, "text_2": [...]} -> {"data": [{"index", "score"}, ...]}
- rerank:  {"model", "query", "documents": [...]} -> {"results": [{"index", "relevance_score"}]}
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import httpx

from knowledge_base.types import Hit

RerankApi = Literal["tei", "score", "rerank"]
_PATHS: dict[str, str] = {"tei": "rerank", "score": "v1/score", "rerank": "v1/rerank"}


class HttpReranker:
    def __init__(
        self,
        *,
        base_url: str,
        api: RerankApi = "tei",
        model: str = "bge-reranker-v2-m3",
        api_key: str = "none",
        timeout_s: float = 10.0,
        max_retries: int = 2,
        max_chars: int = 2_000,
    ) -> None:
        if api not in _PATHS:
            raise ValueError(f"unknown rerank api {api!r}: one of {sorted(_PATHS)}")
        self.api = api
        self.model = model
        self.max_chars = max_chars
        # httpx.Client is thread-safe; the transport retries failed connections
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            transport=httpx.HTTPTransport(retries=max_retries),
        )

    def _payload(self, query: str, texts: list[str]) -> dict:
        if self.api == "tei":
            return {"query": query, "texts": texts, "truncate": True}
        if self.api == "score":
            return {"model": self.model, "text_1": query, "text_2": texts}
        return {"model": self.model, "query": query, "documents": texts}

    def scores(self, query: str, texts: list[str]) -> list[float]:
        """One relevance score per text, in the texts' order."""
        from knowledge_base.rerankers import RerankError

        if not texts:
            return []
        try:
            response = self._client.post(_PATHS[self.api], json=self._payload(query, texts))
            response.raise_for_status()
            body = response.json()
            items = {"tei": lambda b: b, "score": lambda b: b["data"]}.get(
                self.api, lambda b: b["results"]
            )(body)
            field = "relevance_score" if self.api == "rerank" else "score"
            by_index = {int(item["index"]): float(item[field]) for item in items}
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            raise RerankError(f"rerank server {self._client.base_url}: {exc}") from exc
        if sorted(by_index) != list(range(len(texts))):
            raise RerankError(f"server scored {sorted(by_index)} of {len(texts)} texts")
        return [by_index[i] for i in range(len(texts))]

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        texts = [_text(hit)[: self.max_chars] for hit in hits]
        scored = [
            replace(hit, rerank_score=score)
            for hit, score in zip(hits, self.scores(query, texts), strict=True)
        ]
        return sorted(scored, key=lambda hit: -(hit.rerank_score or 0.0))

    def close(self) -> None:
        self._client.close()


def _text(hit: Hit) -> str:
    title = hit.chunk.title.strip()
    return f"{title}\n{hit.chunk.text}" if title and title not in hit.chunk.text else hit.chunk.text
