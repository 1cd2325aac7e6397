"""Kokoro's generator run on windows of frames, so the first audio costs a window, not a piece.

An ONNX profile put 89 % of Kokoro's time in the decoder's generator (HiFi-GAN / iSTFTNet
convolutions, linear in the frames) and the first sound of a piece therefore grows with the
piece. The graph (the derived one of voices.tts.kokoro_graph, durations capped) is split once
where the generator starts:

- the **front**: tokens, style, speed -> the generator's input `x` ([1, 512, 2 x frames]:
  text encoder, BERT, duration / F0 / energy predictors, the alignment expansion and the
  decoder's encode/decode blocks) and `har` ([1, 22, 120 x frames + 1]: the spectrum of the
  harmonic source, whose phase is a CumSum over the whole piece). Both are computed for the
  whole piece, so windows join without a phase jump.
- the **generator**, run on windows of `x` and `har` with `CONTEXT_FRAMES` frames of
  context each side (its receptive field: the audio of a window's core is then the whole
  piece's to float rounding) and the context cut off.

The generator is not convolutional as packaged: its 44 AdaIN layers normalise each channel
by its mean and variance **over the whole piece** (instance norm), and its int8 convolutions
quantise their input with a scale taken from the whole tensor (dynamic quantisation). A
window with its own statistics differs from the whole piece's audio at every layer (measured:
SNR 1-2 dB, log-spectral distance 8 dB: not the same voice). So the window graph
- takes every norm's mean and variance as inputs, fed with statistics pooled once over a
  calibration set of Cantonese clauses for the voice (as a batch norm's running statistics):
  `calibrate`, kept in a derived `.npz` beside the graph;
- runs its convolutions in float (weights dequantised once), so no statistic of a window
  remains: windows of any size give the same audio as that graph on the whole piece.
The voice is then the packaged model's with fixed instead of per-piece normalisation: not
bit-equal to it (docs/speech.md gives the distance and the round-trip CER).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voices.model_assets import ModelAssetError, derive_file

GENERATOR_INPUT = "/decoder/decoder/decode.3/Div_4_output_0"  # [1, 512, 2 x frames]
HARMONIC = "/decoder/decoder/generator/Concat_3_output_0"  # [1, 22, 120 x frames + 1]
STYLE = "/decoder/Slice_output_0"  # [1, 128]: the decoder's half of the style vector
GENERATOR = "/decoder/decoder/generator/"
SAMPLES_PER_FRAME = 600  # one duration frame: 25 ms at 24 kHz
X_PER_FRAME = 2  # generator input steps per frame
HAR_PER_FRAME = 120  # harmonic-source STFT frames per frame (hop 5 samples)
# the generator's receptive field, in frames each side: measured, the core of a window with 5
# frames of context equals the whole piece's to 1.5e-6 (4 frames: 1e-4; 3: 4e-2)
CONTEXT_FRAMES = 5


@dataclass(frozen=True)
class Window:
    """Frames [start, end) of the piece's audio, computed from frames [lo, hi)."""

    start: int
    end: int
    lo: int
    hi: int


def window_span(start: int, end: int, frames: int, context: int = CONTEXT_FRAMES) -> Window:
    """The frames a window's core [start, end) is computed from: `context` each side, within
    the piece."""
    if not 0 <= start < end <= frames:
        raise ValueError(f"window [{start}, {end}) outside a piece of {frames} frames")
    return Window(start, end, max(0, start - context), min(frames, end + context))


