"""The streaming recogniser: VAD end points, partials, finals, push-to-talk, bounds, asyncio."""

from __future__ import annotations

import asyncio
import tracemalloc

import numpy as np
import pytest
import soundfile
import soxr

from voices.audio_io import AudioInputError, float_to_pcm16
from voices.config import StreamingSettings
from voices.resample import UnsupportedSampleRateError
from voices.scoring import cer, wer
from voices.streaming import AsyncStreamingRecognizer, RecognizerBusyError, StreamingRecognizer
from voices.types import FinalTranscript, PartialTranscript, SpeechStarted

pytestmark = pytest.mark.slow
SR = 16_000
FRAME = 640  # 20 ms of PCM16 at 16 kHz


def _pcm(audio: np.ndarray, before_s: float = 0.5, after_s: float = 1.5, rate: int = SR) -> bytes:
    silence = np.zeros(int(before_s * rate), np.float32)
    tail = np.zeros(int(after_s * rate), np.float32)
    return float_to_pcm16(np.concatenate([silence, audio, tail]))


def _feed(rec: StreamingRecognizer, pcm: bytes, frame: int = FRAME) -> list:
    events = []
    for i in range(0, len(pcm), frame):
        events += rec.feed(pcm[i : i + frame])
    return events


def _recogniser(transcriber, vad_model, **kwargs) -> StreamingRecognizer:
    streaming = kwargs.pop(
        "streaming", StreamingSettings(partial_interval_s=1.5, adaptive_partials=False)
    )
    return StreamingRecognizer(transcriber, vad_model=vad_model, streaming=streaming, **kwargs)


def test_partials_while_speaking_then_one_final(
    transcriber, vad_model, load_clip, shared_transcripts
) -> None:
    rec = _recogniser(transcriber, vad_model)
    events = _feed(rec, _pcm(load_clip("0-en.wav")))
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted
    assert kinds[-1] is FinalTranscript
    assert kinds.count(FinalTranscript) == 1
    assert kinds.count(PartialTranscript) >= 2
    assert {e.utterance_id for e in events} == {1}
    assert abs(events[0].at_s - 0.5) < 0.4  # onset found near where the speech starts
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert partials[0].audio_s < partials[-1].audio_s
    final = events[-1]
    assert final.reason == "silence"
    assert final.transcript.language == "en"
    assert wer(shared_transcripts["0-en.wav"]["text"], final.transcript.text) <= 0.15


