"""Fit and check the Cantonese/Mandarin vote on the speech set's dev / test split.

`dump` runs Whisper once per Chinese clip of bench/data/speech (one encoder pass, the language
id, the two prompted greedy decodes: exactly what the vote in transcribe() computes) and
writes the raw values to a JSON-lines file; Mandarin clips are also run band-limited to 8 kHz
(telephone band), because the SpiCE/Forvo Cantonese clips are 8 kHz recordings and a vote
must not learn the bandwidth. `fit` reads that file, fits the vote's log-odds weights on the
`dev` split only (speakers never cross splits, see the manifest's `split` field), and prints
accuracy on `dev` and on `test` for the current settings and for the refit, in Auto mode,
with 1-3 s clips counted apart. No tuning ever reads the test split.

The dump encodes as `transcribe()` does: `chinese_vote` reads the encoder window the settings
give (`voices.asr.encoder_window_s`, 20 s by default; each row records it as `window_s`) and
cuts the clip to its speech; each row records the vote's own features (`features`, computed on
that cut, as transcribe() computes them) and the cut's length (`cut_s`). `--split dev` dumps
the dev split only (what every fit reads). The fit-* commands also score the shipped head file
on the same rows (before any `--out` overwrites it), and write the dump's window and the date
into the head's metadata.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language_fit.py \
        dump /tmp/vote.jsonl
    PYTHONPATH=. .venv/bin/python bench/voices_language_fit.py fit /tmp/vote.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.voices_language import fixture_clips, load_manifest
from voices.asr.faster_whisper import FasterWhisperTranscriber, vote_features
from voices.asr.language_decision import LanguageEvidence, chinese_mass, decide, zh_en_feature
from voices.asr.language_head import (
    DEFAULT_HEAD,
    QUICK_HEAD,
    ZH_EN_HEAD,
    LanguageHead,
    load_head,
)
from voices.audio_io import read_file_audio
from voices.config import AsrSettings, LanguageSettings, VoiceSettings
from voices.language import AcousticVote, decide_language

SPEECH = Path(__file__).resolve().parent / "data" / "speech"


def telephone_band(audio: np.ndarray) -> np.ndarray:
    return resample_poly(resample_poly(audio, 1, 2), 2, 1).astype(np.float32)


def print_encoder_passes(asr: FasterWhisperTranscriber) -> None:
    passes = max(1, asr.encoder_passes)
    print(
        f"encoder passes {asr.encoder_passes}, {asr.encoded_frames / passes:.0f} log-mel frames "
        "each on average (3000: the whole 30 s window)"
    )


def dump(out: Path, limit_s: float = 270.0, split: str | None = None) -> None:
    run_started = time.perf_counter()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    rows = load_manifest(SPEECH) + fixture_clips()  # fixtures read by path, never copied
    done = set()
    if out.exists():  # resume: keep what an earlier run measured
        done = {json.loads(line)["file"] for line in out.read_text("utf-8").splitlines() if line}
    print(f"load average at start: {os.getloadavg()} (2 cores shared by 7 helpers)")
    with out.open("a", encoding="utf-8") as fh:
        for clip in rows:
            if clip["language"] not in ("yue", "cmn") or clip["file"] in done:
                continue
            if split is not None and clip.get("split", "test") != split:
                continue
            if time.perf_counter() - run_started > limit_s:
                print("time limit reached: run again to resume")
                break
            audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
            variants = [("", audio)]
            if clip["language"] == "cmn":
                variants.append(("-8k", telephone_band(audio)))
            for suffix, samples in variants:
                started = time.perf_counter()
                try:
                    vote = asr.chinese_vote(samples)  # the settings' encoder window, the cut
                    cut = asr.speech_only(samples)
                except ValueError:  # the VAD hears no speech: transcribe() never votes on it
                    row = {"file": clip["file"] + suffix, "split": clip.get("split", "test")}
                    fh.write(json.dumps(dict(row, no_speech=True)) + "\n")
                    continue
                row = {
                    "file": clip["file"] + suffix,
                    "language": clip["language"],
                    "kind": clip["kind"] + suffix,
                    "speaker": clip["speaker"],
                    "split": clip.get("split", "test"),
                    "seconds": round(samples.size / 16000, 2),
                    "cut_s": round(cut.size / 16000, 2) if cut is not None else None,
                    "window_s": asr.asr.encoder_window_s,  # None: Whisper's whole 30 s
                    "features": [float(v) for v in vote.features],
                    "text": clip["text"],
                    "elapsed_s": round(time.perf_counter() - started, 3),
                    "lang_probs": vote.language_probs,
                    "yue": vote.yue.__dict__,
                    "cmn": vote.cmn.__dict__,
                    "embedding": [round(float(v), 4) for v in vote.embedding],
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
    print_encoder_passes(asr)
    print(f"load average at end: {os.getloadavg()}")


def features(row: dict, settings: AsrSettings) -> tuple[float, ...]:
    """The vote's features as transcribe() computed them (recorded by `dump`); for a dump
    from before they were recorded, recomputed from the decodes with the whole clip's length
    (transcribe() scales the last one by the length of the clip cut to its speech)."""
    from voices.asr.faster_whisper import Decode

    if "features" in row:
        return tuple(row["features"])
    return vote_features(
        Decode(**row["yue"]), Decode(**row["cmn"]), row["lang_probs"], row["seconds"]
    )


def label(
    row: dict, score: float, settings: AsrSettings, hint: str | None = None, default: str = "cmn"
) -> str:
    """The label transcribe() gives: markers first, then a decisive vote, the hint, a confident
    vote, else the default (no history)."""
    a = settings
    vote = AcousticVote(
        score,
        score >= a.vote_yue_margin or score <= -a.vote_cmn_margin,
        abs(score) >= a.vote_override_margin,
    )
    text = row["yue" if hint == "yue" else "cmn"]["text"]
    language = LanguageSettings(unsure_vote_chinese=default)
    return decide_language(text, "zh", hint=hint, acoustic=vote, settings=language)


def scores(rows: list[dict], weights: np.ndarray, bias: float, settings: AsrSettings):
    return [bias + float(np.dot(weights, features(r, settings))) for r in rows]


def report(
    rows: list[dict],
    weights: np.ndarray,
    bias: float,
    settings: AsrSettings,
    name: str,
    default: str = "cmn",
):
    report_scores(rows, scores(rows, weights, bias, settings), settings, name, default)


def report_scores(
    rows: list[dict], scores_: list[float], settings: AsrSettings, name: str, default: str
) -> None:
    groups: dict[tuple, list] = defaultdict(list)
    for r, score in zip(rows, scores_, strict=True):
        other = "cmn" if r["language"] == "yue" else "yue"
        result = (
            label(r, score, settings, default=default) == r["language"],
            not (score >= settings.vote_yue_margin or score <= -settings.vote_cmn_margin),
            label(r, score, settings, r["language"], default) == r["language"],
            label(r, score, settings, other, default) == r["language"],
        )
        groups[(r["split"], r["language"], r["kind"])].append(result)
        if 1.0 <= r["seconds"] <= 3.0:
            groups[(r["split"], r["language"], "all, 1-3 s")].append(result)
    print(
        f"\n{name}\n| split | language | clips | n | Auto right | unsure (-> default) "
        "| hint right | wrong hint overruled |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for key in sorted(groups):
        g = groups[key]
        n = len(g)
        auto, unsure, hint, overruled = (sum(col) for col in zip(*g, strict=True))
        print(
            f"| {key[0]} | {key[1]} | {key[2]} | {n} | {auto}/{n} ({100 * auto / n:.0f} %) "
            f"| {unsure} | {hint}/{n} | {overruled}/{n} |"
        )


def fit_weights(rows: list[dict], settings: AsrSettings, l2: float) -> tuple[np.ndarray, float]:
    x = np.array([features(r, settings) for r in rows])
    y = np.array([r["language"] == "yue" for r in rows], dtype=float)
    # every (language, kind) group weighs the same: 42 Forvo words must not outvote 13 sentences
    counts: dict[tuple, int] = defaultdict(int)
    for r in rows:
        counts[(r["language"], r["kind"])] += 1
    w_row = np.array([1.0 / counts[(r["language"], r["kind"])] for r in rows])
    w_row /= w_row.mean()
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(6000):  # L2-regularised logistic regression, plain gradient descent
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = w_row * (p - y)
        w -= 0.3 * (z.T @ g / len(y) + l2 * w)
        b -= 0.3 * float(np.mean(g))
    weights = w / sd
    return weights, b - float(weights @ mu)


def auto_accuracy(rows: list[dict], scores_: list[float], settings: AsrSettings, default: str):
    """Balanced Auto-mode accuracy (mean of yue and cmn) with `default` for unsure votes."""
    right: dict[str, list[bool]] = defaultdict(list)
    for r, score in zip(rows, scores_, strict=True):
        right[r["language"]].append(label(r, score, settings, default=default) == r["language"])
    return float(np.mean([np.mean(v) for v in right.values()]))


def fit(path: Path, l2: float) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    rows = [r for r in rows if r["kind"] != "spliced"]
    current = AsrSettings()
    shipped = LanguageSettings().unsure_vote_chinese
    report(
        rows,
        np.array(current.vote_weights),
        current.vote_bias,
        current,
        f"current settings (unsure -> {shipped})",
        shipped,
    )
    dev = [r for r in rows if r["split"] == "dev"]
    weights, bias = fit_weights(dev, current, l2)
    s = np.array(scores(dev, weights, bias, current))
    is_yue = np.array([r["language"] == "yue" for r in dev])
    # the unsure band (|score| below a margin: hint, history, then unsure_vote_chinese decide)
    # and what an unsure vote becomes are chosen by balanced dev accuracy; ties keep the wider
    # band, which leaves more to the caller's hint and the session's history
    best = None
    for margin in (1.0, 0.5, 0.25, 0.0):
        for default in ("yue", "cmn"):
            trial = current.model_copy(
                update={"vote_yue_margin": margin, "vote_cmn_margin": margin}
            )
            accuracy = auto_accuracy(dev, list(s), trial, default)
            print(f"  dev balanced accuracy {accuracy:.3f}: margin {margin}, unsure -> {default}")
            if best is None or accuracy > best[0] + 1e-9:
                best = (accuracy, trial, default)
    _, chosen, default = best
    # the audio beats a declared language only far beyond any dev clip of the wrong sign
    wrong_sign = [abs(v) for v, y in zip(s, is_yue, strict=True) if (v > 0) != y] or [0.0]
    override = round(max(3.0, max(wrong_sign) + 2.0), 2)
    refit = chosen.model_copy(
        update={
            "vote_weights": tuple(round(float(v), 3) for v in weights),
            "vote_bias": round(bias, 3),
            "vote_override_margin": override,
        }
    )
    print(
        f"\nfitted on {len(dev)} dev clips: vote_weights={refit.vote_weights} "
        f"vote_bias={refit.vote_bias} vote_yue_margin={refit.vote_yue_margin} "
        f"vote_cmn_margin={refit.vote_cmn_margin} vote_override_margin={override} "
        f"unsure_vote_chinese={default}"
    )
    report(
        rows, weights, bias, refit, f"refit on dev (test never read), default {default}", default
    )


# ---- the encoder head (voices/asr/language_head.py) -------------------------------------

HEAD_SEED = 20261201  # speaker folds of the dev cross-validation
HEAD_FOLDS = 5
ZH_EN_SAFETY = 1.0  # zh/en head margin: past every out-of-fold English dev score (and 0) by this


def write_head(
    head: LanguageHead,
    out: Path,
    command: str,
    *,
    dev_clips: int,
    components: int,
    l2: float,
    **about: object,
) -> None:
    """`head` to `out` with what every fitted head records about its fit (`about`: the rest)."""
    head.to_json(
        out,
        fitted_by=f"bench/voices_language_fit.py {command}",
        seed=HEAD_SEED,
        principal_components=components,
        l2=l2,
        dev_clips=dev_clips,
        audio_cut="each clip cut to its VAD speech + AsrSettings.speech_pad_ms either side "
        "(FasterWhisperTranscriber.speech_only), as transcribe() cuts every utterance",
        **about,
    )


def dump_window(rows: list[dict]) -> str:
    """The encoder window the dump's rows were encoded with, for a head's metadata (one
    window per dump: a head must not mix embeddings of two windows)."""
    windows = {r.get("window_s", "unrecorded") for r in rows}
    if len(windows) != 1:
        raise SystemExit(f"the dump mixes encoder windows {sorted(map(str, windows))}: dump again")
    (window,) = windows
    if window == "unrecorded":
        return "not recorded (a dump from before encoder_window_s: Whisper's whole 30 s window)"
    if window is None:
        return "Whisper's whole 30 s window (encoder_window_s = None)"
    return (
        f"{window:g} s (AsrSettings.encoder_window_s; the utterance + encoder_margin_s when "
        "longer), as transcribe() encodes"
    )


def fitted_about(rows: list[dict]) -> dict:
    return {
        "encoder_window": dump_window(rows),
        "fitted_on": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def group_weights(rows: list[dict]) -> np.ndarray:
    """Every (language, kind) group weighs the same (as in fit_weights)."""
    counts: dict[tuple, int] = defaultdict(int)
    for r in rows:
        counts[(r["language"], r["kind"])] += 1
    w = np.array([1.0 / counts[(r["language"], r["kind"])] for r in rows])
    return w / w.mean()


def fit_logistic_head(
    f: np.ndarray,
    e: np.ndarray,
    y: np.ndarray,
    w_row: np.ndarray,
    l2: float,
    components: int,
) -> LanguageHead:
    """L2-regularised logistic regression over [features `f` (n x k, k may be 0), the encoder
    embedding `e` projected on its first `components` principal directions (0: all
    dimensions)], rows weighted by `w_row`, folded back into one linear head over the raw
    features and embedding (every head of this script is fitted here)."""
    mu_f, sd_f = f.mean(0), f.std(0) + 1e-9
    mu_e, sd_e = e.mean(0), e.std(0) + 1e-6
    ze = (e - mu_e) / sd_e
    if components:
        _, _, vt = np.linalg.svd(ze, full_matrices=False)
        proj = vt[:components].T
    else:
        proj = np.eye(ze.shape[1])
    pe = ze @ proj
    sd_p = pe.std(0) + 1e-9
    z = np.hstack([(f - mu_f) / sd_f, pe / sd_p])
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(3000):  # plain gradient descent
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = w_row * (p - y)
        w -= 0.3 * (z.T @ g / len(y) + l2 * w)
        b -= 0.3 * float(np.mean(g))
    n_f = f.shape[1]
    wf = w[:n_f] / sd_f
    we = (proj @ (w[n_f:] / sd_p)) / sd_e
    return LanguageHead(wf, we, b - float(wf @ mu_f) - float(we @ mu_e))


def fit_head(rows: list[dict], settings: AsrSettings, l2: float, components: int) -> LanguageHead:
    """The yue/cmn head over [vote features, encoder embedding]."""
    return fit_logistic_head(
        np.array([features(r, settings) for r in rows]),
        np.array([r["embedding"] for r in rows], dtype=np.float64),
        np.array([r["language"] == "yue" for r in rows], dtype=float),
        group_weights(rows),
        l2,
        components,
    )


def out_of_fold_scores(
    rows: list[dict],
    folds: list[int],
    fit: Callable[[list[dict]], LanguageHead],
    score: Callable[[LanguageHead, list[dict]], list[float]],
) -> list[float]:
    """Each row's score by a head fitted on the other speaker folds."""
    out = [0.0] * len(rows)
    for k in range(HEAD_FOLDS):
        head = fit([r for r, f in zip(rows, folds, strict=True) if f != k])
        held = [i for i, f in enumerate(folds) if f == k]
        for i, value in zip(held, score(head, [rows[i] for i in held]), strict=True):
            out[i] = value
    return out


