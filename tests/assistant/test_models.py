"""The embedded models: the packaged GGUF and the one requantised from it here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import AssistantSettings
from assistant.models import PACKAGED_MODELS, QUANTISED_MODELS, embedded_model_path
from voices.model_assets import sha256_of


def test_every_quantised_model_comes_from_a_packaged_one() -> None:
    for spec in QUANTISED_MODELS.values():
        assert spec.source in PACKAGED_MODELS
        assert spec.file_name != PACKAGED_MODELS[spec.source].file_name


def test_a_configured_gguf_that_is_missing_is_a_clear_error(tmp_path: Path) -> None:
    settings = AssistantSettings(llama_cpp={"model_path": tmp_path / "absent.gguf"})
    with pytest.raises(FileNotFoundError, match=r"absent\.gguf"):
        embedded_model_path(settings)


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

    q8 = embedded_model_path(assistant_settings)
    settings = with_model(assistant_settings, model="qwen2.5-coder-0.5b-q4")
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
async def test_the_q4_model_answers_through_the_embedded_engine(
    assistant_settings: AssistantSettings,
) -> None:
    """Loaded the way the server loads it (weights repacked where `extra_buffers` auto says
    so): the crash seen with repacking on AMX CPUs would end this test, not a caller's turn."""
    from assistant.generators.llama_cpp import build_llama_cpp_generator
    from assistant.types import ChatTurn

    settings = with_model(assistant_settings, model="qwen2.5-coder-0.5b-q4", n_contexts=1)
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
