"""Cantonese answers in spoken Cantonese (口語), not written Chinese (書面語).

Neither packaged Qwen writes colloquial Cantonese, and government sources are in written
Chinese, so a Cantonese caller heard "護照的費用是370元" read out like Mandarin. The answer is
converted word by word: 的→嘅, 是→係, 不→唔, 沒有→冇, 在→喺, 了→咗/喇, 他們→佢哋, 這個→呢個,
什麼→乜嘢, 多少→幾多 ... The scan takes the longest listed word at each position, and words
where the character keeps its written sense (目的, 的士, 現在, 存在, 不過, 不論, 了解, 為了,
於是 ...) are listed as themselves, so they are left alone. Titles in 《》 and [n] marks are
not touched, and figures are never changed (the fact check reads the same values).

A bare amount is said the Hong Kong way: "140元" -> "140蚊" (an amount named with its
currency, "港幣370元" or "人民幣100元", is left as written; the voice already reads 港幣370元
as 港幣三百七十蚊, voices.text_normalise). The value is the same, so the fact checks agree.

A bare fragment ("140元[1]", "1948年[1]", "[1] 銀漢魚科": a figure or a short name, no verb),
which the 0.5B often writes, is not a sentence a caller hears as Cantonese: `spoken_fragment`
makes it one by the question's own verb, "要140蚊[1]。" to "…要幾多錢？", else "係1948年[1]。".
Nothing is added but 係/要: no fact is invented or changed.

`mandarin_only_forms` finds what the conversion would still change (the measure of a yue
answer that is not colloquial); `is_colloquial` = has Cantonese forms and no Mandarin-only ones;
`register` says which of the three a text is (Cantonese forms / neutral / Mandarin-only forms).
"""

from __future__ import annotations

import re
from typing import Literal

from voices.language import cantonese_markers

_PAIRS = """
沒有 冇|沒 冇|是否 係咪|是不是 係咪|不是 唔係|就是 就係|但是 但係|可是 但係|只是 只係|也是 都係|
都是 都係|還是 定係|是 係|的 嘅|真的 真係|不要 唔好|不用 唔使|不必 唔使|不能 唔可以|不可以 唔可以|
不 唔|在 喺|他們 佢哋|她們 佢哋|它們 佢哋|他 佢|她 佢|它 佢|我們 我哋|你們 你哋|這個 呢個|
這些 呢啲|這裏 呢度|這裡 呢度|這兒 呢度|這樣 咁樣|這麼 咁|這 呢|那個 嗰個|那些 嗰啲|那裏 嗰度|
那裡 嗰度|那樣 咁樣|那麼 咁|什麼 乜嘢|甚麼 乜嘢|為什麼 點解|為甚麼 點解|怎樣 點樣|怎麼樣 點樣|
怎麼 點|哪裏 邊度|哪裡 邊度|哪個 邊個|誰 邊個|多少 幾多|多久 幾耐|給 畀|看 睇|吃 食|東西 嘢|
現在 而家|一些 一啲|有些 有啲|很 好|也 都|還有 仲有|還要 仲要|說 講|和 同|跟 同|嗎 嗎
"""
# Words whose characters keep their written sense: matched as themselves, so left unchanged.
_KEEP = """
目的 的士 的確 標的 端的 於是 凡是 是非 求是 正在 存在 所在 在於 實在 自在 在職 在學 在內 在場 在線
在世 在案 在此 現在時 不過 不論 不但 不僅 不斷 不少 不得 不良 不便 不足 不符 不明 不法 不當 不妨
不幸 不然 不如 不時 不久 不已 不宜 不設 不予 不獲 不受 不遲於 不適用 不包括 不超過 不多於 不少於
了解 瞭解 為了 除了 了不起 受不了 了結 明了 沒收 沉沒 淹沒 埋沒 出沒 給予 供給 補給 配給 看來 看法
看似 說明 據說 小說 演說 解說 說服 和平 和諧 和解 溫和 總和 緩和 柔和 也許 很多 他人 其他 其它
利他 吉他 它們的 這樣做 不一 很少 概不 絕不 毫不 並不
"""
_TABLE: dict[str, str] = {}
for _pair in _PAIRS.replace("\n", "").split("|"):
    if _pair.strip():
        _written, _spoken = _pair.split()
        _TABLE[_written] = _spoken
_TABLE |= {w: w for w in _KEEP.split()}
_TABLE["現在"] = "而家"
_LONGEST = max(len(w) for w in _TABLE)
_PROTECTED = re.compile(r"《[^》]*》|\[\d+\]|[A-Za-z0-9$,.:/]+")
_CLAUSE_END = set("。！？，、；：,.!?;: \n") | {""}
# the forms a yue answer should not have (the list: 的 了 在 不 沒 是 as in Mandarin)
MANDARIN_ONLY = ("的", "了", "在", "不", "沒", "是")


def _convert_span(text: str, changes: list[str] | None = None) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(_LONGEST, len(text) - i), 0, -1):
            word = text[i : i + size]
            if word in _TABLE:
                spoken = _TABLE[word]
                if spoken != word and changes is not None:
                    changes.append(word)
                out.append(spoken)
                i += size
                break
        else:
            ch = text[i]
            if ch == "了":  # perfective 咗 inside a clause, 喇 at its end
                if changes is not None:
                    changes.append(ch)
                out.append("喇" if text[i + 1 : i + 2] in _CLAUSE_END else "咗")
            else:
                out.append(ch)
            i += 1
    return "".join(out)