def head_scores(head: LanguageHead, rows: list[dict], settings: AsrSettings) -> list[float]:
    return [
        head.score(features(r, settings), np.asarray(r["embedding"], dtype=np.float64))
        for r in rows
    ]


def speaker_folds(rows: list[dict]) -> list[int]:
    """A fold per speaker (a speaker's clips, and a clip's 8 kHz copy, never cross folds)."""
    speakers = sorted({r["speaker"] for r in rows})
    order = np.random.default_rng(HEAD_SEED).permutation(len(speakers))
    fold = {s: int(order[i]) % HEAD_FOLDS for i, s in enumerate(speakers)}
    # the Mandarin words are one speaker: fold them by word (as the split does)
    return [
        fold[r["speaker"]] if r["kind"] not in ("words", "words-8k") else zlib_fold(r) for r in rows
    ]


def zlib_fold(row: dict) -> int:
    import zlib

    return zlib.crc32(row["file"].removesuffix("-8k").encode()) % HEAD_FOLDS


def out_of_fold(rows: list[dict], settings: AsrSettings, l2: float, components: int) -> list[float]:
    return out_of_fold_scores(
        rows,
        speaker_folds(rows),
        lambda train: fit_head(train, settings, l2, components),
        lambda head, held: head_scores(head, held, settings),
    )


