"""The embedded Kokoro Cantonese voice: Jyutping -> Kokoro phonemes, clause streaming, and
real synthesis heard back by the real recogniser (slow tests load the model once)."""

from __future__ import annotations

import numpy as np
import pytest

from voices.audio_io import pcm16_to_float
from voices.config import TtsSettings, VoiceChoice
from voices.model_assets import sha256_of
from voices.resample import to_pipeline_rate
from voices.tts.espeak import SynthesisError
from voices.tts.kokoro_yue import (
    KOKORO_SHA256,
    TONE_SCHEMES,
    KokoroCantoneseSynthesizer,
    clauses,
    first_clause_pieces,
    kokoro_model_path,
    kokoro_onnx_path,
    office_readings,
    split_first_words,
    syllable_phonemes,
    trim_silence,
)
from voices.tts.registry import VoiceRegistry

CONTOUR = TONE_SCHEMES["contour"]


@pytest.mark.parametrize(
    ("jyutping", "phonemes"),
    [
        ("jap6", "jɐp↓"),  # 入
        ("ging2", "kɪŋ↗"),  # 境
        ("cyu3", "ʦʰyː"),  # 處: mid level tone, no arrow
        ("gwong2", "kwɔːŋ↗"),  # 廣: labialised initial
        ("m4", "m↘"),  # 唔: syllabic nasal
        ("ng5", "ŋ↗"),  # 五
        ("aa3", "aː"),  # 呀: no initial
        ("hoeng1", "hœːŋ→"),  # 香
        ("seoi3", "sœy"),  # 稅
    ],
)
def test_jyutping_syllables_become_kokoro_phonemes(jyutping: str, phonemes: str) -> None:
    assert syllable_phonemes(jyutping, CONTOUR) == phonemes


def test_the_default_low_scheme_gives_tone_4_the_low_dip_and_tone_6_no_arrow() -> None:
    low = TONE_SCHEMES["low"]
    assert syllable_phonemes("sei4", low) == "sei↓"  # 死 is sei2, 四 sei3, 時 sei4 ... 4: 21
    assert syllable_phonemes("jap6", low) == "jɐp"  # 入: low level
    assert syllable_phonemes("jap6", CONTOUR) == "jɐp↓"


@pytest.mark.parametrize("not_jyutping", ["hello", "jap", "jap7", "xyz1", ""])
def test_what_is_not_jyutping_is_refused(not_jyutping: str) -> None:
    assert syllable_phonemes(not_jyutping, CONTOUR) is None


def test_clauses_cut_after_punctuation_and_merge_tiny_ones() -> None:
    text = "你好，請問入境處幾點開門？唔該。"
    assert clauses(text, 300) == ["你好，請問入境處幾點開門？", "唔該。"]
    assert clauses("第一句話，第二句話。", 300) == ["第一句話，", "第二句話。"]
    assert all(len(c) <= 5 for c in clauses("一二三四五六七八九十", 5))


def _words(*pairs: str) -> list[tuple[str, str, str]]:
    """("word", "jyutping ...") pairs as the G2P gives them; "，" is punctuation."""
    return [
        (w, r, "punct" if w == r else "yue") for w, r in zip(pairs[::2], pairs[1::2], strict=True)
    ]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("勞工", "lou4 gung1", "處", "cyu5"), "lou4 gung1 cyu3"),  # the department
        (("香港警務處", "hoeng1 gong2 ging2 mou6 cyu2"), "hoeng1 gong2 ging2 mou6 cyu3"),
        (("登", "dang1", "記", "gei3", "處", "cyu5"), "dang1 gei3 cyu3"),
        (("幫你", "bong1 nei5", "處理", "cyu5 lei5"), "bong1 nei5 cyu5 lei5"),  # the verb
        (("相處", "soeng1 cyu3"), "soeng1 cyu5"),
        (("處長", "cyu3 zoeng2"), "cyu3 zoeng2"),  # nothing before it: the G2P's reading
    ],
)
def test_the_office_reading_of_chu_follows_its_context(words, expected) -> None:
    fixed = office_readings(_words(*words))
    assert " ".join(reading for _, reading, _ in fixed) == expected


def test_the_first_clause_is_cut_after_its_first_words() -> None:
    clause = _words(
        "你好", "nei5 hou2", "，", "，", "請問", "ceng2 man6",
        "入境處", "jap6 ging2 cyu3", "幾點", "gei2 dim2", "開門", "hoi1 mun4",
    )  # fmt: skip
    first, rest = split_first_words(clause, 6)
    assert [w for w, _, _ in first] == ["你好", "，", "請問"]  # 4 syllables; 7 would be > 6
    assert first + rest == clause
    assert split_first_words(clause, 0) == [clause]  # off
    assert split_first_words(clause, 20) == [clause]  # short enough already
    # never a piece of one syllable: it could not carry its tone
    assert split_first_words(_words("唔", "m4", "該晒", "goi1 saai3"), 2) == [
        _words("唔", "m4", "該晒", "goi1 saai3")
    ]


