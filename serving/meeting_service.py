"""Meetings as a service: the engines they need, background transcription jobs, publishing.

The voice server's Whisper and VAD are shared when the server loaded them; an admin-only
server (server.load_models off) and the CLI load Whisper on first use. Minutes use the
assistant's language model when the server has one, else the extractive minutes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.minutes import Minutes, MinutesSettings, write_minutes
from serving.meeting_export import collection_text
from serving.meeting_settings import MeetingSettings
from serving.meeting_store import MeetingStore, VoiceBook
from voices.audio_io import AudioInputError
from voices.diarization import DiarizationError, build_diarizer
from voices.meeting import MeetingTranscriber, MeetingTranscript

log = logging.getLogger("samyu.meetings")


@dataclass
class MeetingEngines:
    meetings: MeetingTranscriber
    generator: Any | None  # assistant Generator, or None (extractive minutes)


def build_engines(
    settings: Any,
    *,
    transcriber: Any | None = None,
    vad_model: Any | None = None,
    generator: Any | None = None,
) -> MeetingEngines:
    """`settings`: the root Settings. Loads what is not handed in (Whisper, the diarizer)."""
    from voices.vad import shared_vad_model

    vad_model = vad_model or shared_vad_model()
    if transcriber is None:
        from voices.asr.faster_whisper import FasterWhisperTranscriber

        transcriber = FasterWhisperTranscriber.from_settings(settings.voices, vad_model=vad_model)
    meeting = settings.meetings
    diarizer = build_diarizer(meeting.diarization)
    recogniser = MeetingTranscriber(
        transcriber, diarizer, meeting.speech, vad=settings.voices.vad, vad_model=vad_model
    )
    return MeetingEngines(recogniser, generator)


def make_minutes(
    transcript: MeetingTranscript,
    generator: Any | None,
    settings: MinutesSettings,
    language: str | None = None,
) -> Minutes:
    return asyncio.run(write_minutes(transcript, generator, settings, language=language))


def transcribe_into(
    record: dict[str, Any],
    path: Path,
    engines: MeetingEngines,
    settings: MeetingSettings,
    known_voices: dict[str, Any] | None = None,
    *,
    minutes: bool = True,
) -> dict[str, Any]:
    """Fill `record` (transcript, minutes, status) from the recording at `path`."""
    options = record.get("options", {})
    transcript = engines.meetings.transcribe_file(
        path,
        num_speakers=options.get("speakers"),
        language=options.get("language"),
        known_voices=known_voices,
    )
    record["transcript"] = transcript.as_dict()
    if minutes:
        record["minutes"] = make_minutes(
            transcript, engines.generator, settings.minutes, options.get("minutes_language")
        ).as_dict()
    record["status"] = "done"
    return record


class MeetingService:
    """Per app: the store, the enrolled voices, the job pool, live-capture accounting."""

    def __init__(self, settings: Any, runtime: Any) -> None:
        self.settings = settings
        self.meeting_settings: MeetingSettings = settings.meetings
        self.runtime = runtime
        folder = self.meeting_settings.folder or settings.home / "meetings"
        self.store = MeetingStore(folder / "records")
        self.voices = VoiceBook(folder / "voices", self.meeting_settings.max_enrolled_voices)
        self.uploads = folder / "uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.pool = ThreadPoolExecutor(self.meeting_settings.max_jobs, "samyu-meeting")
        self.live_sessions = 0
        self._engines: MeetingEngines | None = None
        self._engines_lock = threading.Lock()
        self.sweep()
        for record in self.store.records():  # jobs a stopped process never finished
            if record["status"] in ("queued", "running") and not _alive(record.get("worker")):
                record.update(
                    status="failed",
                    error="the server stopped before this "
                    "meeting was transcribed; please upload it again",
                )
                self.store.save(record)

    def sweep(self) -> None:
        removed = self.store.sweep(
            self.meeting_settings.audio_retention_days, self.meeting_settings.record_retention_days
        )
        if removed:
            log.info("meeting retention removed %s", ", ".join(removed))

    def engines(self) -> MeetingEngines:
        with self._engines_lock:
            if self._engines is None:
                shared = self.runtime.engines
                self._engines = build_engines(
                    self.settings,
                    transcriber=getattr(shared, "transcriber", None),
                    vad_model=getattr(shared, "vad_model", None),
                    generator=getattr(getattr(shared, "assistant", None), "generator", None),
                )
            return self._engines

    def upload_folder(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="upload-", dir=self.uploads))

    def submit(self, record: dict[str, Any], upload: Path) -> None:
        record["worker"] = os.getpid()
        self.store.save(record)
        self.pool.submit(self._run, record, upload)

    def _run(self, record: dict[str, Any], upload: Path) -> None:
        record["status"] = "running"
        self.store.save(record)
        try:
            engines = self.engines()
            voices = self.voices.voices(record["collection"])
            transcribe_into(record, upload, engines, self.meeting_settings, voices)
            if self.meeting_settings.keep_audio:
                target = self.store.path(record["id"]) / f"audio{upload.suffix.lower()}"
                shutil.move(str(upload), target)
                record["audio"] = target.name
        except (AudioInputError, DiarizationError) as exc:
            record.update(status="failed", error=str(exc).replace(str(upload.parent), ""))
        except Exception as exc:  # a job must end in a state the client can read
            log.exception("meeting %s failed", record["id"])
            record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(upload.parent, ignore_errors=True)
            self.store.save(record)

    def publish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add a finished meeting to its collection as one document (re-adding replaces it)."""
        minutes = Minutes.from_dict(record["minutes"]) if record.get("minutes") else None
        text = collection_text(record, minutes)
        folder = Path(tempfile.mkdtemp(prefix="publish-", dir=self.uploads))
        try:
            doc_id = f"meeting-{record['id'][:12]}.md"
            (folder / doc_id).write_text(text, encoding="utf-8")
            report = self.runtime.kb.collection(record["collection"]).ingest([folder])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        failed = [f for f in report.files if f.status == "failed"]
        if failed:
            raise ValueError(f"could not add the meeting: {failed[0].reason}")
        record["published"] = doc_id
        self.store.save(record)
        return {"doc_id": doc_id, "collection": record["collection"], "version": report.version}

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _alive(pid: Any) -> bool:
    """Whether the process that took a job still runs (several workers may share a folder)."""
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
