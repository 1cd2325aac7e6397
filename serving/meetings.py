"""The meetings API (`/meetings/...`) and live capture (`/ws/meeting`); docs/meetings.md.

Every route needs an admin bearer token (401), and a meeting belongs to one collection: a
token limited to some collections sees only their meetings (403 / not listed). The routes
live under `/meetings`, not `/admin`, so that their own upload limit
(`meetings.max_upload_bytes`, recordings are large) applies instead of the document one.

Live capture speaks the `/ws/talk` framing: a JSON `start` frame (`sample_rate`, optional
`language`, `speakers`, `collection`, `title`, and `token` for browsers, which cannot send an
Authorization header on a WebSocket), then binary PCM16 mono little-endian frames, then
`{"type":"stop"}`. The server sends `ready`, `partial` (the words of the segment being
spoken), `segment` (a finished segment with a provisional speaker), and at the end
`meeting` (the record id, with speakers re-clustered over the whole capture), or `error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import shutil
import time
import wave
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from serving import protocol
from serving.auth import AdminAuth, may_see, require_collection
from serving.meeting_export import MEDIA_TYPES, ExportFormat, export
from serving.meeting_service import MeetingService, make_minutes
from serving.meeting_store import MeetingNotFound, new_record
from serving.settings import AdminToken
from voices.audio_io import AudioInputError, pcm16_to_float, read_file_audio
from voices.diarization import DiarizationError
from voices.meeting import MeetingTranscript, PartialSegment, RecognisedSpeech
from voices.resample import StreamResampler

log = logging.getLogger("samyu.meetings")
router = APIRouter(prefix="/meetings", tags=["meetings"])

CollectionName = Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
MeetingId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
_COPY_CHUNK = 1024 * 1024
_AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".webm", ".mp4"}


def service(request_or_ws: Request | WebSocket) -> MeetingService:
    app = request_or_ws.app
    if getattr(app.state, "meetings", None) is None:
        app.state.meetings = MeetingService(app.state.settings, app.state.runtime)
    return app.state.meetings


def _record(request: Request, token: AdminToken, meeting_id: str) -> dict[str, Any]:
    try:
        record = service(request).store.load(meeting_id)
    except MeetingNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no meeting {meeting_id!r}") from None
    if not may_see(token, record["collection"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no meeting {meeting_id!r}")
    return record


def _done(record: dict[str, Any]) -> dict[str, Any]:
    if record["status"] != "done":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"meeting is {record['status']}" + (f": {record['error']}" if record["error"] else ""),
        )
    return record


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    transcript = record.get("transcript") or {}
    return {
        key: record.get(key)
        for key in (
            "id",
            "collection",
            "title",
            "created",
            "status",
            "error",
            "source",
            "published",
        )
    } | {
        "duration_s": transcript.get("duration_s"),
        "speakers": transcript.get("speakers", []),
        "audio": bool(record.get("audio")),
    }


# ---- upload, status, list, delete --------------------------------------------------------------


@router.post("", status_code=status.HTTP_202_ACCEPTED, summary="Upload a recording to transcribe")
async def upload_meeting(
    request: Request,
    token: AdminAuth,
    collection: CollectionName,
    file: Annotated[UploadFile, File(description="wav, flac, mp3, m4a/aac, ogg/opus")],
    title: Annotated[str | None, Form(max_length=200)] = None,
    speakers: Annotated[int | None, Form(ge=1, le=50)] = None,
    language: Annotated[str | None, Form(pattern=r"^(yue|cmn|en)$")] = None,
    minutes_language: Annotated[str | None, Form(pattern=r"^(yue|cmn|en)$")] = None,
) -> dict[str, Any]:
    require_collection(token, collection)
    svc = service(request)
    limit = svc.meeting_settings.max_upload_bytes
    suffix = Path(file.filename or "recording.wav").suffix.lower()
    if suffix not in _AUDIO_SUFFIXES:
        suffix = ".bin"  # PyAV sniffs the content; the name only helps
    folder = svc.upload_folder()
    target = folder / f"recording{suffix}"
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := await file.read(_COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"recording larger than meetings.max_upload_bytes={limit}",
                    )
                out.write(chunk)
        if size == 0:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "the uploaded recording is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    options = {"speakers": speakers, "language": language, "minutes_language": minutes_language}
    record = new_record(
        collection, title or Path(file.filename or "meeting").stem, file.filename or "", options
    )
    svc.submit(record, target)
    return {
        "id": record["id"],
        "status": record["status"],
        "poll": str(request.url_for("meeting_status", meeting_id=record["id"])),
    }


@router.get("", summary="Meetings of the token's collections")
def list_meetings(
    request: Request, token: AdminAuth, collection: CollectionName | None = None
) -> dict[str, Any]:
    svc = service(request)
    svc.sweep()
    records = [
        _summary(r)
        for r in svc.store.records()
        if may_see(token, r["collection"]) and (collection is None or r["collection"] == collection)
    ]
    return {"meetings": records}


@router.get("/{meeting_id}/status", name="meeting_status", summary="Progress of a meeting")
def meeting_status(request: Request, token: AdminAuth, meeting_id: MeetingId) -> dict[str, Any]:
    return _summary(_record(request, token, meeting_id))


@router.get("/{meeting_id}", summary="The whole record: transcript, speakers, minutes")
def get_meeting(request: Request, token: AdminAuth, meeting_id: MeetingId) -> dict[str, Any]:
    return _record(request, token, meeting_id)


@router.delete("/{meeting_id}", summary="Delete a meeting (record and kept recording)")
def delete_meeting(request: Request, token: AdminAuth, meeting_id: MeetingId) -> dict[str, str]:
    _record(request, token, meeting_id)
    service(request).store.delete(meeting_id)
    return {"deleted": meeting_id}


@router.get("/{meeting_id}/audio", summary="The kept recording (meetings.keep_audio)")
def get_audio(request: Request, token: AdminAuth, meeting_id: MeetingId) -> FileResponse:
    record = _record(request, token, meeting_id)
    path = service(request).store.audio_path(record)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the recording was not kept")
    return FileResponse(path)


# ---- editing ------------------------------------------------------------------------------------


class SpeakerRename(BaseModel):
    names: dict[str, str] = Field(description='old label -> new name, e.g. {"S1": "陳大文"}')


@router.post("/{meeting_id}/speakers", summary="Rename speakers")
def rename_speakers(
    request: Request, token: AdminAuth, meeting_id: MeetingId, body: SpeakerRename
) -> dict[str, Any]:
    record = _done(_record(request, token, meeting_id))
    transcript = record["transcript"]
    unknown = set(body.names) - set(transcript["speakers"])
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"no such speakers: {sorted(unknown)}"
        )
    if any(not n.strip() or len(n) > 80 for n in body.names.values()):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "names must be 1-80 characters")

    def rename(label: str | None) -> str | None:
        return body.names.get(label, label) if label else label

    transcript["speakers"] = list(dict.fromkeys(rename(s) for s in transcript["speakers"]))
    for seg in transcript["segments"]:
        seg["speaker"] = rename(seg["speaker"])
    for items in (record.get("minutes") or {}).values():
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict):
                    item["speaker"], item["who"] = (
                        rename(item.get("speaker")),
                        rename(item.get("who")),
                    )
    service(request).store.save(record)
    return record


class SegmentEdit(BaseModel):
    text: str | None = Field(default=None, max_length=10_000)
    speaker: str | None = Field(default=None, min_length=1, max_length=80)


@router.patch("/{meeting_id}/segments/{segment_id}", summary="Correct one segment")
def edit_segment(
    request: Request, token: AdminAuth, meeting_id: MeetingId, segment_id: int, body: SegmentEdit
) -> dict[str, Any]:
    record = _done(_record(request, token, meeting_id))
    transcript = record["transcript"]
    segment = next((s for s in transcript["segments"] if s["id"] == segment_id), None)
    if segment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no segment {segment_id}")
    if body.text is not None:
        segment["text"] = body.text.strip()
        segment["words"] = []  # the recogniser's word times no longer match the text
        segment["edited"] = True
    if body.speaker is not None:
        segment["speaker"] = body.speaker
        if body.speaker not in transcript["speakers"]:
            transcript["speakers"].append(body.speaker)
    service(request).store.save(record)
    return segment


class MinutesRequest(BaseModel):
    language: str | None = Field(default=None, pattern=r"^(yue|cmn|en)$")
    engine: str | None = Field(default=None, pattern=r"^(auto|llm|extractive)$")


@router.post("/{meeting_id}/minutes", summary="(Re)write the minutes from the edited transcript")
async def rewrite_minutes(
    request: Request, token: AdminAuth, meeting_id: MeetingId, body: MinutesRequest
) -> dict[str, Any]:
    svc = service(request)
    record = _done(_record(request, token, meeting_id))
    settings = svc.meeting_settings.minutes
    if body.engine:
        settings = settings.model_copy(update={"engine": body.engine})
    engines = await asyncio.to_thread(svc.engines)
    transcript = MeetingTranscript.from_dict(record["transcript"])
    minutes = await asyncio.to_thread(
        make_minutes, transcript, engines.generator, settings, body.language
    )
    record["minutes"] = minutes.as_dict()
    svc.store.save(record)
    return record["minutes"]


@router.get("/{meeting_id}/export", summary="Markdown, DOCX, SRT, WebVTT or JSON")
def export_meeting(
    request: Request,
    token: AdminAuth,
    meeting_id: MeetingId,
    format: Annotated[ExportFormat, Query()] = "md",
    redact: Annotated[bool | None, Query(description="Redact HKID, phones, emails.")] = None,
) -> Response:
    record = _done(_record(request, token, meeting_id))
    redact = service(request).meeting_settings.redact_exports if redact is None else redact
    body = export(record, format, redact=redact)
    name = f"meeting-{meeting_id[:8]}.{format}"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/{meeting_id}/publish", summary="Add the meeting to its collection (searchable)")
async def publish_meeting(
    request: Request, token: AdminAuth, meeting_id: MeetingId
) -> dict[str, Any]:
    record = _done(_record(request, token, meeting_id))
    require_collection(token, record["collection"])
    try:
        return await asyncio.to_thread(service(request).publish, record)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


# ---- enrolment ---------------------------------------------------------------------------------


@router.post("/voices", summary="Enrol a known voice (a few seconds of one person)")
async def enrol_voice(
    request: Request,
    token: AdminAuth,
    collection: CollectionName,
    name: Annotated[str, Form(min_length=1, max_length=80)],
    file: Annotated[UploadFile, File(description="A few seconds of this person speaking")],
) -> dict[str, Any]:
    require_collection(token, collection)
    svc = service(request)
    folder = svc.upload_folder()
    try:
        path = folder / "voice.bin"
        data = await file.read(svc.meeting_settings.max_upload_bytes + 1)
        if not data:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "the uploaded recording is empty")
        path.write_bytes(data)
        limits = svc.meeting_settings
        try:
            audio = read_file_audio(
                path, max_duration_s=limits.enrol_max_s, max_bytes=limits.max_upload_bytes
            )
        except AudioInputError as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, str(exc).replace(str(folder), "")
            ) from None
        if audio.size / 16000 < limits.enrol_min_s:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"enrolment needs at least {limits.enrol_min_s:g} s of speech",
            )
        engines = await asyncio.to_thread(svc.engines)
        try:
            vector = await asyncio.to_thread(engines.meetings.diarizer.voiceprint, audio)
            count = svc.voices.add(collection, name.strip(), vector)
        except (DiarizationError, ValueError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"collection": collection, "name": name.strip(), "voices": count}


@router.get("/voices/list", summary="Enrolled voices of a collection")
def list_voices(request: Request, token: AdminAuth, collection: CollectionName) -> dict[str, Any]:
    require_collection(token, collection)
    return {"collection": collection, "voices": sorted(service(request).voices.voices(collection))}


# ---- live capture ------------------------------------------------------------------------------


class _Stop(Exception):
    def __init__(self, code: int, reason: str, error: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.error = code, reason, error


class LiveCapture:
    """One `/ws/meeting` connection."""

    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        self.svc = service(websocket)
        self.limits = self.svc.meeting_settings
        self.server = websocket.app.state.settings.server
        self.counted = False

    async def run(self) -> None:
        await self.ws.accept()
        try:
            await self._session()
        except _Stop as stop:
            if stop.error:
                with contextlib.suppress(Exception):
                    await self.ws.send_json(stop.error)
            with contextlib.suppress(Exception):
                if self.ws.application_state != WebSocketState.DISCONNECTED:
                    await self.ws.close(stop.code, stop.reason[:120])
        except WebSocketDisconnect:
            pass
        finally:
            if self.counted:
                self.svc.live_sessions -= 1

    def _token(self, start: dict[str, Any]) -> AdminToken:
        header = self.ws.headers.get("authorization", "")
        presented = header[7:] if header.lower().startswith("bearer ") else start.get("token")
        token = _token_named(str(presented), self.server.admin_tokens) if presented else None
        if token is None:
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION,
                "unauthorized",
                "a valid admin token is required (Authorization header or start.token)",
            )
        return token

    async def _receive_start(self) -> dict[str, Any]:
        try:
            message = await asyncio.wait_for(self.ws.receive(), self.server.start_timeout_s)
        except TimeoutError:
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION, "start_timeout", "no start frame in time"
            ) from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        try:
            start = json.loads(message.get("text") or "")
        except json.JSONDecodeError:
            start = None
        if not isinstance(start, dict) or start.get("type") != "start":
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION,
                "not_started",
                "the first frame must be a JSON start frame",
            )
        return start

    def _options(self, start: dict[str, Any], token: AdminToken) -> dict[str, Any]:
        collection = str(start.get("collection") or "")
        if not collection:
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION, "bad_start", "start.collection is required"
            )
        if not may_see(token, collection):
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION,
                "forbidden",
                f"this token may not use collection {collection!r}",
            )
        rate = start.get("sample_rate", 16000)
        if rate not in self.server.input_sample_rates:
            raise _fatal(
                protocol.CLOSE_POLICY_VIOLATION,
                "bad_start",
                f"sample_rate must be one of {self.server.input_sample_rates}",
            )
        language = start.get("language") if start.get("language") in ("yue", "cmn", "en") else None
        speakers = start.get("speakers")
        if speakers is not None and not (isinstance(speakers, int) and 1 <= speakers <= 50):
            raise _fatal(protocol.CLOSE_POLICY_VIOLATION, "bad_start", "speakers must be 1-50")
        return {
            "collection": collection,
            "sample_rate": rate,
            "language": language,
            "speakers": speakers,
            "title": str(start.get("title") or "Live meeting")[:200],
        }

    async def _session(self) -> None:
        start = await self._receive_start()
        token = self._token(start)
        options = self._options(start, token)
        if self.svc.live_sessions >= self.limits.max_live_sessions:
            raise _fatal(protocol.CLOSE_TRY_AGAIN_LATER, "busy", "too many live meetings")
        self.svc.live_sessions += 1
        self.counted = True
        engines = await asyncio.to_thread(self.svc.engines)
        record = new_record(
            options["collection"],
            options["title"],
            "live",
            {"speakers": options["speakers"], "language": options["language"]},
        )
        record["status"] = "running"
        folder = self.svc.store.path(record["id"])
        folder.mkdir(parents=True)
        voices = self.svc.voices.voices(options["collection"])
        live = engines.meetings.live(
            num_speakers=options["speakers"], language=options["language"], known_voices=voices
        )
        resampler = StreamResampler(options["sample_rate"])
        audio_path = folder / "audio.wav"
        await self.ws.send_json({"type": "ready", "id": record["id"], "sample_rate": 16000})
        with wave.open(str(audio_path), "wb") as recording:
            recording.setnchannels(1)
            recording.setsampwidth(2)
            recording.setframerate(16000)
            await self._capture(live, resampler, recording)
        transcript = await asyncio.to_thread(live.close, audio_path)
        record["transcript"] = transcript.as_dict()
        minutes = await asyncio.to_thread(
            make_minutes, transcript, engines.generator, self.limits.minutes, None
        )
        record.update(minutes=minutes.as_dict(), status="done")
        if self.limits.keep_audio:
            record["audio"] = audio_path.name
        else:
            audio_path.unlink(missing_ok=True)
        self.svc.store.save(record)
        await self.ws.send_json(
            {
                "type": "meeting",
                "id": record["id"],
                "speakers": transcript.speakers,
                "segments": len(transcript.segments),
            }
        )
        await self.ws.close(protocol.CLOSE_NORMAL, "done")

    async def _capture(self, live: Any, resampler: Any, recording: wave.Wave_write) -> None:
        """Read frames promptly (so keep-alive pongs are never stuck behind audio) into a
        backlog that one processing task recognises; return once the backlog is done."""
        backlog = _Backlog(int(self.limits.max_live_backlog_s * 16000))
        processor = asyncio.create_task(self._process(live, backlog))
        try:
            await self._read(resampler, recording, backlog, processor)
        finally:
            backlog.close()
            await processor

    async def _read(
        self, resampler: Any, recording: wave.Wave_write, backlog: _Backlog, processor: Any
    ) -> None:
        opened = time.monotonic()
        while not processor.done():
            left = opened + self.limits.max_live_s - time.monotonic()
            if left <= 0:
                await self._send(
                    protocol.error(
                        "session_expired", "the longest live meeting was reached; saving it"
                    )
                )
                return
            try:
                message = await asyncio.wait_for(
                    self.ws.receive(), min(left, self.limits.live_idle_timeout_s)
                )
            except TimeoutError:
                await self._send(protocol.error("idle_timeout", "no audio; saving"))
                return
            if message["type"] == "websocket.disconnect":
                return  # what was captured is still transcribed and kept
            data, text = message.get("bytes"), message.get("text")
            if data is not None:
                if len(data) % 2 or len(data) > self.server.max_message_bytes:
                    await self._send(
                        protocol.error(
                            "bad_audio",
                            "PCM16 frames: an even number of bytes, at most "
                            f"{self.server.max_message_bytes}",
                        )
                    )
                    continue
                samples = resampler.process(pcm16_to_float(data))
                recording.writeframes(_pcm16(samples))
                if not backlog.put(samples):
                    await self._send(
                        protocol.error(
                            "too_far_behind",
                            "the server cannot keep up with this meeting; saving "
                            "what it has (meetings.max_live_backlog_s)",
                        )
                    )
                    return
            elif text:
                try:
                    frame = json.loads(text)
                except json.JSONDecodeError:
                    frame = {}
                if isinstance(frame, dict) and frame.get("type") == "stop":
                    return
                await self._send(protocol.error("bad_frame", "expected audio or stop"))

    async def _process(self, live: Any, backlog: _Backlog) -> None:
        while (samples := await backlog.take()) is not None:
            for event in await asyncio.to_thread(live.accept, samples):
                await self._send(_event_frame(event))

    async def _send(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # the client may be gone: the meeting is kept
            await self.ws.send_json(frame)


class _Backlog:
    """Audio received but not yet recognised, bounded in samples."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[np.ndarray] = []
        self.size = 0
        self.closed = False
        self.ready = asyncio.Event()

    def put(self, samples: np.ndarray) -> bool:
        if self.size + samples.size > self.limit:
            return False
        self.parts.append(samples)
        self.size += samples.size
        self.ready.set()
        return True

    def close(self) -> None:
        self.closed = True
        self.ready.set()

    async def take(self) -> np.ndarray | None:
        while not self.parts:
            if self.closed:
                return None
            self.ready.clear()
            await self.ready.wait()
        samples = np.concatenate(self.parts)
        self.parts, self.size = [], 0
        return samples


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _event_frame(event: RecognisedSpeech | PartialSegment) -> dict[str, Any]:
    if isinstance(event, PartialSegment):
        return {"type": "partial", "start": round(event.start, 2), "text": event.text}
    return {
        "type": "segment",
        "start": round(event.start, 2),
        "end": round(event.end, 2),
        "speaker": event.provisional_speaker,
        "language": event.language,
        "text": event.text,
    }


def _token_named(presented: str, tokens: list[AdminToken]) -> AdminToken | None:
    found = None
    for candidate in tokens:  # compare with all of them: no timing hint of which matched
        if hmac.compare_digest(presented.encode(), candidate.token.get_secret_value().encode()):
            found = candidate
    return found


def _fatal(code: int, error_code: str, message: str) -> _Stop:
    return _Stop(code, error_code, protocol.error(error_code, message, fatal=True))


async def live_meeting(websocket: WebSocket) -> None:
    """`/ws/meeting` (registered by the app beside `/ws/talk`)."""
    await LiveCapture(websocket).run()
