"""A derived Kokoro model that does not generate its own padding silence.

Kokoro is fed `[0, phonemes..., 0]`: the two boundary pad tokens get durations from the
duration predictor like any phoneme, about 0.3 s before the speech and 0.4 s after it, and
the decoder then computes that silence. For a 2-3 syllable first piece it is about half the
work. Here the ONNX graph is changed once, at `samyu models` time, so the predicted durations
(`/encoder/Clip`: round(sum(sigmoid)/speed), at least 1 frame of 25 ms) of the first and the
last token are capped at `edge_frames`; every other duration is untouched. The derived file
is written beside the packaged model with its sha256 recorded in a manifest, and checked
against it before every use (never downloaded: made here from the verified original).
"""

from __future__ import annotations

from pathlib import Path

from voices.model_assets import ModelAssetError, derive_file, verify_derived

DURATION_TENSOR = "/encoder/Clip_output_0"  # per-token frames, float [1, tokens]
FRAME_S = 0.025  # one duration frame: 600 samples at 24 kHz


def derived_name(source: Path, edge_frames: int, max_frames: int) -> Path:
    return source.with_name(f"{source.stem}.edges{edge_frames}max{max_frames}.onnx")


def cap_durations(model, edge_frames: int, max_frames: int):
    """`model` (an onnx ModelProto) with the first and last token's durations capped at
    `edge_frames` and every other token's at `max_frames`."""
    from onnx import TensorProto, helper

    graph = model.graph
    consumers = [n for n in graph.node if DURATION_TENSOR in n.input]
    if not any(n.output and n.output[0] == DURATION_TENSOR for n in graph.node) or not consumers:
        raise ModelAssetError(f"not a Kokoro graph: no duration tensor {DURATION_TENSOR}")
    capped = DURATION_TENSOR + "_edges_capped"

    def const(name: str, values: list[int] | list[float], kind: int):
        return helper.make_node(
            "Constant",
            [],
            [name],
            value=helper.make_tensor(name + "_value", kind, [len(values)], values),
        )

    p = "/samyu/edges/"
    nodes = [
        const(p + "zero", [0], TensorProto.INT64),
        const(p + "one", [1], TensorProto.INT64),
        const(p + "minus_one", [-1], TensorProto.INT64),
        const(p + "axis", [1], TensorProto.INT64),
        const(p + "end", [2**62], TensorProto.INT64),
        const(p + "cap", [float(edge_frames)], TensorProto.FLOAT),
        const(p + "max", [float(max_frames)], TensorProto.FLOAT),
        # durations[:, :1], durations[:, 1:-1], durations[:, -1:]
        helper.make_node(
            "Slice", [DURATION_TENSOR, p + "zero", p + "one", p + "axis"], [p + "head"]
        ),
        helper.make_node(
            "Slice", [DURATION_TENSOR, p + "one", p + "minus_one", p + "axis"], [p + "middle"]
        ),
        helper.make_node(
            "Slice", [DURATION_TENSOR, p + "minus_one", p + "end", p + "axis"], [p + "tail"]
        ),
        helper.make_node("Min", [p + "head", p + "cap"], [p + "head_capped"]),
        helper.make_node("Min", [p + "middle", p + "max"], [p + "middle_capped"]),
        helper.make_node("Min", [p + "tail", p + "cap"], [p + "tail_capped"]),
        helper.make_node(
            "Concat",
            [p + "head_capped", p + "middle_capped", p + "tail_capped"],
            [capped],
            axis=1,
        ),
    ]
    for node in consumers:
        node.input[:] = [capped if name == DURATION_TENSOR else name for name in node.input]
    # insert right after the node that makes the durations (the graph stays sorted)
    at = next(i for i, n in enumerate(graph.node) if DURATION_TENSOR in n.output) + 1
    for offset, node in enumerate(nodes):
        graph.node.insert(at + offset, node)
    return model


def _recipe(source_sha256: str, edge_frames: int, max_frames: int) -> dict:
    """What a derived graph's manifest must record to be used for this source and these caps."""
    return {"source_sha256": source_sha256, "edge_frames": edge_frames, "max_frames": max_frames}


def derive(source: Path, source_sha256: str, edge_frames: int, max_frames: int) -> Path:
    """The derived model for `source` (made now if absent or not matching its manifest)."""
    import onnx

    if edge_frames < 1 or max_frames < 1:
        raise ValueError("duration caps must be at least 1 frame (the model's own minimum)")

    def make(path: Path) -> None:
        onnx.save(cap_durations(onnx.load(str(source)), edge_frames, max_frames), str(path))

    target = derived_name(source, edge_frames, max_frames)
    recipe = {"source": source.name, **_recipe(source_sha256, edge_frames, max_frames)}
    return derive_file(target, recipe, make)


def verify(target: Path, source_sha256: str, edge_frames: int, max_frames: int) -> Path:
    """`target` if its manifest says it was derived from that source with that cap and its
    sha256 matches the one recorded; ModelAssetError otherwise."""
    return verify_derived(target, _recipe(source_sha256, edge_frames, max_frames))
