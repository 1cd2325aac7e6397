"""The language of one utterance for the Whisper recogniser, decided in one place.

Three rules used to be stacked inside `FasterWhisperTranscriber.transcribe`; `decide` is all
of them, a pure function of what Whisper gave (so its table of cases is unit-tested without a
model, tests/voices/test_language_decision.py):

1. **Whisper's language id**, restricted to zh/en (and yue on a model with that token): the
   language to decode in. A caller's hint replaces an unsure pick (`min_language_probability`).
   In Auto mode, an utterance of `auto_english_min_s` or more of speech with at least
   `auto_english_min_probability` on English is English (accented English sentences).
2. **The zh/en gate**: an `en` pick that still leaves `auto_chinese_min_probability` on zh and
   the tonal languages Cantonese pulls towards goes to Chinese (unless the caller declared
   English); with `zh_en_head` on, an `en` pick that the zh/en head (voices/asr/zh_en_head.json,
   on the encoder embedding and `zh_en_feature`) scores at or past its margin (`zh_en_margin`:
   `zh_en_head_margin`, or `zh_en_head_phrase_margin` for an utterance of
   `zh_en_head_phrase_s` or more) goes to Chinese (unless the caller declared English); an
   `en` pick whose English decode kept nothing goes to Chinese when zh had
   `empty_english_retry_zh_probability`.
3. **The Cantonese/Mandarin label**: from the script of the decoded text, Cantonese markers,
   the head's score (confident past the margins, decisive past the override margin, so a
   decisive score beats the hint), the hint, the session's last Chinese language
   (voices.language.decide_language).

The recogniser calls `decide` before decoding (no text yet: which language to decode in, and
whether to run the vote) and again with the text (and the vote's score) for the label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from voices.config import AsrSettings, LanguageSettings
from voices.language import AcousticVote, decide_language, whisper_code
from voices.types import SpokenLanguage

# Tonal languages whose probability in Whisper's language id rises for Cantonese speech.
TONAL_LANGUAGES = ("vi", "th", "lo", "my", "km")
WhisperCode = Literal["zh", "en", "yue"]


@dataclass(frozen=True)
class LanguageEvidence:
    """What is known of an utterance when its language is decided."""

    probabilities: Mapping[str, float]  # Whisper's language id ({}: detection was skipped)
    hint: SpokenLanguage | None = None  # the caller's declared language
    # the language to decode in when already known: detection was skipped (a partial), or
    # it was decided and decoded in (with `text`); None: decide it from the probabilities
    whisper: WhisperCode | None = None
    text: str | None = None  # what the decode in `whisper` kept (None: not decoded yet)
    score: float | None = None  # the yue/cmn head's log-odds (> 0 Cantonese); None: no vote
    # the zh/en head's log-odds (> 0 Chinese) on an utterance Whisper picks `en`; None: not scored
    chinese_score: float | None = None
    # seconds of speech the recogniser scored (the utterance cut to its VAD speech); None: unknown
    seconds: float | None = None
    history: Sequence[SpokenLanguage] = field(default_factory=tuple)


@dataclass(frozen=True)
class LanguageDecision:
    whisper: WhisperCode  # decode in this language
    vote: bool  # score Cantonese vs Mandarin before labelling (a Chinese final)
    spoken: SpokenLanguage | None  # the label; None until there is text to label


def decide(
    evidence: LanguageEvidence,
    asr: AsrSettings,
    language: LanguageSettings,
    *,
    has_yue_token: bool = False,
    final: bool = True,
) -> LanguageDecision:
    """Rules 1-3 of the module docstring for one utterance."""
    code = evidence.whisper or _whisper_pick(evidence, asr, has_yue_token)
    if (
        final
        and code == "en"
        and evidence.text == ""
        and evidence.probabilities
        and evidence.probabilities.get("zh", 0.0) >= asr.empty_english_retry_zh_probability
    ):
        code = "zh"  # the English decode of this speech kept nothing: hear it as Chinese
    vote = (
        final
        and bool(evidence.probabilities)  # a language given outright is decoded as given
        and asr.chinese_vote
        and code == "zh"
        and not has_yue_token  # large-v3 says yue itself
        and (evidence.hint is None or asr.vote_with_hint)
    )
    if evidence.text is None or code != evidence.whisper:
        return LanguageDecision(code, vote, None)  # decode (again) first
    acoustic = None if evidence.score is None else acoustic_vote(evidence.score, asr)
    spoken = decide_language(
        evidence.text,
        code,
        hint=evidence.hint,
        history=evidence.history,
        settings=language,
        acoustic=acoustic,
    )
    return LanguageDecision(code, vote, spoken)


def acoustic_vote(score: float, asr: AsrSettings) -> AcousticVote:
    """The head's log-odds read against the margins: confident past `vote_yue_margin` /
    `vote_cmn_margin`, decisive (beats a declared language) past `vote_override_margin`."""
    confident = score >= asr.vote_yue_margin or score <= -asr.vote_cmn_margin
    return AcousticVote(score, confident, abs(score) >= asr.vote_override_margin)


def zh_en_margin(seconds: float | None, asr: AsrSettings) -> float:
    """The zh/en head's margin for an utterance of `seconds` of speech: the phrase margin from
    `zh_en_head_phrase_s` on (when set), else `zh_en_head_margin`; an unknown length gets the
    stricter of the two."""
    phrase = asr.zh_en_head_phrase_margin
    if phrase is None:
        return asr.zh_en_head_margin
    if seconds is None:
        return max(phrase, asr.zh_en_head_margin)
    return phrase if seconds >= asr.zh_en_head_phrase_s else asr.zh_en_head_margin


def _english_sentence(evidence: LanguageEvidence, asr: AsrSettings) -> bool:
    """An utterance of `auto_english_min_s` or more that Whisper gives at least
    `auto_english_min_probability` on English (an unknown length never is one)."""
    if asr.auto_english_min_s is None or evidence.seconds is None:
        return False
    return (
        evidence.seconds >= asr.auto_english_min_s
        and evidence.probabilities.get("en", 0.0) >= asr.auto_english_min_probability
    )


def chinese_mass(probabilities: Mapping[str, float]) -> float:
    """Whisper's probability on zh and on the tonal languages Cantonese pulls towards."""
    return probabilities.get("zh", 0.0) + sum(probabilities.get(c, 0.0) for c in TONAL_LANGUAGES)


