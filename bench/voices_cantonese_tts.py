"""Cantonese voices by round trip: speak 10 sentences, transcribe them, score the CER.

Every voice speaks the same 10 Hong Kong service sentences (numbers, money, a phone number,
polyphones such as 入境處, English words). Each is resampled to 16 kHz and transcribed by the
embedded Whisper base with the language declared `yue` (as the widget's 廣東話 does). CER is
after OpenCC to Simplified on both sides (voices.scoring). Also printed: real-time factor of
synthesis and time to the first audio chunk (clause streaming), and with --table the
listening table (said / heard) for docs/speech.md. No human listened: naturalness is not
judged here.

    PYTHONPATH=. .venv/bin/python bench/voices_cantonese_tts.py [--configs espeak kokoro:jm_kumo]

A Kokoro config is kokoro:VOICE:TONES:SPEED:FIRST:THREADS:TRIM:EDGE:MAX:GROWTH:WINDOW (FIRST:
syllables of the first piece of a sentence, 0 for whole clauses; THREADS: onnxruntime threads;
TRIM: 1 cuts the silence Kokoro pads each piece with, 0 keeps it; EDGE / MAX: the derived model
whose pad tokens' / phonemes' predicted durations are capped at that many 25 ms frames, 0: the
packaged model; GROWTH: the first clause's later pieces at most that many times the piece
before, 0: one cut; WINDOW: the generator on windows of frames, the first of WINDOW 25 ms
frames, 0: the whole piece in one run, voices.tts.kokoro_window). An omitted field takes the
shipped setting. With --compare-whole, each windowed config's audio (raw, before trimming) is
compared clause by clause with the window graph run on the whole clause at once (max abs
difference: the joins) and with the packaged graph's whole-clause output (SNR and log-spectral
distance: what fixing the norm statistics changes).

"first chunk" is the time from a sentence handed to the voice to its first audio; "first sound"
adds the silence at the head of that chunk, i.e. how long the caller waits to hear the first
word once the sentence is ready; "stalls" is the silence a caller playing the chunks as they
come would hear inside the sentence because a piece came after the one before had finished
playing (per sentence).

The judge is the live Cantonese path: `FasterWhisperTranscriber.transcribe(language="yue")`,
the call the voice server makes for a caller who chose 廣東話 (zh, the written-Cantonese
prompt, the Cantonese/Mandarin vote, the same filters and fallbacks), only without the VAD
gate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import pcm16_to_float
from voices.config import TtsSettings, VoiceSettings
from voices.resample import to_pipeline_rate
from voices.scoring import cer
from voices.text_normalise import normalise_for_speech

SENTENCES = [
    "你好，請問入境處幾點開門？",
    "換領身份證唔使預約，直接去登記處就得。",
    "護照費用係港幣三百七十蚊。",
    "如有查詢，請致電一八二三。",
    "辦事處由朝早九點開到下晝五點。",
    "你可以喺網上填表，再帶埋相片嚟。",
    "我要renew我嘅HKID，應該點做？",
    "申請表要喺二零二六年十二月一號之前交。",
    "唔該晒，我聽日再打嚟問下。",
    "如果你唔明白，可以打電話搵我哋。",
]


def build(config: str, cache: Path):
    engine, *rest = config.split(":")
    if engine == "espeak":
        from voices.tts.espeak import EspeakSynthesizer

        return EspeakSynthesizer()
    if engine == "kokoro":
        from voices.tts.kokoro_yue import KokoroCantoneseSynthesizer

        shipped = TtsSettings()
        fields = [
            ("voice", str, shipped.kokoro_voice),
            ("tones", str, shipped.kokoro_tone_scheme),
            ("speed", float, shipped.kokoro_speed),
            ("first", int, shipped.kokoro_first_chunk_chars),  # syllables; 0: whole clauses
            ("threads", int, shipped.kokoro_threads),
            ("trim", lambda v: v != "0", shipped.kokoro_trim_silence),
            ("edge", int, shipped.kokoro_edge_frames),  # pad tokens' duration cap (0: none)
            ("longest", int, shipped.kokoro_max_frames),  # any phoneme's cap (0: none)
            ("growth", float, shipped.kokoro_piece_growth),  # the first clause's pieces grow
            ("window", int, shipped.kokoro_window_frames),  # generator windows (0: whole)
        ]
        given = dict(zip([name for name, _, _ in fields], rest, strict=False))
        v = {name: kind(given[name]) if given.get(name) else d for name, kind, d in fields}
        return KokoroCantoneseSynthesizer(
            cache,
            voice=v["voice"],
            tone_scheme=v["tones"],
            speed=v["speed"],
            first_chunk_chars=v["first"],
            threads=v["threads"],
            trim_silence=v["trim"],
            edge_frames=v["edge"],
            max_frames=v["longest"],
            piece_growth=v["growth"],
            window_frames=v["window"],
            window_growth=shipped.kokoro_window_growth,
            window_largest=shipped.kokoro_window_largest,
        )
    raise SystemExit(f"unknown engine {engine}")


def leading_silence_s(pcm: bytes, rate: int) -> float:
    """Seconds before the first 10 ms frame louder than 2 % of the chunk's loudest."""
    audio = pcm16_to_float(pcm)
    frame = rate // 100
    frames = audio[: audio.size // frame * frame].reshape(-1, frame)
    rms = np.sqrt((frames**2).mean(axis=1)) if frames.size else np.zeros(1)
    loud = np.flatnonzero(rms > 0.02 * rms.max())
    return float(loud[0] * frame / rate) if loud.size else audio.size / rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", nargs="+", default=["espeak", "kokoro:jm_kumo:low"])
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    parser.add_argument("--table", action="store_true", help="print said / heard per sentence")
    parser.add_argument(
        "--wav-dir",
        type=Path,
        help="write each config's sentences as WAVs here, with said/heard in listening.tsv "
        "(for a Cantonese listener to judge later; nobody here can listen)",
    )
    parser.add_argument("--no-asr", action="store_true", help="timing only, no round trip")
    parser.add_argument(
        "--contend-llm",
        type=int,
        metavar="THREADS",
        default=0,
        help="while the voices speak, the embedded LLM generates without pause on THREADS "
        "threads in another process (as when the model writes sentence 2 while sentence 1 "
        "is said); its tokens/s are printed at the end",
    )
    parser.add_argument(
        "--compare-whole",
        action="store_true",
        help="for windowed configs: the joined windows against the whole clause (see above)",
    )
    args = parser.parse_args()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = (
        None if args.no_asr else FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    )
    llm = _start_llm(cache, args.contend_llm) if args.contend_llm else None
    try:
        _run(args, cache, asr)
    finally:
        if llm is not None:
            llm.terminate()
            print(f"LLM alongside ({args.contend_llm} threads): {llm.communicate()[0].strip()}")


_LLM_LOOP = """
import sys, time
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_threads=int(sys.argv[2]), n_ctx=1024, verbose=False)
print("ready", flush=True)
rates = []
import signal
def done(*_):
    print(f"tokens/s median {sorted(rates)[len(rates) // 2]:.1f} over {len(rates)} runs"
          if rates else "no run finished", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
question = [{"role": "user", "content": "請用廣東話詳細解釋申請香港護照嘅每一個步驟同埋費用。"}]
while True:
    started = time.perf_counter()
    out = llm.create_chat_completion(question, max_tokens=64, temperature=0)
    if (made := out["usage"]["completion_tokens"]) < 8:
        raise SystemExit(f"the LLM wrote {made} tokens: not a load")
    rates.append(made / (time.perf_counter() - started))
"""


def _start_llm(cache: Path, threads: int):
    """The embedded LLM generating in a loop in another process, once it has loaded."""
    import subprocess

    model = cache / "qwen2.5-coder-0.5b-instruct" / "qwen2.5-coder-0.5b-instruct.gguf"
    child = subprocess.Popen(
        [sys.executable, "-c", _LLM_LOOP, str(model), str(threads)],
        stdout=subprocess.PIPE,
        text=True,
    )
    if child.stdout is None or child.stdout.readline().strip() != "ready":
        raise SystemExit("the LLM did not start")
    return child


def _run(args, cache: Path, asr) -> None:
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores")
    for config in args.configs:
        voice = build(config, cache)
        scores, synth_s, audio_s, first_s, sound_s, stall_s = [], 0.0, 0.0, [], [], []
        rows = []
        for text in SENTENCES[: args.sentences]:
            spoken = normalise_for_speech(text, "yue")
            started = time.perf_counter()
            pcm = b""
            plays_until, stalled = 0.0, 0.0
            for i, chunk in enumerate(voice.synthesize(spoken, "yue")):
                now = time.perf_counter() - started
                if i == 0:
                    first_s.append(now)
                    sound_s.append(first_s[-1] + leading_silence_s(chunk.pcm, voice.sample_rate))
                else:  # the caller hears silence while a piece is late
                    stalled += max(0.0, now - plays_until)
                plays_until = max(plays_until, now) + len(chunk.pcm) / 2 / voice.sample_rate
                pcm += chunk.pcm
            stall_s.append(stalled)
            synth_s += time.perf_counter() - started
            audio = to_pipeline_rate(pcm16_to_float(pcm), voice.sample_rate)
            audio_s += audio.size / 16000
            heard = asr.transcribe(audio, language="yue", vad_gate=False).text if asr else ""
            scores.append(min(1.0, cer(text, heard)) if asr else float("nan"))
            rows.append((text, heard, scores[-1], sound_s[-1]))
            if args.wav_dir:
                _write_wav(args.wav_dir, config, len(rows), pcm, voice.sample_rate, rows[-1])
        print(
            f"{config:32} CER {np.mean(scores):.3f}  synth RTF {synth_s / max(audio_s, 1e-9):.2f}  "
            f"first chunk median {np.median(first_s):.2f} s max {np.max(first_s):.2f} s  "
            f"first sound median {np.median(sound_s):.2f} s max {np.max(sound_s):.2f} s  "
            f"stalls median {np.median(stall_s):.2f} s max {np.max(stall_s):.2f} s  "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        # a sentence said again (the refusal, the holding phrase): the voice's piece cache
        started = time.perf_counter()
        next(iter(voice.synthesize(normalise_for_speech(SENTENCES[0], "yue"), "yue")))
        print(f"  same sentence again: first chunk {time.perf_counter() - started:.3f} s")
        if args.compare_whole and getattr(voice, "window_frames", 0) > 0:
            _compare_whole(voice, SENTENCES[: args.sentences], cache)
        if args.table:
            for said, heard, score, sound in rows:
                print(f"  | {said} | {heard} | {score:.2f} | {sound:.2f} s |")


def _compare_whole(voice, sentences: list[str], cache: Path) -> None:
    """Raw audio of each clause: the windows joined vs the window graph on the whole clause
    (max abs difference), and vs the packaged graph's whole clause (SNR, log-spectral
    distance in dB); the silence trim is left out (it is the same code on both)."""
    import onnxruntime as ort

    from voices.tts import kokoro_window as kw
    from voices.tts.kokoro_yue import clauses, kokoro_model_path

    shipped = TtsSettings()
    whole_model = ort.InferenceSession(
        str(kokoro_model_path(cache, shipped.kokoro_edge_frames, shipped.kokoro_max_frames)),
        providers=["CPUExecutionProvider"],
    )
    joins, snrs, lsds = [], [], []
    for text in sentences:
        for clause in clauses(normalise_for_speech(text, "yue"), 300):
            feed = voice._feed(voice.phonemes(clause))
            joined = np.concatenate(list(voice._windows(voice.phonemes(clause))))
            x, har = voice._front.run(None, feed)
            frames = x.shape[2] // kw.X_PER_FRAME
            whole_plan = [kw.window_span(0, frames, frames)]
            (one,) = kw.windows_of(voice._window, x, har, feed["style"], voice._norms, whole_plan)
            packaged = whole_model.run(None, feed)[0].ravel()
            joins.append(float(np.abs(joined - one).max()))
            noise = float(((packaged - joined) ** 2).sum())
            snrs.append(10 * np.log10(float((packaged**2).sum()) / max(noise, 1e-20)))
            lsds.append(_log_spectral_distance(packaged, joined))
    print(
        f"  windows joined vs the window graph on the whole clause: max abs difference "
        f"{max(joins):.1e} over {len(joins)} clauses; vs the packaged graph's whole clause: "
        f"SNR median {np.median(snrs):.1f} dB (min {min(snrs):.1f}), log-spectral distance "
        f"median {np.median(lsds):.2f} dB (max {max(lsds):.2f})"
    )


def _log_spectral_distance(reference: np.ndarray, other: np.ndarray) -> float:
    size, hop = 512, 128
    window = np.hanning(size)

    def spectrum(audio: np.ndarray) -> np.ndarray:
        starts = range(0, audio.size - size, hop)
        frames = np.stack([audio[i : i + size] * window for i in starts])
        return 20 * np.log10(np.abs(np.fft.rfft(frames)) + 1e-3)

    a, b = spectrum(reference), spectrum(other)
    return float(np.sqrt(((a - b) ** 2).mean(axis=1)).mean())


def _write_wav(folder: Path, config: str, number: int, pcm: bytes, rate: int, row) -> None:
    """One sentence's audio as WAV, and its line (file, said, heard, CER) in listening.tsv."""
    import wave

    target = folder / config.replace(":", "_")
    target.mkdir(parents=True, exist_ok=True)
    name = f"{number:02d}.wav"
    with wave.open(str(target / name), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    said, heard, score, _ = row
    with (target / "listening.tsv").open("a" if number > 1 else "w", encoding="utf-8") as fh:
        if number == 1:
            fh.write("file\tsaid\theard (Whisper base, yue)\tCER\tnaturalness 1-5 (by ear)\n")
        fh.write(f"{name}\t{said}\t{heard}\t{score:.2f}\t\n")


if __name__ == "__main__":
    main()