def _by_spans(text: str, changes: list[str] | None = None) -> str:
    out: list[str] = []
    last = 0
    for match in _PROTECTED.finditer(text):
        out.append(_convert_span(text[last : match.start()], changes))
        out.append(match.group(0))
        last = match.end()
    out.append(_convert_span(text[last:], changes))
    return "".join(out)


# "140元" is "140蚊" in Hong Kong speech; an amount with its currency named stays as written;
# 元朗 (Yuen Long) after a route or house number is a place, not a dollar ("68元朗")
_BARE_AMOUNT = re.compile(
    r"(港幣|港币|人民幣|人民币|美金|美元|澳門幣|澳门币|新台幣|台幣|日圓|歐元)?"
    r"(\d[\d,]*(?:\.\d+)?\s?[萬万億亿]?)元(?!朗)"
)


def _spoken_money(text: str) -> str:
    return _BARE_AMOUNT.sub(lambda m: m[0] if m[1] else f"{m[2]}蚊", text)


def to_colloquial(text: str) -> str:
    """Written Chinese (Traditional) as spoken Cantonese; other text unchanged."""
    return _spoken_money(_by_spans(text))


# ---- a bare fragment as a spoken sentence ----------------------------------------------

_MARKS = re.compile(r"\s?[\[［【](?:\s*\d+\s*[,，、]?)+[\]］】]")
_END = re.compile(r"[。！？.!?]*$")
# a figure and its unit, nothing else ("140元", "港幣460元", "1948年", "42日", "18歲或以上")
_FIGURE_ONLY = re.compile(
    r"^(?:港幣|港币|HK\$|\$)?\s?\d[\d,]*(?:\.\d+)?\s?[萬万億亿]?\s?"
    r"(?:元|蚊|年|個月|个月|月|日|天|歲|岁|小時|小时|分鐘|分钟|頁|页|%|公尺|米|個|个|名|次)?"
    r"(?:或?以上|或?以下|之前|之內|之内|內|内)?$"
)
# characters that make a short text a predicate, not a name ("被稱作潮語", "須在30日內")
_PREDICATE = set("是係为為有冇被叫稱称屬属在喺要會会可能須须需請请唔不沒没咗了就都")
FRAGMENT_MAX_CHARS = 8  # a name longer than this is likely a clause the check cannot read
_ASKED_WITH_YIU = re.compile(r"要(?:幾|几|多少|邊|边|乜)")


def is_fragment(sentence: str) -> bool:
    """Whether a Chinese answer sentence is a bare figure or a short name with no verb."""
    body = _END.sub("", _MARKS.sub("", sentence)).strip()
    if not body or cantonese_markers(body) or any(ch in "，,、；;：:《》「」" for ch in body):
        return False
    if _FIGURE_ONLY.match(body):
        return True
    han = [ch for ch in body if "\u3400" <= ch <= "\u9fff"]
    return (
        0 < len(body) <= FRAGMENT_MAX_CHARS
        and len(han) == len(body)
        and not any(ch in _PREDICATE for ch in body)
    )


def spoken_fragment(sentence: str, question: str) -> str:
    """A bare fragment as a short spoken Cantonese sentence (see the module docstring);
    any other sentence unchanged. Its [n] marks and figures stay as they were."""
    if not is_fragment(sentence):
        return sentence
    marks = "".join(m.strip() for m in _MARKS.findall(sentence))
    body = _END.sub("", _MARKS.sub("", sentence)).strip()
    verb = "要" if _ASKED_WITH_YIU.search(question) else "係"
    return f"{verb}{body}{marks}。"


def mandarin_only_forms(text: str) -> list[str]:
    """The written-only forms (的 了 在 不 沒 是, as Mandarin uses them) left in `text`."""
    changes: list[str] = []
    _by_spans(text, changes)
    return [w for w in changes if any(ch in w for ch in MANDARIN_ONLY)]


_SPOKEN_AMOUNT = re.compile(r"\d\s?[萬万億亿]?蚊")


def colloquial_forms(text: str) -> list[str]:
    """The Cantonese forms in `text` (嘅 咗 喺 唔 冇 係 佢 ..., and an amount in 蚊: "140蚊";
    蚊 alone is also the written word for a mosquito, so only after a figure)."""
    return cantonese_markers(text) + _SPOKEN_AMOUNT.findall(text)


Register = Literal["cantonese", "neutral", "mandarin"]


def register(text: str) -> Register:
    """Which Chinese a yue answer is written in: "mandarin" when a Mandarin-only form is left
    (的 了 在 不 沒 是, as Mandarin uses them), else "cantonese" when it has Cantonese forms,
    else "neutral" (neither: "流行語被稱作潮語。" reads the same in both)."""
    if mandarin_only_forms(text):
        return "mandarin"
    return "cantonese" if colloquial_forms(text) else "neutral"


def is_colloquial(text: str) -> bool:
    """A yue answer as a Cantonese caller should hear it: Cantonese forms, no Mandarin-only."""
    return register(text) == "cantonese"