def balanced_sign_accuracy(rows: list[dict], scores_: list[float]) -> float:
    right: dict[str, list[bool]] = defaultdict(list)
    for r, score in zip(rows, scores_, strict=True):
        right[r["language"]].append((score > 0) == (r["language"] == "yue"))
    return float(np.mean([np.mean(v) for v in right.values()]))


def fit_head_command(path: Path, out: Path | None) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    rows = [r for r in rows if "embedding" in r and r["kind"] != "spliced"]
    current = AsrSettings()
    dev = [r for r in rows if r["split"] == "dev"]
    # the head's size and regularisation are chosen by speaker-fold cross-validation on dev
    best = None
    for components in (8, 16, 32, 64, 0):
        for l2 in (0.003, 0.01, 0.03, 0.1):
            oof = out_of_fold(dev, current, l2, components)
            accuracy = balanced_sign_accuracy(dev, oof)
            print(
                f"  dev cross-validated balanced accuracy {accuracy:.3f}: pcs {components} l2 {l2}"
            )
            if best is None or accuracy > best[0] + 1e-9:
                best = (accuracy, components, l2, oof)
    _, components, l2, oof = best
    # margins, the unsure default and the override margin from the out-of-fold dev scores
    chosen, default = None, None
    best_accuracy = -1.0
    for margin in (1.0, 0.5, 0.25, 0.0):
        for unsure in ("yue", "cmn"):
            trial = current.model_copy(
                update={"vote_yue_margin": margin, "vote_cmn_margin": margin}
            )
            accuracy = auto_accuracy(dev, oof, trial, unsure)
            print(
                f"  dev out-of-fold balanced accuracy {accuracy:.3f}: margin {margin}, "
                f"unsure -> {unsure}"
            )
            if accuracy > best_accuracy + 1e-9:
                best_accuracy, chosen, default = accuracy, trial, unsure
    is_yue = [r["language"] == "yue" for r in dev]
    wrong = [abs(v) for v, y in zip(oof, is_yue, strict=True) if (v > 0) != y] or [0.0]
    override = round(max(3.0, max(wrong) + 2.0), 2)
    settings = chosen.model_copy(update={"vote_override_margin": override})
    head = fit_head(dev, current, l2, components)
    print(
        f"\nhead: {components or 'all'} principal components, l2 {l2}; margins "
        f"{settings.vote_yue_margin}, unsure -> {default}, override {override} "
        f"(fitted on {len(dev)} dev clips; test never read)"
    )
    report_scores(
        rows,
        scores(rows, np.array(current.vote_weights), current.vote_bias, current),
        current,
        "current vote (shipped weights and margins)",
        LanguageSettings().unsure_vote_chinese,
    )
    report_scores(rows, head_scores(head, rows, current), settings, "encoder head", default)
    # the shipped head file against the refit, both under the shipped margins (AsrSettings)
    shipped_default = LanguageSettings().unsure_vote_chinese
    shipped = head_scores(load_head(DEFAULT_HEAD), rows, current)
    report_scores(rows, shipped, current, "shipped head file, shipped margins", shipped_default)
    report_scores(
        rows,
        head_scores(head, rows, current),
        current,
        "refit head, shipped margins",
        shipped_default,
    )
    report_scores(
        dev, oof, current, "refit head out of fold (dev), shipped margins", shipped_default
    )
    shipped_dev = [v for v, r in zip(shipped, rows, strict=True) if r["split"] == "dev"]
    print(
        f"\ndev balanced sign accuracy: shipped head {balanced_sign_accuracy(dev, shipped_dev):.3f}"
        f", refit in sample {balanced_sign_accuracy(dev, head_scores(head, dev, current)):.3f}"
        f", refit out of fold {balanced_sign_accuracy(dev, oof):.3f}"
    )
    if out is not None:
        write_head(
            head,
            out,
            "fit-head (dev split of bench/data/speech)",
            dev_clips=len(dev),
            components=components,
            l2=l2,
            **fitted_about(dev),
            margin=settings.vote_yue_margin,
            unsure_vote_chinese=default,
            override_margin=override,
        )
        print(f"written {out}")


