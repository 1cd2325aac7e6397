"""The wire protocol's conversions: client frames in, pipeline frames out as wire frames."""

from __future__ import annotations

import json

import pytest

from assistant.frames import (
    AnswerSentence,
    AudioData,
    Interrupted,
    SourcesFound,
    SpeechStarted,
    TurnEnd,
    TurnError,
)
from serving import protocol


def test_pipeline_frames_become_wire_frames() -> None:
    assert protocol.server_frames(None, SpeechStarted(1, 0.5), 4) == [{"type": "speech_started"}]
    assert protocol.server_frames(3, SourcesFound([]), 4) == [
        {"type": "sources", "turn_id": 3, "sources": []}
    ]
    assert protocol.server_frames(3, AudioData(b"0123456789"), 4) == [b"0123", b"4567", b"89"]
    assert protocol.server_frames(3, AnswerSentence("spoken, not shown"), 4) == []
    (stop,) = protocol.server_frames(3, Interrupted(2, 12.345, "barge_in"), 4)
    assert stop == {"type": "interrupted", "turn_id": 2, "reason": "barge_in", "cancel_ms": 12.3}
    (error,) = protocol.server_frames(3, TurnError("turn_failed", "boom"), 4)
    assert error["turn_id"] == 3 and error["code"] == "turn_failed" and error["fatal"] is False


@pytest.mark.parametrize(
    ("end", "outcome"),
    [
        (TurnEnd("a", False, "en"), "model"),
        (TurnEnd("a", True, "en"), "refused"),
        (TurnEnd("a", False, "en", fallback="extractive"), "extractive_fallback"),
        (TurnEnd("a", False, "en", fallback="extractive", error="timeout"), "timeout"),
    ],
)
def test_turn_end_carries_its_outcome(end: TurnEnd, outcome: str) -> None:
    (frame,) = protocol.server_frames(1, end, 4)
    assert frame["outcome"] == outcome and frame["type"] == "turn_end"


def test_encode_turns_what_utf8_cannot_carry_into_an_error_frame() -> None:
    text, sent_as_is = protocol.encode({"type": "answer", "delta": "係 ok"})
    assert json.loads(text)["delta"] == "係 ok" and sent_as_is
    text, sent_as_is = protocol.encode({"type": "answer", "turn_id": 2, "delta": "bad \ud800"})
    assert not sent_as_is
    assert json.loads(text) == {
        "type": "error",
        "code": "unencodable_frame",
        "message": "a answer frame was lost",
        "fatal": False,
        "turn_id": 2,
    }


def test_playback_frames_are_parsed_and_checked() -> None:
    frame = protocol.parse_client_frame(
        '{"type": "playback", "turn_id": 2, "sentence": 1, "played_ms": 900.5}'
    )
    assert isinstance(frame, protocol.Playback) and frame.played_ms == 900.5
    with pytest.raises(protocol.ProtocolError) as bad:
        protocol.parse_client_frame('{"type": "playback", "turn_id": 0, "sentence": 0}')
    assert bad.value.code == "bad_frame"
