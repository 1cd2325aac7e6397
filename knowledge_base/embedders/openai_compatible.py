"""Any OpenAI-compatible `/v1/embeddings` server: vLLM or TEI serving bge-m3 in production,
`python -m llama_cpp.server --embedding true` on a laptop and in the tests."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np


class OpenAIEmbedder:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "none",
        timeout_s: float = 60.0,
        max_retries: int = 2,
        batch_size: int = 32,
    ) -> None:
        self.name = f"openai:{base_url.rstrip('/')}:{model}"
        self._model = model
        self._batch_size = batch_size
        # httpx.Client is thread-safe; the transport retries connection failures
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            transport=httpx.HTTPTransport(retries=max_retries),
        )
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._request(["dimension probe"]).shape[1])
        return self._dimension

    def _request(self, texts: list[str]) -> np.ndarray:
        from knowledge_base.embedders import EmbeddingError

        try:
            response = self._client.post("embeddings", json={"model": self._model, "input": texts})
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            raise EmbeddingError(f"embeddings server {self._client.base_url}: {exc}") from exc
        vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbeddingError(f"server returned {vectors.shape} for {len(texts)} texts")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        batches = [
            self._request(list(texts[i : i + self._batch_size]))
            for i in range(0, len(texts), self._batch_size)
        ]
        if not batches:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.vstack(batches)
        self._dimension = int(vectors.shape[1])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def close(self) -> None:
        self._client.close()