# ---- the quick head: the embedding alone, to skip one of the vote's two decodes -----------


def fit_embedding_head(rows: list[dict], l2: float, components: int) -> LanguageHead:
    """The yue/cmn head over the encoder embedding alone; its four feature weights are zero."""
    head = fit_logistic_head(
        np.zeros((len(rows), 0)),
        np.array([r["embedding"] for r in rows], dtype=np.float64),
        np.array([r["language"] == "yue" for r in rows], dtype=float),
        group_weights(rows),
        l2,
        components,
    )
    return LanguageHead(np.zeros(4), head.embedding_weights, head.bias)


def quick_scores(head: LanguageHead, rows: list[dict]) -> list[float]:
    """The quick head reads no decode: its feature weights are zero."""
    return [
        head.score((0.0,) * head.feature_weights.size, np.asarray(r["embedding"])) for r in rows
    ]


def fit_quick_head_command(path: Path, out: Path | None) -> None:
    """The quick head and its confident margin, from speaker-fold cross-validation on dev."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    rows = [
        r
        for r in rows
        if "embedding" in r
        and r.get("language") in ("yue", "cmn")
        and r["kind"] != "spliced"
        and not r.get("gated")
    ]
    dev = [r for r in rows if r["split"] == "dev"]
    folds = speaker_folds(dev)
    best = None
    for components in (16, 32, 0):
        for l2 in (0.003, 0.01, 0.03):
            oof = out_of_fold_scores(
                dev,
                folds,
                lambda train, l2=l2, pcs=components: fit_embedding_head(train, l2, pcs),
                quick_scores,
            )
            accuracy = balanced_sign_accuracy(dev, oof)
            print(
                f"  dev cross-validated balanced accuracy {accuracy:.3f}: pcs {components} l2 {l2}"
            )
            if best is None or accuracy > best[0] + 1e-9:
                best = (accuracy, components, l2, oof)
    accuracy, components, l2, oof = best
    # confident: beyond every out-of-fold dev score of the wrong sign, with 0.5 to spare
    is_yue = [r["language"] == "yue" for r in dev]
    wrong = [abs(v) for v, y in zip(oof, is_yue, strict=True) if (v > 0) != y] or [0.0]
    margin = round(max(wrong) + 0.5, 2)
    covered = sum(abs(v) >= margin for v in oof) / len(oof)
    head = fit_embedding_head(dev, l2, components)
    print(
        f"\nquick head: {components or 'all'} components, l2 {l2}, dev balanced accuracy "
        f"{accuracy:.3f}, confident margin {margin} (covers {covered:.0%} of dev clips)"
    )
    for split in ("dev", "test"):
        part = [r for r in rows if r["split"] == split]
        s = quick_scores(head, part)
        sure = [(v, r) for v, r in zip(s, part, strict=True) if abs(v) >= margin]
        right = sum((v > 0) == (r["language"] == "yue") for v, r in sure)
        print(f"  {split}: confident on {len(sure)}/{len(part)}, right on {right}/{len(sure)}")
    # the shipped quick head file on the same dev rows, at its own margin; the refit out of fold
    shipped = load_head(QUICK_HEAD)
    for name, values, at in (
        (
            f"shipped quick head (margin {shipped.confident_margin})",
            quick_scores(shipped, dev),
            shipped.confident_margin,
        ),
        (f"refit out of fold (margin {margin})", oof, margin),
    ):
        sure = [(v, r) for v, r in zip(values, dev, strict=True) if abs(v) >= at]
        right = sum((v > 0) == (r["language"] == "yue") for v, r in sure)
        print(
            f"  dev, {name}: balanced sign accuracy {balanced_sign_accuracy(dev, values):.3f}, "
            f"confident on {len(sure)}/{len(dev)}, right on {right}/{len(sure)}"
        )
    if out is not None:
        write_head(
            head,
            out,
            "fit-quick-head (dev split of bench/data/speech; the embedding alone, feature "
            "weights zero)",
            dev_clips=len(dev),
            components=components,
            l2=l2,
            confident_margin=margin,
            **fitted_about(dev),
        )
        print(f"written {out}")


# ---- the zh/en head: Chinese that Whisper's language id calls English ---------------------


def zh_en_rows(path: Path) -> list[dict]:
    """The diagnosis dump's rows that transcribe() would score (the VAD gate passed)."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return [
        r
        for r in rows
        if "embedding" in r
        and r.get("language") in ("yue", "cmn", "en")
        and not r["kind"].startswith("spliced")
        and not r.get("gated")
    ]


