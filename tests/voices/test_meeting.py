"""Meeting transcription end to end on real speech: who said what, when, in which language,
with word times; bounded memory; and the bad recordings a department will upload."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import opencc
import pytest
import soundfile

from tests.meeting_audio import CLIPS, build, clip
from voices.audio_io import AudioInputError
from voices.diarization import DiarizationSettings, build_diarizer
from voices.meeting import MeetingInputError, MeetingTranscriber, MeetingTranscript, SpeechSegmenter
from voices.meeting_config import MeetingSpeechSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def meetings(transcriber, vad_model) -> MeetingTranscriber:
    return MeetingTranscriber(
        transcriber, build_diarizer(DiarizationSettings()), vad_model=vad_model
    )


@pytest.fixture(scope="module")
def two_languages(shared_audio: Path, tmp_path_factory):
    """JFK (English), a Mandarin speaker, then a second English speaker."""
    jfk = clip(CLIPS / "jfk.flac", 0.0, 7.9)
    parts = [
        ("jfk", jfk, 0.0),
        ("zh", clip(shared_audio / "1-zh.wav"), 0.0),
        ("en", clip(shared_audio / "0-en.wav"), 0.0),
    ]
    return build(tmp_path_factory.mktemp("meeting") / "meeting.flac", parts)


@pytest.fixture(scope="module")
def transcript(meetings: MeetingTranscriber, two_languages) -> MeetingTranscript:
    return meetings.transcribe_file(two_languages.path)


def test_who_said_what_in_which_language(transcript: MeetingTranscript, two_languages) -> None:
    assert len(transcript.speakers) == 3
    by_turn = []
    for turn in two_languages.reference:
        inside = [s for s in transcript.segments if s.start < turn.end and s.end > turn.start]
        assert inside, turn
        by_turn.append(inside)
    jfk, zh, en = by_turn
    assert "fellow americans" in " ".join(s.text for s in jfk).lower()
    assert {s.language for s in jfk} == {"en"} and {s.language for s in en} == {"en"}
    assert {s.language for s in zh} == {"cmn"}
    zh_text = "".join(s.text for s in zh)
    assert "全球" in zh_text and opencc.OpenCC("t2s").convert(zh_text) == zh_text  # Simplified
    speakers = [{s.speaker for s in turn} for turn in by_turn]
    assert all(len(s) == 1 for s in speakers) and len(set.union(*speakers)) == 3
    assert transcript.main_language == "en"
    assert abs(transcript.duration_s - two_languages.duration_s) < 0.1


def test_word_times_lie_inside_their_segment_in_order(transcript: MeetingTranscript) -> None:
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) >= 20
    for seg in transcript.segments:
        for word in seg.words:
            assert seg.start - 0.05 <= word.start <= word.end <= seg.end + 0.05
    starts = [w.start for w in words]
    assert starts == sorted(starts)


def test_the_record_round_trips_through_json(transcript: MeetingTranscript) -> None:
    again = MeetingTranscript.from_dict(transcript.as_dict())
    assert again.as_dict() == transcript.as_dict()


def test_cantonese_comes_out_in_hong_kong_traditional(meetings, shared_audio: Path) -> None:
    result = meetings.transcribe_file(shared_audio / "yue.wav", language="yue")
    text = "".join(s.text for s in result.segments)
    assert {s.language for s in result.segments} == {"yue"}
    assert opencc.OpenCC("s2hk").convert(text) == text and any(c >= "\u4e00" for c in text)


def test_memory_holds_one_segment_whatever_the_length(two_languages) -> None:
    settings = MeetingSpeechSettings()
    segmenter = SpeechSegmenter(settings)
    audio = clip(two_languages.path)
    longest = regions = 0
    for _ in range(8):  # about 3 minutes in 1 s blocks
        for start in range(0, audio.size, 16000):
            regions += len(segmenter.feed(audio[start : start + 16000]))
            longest = max(longest, segmenter.held_samples)
    bound = (settings.max_segment_s + 1.0 + settings.speech_pad_ms / 1000) * 16000
    assert regions >= 8 * 3 and longest <= bound


def test_bad_recordings_get_clear_errors(meetings, tmp_path: Path, two_languages) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"ID3" + bytes(range(256)) * 40)
    silence = tmp_path / "silence.wav"
    soundfile.write(silence, np.zeros(16000 * 8, dtype=np.float32), 16000)
    cases = [
        (empty, "not a readable audio file|no audio"),
        (corrupt, "readable|corrupt|no audio"),
        (silence, "no speech found"),
        (tmp_path / "missing.wav", "no such file"),
    ]
    for path, message in cases:
        with pytest.raises(AudioInputError, match=message):
            meetings.transcribe_file(path)
    short = MeetingTranscriber(
        meetings.transcriber, meetings.diarizer, MeetingSpeechSettings(max_duration_s=5.0)
    )
    with pytest.raises(AudioInputError, match="longer than the 5 s maximum"):
        short.transcribe_file(two_languages.path)


def test_music_without_words_is_no_speech(meetings, tmp_path: Path) -> None:
    music = tmp_path / "music.ogg"  # a synthesised chord progression with a beat, no voice
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "16000",
            "-c",
            "1",
            str(music),
            "synth",
            "2",
            "pluck",
            "C3",
            "pluck",
            "E3",
            "pluck",
            "G3",
            ":",
            "synth",
            "2",
            "pluck",
            "A2",
            "pluck",
            "C3",
            "pluck",
            "E3",
            "repeat",
            "3",
        ],
        check=True,
    )
    with pytest.raises(MeetingInputError, match="no speech found"):
        meetings.transcribe_file(music)