def zh_en_feature(probabilities: Mapping[str, float]) -> float:
    """The zh/en head's one feature beside the embedding: log(chinese_mass / P(en))."""
    mass = max(chinese_mass(probabilities), 1e-9)
    return math.log(mass) - math.log(max(probabilities.get("en", 0.0), 1e-9))


def _whisper_pick(evidence: LanguageEvidence, asr: AsrSettings, has_yue_token: bool) -> WhisperCode:
    """Rules 1 and 2: Whisper's id restricted to zh/en/yue, the hint when unsure, the gate."""
    hint, probs = evidence.hint, evidence.probabilities
    if not probs:  # no detection and no language given: the hint, else Chinese
        return "zh" if hint is None else whisper_code(hint)  # type: ignore[return-value]
    allowed = {c: probs.get(c, 0.0) for c in ("zh", "en", "yue")}
    code: WhisperCode = max(allowed, key=allowed.__getitem__)  # type: ignore[assignment]
    if code == "yue" and not has_yue_token:
        code = "zh"
    if hint is not None and allowed[code] < asr.min_language_probability:
        return whisper_code(hint)  # type: ignore[return-value]  # unsure: trust the caller
    if hint is None and _english_sentence(evidence, asr):
        # Auto mode: Whisper base gives Mandarin-accented English sentences a large share on
        # zh (often more than on English), which the gate and the head then read as Chinese;
        # Chinese speech of this length keeps next to nothing on English (docs/speech.md,
        # "accented English")
        return "en"
    if hint != "en" and code == "en" and chinese_mass(probs) >= asr.auto_chinese_min_probability:
        # Auto mode or a declared Chinese language (a declared English keeps English): Whisper
        # base gives short (8 kHz) Cantonese and Mandarin more English than Chinese
        # probability but keeps some on zh and the tonal languages, where English speech keeps
        # almost none (docs/speech.md); the vote hears it (text that still reads as Latin
        # after the Chinese decodes stays English)
        return "zh"
    if (
        hint != "en"
        and code == "en"
        and asr.zh_en_head
        and evidence.chinese_score is not None
        and evidence.chinese_score >= zh_en_margin(evidence.seconds, asr)
    ):
        # Whisper base gives some Cantonese next to no Chinese mass at all (< 0.03); its encoder
        # still tells them apart from English (docs/speech.md, "zh/en head")
        return "zh"
    return code
