"""Settings of speaker diarization (section `[meetings.diarization]`, env
`SAMYU_MEETINGS__DIARIZATION__*`): the engine, and every threshold the embedded one uses."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class DiarizationSettings(BaseModel):
    engine: Literal["embedded", "pyannote"] = Field(
        default="embedded",
        description="embedded: GE2E voice embeddings (resemblyzer's packaged weights) clustered "
        "with scikit-learn. pyannote: a local pyannote.audio pipeline directory (pyannote_dir).",
    )
    pyannote_dir: Path | None = Field(
        default=None,
        description="A local pyannote speaker-diarization pipeline directory (config.yaml and "
        "its models, e.g. community-1 downloaded by the operator). Never fetched from a hub.",
    )
    pyannote_device: str = Field(
        default="cpu", description="torch device of the pyannote pipeline."
    )
    speaker_embedding_onnx: Path | None = Field(
        default=None,
        description="Optional production speaker-embedding model (3D-Speaker CAM++ or WeSpeaker "
        "ONNX, 80-band Kaldi fbank in, one embedding out) replacing GE2E inside the embedded "
        "clustering engine.",
    )
    window_s: float = Field(
        default=1.6, ge=0.5, le=4.0, description="Length of one speaker-embedding window."
    )
    step_s: float = Field(
        default=0.4,
        ge=0.1,
        le=4.0,
        description="Hop between embedding windows (speaker "
        "boundaries are placed to about half of this).",
    )
    distance_threshold: float = Field(
        default=0.35,
        gt=0,
        lt=2,
        description="Cosine distance at which agglomerative (average-linkage) clustering stops "
        "merging when the speaker count is not given: lower finds more speakers.",
    )
    max_speakers: int = Field(default=12, ge=1, description="Upper bound of the automatic count.")
    min_speaker_s: float = Field(
        default=2.0,
        ge=0,
        description="A cluster with less speech than this is merged into "
        "the nearest larger one (stray windows are not speakers).",
    )
    max_cluster_windows: int = Field(
        default=4000,
        ge=100,
        description="Above this many windows, a uniform sample is "
        "clustered and the rest assigned to the nearest centroid (memory stays bounded).",
    )
    min_turn_s: float = Field(
        default=0.5, ge=0, description="Shorter speaker runs inside speech join a neighbour."
    )
    mark_overlap: bool = Field(
        default=True,
        description="Mark windows whose voice is close to two speakers at once "
        "as overlapped speech.",
    )
    overlap_margin: float = Field(
        default=0.04,
        ge=0,
        description="A window is overlapped when its similarity to the "
        "second-nearest speaker is within this of the nearest and above overlap_floor.",
    )
    overlap_floor: float = Field(default=0.75, ge=0, le=1)
    enrol_threshold: float = Field(
        default=0.72,
        ge=0,
        le=1,
        description="Cosine similarity at which a found speaker is named after an enrolled voice.",
    )
    threads: int = Field(default=1, ge=1, description="torch threads of the embedding network.")
