"""Settings of meeting transcription (section `[meetings.speech]`, env
`SAMYU_MEETINGS__SPEECH__*`): input limits, segmentation, word timestamps, live partials."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MeetingSpeechSettings(BaseModel):
    max_duration_s: float = Field(
        default=4 * 3600.0, gt=0, description="Recordings longer than this are refused."
    )
    max_file_bytes: int = Field(
        default=2 * 1024**3, gt=0, description="Recording files larger than this are refused."
    )
    block_s: float = Field(
        default=10.0,
        ge=1.0,
        description="Decoded audio is handled in blocks of this length "
        "(memory holds one block plus one open speech segment).",
    )
    end_silence_ms: int = Field(
        default=500, ge=100, description="Silence that closes a speech segment."
    )
    max_segment_s: float = Field(
        default=20.0, ge=3.0, le=30.0, description="Longer speech is cut (one Whisper window)."
    )
    min_speech_ms: int = Field(default=300, ge=0, description="Shorter bursts are dropped.")
    speech_pad_ms: int = Field(default=150, ge=0, description="Audio kept around speech.")
    word_timestamps: bool = Field(
        default=True,
        description="Ask the recogniser for word times (speaker changes inside "
        "a segment are split at words; costs some decode time).",
    )
    partials: bool = Field(default=True, description="Live capture: send partial segments.")
    partial_interval_s: float = Field(
        default=2.0, ge=0.5, description="Live capture: new speech between two partials."
    )
