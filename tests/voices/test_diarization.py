"""Speaker diarization on meetings built from real speech of different people: the embedded
GE2E engine (resemblyzer's packaged weights) with clustering, the automatic and the expected
speaker count, one speaker, enrolment by a known voice, the ONNX embedding path with a real
(tiny, exported here) ONNX model, and the pyannote engine's configuration errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.meeting_audio import CLIPS, build, clip
from voices.diarization import DiarizationError, DiarizationSettings, build_diarizer
from voices.diarization.metrics import Turn, diarization_error
from voices.meeting import diarize_recording

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def diarizer():
    return build_diarizer(DiarizationSettings())


@pytest.fixture(scope="module")
def three_people(shared_audio: Path, tmp_path_factory) -> object:
    """A B A C B turn-taking with one 0.6 s overlap: JFK, a Mandarin speaker, an English one."""
    jfk = clip(CLIPS / "jfk.flac")
    zh = clip(shared_audio / "1-zh.wav")
    en = clip(shared_audio / "0-en.wav")
    parts = [
        ("jfk", jfk[: int(7.9 * 16000)], 0.0),
        ("zh", zh, 0.0),
        ("jfk", jfk[int(7.9 * 16000) :], 0.0),
        ("en", en, 0.0),
        ("zh", zh[: int(3.2 * 16000)], -0.6),  # talks over the end of the English speaker
    ]
    return build(tmp_path_factory.mktemp("mix") / "three.wav", parts)


def _hyp(diarization) -> list[Turn]:
    return [Turn(t.start, t.end, t.speaker) for t in diarization.turns]


def test_finds_three_people_by_itself_with_a_low_error(diarizer, three_people) -> None:
    result = diarize_recording(three_people.path, diarizer)
    assert len(result.speakers) == 3, result.turns
    report = diarization_error(three_people.reference, _hyp(result), collar=0.25)
    assert report.der < 0.25, report
    # the same person's two turns, 8 s apart, carry one label
    first_jfk = result.speaker_at(1.0, 6.0)
    assert first_jfk == result.speaker_at(
        three_people.reference[2].start + 0.5, three_people.reference[2].end - 0.5
    )
    assert (
        result.speaker_at(
            three_people.reference[1].start + 0.5, three_people.reference[1].end - 0.5
        )
        != first_jfk
    )


def test_an_expected_count_is_respected(diarizer, three_people) -> None:
    result = diarize_recording(three_people.path, diarizer, num_speakers=2)
    assert len(result.speakers) == 2


def test_one_speaker_is_one_speaker(diarizer, tmp_path: Path) -> None:
    jfk = clip(CLIPS / "jfk.flac")
    one = build(
        tmp_path / "one.wav",
        [("jfk", jfk[: int(7.9 * 16000)], 0.0), ("jfk", jfk[int(7.9 * 16000) :], 1.0)],
    )
    result = diarize_recording(one.path, diarizer)
    assert result.speakers == ["S1"]


def test_an_enrolled_voice_names_its_speaker(diarizer, three_people, shared_audio: Path) -> None:
    from voices.meeting import MeetingSpeechSettings, SpeechSegmenter

    # enrol from a different recording of the same person than the one in the meeting
    voice = diarizer.voiceprint(clip(shared_audio / "1-zh.wav", 0.0, 5.0))
    session = diarizer.session(known_voices={"Chan Tai Man": voice})
    segmenter = SpeechSegmenter(MeetingSpeechSettings())
    audio = clip(three_people.path)
    for region in segmenter.feed(audio) + segmenter.flush():
        session.add_speech(region.audio, region.start_s)
    result = session.finish()
    zh_turn = three_people.reference[1]
    assert result.speaker_at(zh_turn.start + 0.5, zh_turn.end - 0.5) == "Chan Tai Man"
    assert sum(s == "Chan Tai Man" for s in result.speakers) == 1


def test_live_labels_are_provisional_then_final(diarizer, three_people) -> None:
    from voices.meeting import MeetingSpeechSettings, SpeechSegmenter

    session = diarizer.session()
    segmenter = SpeechSegmenter(MeetingSpeechSettings())
    audio = clip(three_people.path)
    labels = []
    for start in range(0, audio.size, 3200):  # 200 ms frames, as a microphone sends them
        for region in segmenter.feed(audio[start : start + 3200]):
            labels.append(session.add_speech(region.audio, region.start_s))
    assert labels and all(isinstance(label, str) for label in labels)
    assert len(session.finish().speakers) == 3


def test_an_onnx_speaker_model_by_path_runs_in_the_same_engine(tmp_path: Path, three_people):
    torch = pytest.importorskip("torch")

    class TinyEmbedder(torch.nn.Module):  # (1, frames, 80) fbank -> a 16-d vector
        def __init__(self) -> None:
            super().__init__()
            self.proj = torch.nn.Linear(80, 16)

        def forward(self, feats):
            return self.proj(feats.mean(dim=1))

    model_path = tmp_path / "tiny-campplus.onnx"
    torch.manual_seed(0)
    torch.onnx.export(
        TinyEmbedder(),
        torch.randn(1, 160, 80),
        str(model_path),
        input_names=["feats"],
        output_names=["embs"],
        dynamic_axes={"feats": {1: "frames"}},
        dynamo=False,
    )
    onnx_diarizer = build_diarizer(DiarizationSettings(speaker_embedding_onnx=model_path))
    assert onnx_diarizer.name == "embedded-onnx-tiny-campplus"
    result = diarize_recording(three_people.path, onnx_diarizer)
    assert result.turns and all(t.end > t.start for t in result.turns)


def test_a_missing_onnx_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DiarizationError, match="does not exist"):
        build_diarizer(DiarizationSettings(speaker_embedding_onnx=tmp_path / "none.onnx"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not onnx")
    with pytest.raises(DiarizationError, match="not a loadable ONNX model"):
        build_diarizer(DiarizationSettings(speaker_embedding_onnx=broken))


def test_pyannote_needs_a_pipeline_directory(tmp_path: Path) -> None:
    with pytest.raises(DiarizationError, match=r"needs meetings\.diarization\.pyannote_dir"):
        build_diarizer(DiarizationSettings(engine="pyannote"))
    with pytest.raises(DiarizationError, match=r"no config\.yaml"):
        build_diarizer(DiarizationSettings(engine="pyannote", pyannote_dir=tmp_path))


def test_pyannote_tracks_become_turns_with_overlap_marked() -> None:
    from voices.diarization.pyannote_engine import annotation_to_diarization

    result = annotation_to_diarization(
        [(0.0, 4.0, "SPEAKER_01"), (3.5, 6.0, "SPEAKER_00"), (7.0, 8.0, "SPEAKER_01")],
        engine="pyannote",
    )
    assert result.speakers == ["S1", "S2"]
    assert [t.overlap for t in result.turns] == [True, True, False]
    assert result.speaker_at(6.5, 8.0) == "S1"
    assert np.isclose(result.turns[1].start, 3.5)
