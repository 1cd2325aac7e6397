"""Kokoro's generator on windows of frames: the window arithmetic, the pooled statistics and
the streaming trim (fast); the real split model's windows against its whole-piece output,
and the first window arriving before the rest (slow, in test_kokoro_yue.py's model cache)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from voices.audio_io import pcm16_to_float
from voices.tts import kokoro_window as kw
from voices.tts.kokoro_yue import KokoroCantoneseSynthesizer, StreamTrimmer, trim_silence

RATE = 24_000


def test_each_window_reads_its_context_within_the_piece() -> None:
    assert kw.window_span(0, 8, 100, context=5) == kw.Window(0, 8, 0, 13)  # no left context
    assert kw.window_span(8, 24, 100, context=5) == kw.Window(8, 24, 3, 29)
    assert kw.window_span(90, 100, 100, context=5) == kw.Window(90, 100, 85, 100)
    with pytest.raises(ValueError, match="outside"):
        kw.window_span(90, 101, 100)


def test_the_plan_covers_the_piece_once_in_growing_windows() -> None:
    plan = kw.window_plan(100, first=8, growth=2.0, largest=40, context=5)
    # 8, 16, 32, then 40 at most; the 4 frames left would be a window of their own: merged
    assert [(w.start, w.end) for w in plan] == [(0, 8), (8, 24), (24, 56), (56, 100)]
    for before, after in itertools.pairwise(plan):
        assert before.end == after.start  # no gap, no overlap in what is played
    # a tail shorter than half the window before is merged into it (context would cost more)
    merged = kw.window_plan(58, first=8, growth=2.0, largest=40, context=5)
    assert [(w.start, w.end) for w in merged] == [(0, 8), (8, 24), (24, 58)]
    assert kw.window_plan(6, first=8, growth=2.0, largest=40) == [kw.Window(0, 6, 0, 6)]
    assert kw.window_plan(30, first=0, growth=2.0, largest=40) == [kw.Window(0, 30, 0, 30)]
    assert kw.window_plan(0, first=8, growth=2.0, largest=40) == []
    same = kw.window_plan(30, first=10, growth=1.0, largest=40)  # growth 1: fixed windows
    assert [(w.start, w.end) for w in same] == [(0, 10), (10, 20), (20, 30)]


def test_a_window_is_cut_from_its_inputs_and_its_context_cut_off() -> None:
    frames = 20
    x = np.arange(kw.X_PER_FRAME * frames, dtype=np.float32).reshape(1, 1, -1)
    har = np.arange(kw.HAR_PER_FRAME * frames + 1, dtype=np.float32).reshape(1, 1, -1)
    window = kw.window_span(6, 10, frames, context=5)  # frames [1, 15)
    feed = kw.window_feed(x, har, window)
    assert feed[kw.GENERATOR_INPUT].ravel().tolist() == list(range(2, 30))
    harmonic = feed[kw.HARMONIC].ravel()  # STFT frames centred on samples, plus the last edge
    assert (harmonic[0], harmonic[-1], harmonic.size) == (120, 1800, 14 * 120 + 1)
    # the generator's audio of frames [1, 15): the core [6, 10) starts 5 frames in
    audio = np.arange(14 * kw.SAMPLES_PER_FRAME, dtype=np.float32)
    core = kw.cut(audio, window)
    assert core.size == 4 * kw.SAMPLES_PER_FRAME and core[0] == 5 * kw.SAMPLES_PER_FRAME


def test_statistics_are_pooled_as_if_the_pieces_were_one() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 2.0, (1, 3, 40)), rng.normal(-1.0, 0.5, (1, 3, 10))
    stats = [[x.mean(axis=2, keepdims=True), x.var(axis=2, keepdims=True)] for x in (a, b)]
    mean, variance = kw.pool(stats, frames=[40, 10])
    joined = np.concatenate([a, b], axis=2)
    assert np.allclose(mean, joined.mean(axis=2, keepdims=True), atol=1e-6)
    assert np.allclose(variance, joined.var(axis=2, keepdims=True), atol=1e-5)
    feed = kw.statistics_feed([mean, variance])
    assert set(feed) == {"norm0_mean", "norm0_var"}


def _speech(seconds: float, start: float, end: float) -> np.ndarray:
    audio = np.zeros(int(seconds * RATE), np.float32)
    n = int((end - start) * RATE)
    audio[int(start * RATE) : int(start * RATE) + n] = 0.5 * np.sin(np.arange(n) / 3)
    return audio


def test_the_streaming_trim_matches_the_whole_piece_trim() -> None:
    audio = _speech(2.0, 0.3, 0.9)
    audio[int(1.2 * RATE) : int(1.5 * RATE)] = 0.4 * np.sin(np.arange(int(0.3 * RATE)) / 5)
    whole = trim_silence(audio, RATE, lead_ms=30, tail_ms=200)
    for size in (4800, 7200, 15000):  # windows of 0.2, 0.3, 0.625 s
        trimmer = StreamTrimmer(RATE, 30, 200)
        parts = [trimmer.feed(audio[i : i + size]) for i in range(0, audio.size, size)]
        streamed = np.concatenate([*parts, trimmer.finish()])
        assert streamed.size == whole.size
        assert np.array_equal(streamed, whole)  # the pause inside the piece is kept


def test_the_streaming_trim_fills_a_short_tail_and_drops_a_silent_piece() -> None:
    trimmer = StreamTrimmer(RATE, 30, 200)
    out = trimmer.feed(_speech(0.5, 0.1, 0.5))  # the sound runs to the end
    tail = trimmer.finish()
    assert abs(out.size / RATE - 0.43) < 0.011 and tail.size == int(0.2 * RATE)
    assert not tail.any()
    silent = StreamTrimmer(RATE, 30, 200)
    assert silent.feed(np.zeros(RATE, np.float32)).size == 0
    assert silent.finish().size == 0


@pytest.fixture(scope="module")
def windowed(voice_settings) -> KokoroCantoneseSynthesizer:
    return KokoroCantoneseSynthesizer(voice_settings.cache, window_frames=8)


@pytest.mark.slow
def test_windows_give_the_whole_piece_audio(windowed) -> None:
    """The window graph run on the whole piece at once against the same graph on windows of
    8, 16, 32 ... frames, joined: equal to float rounding (the receptive field is covered)."""
    phonemes = windowed.phonemes("你好，請問入境處幾點開門？")
    feed = windowed._feed(phonemes)
    x, har = windowed._front.run(None, feed)
    frames = x.shape[2] // kw.X_PER_FRAME
    (whole,) = kw.windows_of(
        windowed._window,
        x,
        har,
        feed["style"],
        windowed._norms,
        [kw.window_span(0, frames, frames)],
    )
    joined = np.concatenate(list(windowed._windows(phonemes)))
    assert joined.size == whole.size == frames * kw.SAMPLES_PER_FRAME
    assert np.abs(joined - whole).max() < 1e-4  # measured 1.5e-6; a join error is ~1e-2
    assert np.sqrt(np.mean(whole**2)) > 0.03  # speech, not silence


@pytest.mark.slow
def test_the_first_window_is_played_before_the_rest_is_made(windowed, monkeypatch) -> None:
    events: list[str] = []
    run = windowed._window.run

    class Recording:
        def run(self, outputs, feed):
            events.append(f"window {feed[kw.GENERATOR_INPUT].shape[2] // kw.X_PER_FRAME}")
            return run(outputs, feed)

    monkeypatch.setattr(windowed, "_window", Recording())
    windowed._pieces.clear()
    chunks = windowed.synthesize("辦事處由朝早九點開到下晝五點。", "yue")
    first = next(iter(chunks))
    events.append("played")
    rest = list(chunks)
    # the first chunk came out after one window of 8 + 5 frames, before any other was made
    assert events[:2] == ["window 13", "played"]
    assert len(events) > 3 and rest
    # it holds the onset of the first syllable (trimmed to 30 ms before it), not silence
    assert np.abs(pcm16_to_float(first.pcm)).max() > 0.005
