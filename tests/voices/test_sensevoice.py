"""The SenseVoice engine (sherpa-onnx) by path: loading errors, language mapping, and the
adapter over a stand-in model.

No SenseVoice weights ship in a package, so the real model is not run here (docs/speech.md
says so). The stand-in is a real ONNX graph, built with the `onnx` library, with SenseVoice's
inputs, outputs and metadata: sherpa-onnx loads it, computes its features, runs it and CTC-
decodes its logits as for the real model. Its logits spell a fixed language tag and text, so
the test checks our adapter (tag -> language, text -> script), not recognition quality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from voices.asr import build_transcriber
from voices.asr.sensevoice import (
    SenseVoiceModelError,
    SenseVoiceTranscriber,
    find_sensevoice_files,
    map_language,
)
from voices.config import AsrSettings, VoiceSettings

TOKENS = [
    "<unk>", "<s>", "</s>", "<|zh|>", "<|en|>", "<|yue|>", "<|ja|>", "<|ko|>", "<|NEUTRAL|>",
    "<|Speech|>", "<|woitn|>", "<|withitn|>", "唔", "該", "晒", "这", "个", "食", "左", "飯",
]  # fmt: skip
SR = 16_000


def build_stand_in(model_dir: Path, language_tag: str, text: list[str]) -> Path:
    """A SenseVoice-shaped ONNX model whose CTC output is `language_tag` then `text`."""
    model_dir.mkdir(parents=True, exist_ok=True)
    vocab = len(TOKENS)
    ids = [TOKENS.index(language_tag), 8, 9, 11] + [TOKENS.index(t) for t in text]
    prefix = np.zeros((1, len(ids), vocab), np.float32)
    prefix[0, np.arange(len(ids)), ids] = 10.0
    blank = np.zeros((1, 1, vocab), np.float32)
    blank[0, 0, 0] = 10.0
    nodes = [  # logits = prefix frames, then blanks up to the input length + 4
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["shape", "one", "two"], ["frames"]),
        helper.make_node("Sub", ["frames", "k"], ["rest"]),
        helper.make_node("Concat", ["one", "rest", "vocab"], ["blank_shape"], axis=0),
        helper.make_node("Expand", ["blank", "blank_shape"], ["blanks"]),
        helper.make_node("Concat", ["prefix", "blanks"], ["logits"], axis=1),
    ]
    constants = {
        "one": np.array([1], np.int64), "two": np.array([2], np.int64),
        "k": np.array([len(text)], np.int64), "vocab": np.array([vocab], np.int64),
        "blank": blank, "prefix": prefix,
    }  # fmt: skip
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 560]),
        *(helper.make_tensor_value_info(n, TensorProto.INT32, ["N"])
          for n in ("x_length", "language", "text_norm")),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "sensevoice-stand-in",
        inputs,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", "U", vocab])],
        [numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    metadata = {
        "vocab_size": str(vocab), "lfr_window_size": "7", "lfr_window_shift": "6",
        "normalize_samples": "0", "with_itn": "11", "without_itn": "10", "lang_auto": "0",
        "lang_zh": "3", "lang_en": "4", "lang_yue": "5", "lang_ja": "6", "lang_ko": "7",
        "neg_mean": ",".join(["0"] * 560), "inv_stddev": ",".join(["1"] * 560),
    }  # fmt: skip
    for key, value in metadata.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.save(model, str(model_dir / "model.int8.onnx"))
    (model_dir / "tokens.txt").write_text(
        "".join(f"{t} {i}\n" for i, t in enumerate(TOKENS)), encoding="utf-8"
    )
    return model_dir


def _speechish(seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (0.1 * rng.standard_normal(int(SR * seconds))).astype(np.float32)


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SenseVoiceModelError, match="no such directory"):
        find_sensevoice_files(tmp_path / "absent")


def test_a_directory_without_the_model_files_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SenseVoiceModelError, match=r"tokens\.txt.*model\.int8\.onnx"):
        find_sensevoice_files(tmp_path)
    (tmp_path / "tokens.txt").write_text("<unk> 0\n")
    with pytest.raises(SenseVoiceModelError, match=r"missing model\.int8\.onnx or model\.onnx"):
        find_sensevoice_files(tmp_path)


def test_the_engine_without_a_directory_is_a_clear_error() -> None:
    settings = VoiceSettings(asr=AsrSettings(engine="sensevoice"))
    with pytest.raises(SenseVoiceModelError, match="sensevoice_dir is not set"):
        build_transcriber(settings)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("<|yue|>", ("yue", "yue")),
        ("<|zh|>", ("cmn", "zh")),
        ("<|en|>", ("en", "en")),
        ("<|ja|>", (None, "ja")),
        ("", (None, "")),
    ],
)
def test_language_tags_map_to_ours(tag, expected) -> None:
    assert map_language(tag) == expected


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sensevoice")
    return {
        "yue": build_stand_in(root / "yue", "<|yue|>", ["唔", "該", "晒"]),
        "yue-homophone": build_stand_in(root / "yue2", "<|yue|>", ["食", "左", "飯"]),
        "zh": build_stand_in(root / "zh", "<|zh|>", ["这", "个"]),
        "ja": build_stand_in(root / "ja", "<|ja|>", ["唔", "該"]),
    }


def _engine(model_dir: Path, vad_model) -> SenseVoiceTranscriber:
    settings = VoiceSettings(asr=AsrSettings(engine="sensevoice", sensevoice_dir=model_dir))
    engine = build_transcriber(settings, vad_model=vad_model)
    assert isinstance(engine, SenseVoiceTranscriber)
    return engine


def test_the_models_own_cantonese_tag_gives_yue_without_a_hint(stand_ins, vad_model) -> None:
    result = _engine(stand_ins["yue"], vad_model).transcribe(_speechish(), vad_gate=False)
    assert (result.language, result.detected_language, result.text) == ("yue", "yue", "唔該晒")


def test_cantonese_text_gets_its_colloquial_forms(stand_ins, vad_model) -> None:
    result = _engine(stand_ins["yue-homophone"], vad_model).transcribe(_speechish(), vad_gate=False)
    assert result.text == "食咗飯"


def test_a_mandarin_tag_gives_cmn_in_simplified_script(stand_ins, vad_model) -> None:
    result = _engine(stand_ins["zh"], vad_model).transcribe(_speechish(), vad_gate=False)
    assert (result.language, result.text) == ("cmn", "这个")


def test_another_tag_falls_back_to_the_text_rule(stand_ins, vad_model) -> None:
    # <|ja|> is no language of ours: the text has a Cantonese marker, so voices.language says yue
    result = _engine(stand_ins["ja"], vad_model).transcribe(_speechish(), vad_gate=False)
    assert (result.language, result.detected_language) == ("yue", "ja")


def test_silence_is_not_sent_to_the_model(stand_ins, vad_model) -> None:
    silence = np.zeros(SR * 2, np.float32)
    result = _engine(stand_ins["yue"], vad_model).transcribe(silence, language="yue")
    assert result.text == "" and result.language == "yue"