def window_plan(
    frames: int, first: int, growth: float, largest: int, context: int = CONTEXT_FRAMES
) -> list[Window]:
    """The piece in windows: the first of `first` frames, each next `growth` times the one
    before (at most `largest`); a last window shorter than half the one before is merged
    into it (it would cost more context than audio)."""
    if frames <= 0:
        return []
    if first <= 0:
        return [window_span(0, frames, frames, context)]
    sizes: list[int] = []
    size, left = float(first), frames
    while left > 0:
        take = min(left, max(1, int(size)))
        if sizes and left - take < max(1, take // 2) and left - take > 0:
            take = left
        sizes.append(take)
        left -= take
        size = min(float(largest), size * max(growth, 1.0))
    plan, start = [], 0
    for take in sizes:
        plan.append(window_span(start, start + take, frames, context))
        start += take
    return plan


def cut(audio: np.ndarray, window: Window) -> np.ndarray:
    """The samples of `window`'s core in the audio made from its frames [lo, hi)."""
    a = (window.start - window.lo) * SAMPLES_PER_FRAME
    return audio[a : a + (window.end - window.start) * SAMPLES_PER_FRAME]


def window_feed(x: np.ndarray, har: np.ndarray, window: Window) -> dict[str, np.ndarray]:
    lo, hi = window.lo, window.hi
    return {
        GENERATOR_INPUT: x[:, :, X_PER_FRAME * lo : X_PER_FRAME * hi],
        HARMONIC: har[:, :, HAR_PER_FRAME * lo : HAR_PER_FRAME * hi + 1],
    }


# --- the graphs -----------------------------------------------------------------------------


def _prune(model) -> None:
    """Drop the nodes and initializers no output needs (the graph stays sorted)."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(keep))
    used = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used)


def split(model):
    """(front, generator) ModelProtos of a Kokoro graph, cut at the generator's inputs."""
    from onnx.utils import Extractor

    names = {o for n in model.graph.node for o in n.output}
    missing = [t for t in (GENERATOR_INPUT, HARMONIC, STYLE) if t not in names]
    if missing:
        raise ModelAssetError(f"not a Kokoro graph: no tensor {missing}")
    extractor = Extractor(model)
    front = extractor.extract_model(["tokens", "style", "speed"], [GENERATOR_INPUT, HARMONIC])
    generator = extractor.extract_model([GENERATOR_INPUT, HARMONIC, STYLE], ["audio"])
    return front, generator


def instance_norms(model) -> list[tuple[str, str]]:
    """(mean, variance) tensors of every instance norm in the generator, in graph order: a
    ReduceMean over time, Sub, Mul (square), a second ReduceMean (`..._2`)."""
    produced = {o for n in model.graph.node for o in n.output}
    norms = []
    for node in model.graph.node:
        if node.op_type != "ReduceMean" or GENERATOR not in node.name:
            continue
        if node.name.endswith("ReduceMean_2"):
            continue
        variance = node.name + "_2_output_0"
        if variance not in produced:
            raise ModelAssetError(f"instance norm {node.name} has no variance {variance}")
        norms.append((node.output[0], variance))
    if not norms:
        raise ModelAssetError("not a Kokoro generator: no instance norm")
    return norms


def norm_inputs(count: int) -> list[tuple[str, str]]:
    return [(f"norm{i}_mean", f"norm{i}_var") for i in range(count)]


def with_statistics_out(generator):
    """A copy of the generator that also outputs every norm's mean and variance (to pool)."""
    import copy

    from onnx import TensorProto, helper

    model = copy.deepcopy(generator)
    for mean, variance in instance_norms(model):
        model.graph.output.extend(
            [
                helper.make_tensor_value_info(mean, TensorProto.FLOAT, None),
                helper.make_tensor_value_info(variance, TensorProto.FLOAT, None),
            ]
        )
    return model


def with_statistics_in(generator):
    """The generator with each norm's mean and variance taken from inputs `normK_mean`,
    `normK_var` ([1, channels, 1]) instead of computed over the input's length."""
    from onnx import TensorProto, helper

    model = generator
    norms = instance_norms(model)
    rename: dict[str, str] = {}
    for (mean, variance), (mean_in, var_in) in zip(norms, norm_inputs(len(norms)), strict=True):
        rename[mean], rename[variance] = mean_in, var_in
        model.graph.input.extend(
            [
                helper.make_tensor_value_info(mean_in, TensorProto.FLOAT, [1, None, 1]),
                helper.make_tensor_value_info(var_in, TensorProto.FLOAT, [1, None, 1]),
            ]
        )
    for node in model.graph.node:
        node.input[:] = [rename.get(name, name) for name in node.input]
    _prune(model)
    return model


def dequantise_convolutions(model):
    """Every int8 convolution of the generator (DynamicQuantizeLinear -> ConvInteger -> Add
    int32 bias -> Cast -> Mul by the scales) replaced by a float Conv with its weights
    dequantised: the input's scale no longer depends on how long the input is."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def array(name: str) -> np.ndarray:
        return numpy_helper.to_array(initializers[name])

    replaced = 0
    for node in list(graph.node):
        if node.op_type != "ConvInteger":
            continue
        quantise = producer[node.input[0]]
        add = consumers[node.output[0]][0]
        cast = consumers[add.output[0]][0]
        scale = consumers[cast.output[0]][0]
        kinds = (quantise.op_type, add.op_type, cast.op_type, scale.op_type)
        if kinds != ("DynamicQuantizeLinear", "Add", "Cast", "Mul"):
            raise ModelAssetError(f"{node.name}: unexpected int8 convolution {kinds}")
        scales = producer[next(n for n in scale.input if n != cast.output[0])]
        weight_scale = array(next(n for n in scales.input if n in initializers))
        weights = (array(node.input[1]).astype(np.float32) - array(node.input[3])) * (
            weight_scale.reshape(-1, 1, 1) if weight_scale.ndim else weight_scale
        )
        # the float bias: Div(bias, scales) -> Floor -> Cast -> Reshape -> the Add
        divide = producer[producer[producer[producer[add.input[1]].input[0]].input[0]].input[0]]
        bias = divide.input[0]
        if bias not in initializers:
            raise ModelAssetError(f"{node.name}: no float bias")
        name = node.input[1] + "_float"
        graph.initializer.append(numpy_helper.from_array(weights.astype(np.float32), name))
        conv = helper.make_node(
            "Conv", [quantise.input[0], name, bias], [scale.output[0]], name=node.name + "_float"
        )
        conv.attribute.extend(node.attribute)
        graph.node.insert(list(graph.node).index(scale), conv)
        graph.node.remove(scale)
        replaced += 1
    if not replaced:
        raise ModelAssetError("not a Kokoro generator: no int8 convolution")
    _prune(model)
    return model


def window_graph(generator):
    """The generator that windows run: norms fed from inputs, convolutions in float."""
    return dequantise_convolutions(with_statistics_in(generator))


# --- statistics pooled over a calibration set -------------------------------------------------


def pool(per_piece: Sequence[Sequence[np.ndarray]], frames: Sequence[int]) -> list[np.ndarray]:
    """Means and variances ([m0, v0, m1, v1, ...] per piece) pooled as if the pieces were one:
    mean = sum(T m) / sum(T), variance = sum(T (v + m^2)) / sum(T) - mean^2."""
    weights = np.asarray(frames, np.float64)
    weights = weights / weights.sum()
    pooled: list[np.ndarray] = []
    for k in range(0, len(per_piece[0]), 2):
        means = np.stack([np.asarray(p[k], np.float64) for p in per_piece])
        variances = np.stack([np.asarray(p[k + 1], np.float64) for p in per_piece])
        w = weights.reshape(-1, *([1] * (means.ndim - 1)))
        mean = (w * means).sum(0)
        second = (w * (variances + means**2)).sum(0)
        pooled += [mean.astype(np.float32), np.maximum(second - mean**2, 0).astype(np.float32)]
    return pooled


def calibrate(front, statistics, feeds: Sequence[dict[str, np.ndarray]]) -> list[np.ndarray]:
    """The generator's norm statistics pooled over `feeds` (tokens, style, speed each), with
    `front` and `statistics` (onnxruntime sessions of the front and of with_statistics_out)."""
    per_piece, frames = [], []
    for feed in feeds:
        x, har = front.run(None, feed)
        outputs = statistics.run(
            None, {GENERATOR_INPUT: x, HARMONIC: har, STYLE: feed["style"][:, :128]}
        )
        per_piece.append(outputs[1:])
        frames.append(x.shape[2] // X_PER_FRAME)
    if not per_piece:
        raise ValueError("no calibration piece")
    return pool(per_piece, frames)


# --- derived files ------------------------------------------------------------------------------


def derived_names(model: Path) -> tuple[Path, Path]:
    return model.with_name(f"{model.stem}.front.onnx"), model.with_name(f"{model.stem}.window.onnx")


def statistics_name(model: Path, voice: str) -> Path:
    return model.with_name(f"{model.stem}.norms-{voice}.npz")


def model_sha256(model: Path) -> str:
    manifest = model.with_name(model.name + ".json")
    if manifest.exists():  # a derived model: its manifest recorded its sha256 when it was made
        return str(json.loads(manifest.read_text("utf-8"))["sha256"])
    from voices.model_assets import sha256_of

    return sha256_of(model)


def derive_graphs(model: Path, model_sha256: str) -> tuple[Path, Path]:
    """The front and window graphs split from `model` (made now if absent or not matching
    their manifests; made from the verified file, never downloaded)."""
    import onnx

    front_path, window_path = derived_names(model)
    recipe = {"source": model.name, "source_sha256": model_sha256, "split": GENERATOR_INPUT}
    parts: dict[str, object] = {}

    def parts_of():
        if not parts:
            parts["front"], parts["generator"] = split(onnx.load(str(model)))
        return parts

    def make_front(path: Path) -> None:
        onnx.save(parts_of()["front"], str(path))

    def make_window(path: Path) -> None:
        onnx.save(window_graph(parts_of()["generator"]), str(path))

    derive_file(front_path, {**recipe, "part": "front"}, make_front)
    derive_file(window_path, {**recipe, "part": "window", "context": CONTEXT_FRAMES}, make_window)
    return front_path, window_path


def statistics_recipe(model_sha256: str, voice: str, speed: float, pieces: Sequence[str]) -> dict:
    digest = hashlib.sha256("\n".join(pieces).encode()).hexdigest()
    return {
        "source_sha256": model_sha256,
        "voice": voice,
        "speed": speed,
        "calibration_sha256": digest,  # of the phoneme strings (tone scheme included)
    }


def derive_statistics(
    model: Path,
    model_sha256: str,
    voice: str,
    speed: float,
    pieces: Sequence[str],
    front,
    feed_of,
) -> list[np.ndarray]:
    """The voice's pooled norm statistics, kept beside the graph (`.npz` + manifest): made
    once by running the whole-piece generator over `pieces` (phoneme strings; `feed_of`
    turns one into the model's feed), then read back."""
    import onnx
    import onnxruntime as ort

    target = statistics_name(model, voice if speed == 1.0 else f"{voice}-speed{speed:g}")

    def make(path: Path) -> None:
        _, generator = split(onnx.load(str(model)))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        statistics = ort.InferenceSession(
            with_statistics_out(generator).SerializeToString(),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        pooled = calibrate(front, statistics, [feed_of(p) for p in pieces])
        with path.open("wb") as fh:
            np.savez(fh, *pooled)

    derive_file(target, statistics_recipe(model_sha256, voice, speed, pieces), make)
    with np.load(target) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


def statistics_feed(pooled: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    names = norm_inputs(len(pooled) // 2)
    feed = {}
    for k, (mean, variance) in enumerate(names):
        feed[mean], feed[variance] = pooled[2 * k], pooled[2 * k + 1]
    return feed


def windows_of(
    window_session,
    x: np.ndarray,
    har: np.ndarray,
    style: np.ndarray,
    fixed: dict[str, np.ndarray],
    plan: Sequence[Window],
) -> Iterator[np.ndarray]:
    """The piece's audio window by window (each as soon as it is made)."""
    for window in plan:
        feed = {**window_feed(x, har, window), STYLE: style[:, :128], **fixed}
        audio = window_session.run(None, feed)[0]
        yield cut(np.asarray(audio, np.float32).ravel(), window)