class _SlowDecodeClock:
    """A fake clock on which every call costs `step` seconds (a very slow CPU, made up)."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_partials_slow_down_when_decoding_is_slow(transcriber, vad_model, load_clip) -> None:
    pcm = _pcm(load_clip("0-en.wav"))

    def partials(adaptive: bool, clock) -> int:
        rec = _recogniser(
            transcriber,
            vad_model,
            clock=clock,
            streaming=StreamingSettings(partial_interval_s=1.0, adaptive_partials=adaptive),
        )
        return sum(isinstance(e, PartialTranscript) for e in _feed(rec, pcm))

    fixed = partials(False, _SlowDecodeClock(3.0))
    adaptive = partials(True, _SlowDecodeClock(3.0))  # each decode "takes" 3 s of 6.6 s speech
    assert fixed >= 5
    assert 1 <= adaptive <= 3


def test_push_to_talk_ends_on_request(transcriber, vad_model, load_clip, shared_transcripts):
    rec = _recogniser(
        transcriber, vad_model, endpointing=False, streaming=StreamingSettings(partials=False)
    )
    clip = load_clip("1-zh.wav")
    gap = np.zeros(SR * 2, np.float32)  # a long pause while the button is held
    events = _feed(rec, _pcm(np.concatenate([clip[: SR * 2], gap, clip[SR * 2 :]]), after_s=0))
    assert [type(e) for e in events] == [SpeechStarted]
    finals = rec.end_of_speech()
    assert len(finals) == 1 and finals[0].reason == "end_of_speech"
    assert finals[0].transcript.language == "cmn"
    assert cer(shared_transcripts["1-zh.wav"]["text"], finals[0].transcript.text) <= 0.35


def test_end_of_speech_with_nothing_said_concludes_with_an_empty_final(
    transcriber, vad_model
) -> None:
    rec = _recogniser(transcriber, vad_model)
    assert _feed(rec, bytes(SR)) == []
    (final,) = rec.end_of_speech()
    assert isinstance(final, FinalTranscript)
    assert final.transcript.text == ""


def test_odd_length_frames_give_the_same_result(transcriber, vad_model, load_clip) -> None:
    pcm = _pcm(load_clip("8k-en.wav"))
    quiet = StreamingSettings(partials=False)
    even = _feed(_recogniser(transcriber, vad_model, streaming=quiet), pcm, 640)
    odd = _feed(_recogniser(transcriber, vad_model, streaming=quiet), pcm, 641)
    one_byte = _recogniser(transcriber, vad_model, streaming=quiet)
    assert one_byte.feed(pcm[:1]) == []  # a lone byte waits for its partner
    assert [type(e) for e in odd] == [type(e) for e in even] == [SpeechStarted, FinalTranscript]
    assert odd[0].at_s == even[0].at_s
    assert odd[-1].transcript.text == even[-1].transcript.text != ""


def test_8k_input_is_resampled(transcriber, vad_model, shared_audio, shared_transcripts):
    audio, rate = soundfile.read(shared_audio / "8k-en.wav", dtype="float32")
    assert rate == 8000
    rec = _recogniser(
        transcriber, vad_model, sample_rate=8000, streaming=StreamingSettings(partials=False)
    )
    events = _feed(rec, _pcm(audio, rate=8000), 320)
    final = events[-1]
    assert isinstance(final, FinalTranscript)
    assert wer(shared_transcripts["8k-en.wav"]["text"], final.transcript.text) <= 0.15


def test_48k_input_is_resampled(transcriber, vad_model, load_clip, shared_transcripts):
    audio = soxr.resample(load_clip("0-en.wav"), SR, 48_000).astype(np.float32)
    rec = _recogniser(
        transcriber, vad_model, sample_rate=48_000, streaming=StreamingSettings(partials=False)
    )
    events = _feed(rec, _pcm(audio, rate=48_000), 1920)
    assert wer(shared_transcripts["0-en.wav"]["text"], events[-1].transcript.text) <= 0.15


@pytest.mark.parametrize("rate", [11_025, 32_000, 0])
def test_unsupported_rate_is_a_value_error(transcriber, rate: int) -> None:
    with pytest.raises(UnsupportedSampleRateError):
        StreamingRecognizer(transcriber, sample_rate=rate)


def test_oversized_frame_is_refused_and_changes_nothing(transcriber, vad_model) -> None:
    rec = _recogniser(transcriber, vad_model, streaming=StreamingSettings(max_frame_bytes=1000))
    with pytest.raises(AudioInputError, match="limit"):
        rec.feed(bytes(1002))
    assert rec.feed(bytes(1000)) == []


def test_non_speech_streams_produce_no_text(transcriber, vad_model) -> None:
    rng = np.random.default_rng(11)
    t = np.arange(SR * 3) / SR
    noise = np.concatenate(
        [
            rng.normal(0, 0.3, SR * 3).clip(-1, 1),
            0.5 * np.sin(2 * np.pi * 440 * t),
            np.sign(np.sin(2 * np.pi * 200 * t)),  # clipped square wave
            rng.normal(0, 0.002, SR * 3),
        ]
    ).astype(np.float32)
    rec = _recogniser(transcriber, vad_model)
    events = _feed(rec, float_to_pcm16(noise)) + rec.close()
    assert [e for e in events if isinstance(e, PartialTranscript)] == []
    assert all(e.transcript.text == "" for e in events if isinstance(e, FinalTranscript))


def test_thirty_minutes_of_silence_costs_vad_time_only(transcriber, vad_model) -> None:
    rec = _recogniser(transcriber, vad_model)
    rng = np.random.default_rng(5)
    second = float_to_pcm16(rng.normal(0, 0.001, SR).astype(np.float32))  # room hiss
    tracemalloc.start()
    try:
        events = []
        for _ in range(30 * 60):
            events += rec.feed(second)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert events == []
    assert peak < 4_000_000  # 30 min of PCM16 is 57.6 MB; the recogniser keeps ~pre-roll
    assert len(rec._buffer) == 0 and len(rec._preroll) <= rec._preroll.maxlen


def test_long_speech_is_cut_at_the_maximum_length(transcriber, vad_model, load_clip) -> None:
    clip = load_clip("0-en.wav")
    rec = _recogniser(
        transcriber, vad_model, streaming=StreamingSettings(partials=False, max_utterance_s=4.0)
    )
    events = _feed(rec, _pcm(np.concatenate([clip, clip]), after_s=1.0))
    finals = [e for e in events if isinstance(e, FinalTranscript)]
    assert finals[0].reason == "max_length"
    assert finals[0].transcript.duration_s <= 4.05
    assert len(finals) >= 3  # 13 s of speech in pieces of at most 4 s
    assert all(f.transcript.duration_s <= 4.05 for f in finals)
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(starts) == len(finals)


def test_backpressure_when_finals_pile_up(transcriber, vad_model, load_clip) -> None:
    rec = _recogniser(
        transcriber, vad_model, streaming=StreamingSettings(partials=False, max_pending_finals=1)
    )
    pcm = _pcm(load_clip("8k-en.wav"))
    refused_at = None
    for i in range(0, len(pcm), FRAME):
        try:
            rec.accept(pcm[i : i + FRAME])  # VAD only: the final waits for decoding
        except RecognizerBusyError:
            refused_at = i
            break
    assert refused_at is not None
    (final,) = rec.decode_pending()
    assert final.transcript.text
    assert rec.accept(pcm[refused_at : refused_at + FRAME]) == []  # the same frame, retried


async def test_async_wrapper_streams_events_without_blocking_the_loop(
    transcriber, vad_model, load_clip
) -> None:
    rec = AsyncStreamingRecognizer(_recogniser(transcriber, vad_model))
    pcm = _pcm(load_clip("0-en.wav"), after_s=1.0)
    ticks = 0
    received: list = []

    async def consume() -> None:
        async for event in rec.events():
            received.append(event)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    consumer = asyncio.create_task(consume())
    tick_task = asyncio.create_task(ticker())
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(0, len(pcm), FRAME):
        await rec.push(pcm[i : i + FRAME])
        await asyncio.sleep(0)
    await rec.aclose()
    await asyncio.wait_for(consumer, timeout=120)
    elapsed = loop.time() - started
    tick_task.cancel()
    assert isinstance(received[0], SpeechStarted)
    finals = [e for e in received if isinstance(e, FinalTranscript)]
    assert len(finals) == 1 and "nightfall" in finals[0].transcript.text.lower()
    # decoding ran in a thread: the loop kept ticking through it (>= a third of the 10 ms slots)
    assert ticks >= elapsed / 0.01 / 3


def test_from_settings_uses_the_voice_settings(transcriber, voice_settings) -> None:
    rec = StreamingRecognizer.from_settings(
        transcriber, voice_settings, sample_rate=8000, language="yue"
    )
    assert rec.sample_rate == 8000 and rec.language == "yue"
    assert rec.settings is voice_settings.streaming


def test_declared_language_partials_are_in_that_language(transcriber, vad_model, load_clip):
    rec = _recogniser(transcriber, vad_model, language="cmn")
    events = _feed(rec, _pcm(load_clip("1-zh.wav")))
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert partials and all(any("\u4e00" <= ch <= "\u9fff" for ch in p.text) for p in partials)
    assert events[-1].transcript.language == "cmn"
