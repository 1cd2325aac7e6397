"""`/ws/talk`: one citizen's voice session over a WebSocket (protocol: docs/protocol.md).

The socket is a thin shell around `assistant.session.VoiceSession`: it enforces the limits
(origin, concurrent sessions, frame size, floods, idle and session time), converts client
frames into pipeline input frames (assistant.frames) and the session's frames into server
frames, and nothing else. Everything the server sends goes through one queue and one sender
task, so frames never interleave: the session puts its frames into that queue itself (no
callback in between) and the sender converts each into wire frames as it sends them; frames
of a turn whose handle says `interrupted` (audio still waiting in the queue) are dropped.
A frame that cannot be encoded becomes an `error` frame (code `unencodable_frame`), is
logged, and the session goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from assistant.frames import (
    AudioIn,
    EndOfSpeech,
    FinalTranscript,
    Frame,
    Interrupted,
    PartialTranscript,
    Playback,
    Question,
    SessionEvent,
    SourcesFound,
    SpeechStarted,
    StopTurn,
    TurnEnd,
    TurnError,
    TurnStarted,
)
from assistant.session import SessionConfig, VoiceSession
from serving import protocol
from serving.limits import TokenBucket, origin_allowed
from serving.protocol import ProtocolError

if TYPE_CHECKING:
    from serving.runtime import Runtime
    from serving.settings import ServerSettings

log = logging.getLogger("samyu.talk")
# a session frame (converted by the sender), a JSON frame of the socket's own, or the end
Outgoing = SessionEvent | dict[str, Any] | None
Wire = protocol.Outgoing  # a JSON frame or audio bytes, as sent
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
        self.outbox: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=1024)
        self.turn_inputs: dict[int, str] = {}
        self.turn_report: dict[int, dict[str, Any]] = {}  # question + documents, for the report
        self.collection = ""
        self.protocol_errors = 0
        self.bucket = TokenBucket(self.limits.max_messages_per_s, self.limits.message_burst)
        self.opened = time.monotonic()
        self.last_activity = self.opened
        self.counted = False
        self.client = websocket.client.host if websocket.client else "unknown"
        self.client_counted = False

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
        if refusal is None:
            refusal = self._client_refusal()
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

    def _client_refusal(self) -> tuple[int, str, str] | None:
        """Per-client (per-IP) limits: sessions at once and connections per minute."""
        code = self.runtime.clients.admit(self.client)
        if code is None:
            self.client_counted = True
            return None
        log.warning("refused a session from %s: %s", self.client, code)
        return (
            protocol.CLOSE_TRY_AGAIN_LATER,
            code,
            "too many voice sessions from your network; please try again in a minute",
        )

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
            await self.outbox.put(close.error)
        await self.outbox.put(None)  # the sender stops after what is queued
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender, timeout=5.0)
        sender.cancel()
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(close.code, close.reason[:120])
        log.info("session %s closed: %s (%d)", self.session_id, close.reason, close.code)

    def _release(self) -> None:
        if self.client_counted:
            self.client_counted = False
            self.runtime.clients.release(self.client)
        if self.counted:
            self.counted = False
            self.runtime.active_sessions -= 1
            self.metrics.sessions_active.dec()
            self.metrics.session_seconds.observe(time.monotonic() - self.opened)

    def _origin_allowed(self) -> bool:
        headers = self.ws.headers
        return origin_allowed(
            headers.get("origin"), headers.get("host"), self.limits.allowed_origins
        )

    # ---- receiving -------------------------------------------------------------------------

    def _timeout(self) -> tuple[float, str]:
        """Seconds until the nearest limit, and which one (start, idle or session time)."""
        now = time.monotonic()
        session_left = self.opened + self.limits.max_session_s - now
        if self.session is None:
            start_left = self.opened + self.limits.start_timeout_s - now
            if start_left < session_left:
                return start_left, "start_timeout"
        if self.session is not None and self.session.answering:
            self.last_activity = now  # an answer in progress is activity
        idle_left = self.last_activity + self.limits.idle_timeout_s - now
        if idle_left < session_left:
            return idle_left, "idle_timeout"
        return session_left, "session_expired"

    def _timed_out(self, limit: str) -> _Close:
        s = self.limits
        if limit == "start_timeout":
            message = f"no start frame within {s.start_timeout_s:g} s"
            return _fatal(protocol.CLOSE_POLICY_VIOLATION, limit, message)
        if limit == "idle_timeout":
            message = f"nothing received for {s.idle_timeout_s:g} s; closing"
            return _fatal(protocol.CLOSE_NORMAL, limit, message)
        message = f"sessions last at most {s.max_session_s:g} s; please reconnect"
        return _fatal(protocol.CLOSE_NORMAL, limit, message)

    async def _receive_loop(self) -> None:
        while True:
            timeout, limit = self._timeout()
            if timeout <= 0:
                raise self._timed_out(limit)
            try:
                # asyncio.timeout, not wait_for: no task is created per frame received
                async with asyncio.timeout(min(timeout, 1.0)):
                    message = await self.ws.receive()
            except TimeoutError:
                continue  # re-evaluate: an answer in progress keeps the session alive
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            # not activity by itself: only speech, a question or an answer keep a line (idle)
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
        await self.session.send(AudioIn(data))

    async def _on_text(self, raw: str) -> None:
        frame = protocol.parse_client_frame(raw)
        if isinstance(frame, protocol.Start):
            await self._on_start(frame)
            return
        if self.session is None:
            raise ProtocolError("not_started", f"send a start frame before {frame.type}")
        if isinstance(frame, protocol.EndOfSpeech):
            await self.session.send(EndOfSpeech())
        elif isinstance(frame, protocol.Text):
            await self._on_question(frame.text)
        elif isinstance(frame, protocol.Playback):
            self.metrics.playback_reports.inc()
            log.debug(
                "session %s turn %s playback: sentence %s, %.0f ms",
                self.session_id,
                frame.turn_id,
                frame.sentence,
                frame.played_ms,
            )
            await self.session.send(Playback(frame.turn_id, frame.sentence, frame.played_ms))
        elif isinstance(frame, protocol.Stop):
            if frame.scope == "turn":
                await self.session.send(StopTurn())
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
        self.last_activity = time.monotonic()
        log.info("session %s question: %s", self.session_id, text)  # redacted by the filter
        await self.session.send(Question(text))

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
            emit=self.outbox.put,  # the session's frames go straight to the sender
            endpointing=frame.mode == "hands_free",
            config=SessionConfig(
                language=language,
                barge_in=self.limits.barge_in,
                barge_in_guard_s=self.limits.barge_in_guard_ms / 1000,
                barge_in_on=self.limits.barge_in_on,
                barge_in_min_speech_s=self.limits.barge_in_min_speech_ms / 1000,
                acknowledgements=tuple(self.limits.acknowledgements),
                max_utterance_s=self.limits.max_utterance_s,
                sample_rate=frame.sample_rate,
                turns_per_minute=self.limits.turns_per_minute,
                audio_dir=self.limits.audio_dir if self.limits.store_audio else None,
            ),
        )
        await self.session.start()
        self.last_activity = time.monotonic()
        self.metrics.sessions.inc()
        log.info(
            "session %s started: language=%s collection=%s rate=%d",
            self.session_id,
            frame.language,
            collection,
            frame.sample_rate,
        )
        await self.outbox.put(
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

    async def _send_error(self, code: str, message: str) -> None:
        self.metrics.errors.labels(code=code).inc()
        await self.outbox.put(protocol.error(code, message))

    async def _sender(self) -> None:
        """The one sender: session frames become wire frames here, in order."""
        while (item := await self.outbox.get()) is not None:
            try:
                for turn_id, payload in self._wire(item):
                    if self.session is not None and self.session.interrupted(turn_id):
                        continue  # audio and text of an interrupted answer: never sent
                    if isinstance(payload, bytes):
                        await self.ws.send_bytes(payload)
                    else:
                        await self.ws.send_text(self._encode(payload))
            except Exception as exc:  # the client went away; the receive loop notices
                log.info("session %s: send failed (%s); sender stops", self.session_id, exc)
                return

    def _encode(self, frame: dict[str, Any]) -> str:
        text, sent_as_is = protocol.encode(frame, self.session_id)
        if not sent_as_is:
            self.metrics.errors.labels(code="unencodable_frame").inc()
        return text

    def _wire(self, item: SessionEvent | dict[str, Any]) -> list[tuple[int | None, Wire]]:
        """What goes on the wire for one outbox item, each with the turn it belongs to."""
        if not isinstance(item, SessionEvent):
            return [(None, item)]  # the socket's own frames (ready, errors) belong to no turn
        turn_id, event = item.turn_id, item.event
        if isinstance(event, SpeechStarted | PartialTranscript | FinalTranscript):
            self.last_activity = time.monotonic()  # the caller is speaking: not idle
        frames = self._frames(turn_id, event)
        if isinstance(event, Interrupted):
            self._count_interruption(event)
            turn_id = None  # the interruption itself must get through
        return [(turn_id, frame) for frame in frames]

    def _count_interruption(self, event: Interrupted) -> None:
        turn = self.session.turn(event.interrupted_turn) if self.session else None
        kind = self.turn_inputs.pop(event.interrupted_turn, "voice")
        self.turn_report.pop(event.interrupted_turn, None)
        if turn is None or not turn.ended:  # a finished turn was counted by its turn_end
            self.metrics.turns.labels(input=kind, outcome="interrupted").inc()
        if event.reason == "barge_in":
            self.metrics.barge_ins.inc()

    def _frames(self, turn_id: int | None, event: Frame) -> list[protocol.Outgoing]:
        """Record what the frame means for metrics and logs, then its wire frames."""
        match event:
            case FinalTranscript(text=text, language=language):
                log.info("session %s transcript (%s): %s", self.session_id, language, text)
            case TurnStarted():
                if turn_id is not None:
                    self.turn_inputs[turn_id] = event.input
                    self.turn_report[turn_id] = {"question": event.question, "sources": []}
            case SourcesFound(sources=sources):
                if turn_id in self.turn_report:
                    self.turn_report[turn_id]["sources"] = [s.doc_id for s in sources]
            case TurnEnd():
                self._count_turn_end(turn_id, event)
            case TurnError(code=code):
                self.metrics.errors.labels(code=code).inc()
                if turn_id is not None:  # a failed turn: its stage timings count too
                    self.metrics.observe_timings(event.timings)
        return protocol.server_frames(turn_id, event, self.limits.output_frame_bytes)

    def _count_turn_end(self, turn_id: int | None, event: TurnEnd) -> None:
        kind = self.turn_inputs.pop(turn_id, "voice") if turn_id is not None else "voice"
        context = self.turn_report.pop(turn_id, {}) if turn_id is not None else {}
        outcome = self.metrics.record_turn(event, input=kind, collection=self.collection, **context)
        log.info("session %s turn %s %s: %s", self.session_id, turn_id, outcome, event.answer)