def test_a_long_first_word_is_cut_inside_so_the_first_piece_stays_short() -> None:
    clause = _words("入境事務處", "jap6 ging2 si6 mou6 cyu3", "幾點", "gei2 dim2")
    first, rest = split_first_words(clause, 2)
    assert first == _words("入境", "jap6 ging2")
    assert rest == _words("事務處", "si6 mou6 cyu3", "幾點", "gei2 dim2")
    # only where the word has one syllable a character (not "HKID", not digits)
    assert split_first_words(_words("HKID", "HKID"), 2) == [_words("HKID", "HKID")]
    # not inside words: the long word alone, not the rest of the clause with it
    assert split_first_words(clause, 2, inside_words=False) == [clause[:1], clause[1:]]


def test_the_first_clause_comes_in_pieces_of_growing_length() -> None:
    clause = _words(
        "你好", "nei5 hou2", "，", "，", "請問", "ceng2 man6", "入境事務處",
        "jap6 ging2 si6 mou6 cyu3", "今日", "gam1 jat6", "幾點", "gei2 dim2", "開門", "hoi1 mun4",
    )  # fmt: skip
    pieces = first_clause_pieces(clause, 2, 1.5)
    assert [t for piece in pieces for t in piece] == clause  # nothing lost or reordered
    assert [[w for w, _, _ in piece] for piece in pieces] == [
        ["你好", "，"],
        ["請問"],
        ["入境事務處"],  # longer than 1.5 x 2, but alone: not the whole rest with it
        ["今日", "幾點", "開門"],
    ]
    assert len(first_clause_pieces(clause, 2, 0)) == 2  # growth 0: one cut only


def _leading_silence_s(audio: np.ndarray, rate: int) -> float:
    return float(np.flatnonzero(np.abs(audio) > 0.02 * np.abs(audio).max())[0] / rate)


def test_silent_edges_are_cut_to_the_kept_lead_and_pause() -> None:
    rate = 24_000
    audio = np.zeros(2 * rate, np.float32)
    audio[int(0.3 * rate) : int(0.9 * rate)] = 0.5 * np.sin(np.arange(int(0.6 * rate)) / 3)
    trimmed = trim_silence(audio, rate, lead_ms=30, tail_ms=200)
    assert abs(_leading_silence_s(trimmed, rate) - 0.03) < 0.011
    assert abs(trimmed.size / rate - (0.03 + 0.6 + 0.2)) < 0.011
    assert trim_silence(np.zeros(rate, np.float32), rate, 30, 200).size == 0  # all silence
    # a tail shorter than the pause (a model that no longer pads) is filled with silence
    clipped = audio[: int(0.95 * rate)]
    padded = trim_silence(clipped, rate, lead_ms=30, tail_ms=200)
    assert abs(padded.size / rate - (0.03 + 0.6 + 0.2)) < 0.011
    assert not padded[-int(0.15 * rate) :].any()
    short = np.ones(10, np.float32)  # shorter than one frame: left alone
    assert np.array_equal(trim_silence(short, rate, 30, 200), short)


@pytest.fixture(scope="module")
def kokoro(voice_settings) -> KokoroCantoneseSynthesizer:
    return KokoroCantoneseSynthesizer(voice_settings.cache)


def _audio(chunks) -> np.ndarray:
    return pcm16_to_float(b"".join(c.pcm for c in chunks))


@pytest.mark.slow
def test_the_model_is_assembled_with_the_pinned_checksum(voice_settings) -> None:
    assert sha256_of(kokoro_onnx_path(voice_settings.cache)) == KOKORO_SHA256


@pytest.mark.slow
def test_polyphones_numbers_and_english_are_read_in_context(kokoro) -> None:
    # default tones `low`: 6 level, 5 rising, 4 low dip
    assert kokoro.phonemes("入境處") == "jɐp kɪŋ↗ ʦʰyː"  # cyu3 (office), not cyu5 (to handle)
    assert kokoro.phonemes("勞工處").endswith("ʦʰyː")  # the G2P alone says cyu5
    assert kokoro.phonemes("一八二三") == "jɐt→ paːt jiː saːm→"
    assert "saːm→" in kokoro.phonemes("1823")  # digits come out as Cantonese syllables
    english = kokoro.phonemes("我要renew我嘅HKID")
    assert "ŋɔː↗" in english and "ɹ" in english  # Cantonese syllables and English IPA


