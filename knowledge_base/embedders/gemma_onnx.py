"""EmbeddingGemma-300M through onnxruntime with int8 weights: the same model, exported and
quantised here from the assembled weights (`samyu models`), nothing downloaded.

`export(model_dir, target)` traces the sentence-transformers pipeline (transformer, mean
pooling, the two Dense layers) with torch.onnx, then quantises its MatMul weights to int8
(onnxruntime dynamic quantisation). The transformer gets its attention mask ready made: within
`max_tokens` (<= 512, the model's sliding window) every layer of EmbeddingGemma, full or
sliding, lets each token see every non-padding token, so one padding mask serves both; this
also keeps the mask builder (vmap) of transformers out of the trace.

`EmbeddingGemmaOnnxEmbedder` tokenises with the model's own tokenizer and runs the session on
`threads` threads, one text per pass: batches (sorted by length so they pad little) were
slower here (docs/retrieval.md), and dynamic quantisation scales activations per batch, so in
a batch a text's vector would depend a little on its neighbours. Its vectors differ from the
torch engine's, so it is a separate embedder (`embeddinggemma-int8`) with its own name and
vector cache; a collection chooses one or the other. The name carries the export's identity
(the first hex digits of the int8 file's sha256, `export_id`): an export redone with other
settings or another torch gives other vectors, so a collection built with one export is
refused by another ("re-ingest") instead of mixing vectors, and the vector cache of one
export is never read for another.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge_base.embedders.embeddinggemma import (
    DOCUMENT_PROMPT,
    QUERY_PROMPT,
    truncated_unit_vectors,
)
from knowledge_base.embedders.gemma_assets import check_files, embedding_error, sha256_of

ONNX_DIR = "embeddinggemma-300m-onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
MANIFEST = "manifest.json"
MAX_TOKENS = 512  # the model's sliding window: the prepared mask is exact up to here
NAME = "embeddinggemma-300m-int8"
EXPORT_ID_CHARS = 12


def onnx_dir(cache_dir: Path) -> Path:
    return cache_dir / ONNX_DIR


def export(model_dir: Path, target: Path) -> Path:
    """Write `target/model.int8.onnx` (and its manifest) from the assembled model; idempotent:
    an export whose manifest matches the model's weights is kept. Needs torch (~3 GB RAM,
    about a minute on 2 cores)."""
    from knowledge_base.embedders.gemma_assets import FILE_SHA256
    from knowledge_base.embedders.gemma_assets import verify as verify_weights

    verify_weights(model_dir)  # the pinned weights (hashed once per process)
    weights = FILE_SHA256["model.safetensors"]
    try:
        return verify(target, weights)
    except Exception:  # absent, torn or made from other weights: export again
        pass
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(model_dir),
        device="cpu",
        local_files_only=True,
        model_kwargs={"dtype": torch.float32, "attn_implementation": "sdpa"},
    )
    wrapper = _Pipeline(model).eval()
    sample = model.tokenizer(
        [DOCUMENT_PROMPT + "hello world", DOCUMENT_PROMPT + "這是一個測試句子"],
        padding=True,
        return_tensors="pt",
    )
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".onnx-", dir=target) as tmp:
        fp32 = Path(tmp) / FP32_FILE
        with torch.inference_mode():
            torch.onnx.export(
                wrapper,
                (sample["input_ids"], sample["attention_mask"]),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        int8 = Path(tmp) / INT8_FILE
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        os.replace(int8, target / INT8_FILE)
    manifest = {"model_safetensors_sha256": weights, INT8_FILE: sha256_of(target / INT8_FILE)}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return verify(target, weights)


def verify(target: Path, weights_sha256: str | None = None) -> Path:
    """Check the export against its manifest (and, given, the weights it was made from); the
    int8 file is hashed only when its size or times changed since the last check."""
    manifest = _manifest(target)
    if weights_sha256 is not None and manifest.get("model_safetensors_sha256") != weights_sha256:
        raise embedding_error(f"{target} was exported from other weights: run `samyu models`")
    check_files(target, {INT8_FILE: str(manifest.get(INT8_FILE))}, "run `samyu models`")
    return target


def _manifest(target: Path) -> dict:
    manifest_path = target / MANIFEST
    if not manifest_path.exists():
        raise embedding_error(f"{target} has no ONNX export: run `samyu models`")
    try:
        return json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise embedding_error(f"{manifest_path} is not JSON ({exc}): run `samyu models`") from exc


def export_id(target: Path) -> str:
    """The export's identity: the start of its int8 file's sha256 (from the manifest)."""
    return str(_manifest(target).get(INT8_FILE, ""))[:EXPORT_ID_CHARS]


def embedder_name(target: Path, dimension: int = 768) -> str:
    """`embeddinggemma-300m-int8-<export id>[-d<dimension>]`."""
    return f"{NAME}-{export_id(target)}" + ("" if dimension == 768 else f"-d{dimension}")


class _Pipeline:  # a torch.nn.Module, built lazily so this module imports without torch
    def __new__(cls, model):
        import torch

        class Pipeline(torch.nn.Module):
            def __init__(self, st) -> None:
                super().__init__()
                self.st = st

            def forward(self, input_ids, attention_mask):
                mask = attention_mask.to(torch.float32)
                tokens = input_ids.shape[1]
                additive = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
                additive = additive.expand(-1, 1, tokens, -1)
                hidden = (
                    self.st[0]
                    .auto_model(
                        input_ids=input_ids,
                        attention_mask={"full_attention": additive, "sliding_attention": additive},
                    )
                    .last_hidden_state
                )
                pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(
                    min=1e-9
                )
                features = self.st[3](self.st[2]({"sentence_embedding": pooled}))
                return features["sentence_embedding"]

        return Pipeline(model)


class EmbeddingGemmaOnnxEmbedder:
    def __init__(
        self,
        model_dir: Path,
        export_dir: Path,
        *,
        threads: int = 2,
        max_tokens: int = 512,
        dimension: int = 768,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if max_tokens > MAX_TOKENS:
            raise ValueError(f"gemma_max_tokens above {MAX_TOKENS} needs the torch engine")
        verify(export_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(export_dir / INT8_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self.dimension = dimension
        self.name = embedder_name(export_dir, dimension)
        self._lock = threading.Lock()

    def _run(self, text: str) -> np.ndarray:
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)  # one text: no padding
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0]

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        vectors = np.zeros((len(texts), 768), dtype=np.float32)
        with self._lock:
            for row, text in enumerate(texts):
                vectors[row] = self._run(prompt + text)
        return truncated_unit_vectors(vectors, self.dimension)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, DOCUMENT_PROMPT)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], QUERY_PROMPT)[0]
