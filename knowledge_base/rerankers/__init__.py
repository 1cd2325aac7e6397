"""Second-stage rerankers behind `knowledge_base.types.Reranker`, one module per engine.

`get_reranker(settings)` builds the one the settings name, or returns None ("none", the
embedded default: no cross-encoder ships its weights in a PyPI package that works offline
here; see docs/retrieval.md). Production: bge-reranker-v2-m3 served by TEI (`/rerank`) or
vLLM (`/v1/score`, `/v1/rerank`) and reached by URL (`http`).
"""

from __future__ import annotations

import threading

from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.types import Reranker

_cache: dict[tuple, Reranker] = {}
_lock = threading.Lock()


class RerankError(RuntimeError):
    """The reranking server could not score the candidates."""


def get_reranker(settings: KnowledgeBaseSettings) -> Reranker | None:
    if settings.reranker == "none":
        return None
    if settings.reranker == "http":
        from knowledge_base.rerankers.http import HttpReranker

        key: tuple = ("http", settings.reranker_url, settings.reranker_api, settings.reranker_model)
        with _lock:
            if key not in _cache:
                _cache[key] = HttpReranker(
                    base_url=settings.reranker_url,
                    api=settings.reranker_api,
                    model=settings.reranker_model,
                    api_key=settings.reranker_api_key,
                    timeout_s=settings.reranker_timeout_s,
                    max_retries=settings.reranker_max_retries,
                    max_chars=settings.reranker_max_chars,
                )
            return _cache[key]
    raise ValueError(f"unknown reranker {settings.reranker!r}")
