"""Speech recognisers (one module per engine) and the configured one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voices.config import VoiceSettings
    from voices.vad import SileroVadModel


def build_transcriber(settings: VoiceSettings, vad_model: SileroVadModel | None = None):
    """The recogniser `voices.asr.engine` names (faster-whisper unless configured)."""
    if settings.asr.engine == "sensevoice":
        from voices.asr.sensevoice import SenseVoiceTranscriber

        return SenseVoiceTranscriber.from_settings(settings, vad_model=vad_model)
    from voices.asr.faster_whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber.from_settings(settings, vad_model=vad_model)
