"""Meeting records on disk: one folder per meeting with `record.json` (and the recording only
when `meetings.keep_audio` is on), written atomically; retention sweeps old recordings and
records; enrolled voices per collection.

A record: id, collection, title, created (UTC ISO), status (queued | running | done |
failed), error, source (the uploaded file's name), options, transcript
(voices.meeting.MeetingTranscript.as_dict), minutes (assistant.minutes.Minutes.as_dict),
audio (file name, when kept), published (the collection document id, once added).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

_ID = re.compile(r"^[0-9a-f]{32}$")


class MeetingNotFound(KeyError):
    pass


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_record(
    collection: str, title: str, source: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "collection": collection,
        "title": title,
        "created": now_iso(),
        "status": "queued",
        "error": None,
        "source": source,
        "options": options or {},
        "transcript": None,
        "minutes": None,
        "audio": None,
        "published": None,
    }


class MeetingStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, meeting_id: str) -> Path:
        if not _ID.match(meeting_id):
            raise MeetingNotFound(meeting_id)
        return self.folder / meeting_id

    def save(self, record: dict[str, Any]) -> None:
        folder = self.path(record["id"])
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(record, ensure_ascii=False, indent=1)
        with self._lock:
            fd, tmp = tempfile.mkstemp(prefix=".record.", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(data)
                os.replace(tmp, folder / "record.json")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def load(self, meeting_id: str) -> dict[str, Any]:
        path = self.path(meeting_id) / "record.json"
        if not path.is_file():
            raise MeetingNotFound(meeting_id)
        return json.loads(path.read_text(encoding="utf-8"))

    def records(self) -> list[dict[str, Any]]:
        out = []
        for folder in sorted(self.folder.iterdir()):
            if _ID.match(folder.name) and (folder / "record.json").is_file():
                try:
                    out.append(json.loads((folder / "record.json").read_text(encoding="utf-8")))
                except (OSError, json.JSONDecodeError):
                    continue  # a record being replaced: the next listing has it
        return sorted(out, key=lambda r: r.get("created", ""), reverse=True)

    def delete(self, meeting_id: str) -> None:
        folder = self.path(meeting_id)
        if not folder.is_dir():
            raise MeetingNotFound(meeting_id)
        shutil.rmtree(folder)

    def audio_path(self, record: dict[str, Any]) -> Path | None:
        if not record.get("audio"):
            return None
        path = self.path(record["id"]) / record["audio"]
        return path if path.is_file() else None

    def sweep(self, audio_days: float, record_days: float) -> list[str]:
        """Delete kept recordings older than `audio_days` and records older than
        `record_days` (0 = never); returns what was removed."""
        removed = []
        now = time.time()
        for folder in list(self.folder.iterdir()):
            record_file = folder / "record.json"
            if not _ID.match(folder.name) or not record_file.is_file():
                continue
            age_days = (now - record_file.stat().st_ctime) / 86400
            try:
                created = datetime.strptime(
                    json.loads(record_file.read_text(encoding="utf-8"))["created"],
                    "%Y-%m-%dT%H:%M:%SZ",
                ).replace(tzinfo=UTC)
                age_days = (datetime.now(UTC) - created).total_seconds() / 86400
            except (OSError, KeyError, ValueError, json.JSONDecodeError):
                pass
            if record_days and age_days > record_days:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"record {folder.name}")
            elif audio_days and age_days > audio_days:
                record = self.load(folder.name)
                audio = self.audio_path(record)
                if audio is not None:
                    audio.unlink(missing_ok=True)
                    record["audio"] = None
                    self.save(record)
                    removed.append(f"audio {folder.name}")
        return removed


class VoiceBook:
    """Enrolled voices per collection: name -> embedding (numpy .npz, small)."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = Path(folder)
        self.limit = limit
        self._lock = threading.Lock()

    def _file(self, collection: str) -> Path:
        return self.folder / f"{collection}.npz"

    def voices(self, collection: str) -> dict[str, np.ndarray]:
        path = self._file(collection)
        if not path.is_file():
            return {}
        with np.load(path) as data:
            return {name: data[name] for name in data.files}

    def add(self, collection: str, name: str, vector: np.ndarray) -> int:
        with self._lock:
            voices = self.voices(collection)
            if name not in voices and len(voices) >= self.limit:
                raise ValueError(f"meetings.max_enrolled_voices={self.limit} reached")
            voices[name] = np.asarray(vector, dtype=np.float32)
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".voices.", suffix=".npz", dir=self.folder)
            os.close(fd)
            np.savez(tmp, **voices)
            os.replace(tmp, self._file(collection))
            return len(voices)

    def remove(self, collection: str, name: str) -> None:
        with self._lock:
            voices = self.voices(collection)
            if name not in voices:
                raise KeyError(name)
            del voices[name]
            fd, tmp = tempfile.mkstemp(prefix=".voices.", suffix=".npz", dir=self.folder)
            os.close(fd)
            np.savez(tmp, **voices)
            os.replace(tmp, self._file(collection))
