"""Embedding engines behind `knowledge_base.types.Embedder`, one module per engine.

`get_embedder(settings, kind)` returns a process-wide instance, so a model loads once however
many collections and threads use it; embedded engines come wrapped in an on-disk vector cache
(`kb.embed_cache`), so text embedded once is never embedded again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from knowledge_base.config import EmbedderKind, KnowledgeBaseSettings
from knowledge_base.types import Embedder

_cache: dict[tuple, Embedder] = {}
_lock = threading.Lock()


class EmbeddingError(RuntimeError):
    """The embedding model or server could not embed the texts."""


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Query vectors of several texts (a question and its other-script variants): one batched
    call where the engine has one (`embed_queries`: a batch of two short queries costs about
    what one does on a CPU), else one `embed_query` per text."""
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    batched = getattr(embedder, "embed_queries", None)
    if batched is not None:
        return batched(texts)
    return np.vstack([embedder.embed_query(text) for text in texts])


def get_embedder(settings: KnowledgeBaseSettings, kind: EmbedderKind) -> Embedder:
    if kind == "use-multilingual":
        from knowledge_base.embedders.use_multilingual import UniversalSentenceEncoderEmbedder

        key: tuple = ("use-multilingual",)
        factory = lambda: UniversalSentenceEncoderEmbedder(  # noqa: E731
            threads=settings.embed_threads, batch_size=settings.embed_batch_size
        )
    elif kind == "embeddinggemma":
        from knowledge_base.embedders.embeddinggemma import EmbeddingGemmaEmbedder
        from knowledge_base.embedders.gemma_assets import model_dir, verify

        directory = (
            verify(settings.gemma_model_dir.expanduser())
            if settings.gemma_model_dir
            else model_dir(settings.model_cache)
        )
        key = ("embeddinggemma", str(directory), settings.gemma_dimension)
        factory = lambda: EmbeddingGemmaEmbedder(  # noqa: E731
            directory,
            threads=settings.embed_threads,
            batch_size=settings.gemma_batch_size,
            max_tokens=settings.gemma_max_tokens,
            dimension=settings.gemma_dimension,
            precision=settings.gemma_precision,
        )
    elif kind == "embeddinggemma-int8":
        from knowledge_base.embedders.gemma_assets import model_dir, verify
        from knowledge_base.embedders.gemma_onnx import EmbeddingGemmaOnnxEmbedder, onnx_dir

        directory = (
            verify(settings.gemma_model_dir.expanduser())
            if settings.gemma_model_dir
            else model_dir(settings.model_cache)
        )
        exported = onnx_dir(settings.model_cache)
        key = ("embeddinggemma-int8", str(exported), settings.gemma_dimension)
        factory = lambda: EmbeddingGemmaOnnxEmbedder(  # noqa: E731
            directory,
            exported,
            threads=settings.embed_threads,
            max_tokens=min(settings.gemma_max_tokens, 512),
            dimension=settings.gemma_dimension,
        )
    elif kind == "e5-small":
        from knowledge_base.embedders.e5_small import E5SmallEmbedder

        key = ("e5-small",)
        factory = lambda: E5SmallEmbedder(  # noqa: E731
            threads=settings.embed_threads, batch_size=settings.embed_batch_size
        )
    elif kind == "local":
        from knowledge_base.embedders.local import SentenceTransformerEmbedder, resolve_model_dir

        model_dir = resolve_model_dir(settings)
        key = ("local", str(model_dir))
        factory = lambda: SentenceTransformerEmbedder(  # noqa: E731
            model_dir, batch_size=settings.embed_batch_size
        )
    elif kind == "openai":
        from knowledge_base.embedders.openai_compatible import OpenAIEmbedder

        key = ("openai", settings.openai_base_url, settings.openai_model)
        factory = lambda: OpenAIEmbedder(  # noqa: E731
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key,
            timeout_s=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries,
            batch_size=settings.embed_batch_size,
        )
    else:
        raise ValueError(f"unknown embedder {kind!r}")
    with _lock:
        if key not in _cache:
            _cache[key] = factory()
        embedder = _cache[key]
        if kind == "openai" or not settings.embed_cache:
            return embedder
        directory = settings.embed_cache_dir or settings.home / "embedding-cache"
        cache_key = (*key, "cache", str(directory))
        if cache_key not in _cache:
            from knowledge_base.embedders.cache import CachedEmbedder

            _cache[cache_key] = CachedEmbedder(
                embedder,
                directory,
                max_entries=settings.embed_cache_max_entries,
                query_cache_size=settings.query_cache_size,
            )
        return _cache[cache_key]