def fit_zh_en_head(rows: list[dict], l2: float, components: int) -> LanguageHead:
    """The zh/en head (Chinese = 1) over [zh_en_feature, the embedding]; each language weighs
    the same (English has far fewer clips)."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["language"]] += 1
    w_row = np.array([1.0 / counts[r["language"]] for r in rows])
    return fit_logistic_head(
        np.array([[zh_en_feature(r["lang_probs"])] for r in rows]),
        np.array([r["embedding"] for r in rows], dtype=np.float64),
        np.array([r["language"] != "en" for r in rows], dtype=float),
        w_row / w_row.mean(),
        l2,
        components,
    )


def zh_en_scores(head: LanguageHead, rows: list[dict]) -> list[float]:
    return [head.score((zh_en_feature(r["lang_probs"]),), np.asarray(r["embedding"])) for r in rows]


def whisper_pick(row: dict, score: float | None, settings: AsrSettings) -> str:
    """The language transcribe() decodes an Auto-mode utterance in (decide(), no hint)."""
    evidence = LanguageEvidence(row["lang_probs"], chinese_score=score, seconds=row["cut_s"])
    return decide(evidence, settings, LanguageSettings()).whisper


def zh_en_report(
    rows: list[dict], scores_: list[float], margin: float, split: str, phrase_margin: float
) -> None:
    off = AsrSettings(zh_en_head=False)
    on = AsrSettings(
        zh_en_head=True, zh_en_head_margin=margin, zh_en_head_phrase_margin=phrase_margin
    )
    groups: dict[tuple, list] = defaultdict(list)
    for r, score in zip(rows, scores_, strict=True):
        if r["split"] != split:
            continue
        before = whisper_pick(r, score, off) != "en"
        after = whisper_pick(r, score, on) != "en"
        right = (before == (r["language"] != "en"), after == (r["language"] != "en"))
        native = "8 kHz copy" if r["kind"].endswith("-8k") else "as recorded"
        groups[(r["language"], native, "all")].append(right)
        if 1.0 <= r["seconds"] <= 3.0:
            groups[(r["language"], native, "1-3 s")].append(right)
    print(f"\n{split}: decoded in the right family (Chinese vs English), Auto mode, no hint")
    print("| language | clips | length | n | head off | head on |")
    print("|---|---|---|---|---|---|")
    for key in sorted(groups):
        g = groups[key]
        off_right, on_right = (sum(col) for col in zip(*g, strict=True))
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(g)} | {off_right} | {on_right} |")


def fit_zh_en_head_command(
    path: Path, out: Path | None, show_test: bool, oof_out: Path | None = None
) -> None:
    """The zh/en head, its size by speaker-fold cross-validation on dev, and its margin: the
    largest out-of-fold dev score of an English clip + ZH_EN_SAFETY (never read off test)."""
    rows = zh_en_rows(path)
    dev = [r for r in rows if r["split"] == "dev"]
    folds = speaker_folds(dev)
    is_en = np.array([r["language"] == "en" for r in dev])
    # the clips the head is for: Chinese that Whisper's id gives more English than Chinese
    picked_en = np.array([r["lang_probs"].get("en", 0) > r["lang_probs"].get("zh", 0) for r in dev])
    target = picked_en & ~is_en
    # of those, the ones the zh/en gate (auto_chinese_min_probability) leaves on English: what
    # the head adds
    gate = AsrSettings().auto_chinese_min_probability
    past_gate = target & np.array([chinese_mass(r["lang_probs"]) < gate for r in dev])
    print(
        f"dev: {len(dev)} clips ({int(is_en.sum())} English from "
        f"{len({r['speaker'] for r in dev if r['language'] == 'en'})} speakers; "
        f"{int(target.sum())} Chinese that Whisper calls English)"
    )
    best = None
    for components in (4, 8, 16, 32):
        for l2 in (0.01, 0.03, 0.1, 0.3):
            oof = np.array(
                out_of_fold_scores(
                    dev,
                    folds,
                    lambda train, l2=l2, pcs=components: fit_zh_en_head(train, l2, pcs),
                    zh_en_scores,
                )
            )
            margin = max(0.0, float(oof[is_en].max()) + ZH_EN_SAFETY)
            rescued = int((oof[target] >= margin).sum())
            added = int((oof[past_gate] >= margin).sum())
            gap = float((oof[~is_en].min() - oof[is_en].max()) / oof.std())
            print(
                f"  pcs {components:>2} l2 {l2:<4}: largest English {oof[is_en].max():+.2f}, "
                f"margin {margin:+.2f}, rescues {rescued}/{int(target.sum())} out of fold "
                f"({added}/{int(past_gate.sum())} past the gate), "
                f"standardised gap {gap:+.2f}"
            )
            if best is None or (rescued, gap) > best[:2]:
                best = (rescued, gap, components, l2, margin, oof)
    rescued, _, components, l2, margin, oof = best
    margin = round(margin, 2)
    # the same rule within utterances of at least zh_en_head_phrase_s of speech (a phrase, not
    # a word): the margin there is the largest out-of-fold English dev score that long + safety
    phrase_s = AsrSettings().zh_en_head_phrase_s
    phrase = np.array([r["cut_s"] >= phrase_s for r in dev])
    phrase_margin = round(max(0.0, float(oof[is_en & phrase].max()) + ZH_EN_SAFETY), 2)
    head = fit_zh_en_head(dev, l2, components)
    print(
        f"\nzh/en head: {components} components, l2 {l2}, margin {margin} (largest out-of-fold "
        f"English dev score + {ZH_EN_SAFETY}); rescues {rescued}/{int(target.sum())} dev "
        "Chinese clips out of fold"
    )
    print(
        f"phrase margin (>= {phrase_s} s of speech; {int((is_en & phrase).sum())} English dev "
        f"clips that long): {phrase_margin}; rescues "
        f"{int((oof[past_gate & phrase] >= phrase_margin).sum())}/"
        f"{int((past_gate & phrase).sum())} past the gate that long out of fold"
    )
    zh_en_report(dev, list(oof), margin, "dev", phrase_margin)
    # the shipped zh/en head file and margins (AsrSettings) on the same dev rows
    shipped = AsrSettings()
    print(
        f"\nshipped zh/en head file, margins {shipped.zh_en_head_margin} / phrase "
        f"{shipped.zh_en_head_phrase_margin} (the refit's dev out of fold is above):"
    )
    shipped_scores = np.array(zh_en_scores(load_head(ZH_EN_HEAD), dev))
    zh_en_report(
        dev,
        list(shipped_scores),
        shipped.zh_en_head_margin,
        "dev",
        shipped.zh_en_head_phrase_margin or shipped.zh_en_head_margin,
    )
    print(
        f"  shipped head: largest English dev score {shipped_scores[is_en].max():+.2f} "
        f"(>= {phrase_s} s: {shipped_scores[is_en & phrase].max():+.2f}); clears its margin on "
        f"{int((shipped_scores[target] >= shipped.zh_en_head_margin).sum())}/"
        f"{int(target.sum())} dev Chinese clips Whisper calls English "
        f"({int((shipped_scores[past_gate] >= shipped.zh_en_head_margin).sum())}/"
        f"{int(past_gate.sum())} past the gate)"
    )
    if oof_out is not None:  # for bench/voices_language_likelihood.py show --oof
        scores = {r["file"]: round(float(v), 4) for r, v in zip(dev, oof, strict=True)}
        oof_out.write_text(json.dumps(scores, ensure_ascii=False, indent=0) + "\n", "utf-8")
    if show_test:  # read once, after everything above is fixed
        zh_en_report(rows, zh_en_scores(head, rows), margin, "test", phrase_margin)
        for r, score in zip(rows, zh_en_scores(head, rows), strict=True):
            if r["split"] == "test" and r["language"] == "en":
                print(f"  test en {r['file'][-42:]:>42} {r['seconds']:5.2f} s score {score:+.2f}")
    if out is not None:
        head = LanguageHead(head.feature_weights, head.embedding_weights, head.bias, margin)
        write_head(
            head,
            out,
            "fit-zh-en-head (dev split of bench/data/speech; > 0: Chinese; feature: zh_en_feature)",
            dev_clips=len(dev),
            components=components,
            l2=l2,
            confident_margin=margin,
            margin_rule=f"largest out-of-fold English dev score + {ZH_EN_SAFETY}",
            phrase_s=phrase_s,
            phrase_margin=phrase_margin,
            **fitted_about(dev),
        )
        print(f"written {out}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "command", choices=("dump", "fit", "fit-head", "fit-quick-head", "fit-zh-en-head")
    )
    parser.add_argument("--out", type=Path, help="fit-head: write the head's JSON here")
    parser.add_argument("path", type=Path)
    parser.add_argument("--l2", type=float, default=0.02)
    parser.add_argument("--test", action="store_true", help="fit-zh-en-head: score test once")
    parser.add_argument(
        "--oof-out", type=Path, help="fit-zh-en-head: write the out-of-fold dev scores here"
    )
    parser.add_argument("--limit-s", type=float, default=270.0, help="dump: stop after this long")
    parser.add_argument("--split", choices=("dev", "test"), help="dump: only this split")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path, args.limit_s, args.split)
    elif args.command == "fit-head":
        fit_head_command(args.path, args.out)
    elif args.command == "fit-zh-en-head":
        fit_zh_en_head_command(args.path, args.out, args.test, args.oof_out)
    elif args.command == "fit-quick-head":
        fit_quick_head_command(args.path, args.out)
    else:
        fit(args.path, args.l2)


if __name__ == "__main__":
    main()
