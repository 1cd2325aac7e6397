"""bench/voices_asr_paired.py compares two values of one AsrSettings field on one loaded
transcriber: a value the field refuses, or a field the transcriber reads only when it is
built, must stop the run instead of crashing inside it or printing two identical ways."""

from __future__ import annotations

import inspect
import re

import pytest

from bench.voices_asr_paired import READ_AT_LOAD, paired_settings
from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.config import AsrSettings


def test_two_values_of_one_setting_are_validated_settings() -> None:
    ways = paired_settings(AsrSettings(), "encoder_window_s", "20", "null")
    assert (ways["on"].encoder_window_s, ways["off"].encoder_window_s) == (20.0, None)
    assert ways["on"] == AsrSettings(encoder_window_s=20)  # nothing else moved
    ways = paired_settings(AsrSettings(), "reuse_encoder_output", "true", "false")
    assert (ways["on"].reuse_encoder_output, ways["off"].reuse_encoder_output) == (True, False)


@pytest.mark.parametrize(
    ("setting", "on", "off"),
    [
        ("encoder_margin_s", "1.0", "null"),  # not optional: fitted_window would fail mid-run
        ("encoder_window_s", "20", "45"),  # past Whisper's 30 s
        ("encoder_windows", "20", "null"),  # no such field
        ("zh_en_head", "true", "false"),  # loaded with the model
        ("encoder_window_s", "20", "twenty"),  # not JSON
    ],
)
def test_a_pair_the_bench_cannot_compare_is_refused(setting, on, off) -> None:
    with pytest.raises(ValueError):
        paired_settings(AsrSettings(), setting, on, off)


def test_every_setting_the_transcriber_reads_when_built_is_refused() -> None:
    source = inspect.getsource(FasterWhisperTranscriber.__init__)
    source += inspect.getsource(FasterWhisperTranscriber.from_settings)
    read = set(re.findall(r"\.asr\.(\w+)", source)) | {"model_dir"}  # resolve_model_dir
    assert read <= READ_AT_LOAD, read - READ_AT_LOAD
