"""The /ws/talk wire protocol, version 1 (docs/protocol.md): client frames in, server frames out.

Client frames are validated with pydantic; unknown fields are ignored so that a newer widget
can talk to an older server (and the reverse). Server frames are plain dicts built here from
the pipeline's frames (assistant/frames.py), so the names on the wire live in one place.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from assistant.frames import (
    AnswerDelta,
    AudioData,
    AudioEnd,
    AudioMark,
    AudioStart,
    FinalTranscript,
    Frame,
    HoldingPhrase,
    Interrupted,
    PartialTranscript,
    SourcesFound,
    SpeechStarted,
    TurnEnd,
    TurnError,
    TurnStarted,
)

Outgoing = dict[str, Any] | bytes  # a JSON frame or an audio frame
log = logging.getLogger("samyu.protocol")

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOLS = frozenset({1})
OUTPUT_FORMAT = "pcm_s16le"

# WebSocket close codes the server uses (RFC 6455 section 7.4.1).
CLOSE_NORMAL = 1000  # stop, idle timeout, session length reached
CLOSE_GOING_AWAY = 1001  # server shutting down
CLOSE_PROTOCOL_ERROR = 1002  # unsupported protocol version
CLOSE_UNSUPPORTED_DATA = 1003  # unusable data (binary when text was required)
CLOSE_POLICY_VIOLATION = 1008  # origin refused, flood, too many protocol errors
CLOSE_MESSAGE_TOO_BIG = 1009  # a frame above max_message_bytes
CLOSE_INTERNAL_ERROR = 1011  # the server failed (models not ready)
CLOSE_TRY_AGAIN_LATER = 1013  # busy: max concurrent sessions reached


class ClientFrame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Start(ClientFrame):
    type: Literal["start"]
    sample_rate: int = 16_000
    language: Literal["auto", "yue", "cmn", "en"] = "auto"
    collection: str | None = None
    protocol: int = PROTOCOL_VERSION
    # hands_free: the server ends an utterance after a pause (VAD end point);
    # push_to_talk: only `end_of_speech` (or the utterance limit) ends it
    mode: Literal["hands_free", "push_to_talk"] = "hands_free"


class EndOfSpeech(ClientFrame):
    type: Literal["end_of_speech"]


class Text(ClientFrame):
    type: Literal["text"]
    text: str


class Stop(ClientFrame):
    type: Literal["stop"]
    # "session": end the session (close 1000); "turn": stop the current answer, stay connected
    scope: Literal["session", "turn"] = "session"


class Playback(ClientFrame):
    """Optional: how far the caller has heard an answer (barge-in and memory use it)."""

    type: Literal["playback"]
    turn_id: int = Field(ge=1)
    sentence: int = Field(ge=0)  # sentences of the turn heard completely
    played_ms: float = Field(ge=0)  # audio of the turn played so far


AnyClientFrame = Annotated[
    Start | EndOfSpeech | Text | Stop | Playback, Field(discriminator="type")
]
_client_frame = TypeAdapter(AnyClientFrame)
CLIENT_FRAME_TYPES = ("start", "end_of_speech", "text", "stop", "playback")


class ProtocolError(Exception):
    """A client frame the server cannot use; `code` goes into the `error` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_client_frame(raw: str) -> Start | EndOfSpeech | Text | Stop | Playback:
    """One JSON text frame -> a typed frame, or ProtocolError with a precise code."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"frame is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "a JSON frame must be an object with a 'type'")
    kind = data.get("type")
    if kind not in CLIENT_FRAME_TYPES:
        raise ProtocolError(
            "unknown_type",
            f"unknown frame type {kind!r}; expected one of {', '.join(CLIENT_FRAME_TYPES)}",
        )
    try:
        frame = _client_frame.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or kind
        raise ProtocolError("bad_frame", f"{kind}: {where}: {first['msg']}") from None
    if isinstance(frame, Text) and _SURROGATE.search(frame.text):
        # JSON may escape a lone surrogate ("\ud800"): valid JSON, not valid Unicode text,
        # and it could never be sent back (UTF-8 cannot encode it)
        raise ProtocolError("bad_text", "the text holds a lone surrogate (not valid Unicode)")
    return frame


_SURROGATE = re.compile("[\ud800-\udfff]")


# ---- server frames -------------------------------------------------------------------


def error(code: str, message: str, *, fatal: bool = False) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "fatal": fatal}


def server_frames(turn_id: int | None, frame: Frame, audio_frame_bytes: int) -> list[Outgoing]:
    """One pipeline frame (assistant.frames) -> its wire frames: JSON objects, or audio bytes
    in frames of at most `audio_frame_bytes`. Frames the protocol does not carry (whole
    answer sentences) -> []."""
    tagged = {"turn_id": turn_id} if turn_id is not None else {}
    match frame:
        case SpeechStarted():
            return [{"type": "speech_started"}]
        case PartialTranscript(text=text):
            return [{"type": "partial", "text": text}]
        case FinalTranscript(text=text, language=language):
            return [{"type": "transcript", "text": text, "language": language}]
        case TurnStarted(input=kind, question=question):
            return [{"type": "turn_start", **tagged, "input": kind, "text": question}]
        case SourcesFound(sources=sources):
            return [{"type": "sources", **tagged, "sources": [asdict(s) for s in sources]}]
        case AnswerDelta(delta=delta):
            return [{"type": "answer", **tagged, "delta": delta}]
        case HoldingPhrase(text=text, language=language):  # not answer text: its own frame
            return [{"type": "holding", **tagged, "text": text, "language": language}]
        case AudioStart(sample_rate=rate, format=fmt):
            return [{"type": "audio_start", **tagged, "format": fmt, "sample_rate": rate}]
        case AudioData(pcm=pcm):
            step = audio_frame_bytes
            return [pcm[i : i + step] for i in range(0, len(pcm), step)]
        case AudioMark(sentences=sentences):
            return [{"type": "audio_mark", **tagged, "sentence": sentences}]
        case AudioEnd():
            return [{"type": "audio_end", **tagged}]
        case TurnEnd():
            return [turn_end(turn_id, frame)]
        case TurnError(code=code, message=message):
            return [{**error(code, message), **tagged}]
        case Interrupted(interrupted_turn=interrupted, reason=reason, cancel_ms=cancel_ms):
            return [
                {
                    "type": "interrupted",
                    "turn_id": interrupted,
                    "reason": reason,
                    "cancel_ms": round(cancel_ms, 1),
                }
            ]
    return []


def turn_end(turn_id: int | None, frame: TurnEnd) -> dict[str, Any]:
    return {
        "type": "turn_end",
        "turn_id": turn_id,
        "answer": frame.answer,
        "refused": frame.refused,
        "cancelled": frame.cancelled,
        "outcome": frame.outcome,
        "language": frame.language,
        "timings": {k: round(v, 1) for k, v in frame.timings.items() if v is not None},
    }


def encode(frame: dict[str, Any], session_id: str = "") -> tuple[str, bool]:
    """A server frame as the JSON text to send, and whether it went as it was.

    A frame that cannot be encoded (a lone surrogate reached it from a client's text, which
    UTF-8 cannot carry) is never dropped silently, which would leave the caller waiting on a
    dead line: it becomes an `error` frame (code `unencodable_frame`) for the same turn, a
    log line says which frame type was lost, and the second value is False (the caller
    counts it). The one encoding path of every server frame.
    """
    text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
        return text, True
    except UnicodeEncodeError as exc:
        kind = frame.get("type", "?")
        log.warning(
            "session %s: %s frame not encodable as UTF-8 (%s); sent an error",
            session_id,
            kind,
            exc.reason,
        )
    lost = error("unencodable_frame", f"a {kind} frame was lost")
    if "turn_id" in frame:
        lost["turn_id"] = frame["turn_id"]
    return json.dumps(lost, ensure_ascii=False, separators=(",", ":")), False


def ready(
    *,
    session_id: str,
    limits: dict[str, Any],
    input_rates: list[int],
    sample_rate: int,
    output_rate: int | None,
    language: str,
    collection: str,
    mode: str,
) -> dict[str, Any]:
    return {
        "type": "ready",
        "protocol": PROTOCOL_VERSION,
        "session_id": session_id,
        "language": language,
        "collection": collection,
        "mode": mode,
        "sample_rate": sample_rate,
        "limits": limits,
        "audio": {
            "input": {"format": OUTPUT_FORMAT, "channels": 1, "sample_rates": input_rates},
            "output": {"format": OUTPUT_FORMAT, "channels": 1, "sample_rate": output_rate},
        },
    }
