"""`/ws/talk`: one citizen's voice session over a WebSocket (protocol: docs/protocol.md).

The socket is a thin shell around `assistant.session.VoiceSession`: it enforces the limits
(origin, concurrent sessions, frame size, floods, idle and session time), turns client
frames into session calls, and session events into server frames. Everything the server
sends goes through one queue and one sender task, so frames never interleave and the audio
of an interrupted answer still waiting in the queue is dropped, not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from assistant.session import (
    Interrupted,
    SessionConfig,
    SessionEvent,
    SpeechStarted,
    TurnStarted,
    VoiceSession,
)
from assistant.types import (
    AnswerDelta,
    AudioData,
    AudioEnd,
    AudioStart,
    FinalTranscript,
    PartialTranscript,
    SourcesFound,
    TurnEnd,
    TurnError,
)
from serving import protocol
from serving.limits import TokenBucket
from serving.protocol import ProtocolError

if TYPE_CHECKING:
    from serving.runtime import Runtime
    from serving.settings import ServerSettings

log = logging.getLogger("samyu.talk")
router = APIRouter()


@router.websocket("/ws/talk")
async def talk(websocket: WebSocket) -> None:
    await TalkConnection(websocket, websocket.app.state.runtime).run()


class _Close(Exception):
    """Ends the connection after an (optional) error frame."""

    def __init__(self, code: int, reason: str, error: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.error = code, reason, error


def _fatal(close_code: int, code: str, message: str) -> _Close:
    return _Close(close_code, code, protocol.error(code, message, fatal=True))


class TalkConnection:
    def __init__(self, websocket: WebSocket, runtime: Runtime) -> None:
        self.ws = websocket
        self.runtime = runtime
        self.limits: ServerSettings = runtime.settings.server
        self.metrics = runtime.metrics
        self.session_id = uuid.uuid4().hex[:16]
        self.session: VoiceSession | None = None
        self.outbox: asyncio.Queue[tuple[int | None, Any]] = asyncio.Queue(maxsize=1024)
        self.dropped_turns: set[int] = set()
        self.turn_inputs: dict[int, str] = {}
        self.turn_report: dict[int, dict[str, Any]] = {}  # question + documents, for the report
        self.collection = ""
        self.protocol_errors = 0
        self.bucket = TokenBucket(self.limits.max_messages_per_s, self.limits.message_burst)
        self.opened = time.monotonic()
        self.last_activity = self.opened
        self.counted = False

    # ---- lifecycle -----------------------------------------------------------------------

    def _refusal(self) -> tuple[int, str, str] | None:
        """Why this socket cannot have a session now: (close code, error code, message)."""
        if not self._origin_allowed():
            return (
                protocol.CLOSE_POLICY_VIOLATION,
                "origin_not_allowed",
                "this page's origin may not use the voice service",
            )
        if self.runtime.active_sessions >= self.limits.max_sessions:
            return (
                protocol.CLOSE_TRY_AGAIN_LATER,
                "busy",
                "all lines are busy; please try again in a minute",
            )
        if not self.runtime.can_talk:
            return (
                protocol.CLOSE_TRY_AGAIN_LATER,
                "not_ready",
                "the service is starting; please try again shortly",
            )
        return None

    async def run(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            await self._refuse(*refusal)
            return
        self.runtime.active_sessions += 1
        self.counted = True
        self.metrics.sessions_active.inc()
        await self.ws.accept()
        sender = asyncio.create_task(self._sender(), name=f"talk-send-{self.session_id}")
        close = _Close(protocol.CLOSE_NORMAL, "bye")
        try:
            await self._receive_loop()
        except _Close as stop:
            close = stop
        except WebSocketDisconnect:
            close = _Close(protocol.CLOSE_NORMAL, "client gone")
        except Exception:  # never let one session take the server down
            log.exception("session %s failed", self.session_id)
            close = _fatal(protocol.CLOSE_INTERNAL_ERROR, "internal", "the server failed")
        finally:
            self._release()  # first, synchronously: a cancelled handler must not leak a slot
            try:
                await self._finish(sender, close)
            finally:
                sender.cancel()

    async def _refuse(self, close_code: int, code: str, message: str) -> None:
        """Accept, say why in an error frame, close: a browser cannot read a refused handshake."""
        self.metrics.sessions_refused.labels(reason=code).inc()
        self.metrics.errors.labels(code=code).inc()
        with contextlib.suppress(Exception):
            await self.ws.accept()
            await self.ws.send_json(protocol.error(code, message, fatal=True))
            await self.ws.close(close_code, code)

    async def _finish(self, sender: asyncio.Task[None], close: _Close) -> None:
        if self.session is not None:
            await self.session.close()
        if close.error is not None:
            self.metrics.errors.labels(code=close.error["code"]).inc()
            await self._put(None, close.error)
        await self._put(None, None)  # the sender stops after what is queued
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender, timeout=5.0)
        sender.cancel()
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(close.code, close.reason[:120])
        log.info("session %s closed: %s (%d)", self.session_id, close.reason, close.code)

    def _release(self) -> None:
        if self.counted:
            self.counted = False
            self.runtime.active_sessions -= 1
            self.metrics.sessions_active.dec()
            self.metrics.session_seconds.observe(time.monotonic() - self.opened)

    def _origin_allowed(self) -> bool:
        origin = self.ws.headers.get("origin")
        allowed = self.limits.allowed_origins
        return origin is None or "*" in allowed or origin in allowed

    # ---- receiving -------------------------------------------------------------------------

    def _timeout(self) -> tuple[float, _Close]:
        now = time.monotonic()
        session_left = self.opened + self.limits.max_session_s - now
        if self.session is None:
            start_left = self.opened + self.limits.start_timeout_s - now
            if start_left < session_left:
                return start_left, _fatal(
                    protocol.CLOSE_POLICY_VIOLATION,
                    "start_timeout",
                    f"no start frame within {self.limits.start_timeout_s:g} s",
                )
        if self.session is not None and self.session.answering:
            self.last_activity = now  # an answer in progress is activity
        idle_left = self.last_activity + self.limits.idle_timeout_s - now
        if idle_left < session_left:
            return idle_left, _fatal(
                protocol.CLOSE_NORMAL,
                "idle_timeout",
                f"nothing received for {self.limits.idle_timeout_s:g} s; closing",
            )
        return session_left, _fatal(
            protocol.CLOSE_NORMAL,
            "session_expired",
            f"sessions last at most {self.limits.max_session_s:g} s; please reconnect",
        )

    async def _receive_loop(self) -> None:
        while True:
            timeout, on_timeout = self._timeout()
            if timeout <= 0:
                raise on_timeout
            try:
                message = await asyncio.wait_for(self.ws.receive(), timeout=min(timeout, 1.0))
            except TimeoutError:
                continue  # re-evaluate: an answer in progress keeps the session alive
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            self.last_activity = time.monotonic()
            if not self.bucket.take():
                raise _fatal(
                    protocol.CLOSE_POLICY_VIOLATION,
                    "rate_limited",
                    f"more than {self.limits.max_messages_per_s:g} frames a second",
                )
            data, text = message.get("bytes"), message.get("text")
            size = len(data) if data is not None else len((text or "").encode())
            if size > self.limits.max_message_bytes:
                raise _fatal(
                    protocol.CLOSE_MESSAGE_TOO_BIG,
                    "message_too_big",
                    f"frame of {size} bytes; the limit is {self.limits.max_message_bytes}",
                )
            try:
                if data is not None:
                    await self._on_audio(data)
                else:
                    await self._on_text(text or "")
            except ProtocolError as exc:
                await self._protocol_error(exc)

    async def _protocol_error(self, exc: ProtocolError) -> None:
        self.protocol_errors += 1
        if self.protocol_errors >= self.limits.max_protocol_errors:
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION,
                exc.code,
                f"{exc.message} (too many protocol errors; closing)",
            )
        await self._send_error(exc.code, exc.message)

    async def _on_audio(self, data: bytes) -> None:
        if self.session is None:
            raise ProtocolError("not_started", "send a start frame before audio")
        if len(data) % 2:
            raise ProtocolError("bad_audio", "PCM16 frames must hold an even number of bytes")
        await self.session.feed_audio(data)

    async def _on_text(self, raw: str) -> None:
        frame = protocol.parse_client_frame(raw)
        if isinstance(frame, protocol.Start):
            await self._on_start(frame)
            return
        if self.session is None:
            raise ProtocolError("not_started", f"send a start frame before {frame.type}")
        if isinstance(frame, protocol.EndOfSpeech):
            await self.session.end_of_speech()
        elif isinstance(frame, protocol.Text):
            await self._on_question(frame.text)
        elif isinstance(frame, protocol.Stop):
            if frame.scope == "turn":
                await self.session.cancel_turn()
            else:
                raise _Close(protocol.CLOSE_NORMAL, "stop")

    async def _on_question(self, text: str) -> None:
        text = text.strip()
        if not text:
            raise ProtocolError("empty_text", "the question is empty")
        if len(text) > self.limits.max_text_chars:
            raise ProtocolError(
                "text_too_long", f"questions are limited to {self.limits.max_text_chars} characters"
            )
        assert self.session is not None
        await self.session.ask(text)

    async def _on_start(self, frame: protocol.Start) -> None:
        if self.session is not None:
            raise ProtocolError("already_started", "this session has already started")
        if frame.protocol not in protocol.SUPPORTED_PROTOCOLS:
            raise _fatal(
                protocol.CLOSE_PROTOCOL_ERROR,
                "unsupported_protocol",
                f"protocol {frame.protocol} is not supported; this server speaks "
                f"{sorted(protocol.SUPPORTED_PROTOCOLS)}",
            )
        if frame.sample_rate not in self.limits.input_sample_rates:
            raise ProtocolError(
                "unsupported_sample_rate",
                f"sample_rate {frame.sample_rate} is not supported; use one of "
                f"{self.limits.input_sample_rates}",
            )
        collection = frame.collection or self.runtime.default_collection
        if not self.runtime.has_collection(collection):
            raise ProtocolError("unknown_collection", f"no collection named {collection!r}")
        self.collection = collection
        language = None if frame.language == "auto" else frame.language
        self.session = self.runtime.new_session(
            collection=collection,
            emit=self._on_event,
            endpointing=frame.mode == "hands_free",
            config=SessionConfig(
                language=language,
                barge_in=self.limits.barge_in,
                barge_in_guard_s=self.limits.barge_in_guard_ms / 1000,
                max_utterance_s=self.limits.max_utterance_s,
                sample_rate=frame.sample_rate,
                turns_per_minute=self.limits.turns_per_minute,
                audio_dir=self.limits.audio_dir if self.limits.store_audio else None,
            ),
        )
        await self.session.start()
        self.metrics.sessions.inc()
        log.info(
            "session %s started: language=%s collection=%s rate=%d",
            self.session_id,
            frame.language,
            collection,
            frame.sample_rate,
        )
        await self._put(
            None,
            protocol.ready(
                session_id=self.session_id,
                limits=self._announced_limits(),
                input_rates=self.limits.input_sample_rates,
                sample_rate=frame.sample_rate,
                output_rate=self.runtime.output_sample_rate(language),
                language=frame.language,
                collection=collection,
                mode=frame.mode,
            ),
        )

    def _announced_limits(self) -> dict[str, Any]:
        s = self.limits
        return {
            "max_message_bytes": s.max_message_bytes,
            "max_text_chars": s.max_text_chars,
            "max_utterance_s": s.max_utterance_s,
            "max_session_s": s.max_session_s,
            "idle_timeout_s": s.idle_timeout_s,
            "turns_per_minute": s.turns_per_minute,
            "max_messages_per_s": s.max_messages_per_s,
            "barge_in": s.barge_in,
        }

    # ---- sending ----------------------------------------------------------------------

    async def _send_error(self, code: str, message: str, turn_id: int | None = None) -> None:
        self.metrics.errors.labels(code=code).inc()
        frame = protocol.error(code, message)
        if turn_id is not None:
            frame["turn_id"] = turn_id
        await self._put(None, frame)

    async def _put(self, turn_id: int | None, payload: Any) -> None:
        await self.outbox.put((turn_id, payload))

    async def _sender(self) -> None:
        while True:
            turn_id, payload = await self.outbox.get()
            if payload is None:
                return
            if turn_id is not None and turn_id in self.dropped_turns:
                continue  # audio and text of an interrupted answer: never sent
            try:
                if isinstance(payload, bytes):
                    await self.ws.send_bytes(payload)
                else:
                    await self.ws.send_json(payload)
            except Exception:  # the client went away; the receive loop notices
                return

    async def _on_event(self, item: SessionEvent) -> None:
        """Session event -> server frame(s)."""
        turn_id, event = item.turn_id, item.event
        frames = self._frames(turn_id, event)
        if isinstance(event, Interrupted):
            self.dropped_turns.add(event.interrupted_turn)
            self.turn_report.pop(event.interrupted_turn, None)
            self.metrics.turns.labels(
                input=self.turn_inputs.pop(event.interrupted_turn, "voice"), outcome="interrupted"
            ).inc()
            if event.reason == "barge_in":
                self.metrics.barge_ins.inc()
            turn_id = None  # the interruption itself must get through
        for frame in frames:
            await self._put(turn_id, frame)

    def _frames(self, turn_id: int | None, event: object) -> list[Any]:
        tagged = {"turn_id": turn_id} if turn_id is not None else {}
        match event:
            case SpeechStarted():
                return [{"type": "speech_started"}]
            case PartialTranscript(text=text):
                return [{"type": "partial", "text": text}]
            case FinalTranscript(text=text, language=language):
                log.info("session %s transcript (%s): %s", self.session_id, language, text)
                return [{"type": "transcript", "text": text, "language": language}]
            case TurnStarted():
                assert turn_id is not None
                self.turn_inputs[turn_id] = event.input
                self.turn_report[turn_id] = {"question": event.question, "sources": []}
                if event.input == "text":  # typed questions are logged like transcripts
                    log.info("session %s question (typed): %s", self.session_id, event.question)
                return [
                    {"type": "turn_start", **tagged, "input": event.input, "text": event.question}
                ]
            case SourcesFound(sources=sources):
                if turn_id in self.turn_report:
                    self.turn_report[turn_id]["sources"] = [s.doc_id for s in sources]
                return [
                    {"type": "sources", **tagged, "sources": [asdict(source) for source in sources]}
                ]
            case AnswerDelta(delta=delta):
                return [{"type": "answer", **tagged, "delta": delta}]
            case AudioStart(sample_rate=rate, format=fmt):
                return [{"type": "audio_start", **tagged, "format": fmt, "sample_rate": rate}]
            case AudioData(pcm=pcm):
                step = self.limits.output_frame_bytes
                return [pcm[i : i + step] for i in range(0, len(pcm), step)]
            case AudioEnd():
                return [{"type": "audio_end", **tagged}]
            case TurnEnd():
                return [self._turn_end(turn_id, event)]
            case TurnError(code=code, message=message):
                self.metrics.errors.labels(code=code).inc()
                return [{**protocol.error(code, message), **tagged}]
            case Interrupted():
                return [
                    {
                        "type": "interrupted",
                        "turn_id": event.interrupted_turn,
                        "reason": event.reason,
                        "cancel_ms": round(event.cancel_ms, 1),
                    }
                ]
        return []  # events the protocol does not carry (e.g. whole answer sentences)

    def _turn_end(self, turn_id: int | None, event: TurnEnd) -> dict[str, Any]:
        kind = self.turn_inputs.pop(turn_id, "voice") if turn_id is not None else "voice"
        context = self.turn_report.pop(turn_id, {}) if turn_id is not None else {}
        outcome = self.metrics.record_turn(event, input=kind, collection=self.collection, **context)
        log.info("session %s turn %s %s: %s", self.session_id, turn_id, outcome, event.answer)
        return {
            "type": "turn_end",
            "turn_id": turn_id,
            "answer": event.answer,
            "refused": event.refused,
            "cancelled": event.cancelled,
            "language": event.language,
            "timings": {k: round(v, 1) for k, v in event.timings.items() if v is not None},
        }
