"""Which of yue | cmn | en an utterance is, and the script its text is written in.

The rule (measured in docs/speech.md on the shared fixtures):

1. Text containing Han characters is Chinese, even when English words are mixed in
   (code-switching keeps the Chinese label). Text with Latin letters and no Han is English.
   Text with neither falls back to Whisper's id (zh/yue -> Chinese, en -> English), then to
   the caller's hint.
2. Chinese is Cantonese (`yue`) when any of these holds, in this order:
   - Whisper said `yue` (large-v3 has that token; base has not);
   - the text has Cantonese marker characters/words (嘅 唔 咗 喺 冇 啲 佢 咩 嚟 哋 嗰 嘢 睇 ...,
     and 係 when it is not part of 關係/联系-style words), in either script;
   - the audio voted `yue` decisively (|score| >= the override margin), even against a
     declared `cmn`: a declared language is a hint, not a lock;
   - the caller declared `yue` (client hint);
   - the audio itself voted `yue` with confidence (`AcousticVote`, computed by the recogniser:
     voices.asr.faster_whisper compares decodes under a Cantonese and a Mandarin prompt);
   - the session's most recent Chinese utterance (`history`) was `yue`.
   Otherwise it is `LanguageSettings.unsure_vote_chinese` (yue) when the audio voted but was
   unsure, else `LanguageSettings.default_chinese` (cmn: text with no evidence).
   Why hint and history come after markers but before the default: Whisper base writes
   Cantonese speech as standard written Chinese with no markers and labels it `zh`, so
   without a hint it cannot be told from Mandarin; markers are positive evidence even against
   a hint (a Mandarin-declared caller who says 唔係 is speaking Cantonese).
   Why only the most recent utterance counts as history (not a majority of the last five): a
   caller who switches language must be followed after one clear utterance. A clear utterance
   (markers, a confident acoustic vote, English text) decides by itself; history only breaks
   the tie for an unclear one.
3. A declared `en` with Chinese text still gives a Chinese label: the content wins between
   English and Chinese, the hint decides between the two Chinese languages.

Output script: OpenCC converts yue text to Traditional (HK) and cmn text to Simplified by
default (`LanguageSettings.yue_opencc`, `cmn_opencc`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import opencc

from voices.config import LanguageSettings
from voices.types import SpokenLanguage

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN = re.compile(r"[A-Za-z]")
# Characters (both scripts) that standard written Chinese does not use; 係 is handled apart.
_CANTONESE_CHARS = "嘅唔咗喺冇啲佢咩嚟哋嗰嘢睇噉攞冚啱嘞喎囉㗎畀嚿嘥揾搵嗮咁嘛喇咪"
_CANTONESE_WORDS = (
    "乜嘢",
    "點解",
    "邊度",
    "边度",
    "點樣",
    "点样",
    "幾多",
    "几多",
    "而家",
    "宜家",
    "多謝",
    "多谢",
    "唔該",
    "唔该",
    "俾我",
    "畀我",
    "係咪",
    "系咪",
)
_HAI = re.compile(r"(?<![關关聯联干體体派世譜谱])係")
# 嘛 喇 咪 咁 occur in Mandarin too, so alone they are weak; they count only with another marker.
_WEAK = set("嘛喇咪咁")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def han_share(text: str) -> float:
    """The share of Han characters among the letters of `text` (0.0 for none)."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(bool(_HAN.match(ch)) for ch in letters) / len(letters) if letters else 0.0


def cantonese_markers(text: str) -> list[str]:
    """The Cantonese marker characters/words found in `text` (in order of appearance)."""
    found = [ch for ch in text if ch in _CANTONESE_CHARS]
    found += [w for w in _CANTONESE_WORDS if w in text]
    found += ["係"] * len(_HAI.findall(text))
    strong = [m for m in found if m not in _WEAK]
    return found if strong else []


@dataclass(frozen=True)
class AcousticVote:
    """What the audio itself says between Cantonese and Mandarin.

    `score` is a log-odds: above 0 leans Cantonese, below 0 Mandarin. `confident` is set by the
    recogniser when |score| is at least its configured margin; only a confident vote decides.
    `decisive` (|score| at least the larger override margin) lets the audio beat a declared
    language: a caller who chose 普通話 in the widget and speaks Cantonese is heard as `yue`.
    """

    score: float
    confident: bool
    decisive: bool = False

    @property
    def language(self) -> SpokenLanguage:
        return "yue" if self.score > 0 else "cmn"


