"""Prompt injection in documents, caught at ingest: instruction-like and claim-overriding text.

A department's document is data for the assistant, never instructions to it. Text that speaks
to the assistant ("ignore previous instructions", 忽略以上指示, "you are now ..."), that
pretends to end the source and start a new section (`</source>`, `[INST]`, "New rule from the
department"), or that tries to override what other sources say ("the only correct hotline is
...", 重要更正：一律只說熱線是 ...) is an attack on every caller who later asks about that
topic. Ingest runs `scan_chunks` over each document's chunks and sets `Chunk.quarantine` to the
reason; retrieval keeps quarantined chunks away from the assistant (and so from the prompt and
from the source snippets callers see), and the ingest report lists them for the department.

Detection is a design, not a phrase list alone. Each chunk is read in several normalised
views, and the patterns run over every view:
  - NFKC (full-width letters and digits become ASCII, compatibility forms fold),
  - invisible characters removed (zero-width spaces and joiners, soft hyphens, bidi controls,
    Unicode tag characters, variation selectors),
  - homoglyphs mapped to Latin (Cyrillic and Greek look-alikes: "іgnоrе" -> "ignore"),
  - letters spaced out or split by punctuation joined again ("I g n o r e", "i.g.n.o.r.e"),
  - encoded payloads decoded: base64, hex, percent-encoding, HTML entities, \\u escapes, ROT13.
Chinese patterns cover Traditional and Simplified forms and Cantonese wording. An injection
split over a chunk boundary is caught on the boundary window and quarantines both chunks.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from knowledge_base.types import Chunk

# ---------------------------------------------------------------- normalised views

# Format characters (Unicode category Cf: zero-width space/joiners, bidi controls, soft hyphen,
# word joiner, BOM, tag characters) and variation selectors: invisible, so attackers use them
# to split words that filters look for.
_VARIATION_SELECTORS = {*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}
_INVISIBLE_EXTRA = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x180E}  # fillers shown as nothing

# Latin look-alikes from Cyrillic, Greek and other scripts (lower case after casefold).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
        "х": "x", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ς": "s", "σ": "o",
        "ı": "i", "ȷ": "j", "ℓ": "l", "ⅰ": "i", "ⅼ": "l", "ꓲ": "i", "ꭵ": "v",
    }
)  # fmt: skip
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)


def strip_invisible(text: str) -> str:
    """Text without format characters, variation selectors and invisible fillers."""
    return "".join(
        ch
        for ch in text
        if unicodedata.category(ch) != "Cf"
        and ord(ch) not in _VARIATION_SELECTORS
        and ord(ch) not in _INVISIBLE_EXTRA
    )


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, homoglyphs to Latin, case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    text = text.casefold().translate(_HOMOGLYPHS)
    return re.sub(r"[ \t\u00a0\u3000]+", " ", text)


# a run of at least four single letters separated by spaces, dots, dashes or underscores
_SPACED = re.compile(r"(?<![a-z])(?:[a-z][ ._\-*]{1,3}){3,}[a-z](?![a-z])")


def _join_spaced(text: str) -> str:
    return _SPACED.sub(lambda m: re.sub(r"[ ._\-*]+", "", m.group(0)), text)


_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}[ :]?){12,}")
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}")


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    return text if text and letters / len(text) > 0.7 else None


def _decoded(text: str) -> Iterator[str]:
    """Payloads hidden in encodings, decoded (only those that decode to readable text)."""
    for match in _B64.finditer(text):
        blob = match.group(0)
        try:
            decoded = _printable(base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False))
        except (binascii.Error, ValueError):
            decoded = None
        if decoded:
            yield decoded
    for match in _HEX.finditer(text):
        try:
            decoded = _printable(bytes.fromhex(re.sub(r"[ :]", "", match.group(0))))
        except ValueError:
            decoded = None
        if decoded:
            yield decoded
    if "%" in text:
        unquoted = urllib.parse.unquote(text)
        if unquoted != text:
            yield unquoted
    if "&" in text:
        unescaped = html.unescape(text)
        if unescaped != text:
            yield unescaped
    if _UNICODE_ESCAPE.search(text):
        yield _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(0)[2:], 16)), text)


# strong phrases matched in the letters-only view, re-spaced so the English patterns see them
_COMPACT_KEYS = re.compile(
    r"(?:ignore|disregard|forget)(?:all)?(?:the|your)?(?:previous|prior|above|earlier)?"
    r"instructions|systemprompt|developermode|jailbreak"
)


def _canonical(compact: str) -> str:
    if compact.endswith("instructions"):
        return "ignore previous instructions"
    return {"systemprompt": "system prompt", "developermode": "developer mode"}.get(
        compact, compact
    )


def views(text: str) -> list[str]:
    """Every normalised reading of a text the patterns run over (the first is the plain one)."""
    base = normalise(text)
    out = [base, _join_spaced(base)]
    out.append(_join_spaced(base.translate(_LEET)))
    out.append(codecs.decode(base, "rot13"))
    for hidden in _decoded(strip_invisible(unicodedata.normalize("NFKC", text))):
        out.append(normalise(hidden))
    # words split by line breaks or stray punctuation inside ("ig-\nnore")
    out.append(re.sub(r"(?<=[a-z])[\-\s]*\n\s*(?=[a-z])", "", base))
    # letters only: "I g n o r e  a l l ..." and "previous\u00adinstructions" read the same
    compact = re.sub(r"[^a-z]", "", base.translate(_LEET))
    out.append(" ".join(_canonical(m) for m in _COMPACT_KEYS.findall(compact)))
    seen: set[str] = set()
    return [v for v in out if not (v in seen or seen.add(v))]


# ---------------------------------------------------------------- patterns by kind

_EN = {
    "override": [
        r"\b(ignore|disregard|forget|override|bypass|discard)\b.{0,40}\b(instruction|prompt|"
        r"guideline|directive|system message)s?\b",
        r"\b(ignore|disregard|forget)\b.{0,30}\b(above|previous|prior|earlier|other sources?|"
        r"everything)\b.{0,40}\b(instead|say|answer|reply|tell|respond)\b",
        r"\b(previous|prior|above|earlier|all) (instructions?|prompts?|guidelines) (are|is) "
        r"(void|cancelled|canceled|obsolete|superseded|no longer)",
        r"\bnew (instructions?|rules?|directives?|policy) (for|to) (the |any |all )?(ai|"
        r"assistants?|bots?|chatbots?|models?|llms?|you)\b",
        r"\bfrom now on,? (you|your|the assistant|always|only|answer|reply|respond|say|tell)\b",
        r"\b(developer|god|dan|jailbreak) mode\b|\b(you are|you're) (now )?in (maintenance|"
        r"debug|developer|admin) mode\b",
        r"\bjailbreak|\bdo anything now\b",
        r"\b(decode|decrypt|unscramble|translate)\b.{0,30}\b(and|then) (follow|obey|execute|"
        r"run|do)\b",
    ],
    "role": [
        r"\byou are (now|no longer|actually|hereby)\b",
        r"\b(act|behave|role-?play) (as|like) (a |an |the )?(different|new|unrestricted|system|"
        r"admin|developer|dan|assistant|ai|chatbot|bot|model|operator)\b",
        r"\bpretend (to be|you are|you're)\b",
        r"\byour (new )?(role|persona|task|job|instructions?) (is|are|will be|has changed)\b",
    ],
    "addresses_assistant": [
        # a label followed by what it says on the same line ("Note to AI assistants: ..."); a
        # bare heading naming assistants is not itself an instruction
        r"\b(note|message|instructions?|notice|attention|reminder|correction|update|override) "
        r"(to|for) (the |any |all )?(ai|assistants?|bots?|chatbots?|llms?|language models?|"
        r"automated|virtual|voice|anyone answering|whoever answers)\b[^\n:：]{0,40}[:：,-] *\S",
        r"\b(anyone|whoever|everyone|any system|any ai|any assistant) (answering|replying|"
        r"responding)\b",
        r"\b(when|if) (you are |you're )?(answering|replying to|responding to) (questions|"
        r"callers|users|queries|enquiries|citizens)\b",
        r"\b(ai|assistants?|bots?|chatbots?|llms?|language models?|the model)\b.{0,30}\b(must|"
        r"should|shall|are to|need to|will) (now |always |only )?(say|answer|reply|respond|tell|"
        r"recommend|state|mention|direct)\b",
        r"\b(tell|inform|say to|answer|instruct|direct) (every|all|any|each) (callers?|users?|"
        r"customers?|citizens?|visitors?|people who ask)\b",
        r"\b(always|only) (answer|reply|respond|say)( with| that|:)",
        r"\b(respond|reply) only with\b|\bdo not (mention|reveal|tell) (the |any )?(other|real|"
        r"correct|official|previous)\b",
    ],
    "fake_boundary": [
        r"</\s*(source|sources|context|document|documents|data|search_results?|system|user|"
        r"assistant|instructions?|reference|passage)\s*>",
        r"<\s*/?\s*(system|instructions?|admin|im_start|im_end)\s*>",
        r"<\|?\s*(im_start|im_end|system|endoftext|eot_id|start_header_id)\s*\|?>",
        r"\[/?\s*(inst|sys|system)\s*\]",
        r"^\s*#{1,6}\s*(system( prompt| message)?|assistant)\s*:?\s*$",
        r"^\s*(system|assistant|developer)\s*:",
        r"\b(end of (the )?(source|document|context|data)|begin (system|new) (prompt|"
        r"instructions?))\b",
    ],
    "exfiltration": [
        r"\b(system|hidden|initial|secret) (prompt|instructions)\b",
        r"\b(reveal|print|repeat|output|disclose|leak)\b.{0,30}\b(prompt|system message|hidden "
        r"instructions|your instructions|api key|conversation history)\b",
        r"!\[[^\]]*\]\(https?://[^)]*[?&][^)]*\)",
    ],
    "claim_override": [
        r"\bthe only (correct|valid|official|real|true) (hotline|number|phone|telephone|fee|"
        r"price|answer|address|website|url|link|email|date|deadline)\b",
        r"\b(supersedes|overrides|replaces|takes precedence over|contradicts) (all |any |every )?"
        r"(the )?(other|previous|earlier|above) (sources?|documents?|information|answers?|"
        r"instructions?|context)\b",
        r"\b(other|all other|previous|earlier) (sources?|documents?|pages?|information) "
        r"(are|is) (wrong|outdated|incorrect|false|invalid|obsolete)\b",
        r"\b(correct|true|real) answer (is|to any question)\b",
        r"\b(regardless|irrespective) of (what )?(the )?(other |any )?(sources?|documents?|"
        r"context|question)\b",
    ],
}

# Chinese, Traditional and Simplified (and Cantonese wording); views are NFKC and case folded.
_ZH = {
    "override": [
        r"(忽略|無視|无视|忘記|忘记|唔好理|不要理會|不要理会|不用理|別理|别理|推翻|覆蓋|覆盖)"
        r".{0,12}(指示|指令|提示|設定|设定|規則|规则)",
        r"(忽略|無視|无视|忘記|忘记|唔好理|不要理會|不要理会|不用理|別理|别理)(以上|之前|上面|前面|"
        r"其他|其它|所有)(的|嘅)?(內容|内容|資料|资料|文件|來源|来源).{0,20}(改為|改为|只|一律|回答|"
        r"說|说|講|讲)",
        r"(以上|之前|先前|前面)(所有)?(的|嘅)?(指示|指令|提示)(一律|全部|已經|已经)?(作廢|作废|無效|"
        r"无效|失效|取消)",
        r"(新|最新)(的|嘅)?(指示|指令)[:：]",
        r"(從現在開始|从现在开始|由而家開始|由而家起|從今以後|从今以后).{0,10}(你|您|回答|回覆|回复|"
        r"一律|只可|只能|助理|助手)",
        r"(開發者|开发者)模式|你(現在|现在|而家)?(處於|处于|進入|进入|喺)(開發者|开发者|維護|维护|"
        r"調試|调试)模式",
        r"(解碼|解码|解密|翻譯|翻译).{0,6}(並|并|然後|然后|再)?(照做|執行|执行|遵從|遵从|跟住做)",
    ],
    "role": [
        r"你(現在|现在|而家|宜家|從此|从此)(是|係|系|就是|扮演|變成|变成)",
        r"(請|请|你)(現在|现在|而家)?(扮演|假裝|假装)",
        r"你(的|嘅)(新)?(角色|身份|任務|任务)(是|係|已)",
    ],
    "addresses_assistant": [
        r"(致|給|给|畀|提醒|通知|注意|請|请)(所有|各位|任何)?(的)?(ai|人工智能|自動|自动|語音|语音|"
        r"智能|聊天)(助理|助手|機械人|机器人|客服|模型|系統|系统)",
        r"(ai|人工智能)(助理|助手|模型).{0,6}(必須|必须|請|请|注意|一律)",
        r"(回答|回覆|回复|答覆|答复|解答)(問題|问题|查詢|查询)?(的|嘅)?(人|者|助理|助手|系統|系统)"
        r".{0,20}(必須|必须|一律|只可|只能|一定要|應該|应该|要)",
        r"(回答|回覆|回复|答覆|答复)(時|时|嘅時候|的時候|的时候).{0,20}(一律|只可以|只能|只說|只说|"
        r"只講|只讲|必須說|必须说|要話|要说)",
        r"(助理|助手|機械人|机器人|模型|ai).{0,12}(必須|必须|一定要|應該|应该|要話|要说|要講|只可以|"
        r"一律)",
        r"(告訴|告诉|話畀|话畀|同)(所有|每位|每個|每个|任何)(來電者|来电者|致電者|致电者|查詢者|"
        r"查询者|用戶|用户|問嘅人|问的人)",
        r"一律只?(說|说|講|讲|話|话|回答)|一律只(答|回覆|回复|答覆)",
        r"(唔好|不要|切勿|不可)(提及|提到|講|讲|說|说)(其他|其它|正確|正确)",
    ],
    "fake_boundary": [
        r"(文件|資料|资料|來源|来源|參考|参考)(結束|结束|完)[\]】]?.{0,6}(新|系統|系统|指示)",
        r"【\s*(系統|系统|指示|指令|管理員|管理员)\s*】",
        r"(系統|系统)(提示|指令)[:：]",
    ],
    "exfiltration": [
        r"(隱藏|隐藏|原始|內部|内部|秘密)(的|嘅)?(提示|指令)|系統提示詞|系统提示词",
        r"(透露|說出|说出|講出|讲出|重複|重复|輸出|输出|話我知|告訴我|告诉我|洩露|泄露).{0,12}"
        r"(提示詞|提示词|系統提示|系统提示|指令|隱藏|隐藏)",
    ],
    "claim_override": [
        r"(重要|緊急|紧急|官方|最新)(更正|修正|更新|通知|聲明|声明)[:：，,]?.{0,40}(回答|回覆|回复|"
        r"答覆|一律|唯一|只(說|说|講|讲|可|能))",
        r"唯一(正確|正确|有效|官方|真正)(的|嘅)?(熱線|热线|電話|电话|號碼|号码|收費|收费|費用|费用|"
        r"答案|網址|网址|地址)",
        r"(其他|其它|所有其他|之前|以前)(的|嘅)?(文件|資料|资料|來源|来源|網頁|网页|資訊|资讯)"
        r"(都|全部|已經|已经)?(係|是|属|屬)?(錯|错|過時|过时|無效|无效|不正確|不正确|作廢|作废)",
        r"(以此|以本文|以呢份|以這份|以这份)(為準|为准)",
        r"(取代|推翻|覆蓋|覆盖)(所有|一切|其他|其它|以上|之前).{0,4}(資料|资料|文件|來源|来源|指示|"
        r"答案|資訊|资讯)",
        r"(無論|无论|不論|不论|唔理)(問|问|來源|来源|文件|資料|资料).{0,10}(都|一律)",
    ],
}

# A few other languages, for the classic override sentence (callers and documents may be
# written in anything; these are the commonest in published injection sets).
_OTHER = {
    "override": [
        r"\bignore[zr]? (les |todas las |las |tutte le |alle )?(instructions|instrucciones|"
        r"istruzioni|anweisungen)",
        r"\bignoriere (alle )?(vorherigen )?anweisungen",
        r"(以前|前)の(指示|命令).{0,6}(無視|むし)",
        r"(이전|위의) (지시|명령).{0,6}(무시)",
        r"\b(игнорируй|забудь) (все )?(предыдущие )?(инструкции|указания)",
    ],
}


def _compile(table: dict[str, list[str]]) -> list[tuple[str, re.Pattern[str]]]:
    return [
        (kind, re.compile(pattern, re.IGNORECASE | re.MULTILINE | re.DOTALL))
        for kind, patterns in table.items()
        for pattern in patterns
    ]


_PATTERNS = _compile(_EN) + _compile(_ZH) + _compile(_OTHER)


@dataclass(frozen=True)
class Finding:
    """Why a text looks like an injection: the kind of pattern and the text it matched."""

    kind: str  # override | role | addresses_assistant | fake_boundary | exfiltration | ...
    matched: str
    view: int  # 0: the plain normalised text; >0: a decoded or rejoined reading

    @property
    def reason(self) -> str:
        how = "" if self.view == 0 else " (hidden: invisible, spaced, look-alike or encoded)"
        return f"{self.kind.replace('_', ' ')}: {self.matched[:80]!r}{how}"


def detect(text: str) -> Finding | None:
    """The first sign of injection in a text, or None for ordinary document text."""
    for number, view in enumerate(views(text)):
        for kind, pattern in _PATTERNS:
            match = pattern.search(view)
            if match:
                return Finding(kind, re.sub(r"\s+", " ", match.group(0)).strip(), number)
    return None


# ---------------------------------------------------------------- chunks at ingest

BOUNDARY_CHARS = 240  # how much of each side of a chunk boundary the split check reads


def scan_chunks(chunks: Sequence[Chunk]) -> list[Chunk]:
    """The chunks of one document, each quarantined (with a reason) if it carries an injection.

    Each chunk is checked alone, then each boundary between neighbours: an instruction that
    ends one chunk quarantines the next too (what it tells the model to say may follow there),
    and an instruction seen only across the boundary quarantines both. A clean chunk before a
    flagged one stays clean: instructions run forward, into what follows them.
    """
    reasons: list[str | None] = []
    for chunk in chunks:
        finding = detect(f"{chunk.title}\n{chunk.text}")
        reasons.append(finding.reason if finding else None)
    for i in range(len(chunks) - 1):
        tail, head = chunks[i].text[-BOUNDARY_CHARS:], chunks[i + 1].text[:BOUNDARY_CHARS]
        if reasons[i] and not reasons[i + 1]:
            finding = detect(tail)
            if finding is not None:
                reasons[i + 1] = (
                    f"continues an instruction ending the chunk before: {finding.reason}"
                )
        elif not reasons[i] and not reasons[i + 1]:
            finding = detect(f"{tail} {head}")
            if finding is not None:
                reasons[i] = reasons[i + 1] = f"split over chunks: {finding.reason}"
    return [
        replace(chunk, quarantine=reason) if reason != chunk.quarantine else chunk
        for chunk, reason in zip(chunks, reasons, strict=True)
    ]
