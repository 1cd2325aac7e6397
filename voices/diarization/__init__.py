"""Speaker diarization: who spoke when (embedded GE2E + clustering, or pyannote by path)."""

from voices.diarization.config import DiarizationSettings
from voices.diarization.types import (
    Diarization,
    DiarizationError,
    Diarizer,
    SpeakerSession,
    SpeakerTurn,
)

__all__ = [
    "Diarization",
    "DiarizationError",
    "DiarizationSettings",
    "Diarizer",
    "SpeakerSession",
    "SpeakerTurn",
    "build_diarizer",
]


def build_diarizer(settings: DiarizationSettings) -> Diarizer:
    """The configured engine (loads its model)."""
    if settings.engine == "pyannote":
        from voices.diarization.pyannote_engine import PyannoteDiarizer

        return PyannoteDiarizer(settings)
    from voices.diarization.embedded import EmbeddingDiarizer

    return EmbeddingDiarizer.from_settings(settings)