def history_language(history: Sequence[SpokenLanguage]) -> SpokenLanguage | None:
    """The session's most recent Chinese label (yue or cmn), or None.

    The last one only, so one clear utterance in the other Chinese language moves the session.
    """
    for lang in reversed(history):
        if lang in ("yue", "cmn"):
            return lang
    return None


def decide_language(
    text: str,
    whisper_language: str | None,
    *,
    hint: SpokenLanguage | None = None,
    history: Sequence[SpokenLanguage] = (),
    settings: LanguageSettings | None = None,
    acoustic: AcousticVote | None = None,
) -> SpokenLanguage:
    """yue | cmn | en for one utterance (see the module docstring for the rule)."""
    settings = settings or LanguageSettings()
    if has_han(text):
        chinese = True
    elif _LATIN.search(text):
        chinese = False
    elif whisper_language in ("zh", "yue"):
        chinese = True
    elif whisper_language == "en":
        chinese = False
    else:
        return hint or (history[-1] if history else settings.default_chinese)
    if not chinese:
        return "en"
    if whisper_language == "yue" or cantonese_markers(text):
        return "yue"
    if acoustic is not None and acoustic.decisive:
        return acoustic.language
    if hint in ("yue", "cmn"):
        return hint
    if acoustic is not None and acoustic.confident:
        return acoustic.language
    fallback = settings.unsure_vote_chinese if acoustic is not None else settings.default_chinese
    return history_language(history) or fallback


_SUN_DRY = re.compile(r"曬(?![太乾干衫衣相被])(?<!日曬)")


@lru_cache(maxsize=8)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config if config.endswith(".json") else f"{config}.json")


def to_script(text: str, language: SpokenLanguage, settings: LanguageSettings | None = None) -> str:
    """Write Chinese text in the configured script of its language (English unchanged)."""
    settings = settings or LanguageSettings()
    if language == "en" or not has_han(text):
        return text
    config = settings.yue_opencc if language == "yue" else settings.cmn_opencc
    converted = _converter(config).convert(text)
    if language == "yue":
        # s2hk turns the colloquial particle 晒 (all: 唔該晒) into 曬 (to sun-dry)
        converted = _SUN_DRY.sub("晒", converted)
    return converted


def whisper_code(language: SpokenLanguage) -> str:
    """The Whisper language token for a spoken language (base has no `yue` token)."""
    return "en" if language == "en" else "zh"


# Homophone spellings that speech recognisers (and casual writers) use for colloquial
# Cantonese words, each with the context in which it is the colloquial word and not the
# standard one: 左 (left) for the perfective 咗, 系 (system) for the copula 係, 黎 (a surname)
# for 嚟 (come), 野 (wild) for 嘢 (thing), and a Latin D for 啲.
_COLLOQUIAL_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?<=[\u4e00-\u9fff])(?<![向靠往偏最極左])左(?![邊边右手腳脚側侧轉转方面派傾倾翼營营上下])"
        ),
        "咗",
    ),
    (re.compile(r"(?<![體体關关聯联科派譜谱世直旁母])系(?![統统列數数譜谱])"), "係"),
    (re.compile(r"(?<=[過过返出入上落起翻拎攞帶带])黎"), "嚟"),
    (re.compile(r"(?<=[咩乜啲食做買买好有冇呢嗰飲饮玩講讲搞])野"), "嘢"),
    (re.compile(r"(?<=[\u4e00-\u9fff])[Dd](?![A-Za-z])|^[Dd](?=[\u4e00-\u9fff])"), "啲"),
)


def cantonese_written_forms(text: str) -> str:
    """Colloquial Cantonese characters for their common homophone stand-ins (食左飯 -> 食咗飯).

    Applied to Cantonese transcripts only; 左邊, 向左, 系統, 黎明 and English words stay.
    """
    for pattern, replacement in _COLLOQUIAL_FIXES:
        text = pattern.sub(replacement, text)
    return text