@pytest.mark.slow
def test_synthesis_streams_clause_by_clause_at_24khz(kokoro) -> None:
    chunks = list(kokoro.synthesize("你好，請問入境處幾點開門？唔該晒你。", "yue"))
    # the first clause in growing pieces (你好， | 請問 | 入境處 | 幾點開門？), then one per clause
    assert len(chunks) == 5
    assert {c.sample_rate for c in chunks} == {24_000}
    audio = _audio(chunks)
    assert 1.5 < audio.size / 24_000 < 10  # about a syllable every 0.2-0.4 s
    assert np.sqrt(np.mean(audio**2)) > 0.01  # not silence


@pytest.mark.slow
def test_the_first_word_is_heard_at_once_and_cuts_leave_no_hole(kokoro, monkeypatch) -> None:
    chunks = list(kokoro.synthesize("你好，請問入境處幾點開門？", "yue"))
    first, second = (pcm16_to_float(c.pcm) for c in chunks[:2])
    assert _leading_silence_s(first, 24_000) < 0.06  # Kokoro itself pads ~0.3 s
    assert _leading_silence_s(second, 24_000) < 0.06
    monkeypatch.setattr(kokoro, "trim_silence", False)
    padded = pcm16_to_float(next(iter(kokoro.synthesize("早晨，請問稅務局喺邊度？", "yue"))).pcm)
    assert _leading_silence_s(padded, 24_000) > 0.15


@pytest.mark.slow
def test_the_derived_model_computes_no_padding_and_still_speaks(kokoro, voice_settings) -> None:
    packaged = KokoroCantoneseSynthesizer(
        voice_settings.cache, edge_frames=0, max_frames=0, trim_silence=False
    )
    assert kokoro._session._model_path == str(kokoro_model_path(voice_settings.cache, 1, 8))
    phonemes = kokoro.phonemes("你好")
    full, capped = packaged._infer(phonemes), kokoro._infer(phonemes)
    # the ~0.35 s of lead padding and the drawn-out end are not computed at all
    assert full.size / 24_000 - capped.size / 24_000 > 0.4
    assert _leading_silence_s(capped, 24_000) < _leading_silence_s(full, 24_000) - 0.08
    assert np.sqrt(np.mean(capped**2)) > 0.03  # still speech, not a click


@pytest.mark.slow
def test_it_speaks_only_cantonese(kokoro) -> None:
    assert kokoro.supports("yue") and not kokoro.supports("cmn")
    with pytest.raises(SynthesisError, match="does not speak"):
        list(kokoro.synthesize("hello", "en"))


@pytest.mark.slow
def test_the_recogniser_hears_chinese_speech(kokoro, transcriber) -> None:
    # Whisper base does not understand this voice yet (round-trip CER ~0.97-0.99 against
    # espeak-ng's 1.00, docs/speech.md), so the check is the weaker one that still fails for
    # noise or a broken phoneme mapping: it is speech, and it is heard as Chinese.
    said = "唔該晒，我聽日再打嚟問下。"
    audio = to_pipeline_rate(_audio(kokoro.synthesize(said, "yue")), 24_000)
    assert transcriber.has_speech(audio)
    heard = transcriber.transcribe(audio, language="yue")
    assert heard.detected_language == "zh"


@pytest.mark.slow
def test_the_registry_builds_the_kokoro_voice_when_configured(voice_settings) -> None:
    settings = TtsSettings(voices={"yue": VoiceChoice(engine="kokoro", voice="jf_alpha")})
    voice = VoiceRegistry(settings, cache=voice_settings.cache).voice("yue")
    assert voice.name == "kokoro" and voice.sample_rate == 24_000
    assert list(voice.synthesize("多謝。"))


@pytest.mark.slow
def test_a_phrase_said_again_comes_from_the_piece_cache(kokoro, monkeypatch) -> None:
    said = "對唔住，請致電一八二三。"
    first = _audio(kokoro.synthesize(said, "yue"))
    runs: list[str] = []
    infer = kokoro._infer
    monkeypatch.setattr(kokoro, "_infer", lambda phonemes: runs.append(phonemes) or infer(phonemes))
    again = _audio(kokoro.synthesize(said, "yue"))
    assert not runs  # nothing synthesised the second time
    assert np.array_equal(first, again)
    list(kokoro.synthesize("多謝你。", "yue"))  # a new phrase is synthesised
    assert len(runs) == 1
