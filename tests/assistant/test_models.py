"""The embedded models: the packaged GGUF and the one requantised from it here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import AssistantSettings
from assistant.models import (
    PACKAGED_MODELS,
    QUANTISED_MODELS,
    bf16_wanted,
    embedded_model_path,
)
from voices.model_assets import sha256_of


def test_every_quantised_model_comes_from_a_packaged_one() -> None:
    for spec in QUANTISED_MODELS.values():
        assert spec.source in PACKAGED_MODELS
        assert spec.file_name != PACKAGED_MODELS[spec.source].file_name


def test_a_configured_gguf_that_is_missing_is_a_clear_error(tmp_path: Path) -> None:
    settings = AssistantSettings(llama_cpp={"model_path": tmp_path / "absent.gguf"})
    with pytest.raises(FileNotFoundError, match=r"absent\.gguf"):
        embedded_model_path(settings)


@pytest.mark.parametrize(
    ("setting", "cpuinfo", "wanted"),
    [
        ("auto", "flags\t: fpu avx2 avx512f avx512_vnni avx512_bf16\n", True),
        ("auto", "flags\t: fpu avx2 avx512f avx512_vnni\n", False),  # BF16 would be emulated
        ("auto", "flags\t: fpu avx2 avx512_bf16x\n", False),  # a whole flag, not a prefix
        ("auto", "", False),  # nothing known of the CPU: the file as shipped
        (True, "flags\t: avx2\n", True),  # an operator's explicit choice stands
        (False, "flags\t: avx512_bf16\n", False),
    ],
)
def test_bf16_weights_only_where_the_cpu_has_bf16_dot_products(
    tmp_path: Path, setting, cpuinfo: str, wanted: bool
) -> None:
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert bf16_wanted(setting, "qwen2.5-coder-0.5b", path) is wanted


def test_bf16_auto_needs_a_known_cpu_and_a_measured_model(tmp_path: Path) -> None:
    assert bf16_wanted("auto", "qwen2.5-coder-0.5b", tmp_path / "absent") is False
    path = tmp_path / "cpuinfo"
    path.write_text("flags\t: avx2 avx512f avx512_bf16\n")
    assert bf16_wanted("auto", "qwen2.5-coder-0.5b", path) is True
    assert bf16_wanted("auto", "qwen2.5-coder-1.5b", path) is False  # never measured: opt-in
    assert bf16_wanted(True, "qwen2.5-coder-1.5b", path) is True


def with_model(settings: AssistantSettings, **llama_cpp) -> AssistantSettings:
    """The session's settings (tests/fixtures_assistant.py: its cache) with another embedded
    model configuration."""
    return settings.model_copy(
        update={"llama_cpp": settings.llama_cpp.model_copy(update=llama_cpp)}
    )


@pytest.mark.slow
def test_the_q4_model_is_requantised_from_the_verified_q8_and_recorded(
    assistant_settings: AssistantSettings,
) -> None:
    from llama_cpp import Llama

    q8 = embedded_model_path(with_model(assistant_settings, bf16_weights=False))
    assert q8.name == PACKAGED_MODELS["qwen2.5-coder-0.5b"].file_name
    # bf16_weights is for the packaged files: the Q4_0 stays Q4_0
    settings = with_model(assistant_settings, model="qwen2.5-coder-0.5b-q4", bf16_weights=True)
    q4 = embedded_model_path(settings)
    assert q4.parent == q8.parent and q4.stat().st_size < 0.9 * q8.stat().st_size
    manifest = json.loads(q4.with_name(q4.name + ".json").read_text("utf-8"))
    assert manifest["source_sha256"] == PACKAGED_MODELS["qwen2.5-coder-0.5b"].sha256
    assert manifest["quantisation"] == "q4_0"
    assert manifest["sha256"] == sha256_of(q4)
    mtime = q4.stat().st_mtime_ns
    assert embedded_model_path(settings) == q4 and q4.stat().st_mtime_ns == mtime  # kept
    metadata = Llama(model_path=str(q4), vocab_only=True, verbose=False).metadata
    assert metadata["general.file_type"] == "2"  # LLAMA_FTYPE_MOSTLY_Q4_0


@pytest.mark.slow
def test_the_bf16_expansion_is_made_from_the_verified_file_and_recorded(
    assistant_settings: AssistantSettings,
) -> None:
    from llama_cpp import Llama

    packaged = embedded_model_path(with_model(assistant_settings, bf16_weights=False))
    settings = with_model(assistant_settings, bf16_weights=True)
    bf16 = embedded_model_path(settings)
    assert bf16.parent == packaged.parent and bf16.name.endswith("-bf16.gguf")
    assert bf16.stat().st_size > 1.5 * packaged.stat().st_size  # 16 bits a weight, not ~5.5
    manifest = json.loads(bf16.with_name(bf16.name + ".json").read_text("utf-8"))
    assert manifest["source_sha256"] == PACKAGED_MODELS["qwen2.5-coder-0.5b"].sha256
    assert manifest["quantisation"] == "bf16"
    assert manifest["sha256"] == sha256_of(bf16)
    metadata = Llama(model_path=str(bf16), vocab_only=True, verbose=False).metadata
    assert metadata["general.file_type"] == "32"  # LLAMA_FTYPE_MOSTLY_BF16


@pytest.mark.slow
@pytest.mark.parametrize(
    "model", [{"model": "qwen2.5-coder-0.5b-q4"}, {"bf16_weights": True}], ids=["q4", "bf16"]
)
async def test_a_derived_model_answers_through_the_embedded_engine(
    assistant_settings: AssistantSettings, model: dict
) -> None:
    """Loaded the way the server loads it (weights repacked where `extra_buffers` auto says
    so): the crash seen with repacking on AMX CPUs would end this test, not a caller's turn;
    BF16 runs on any CPU (emulated where it has no BF16 instructions)."""
    from assistant.generators.llama_cpp import build_llama_cpp_generator
    from assistant.types import ChatTurn

    settings = with_model(assistant_settings, **model, n_contexts=1)
    generator = build_llama_cpp_generator(settings)
    try:
        source = "The fee for a 48-page passport is HK$460."
        turns = [
            ChatTurn("system", "Answer from the source in one short sentence."),
            ChatTurn("user", f"Source: {source}\nQuestion: How much is a 48-page passport?"),
        ]
        text = "".join(
            [piece async for piece in generator.stream(turns, max_tokens=24, temperature=0.0)]
        )
    finally:
        await generator.aclose()
    assert "460" in text
