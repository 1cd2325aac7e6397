"""Section `[meetings]` (env `SAMYU_MEETINGS__*`): meeting records, their limits and privacy.

Sub-sections belong to the packages that use them: `speech` (voices.meeting_config),
`diarization` (voices.diarization.config), `minutes` (assistant.minutes).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from assistant.minutes_config import MinutesSettings
from voices.diarization.config import DiarizationSettings
from voices.meeting_config import MeetingSpeechSettings


class MeetingSettings(BaseModel):
    speech: MeetingSpeechSettings = Field(default_factory=MeetingSpeechSettings)
    diarization: DiarizationSettings = Field(default_factory=DiarizationSettings)
    minutes: MinutesSettings = Field(default_factory=MinutesSettings)
    folder: Path | None = Field(
        default=None, description="Where meeting records live; empty: SAMYU_HOME/meetings."
    )
    keep_audio: bool = Field(
        default=False,
        description="Keep the recording beside the record (for playback on the "
        "review page). Off: the upload is deleted as soon as it is transcribed.",
    )
    audio_retention_days: float = Field(
        default=30.0,
        ge=0,
        description="Kept recordings older than this are deleted (0 = "
        "kept until the meeting is deleted).",
    )
    record_retention_days: float = Field(
        default=0.0, ge=0, description="Meeting records older than this are deleted (0 = kept)."
    )
    max_upload_bytes: int = Field(
        default=1024**3, ge=1, description="Largest recording upload (413 above it)."
    )
    max_jobs: int = Field(
        default=1, ge=1, description="Recordings transcribed at once (others wait in order)."
    )
    max_live_sessions: int = Field(default=2, ge=1, description="Concurrent /ws/meeting captures.")
    max_live_backlog_s: float = Field(
        default=300.0,
        gt=0,
        description="Live audio received but not yet recognised; past it "
        "the capture stops and what was recognised is saved (the CPU cannot keep up).",
    )
    max_live_s: float = Field(default=4 * 3600.0, gt=0, description="Longest live capture.")
    live_idle_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="A live capture that sends nothing this long is closed "
        "(and what it captured is kept).",
    )
    redact_exports: bool = Field(
        default=False,
        description="Redact HKID, phone numbers and emails in every export "
        "(each request may also ask with ?redact=true).",
    )
    max_enrolled_voices: int = Field(default=200, ge=0, description="Enrolled voices kept.")
    enrol_min_s: float = Field(default=2.0, gt=0, description="Shortest enrolment recording.")
    enrol_max_s: float = Field(default=60.0, gt=0, description="Longest enrolment recording.")
