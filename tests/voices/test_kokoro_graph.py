"""The derived Kokoro graph: pad tokens' and phonemes' durations capped, recorded by sha256.

A stand-in graph with Kokoro's duration tensor name shows the surgery through real
onnxruntime; the real model's audio is checked in test_kokoro_yue.py (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from voices.model_assets import ModelAssetError, sha256_of
from voices.tts import kokoro_graph


def _stand_in(path: Path, tensor: str = kokoro_graph.DURATION_TENSOR) -> Path:
    """durations -> Identity -> `tensor` -> Cast(int64) -> frames, as Kokoro's /encoder/Cast."""
    graph = helper.make_graph(
        [
            helper.make_node("Identity", ["durations"], [tensor]),
            helper.make_node("Cast", [tensor], ["frames"], to=TensorProto.INT64),
        ],
        "kokoro_stand_in",
        [helper.make_tensor_value_info("durations", TensorProto.FLOAT, [1, None])],
        [helper.make_tensor_value_info("frames", TensorProto.INT64, [1, None])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _frames(model: Path, durations: list[float]) -> list[int]:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    feed = {"durations": np.array([durations], np.float32)}
    return session.run(None, feed)[0].ravel().tolist()


def test_pad_tokens_and_long_phonemes_are_capped_and_nothing_else(tmp_path: Path) -> None:
    source = _stand_in(tmp_path / "kokoro.onnx")
    derived = kokoro_graph.derive(source, "abc", edge_frames=1, max_frames=8)
    # [pad, phonemes..., pad] as Kokoro predicts them for 你好: 15 frames of lead silence,
    # the last sound drawn out over 11 frames
    assert _frames(derived, [15, 2, 3, 2, 1, 10, 11, 4]) == [1, 2, 3, 2, 1, 8, 8, 1]
    assert _frames(derived, [15, 4]) == [1, 1]  # no phoneme at all: still runs
    assert _frames(source, [15, 2, 4]) == [15, 2, 4]  # the packaged file is left as it was


def test_the_derived_model_is_recorded_and_checked(tmp_path: Path) -> None:
    source = _stand_in(tmp_path / "kokoro.onnx")
    derived = kokoro_graph.derive(source, "abc", edge_frames=2, max_frames=9)
    assert derived.name == "kokoro.edges2max9.onnx"
    manifest = json.loads(derived.with_name(derived.name + ".json").read_text("utf-8"))
    assert manifest == {
        "source": "kokoro.onnx",
        "source_sha256": "abc",
        "edge_frames": 2,
        "max_frames": 9,
        "sha256": sha256_of(derived),
    }
    assert kokoro_graph.verify(derived, "abc", 2, 9) == derived
    with pytest.raises(ModelAssetError, match="another model"):
        kokoro_graph.verify(derived, "another source", 2, 9)
    # a torn or tampered copy fails its check and is made again from the source
    derived.write_bytes(derived.read_bytes()[:100])
    with pytest.raises(ModelAssetError, match="sha256"):
        kokoro_graph.verify(derived, "abc", 2, 9)
    again = kokoro_graph.derive(source, "abc", edge_frames=2, max_frames=9)
    assert _frames(again, [5, 12, 5]) == [2, 9, 2]


def test_a_graph_that_is_not_kokoro_is_refused(tmp_path: Path) -> None:
    source = _stand_in(tmp_path / "other.onnx", tensor="something_else")
    with pytest.raises(ModelAssetError, match="not a Kokoro graph"):
        kokoro_graph.derive(source, "abc", edge_frames=1, max_frames=8)
    with pytest.raises(ValueError, match="at least 1"):
        kokoro_graph.derive(source, "abc", edge_frames=0, max_frames=8)
