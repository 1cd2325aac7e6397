"""Production diarization by path: a pyannote.audio pipeline directory on local disk.

The operator downloads a pipeline (e.g. pyannote/speaker-diarization-community-1, which is
gated behind a licence acceptance) once and names its directory in
`meetings.diarization.pyannote_dir`; nothing is fetched at run time (HF_HUB_OFFLINE is set).
pyannote handles overlapped speech itself (several speakers active at once). The package is
optional: without it, or without a valid directory, this engine fails with a clear error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from voices.diarization.config import DiarizationSettings
from voices.diarization.types import Diarization, DiarizationError, SpeakerTurn

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def check_pipeline_dir(path: Path | None) -> Path:
    if path is None:
        raise DiarizationError(
            "meetings.diarization.engine=pyannote needs meetings.diarization.pyannote_dir"
        )
    path = Path(path).expanduser()
    if not (path / "config.yaml").is_file():
        raise DiarizationError(
            f"{path} is not a pyannote pipeline directory (no config.yaml); download the "
            "pipeline once and point meetings.diarization.pyannote_dir at it"
        )
    return path


class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, settings: DiarizationSettings) -> None:
        self.settings = settings
        directory = check_pipeline_dir(settings.pyannote_dir)
        try:
            from pyannote.audio import Pipeline
        except ImportError as exc:
            raise DiarizationError(
                "pyannote.audio is not installed; `pip install pyannote.audio` on the "
                "production machine, or use meetings.diarization.engine=embedded"
            ) from exc
        self.pipeline = Pipeline.from_pretrained(directory)
        if self.pipeline is None:
            raise DiarizationError(f"pyannote could not load the pipeline in {directory}")
        import torch

        self.pipeline.to(torch.device(settings.pyannote_device))

    def session(
        self, *, num_speakers: int | None = None, known_voices: dict[str, np.ndarray] | None = None
    ) -> PyannoteSession:
        return PyannoteSession(self, num_speakers)

    def voiceprint(self, audio: np.ndarray) -> np.ndarray:
        raise DiarizationError("enrolment needs the embedded engine's voice embeddings")


class PyannoteSession:
    def __init__(self, diarizer: PyannoteDiarizer, num_speakers: int | None) -> None:
        self.diarizer, self.num_speakers = diarizer, num_speakers

    def add_speech(self, audio: np.ndarray, start_s: float) -> str | None:
        return None  # pyannote reads the whole recording at the end

    def finish(self, source: Path | None = None) -> Diarization:
        if source is None:
            raise DiarizationError("the pyannote engine needs the recording as a file")
        options = {"num_speakers": self.num_speakers} if self.num_speakers else {}
        output = self.diarizer.pipeline(str(source), **options)
        annotation = getattr(output, "speaker_diarization", output)  # pyannote 4 wraps it
        return annotation_to_diarization(
            (
                (seg.start, seg.end, label)
                for seg, _track, label in annotation.itertracks(yield_label=True)
            ),
            engine=self.diarizer.name,
        )


def annotation_to_diarization(tracks, *, engine: str) -> Diarization:
    """(start, end, label) tracks -> turns named S1, S2... with overlaps marked."""
    tracks = sorted((float(s), float(e), str(label)) for s, e, label in tracks)
    names: dict[str, str] = {}
    for _s, _e, label in tracks:
        names.setdefault(label, f"S{len(names) + 1}")
    turns = []
    for i, (start, end, label) in enumerate(tracks):
        overlap = any(
            j != i and other_label != label and min(end, e) > max(start, s)
            for j, (s, e, other_label) in enumerate(tracks)
        )
        turns.append(SpeakerTurn(start, end, names[label], overlap))
    return Diarization(turns, list(names.values()), engine)
