"""Sentences: split a token stream as it arrives (so speech starts on the first one), and cut
sentences too long to synthesise in one go.

Lives in voices because TTS engines speak a sentence at a time; the assistant feeds the LLM's
token stream through the same `SentenceSplitter`, so both agree on what a sentence is.

Hand-written because LangChain's text splitters work on whole texts, not on a stream that
arrives a token at a time. Boundaries: 。！？；!? (with any closing quotes/brackets after them),
"." followed by whitespace, and line ends. Not a boundary: a "." inside a number (1.5, $2.50,
HK$1,000.00), after an abbreviation ("e.g.", "Mr.", "No."), or after a list number ("1. ").
A terminator at the very end of the buffer waits for one more character, because the next
token may turn "1." into "1.5" or add a closing quote.
"""

from __future__ import annotations

import re

CJK_TERMINATORS = "。！？；"
ASCII_TERMINATORS = "!?"
CLOSERS = "」』”’）)]】\"'"
ABBREVIATIONS = frozenset(
    {
        "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "approx",
        "dept", "govt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "a.m", "p.m", "hk", "u.s",
    }
)  # fmt: skip


def _word_before(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _is_full_stop(text: str, dot: int, sentence_start: int) -> bool:
    """Whether the "." at `dot` (followed by whitespace) ends a sentence."""
    word = _word_before(text, dot).lstrip("(\"'“‘").lower()
    if word in ABBREVIATIONS:
        return False
    # "1. " or "a) " at the start of a sentence numbers a list item
    return not (word.isdigit() and not text[sentence_start : dot - len(word)].strip())


def _boundary(text: str, start: int, final: bool) -> int | None:
    """Index just after the first sentence end at or after `start`, or None if none yet."""
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            return i + 1
        if ch in CJK_TERMINATORS or ch in ASCII_TERMINATORS or ch == ".":
            j = i + 1
            while j < len(text) and (text[j] in CLOSERS or text[j] in CJK_TERMINATORS + "!?."):
                j += 1
            if j >= len(text):
                return len(text) if final else None
            if ch != "." or (text[j].isspace() and _is_full_stop(text, i, start)):
                return j
            i = j
            continue
        i += 1
    return None


class SentenceSplitter:
    """Feed text deltas; get back the sentences they complete, in order."""

    def __init__(self) -> None:
        self._buffer = ""

    @property
    def pending(self) -> str:
        """The text fed that no sentence has taken yet (the sentence being written)."""
        return self._buffer

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The rest of the stream (call once at its end)."""
        sentences = self._drain(final=True)
        if rest := self._buffer.strip():
            sentences.append(rest)
        self._buffer = ""
        return sentences

    def _drain(self, *, final: bool) -> list[str]:
        sentences: list[str] = []
        while (end := _boundary(self._buffer, 0, final)) is not None:
            sentence, self._buffer = self._buffer[:end].strip(), self._buffer[end:]
            if sentence:
                sentences.append(sentence)
            if not self._buffer:
                break
        return sentences


def split_sentences(text: str) -> list[str]:
    """All sentences of a complete text."""
    splitter = SentenceSplitter()
    return [*splitter.feed(text), *splitter.flush()]


# Where a sentence too long for one synthesis call may be cut: after a comma or colon, or at
# a space.
_SOFT_BREAK = re.compile(r"(?<=[，、,:：])|\s+")


def split_for_speech(text: str, max_chars: int = 300) -> list[str]:
    """Sentences of `text` to synthesise one by one, none longer than `max_chars`; pieces with
    nothing to say (only punctuation) are dropped."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        pieces.extend(_split_long(sentence, max_chars))
    return [piece for piece in pieces if any(ch.isalnum() for ch in piece)]


def _split_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    out: list[str] = []
    current = ""
    for part in _SOFT_BREAK.split(sentence):
        if not part:
            continue
        sep = " " if current and current[-1].isascii() and part[0].isascii() else ""
        if len(current) + len(sep) + len(part) > max_chars and current:
            out.append(current)
            current = ""
            sep = ""
        while len(part) > max_chars:  # an unbroken run (e.g. Chinese without commas)
            out.append(part[:max_chars])
            part = part[max_chars:]
        current += sep + part
    if current:
        out.append(current)
    return out


# where a sentence's first clause ends (a cut for a quicker first sound stays inside it)
_CLAUSE_BREAK = re.compile(r"[，、；：。！？,;:!?]|\.(?!\d)")
# what the cut counts: a Chinese character, or a run of Latin letters or digits (a word)
_UNIT = re.compile(r"[\u3400-\u9fff]|[A-Za-z0-9]+")
_NUMERAL = re.compile(r"[0-9零〇一二三四五六七八九十百千万萬亿億两兩]")


def _units(text: str) -> int:
    return len(_UNIT.findall(text))


def _words(clause: str) -> list[str]:
    """The clause as words that join back into it exactly (jieba for Chinese, else spaces)."""
    if re.search(r"[\u3400-\u9fff]", clause):
        import jieba  # only for Chinese text, loaded once

        return list(jieba.cut(clause))
    return re.findall(r"\s*\S+\s*", clause)


def load_word_splitter() -> None:
    """Load jieba's dictionary now (~0.7-1 s), at a voice's load, not in a caller's turn."""
    import jieba

    jieba.initialize()


def first_words(text: str, max_units: int) -> list[str]:
    """`text` cut once inside its first clause, after at most `max_units` units (a Chinese
    character or a Latin word each) at a word boundary: a voice that synthesises one piece
    at a time starts on the short head (synthesis time grows with length) and makes the rest
    while the head is heard. No cut ([text]) when the first clause is already that short,
    when either part would keep fewer than 2 units, or with `max_units` 0; never between two
    numerals ("三百" | "七十元")."""
    if max_units <= 0:
        return [text]
    end = _CLAUSE_BREAK.search(text)
    clause = text[: end.start()] if end else text
    if _units(clause) <= max_units:
        return [text]
    words = _words(clause)
    cut, count = 0, 0
    for index, word in enumerate(words):
        if count + _units(word) > max_units:
            break
        count += _units(word)
        cut = index + 1
    while cut > 0 and _joins_numerals("".join(words[:cut]), "".join(words[cut:])):
        cut -= 1
        count -= _units(words[cut])
    head = "".join(words[:cut])
    rest = text[len(head) :]
    if count < 2 or _units(rest) < 2:
        return [text]
    return [head.strip(), rest.strip()]


def _joins_numerals(head: str, rest: str) -> bool:
    head, rest = head.rstrip(), rest.lstrip()
    return bool(head and rest and _NUMERAL.match(head[-1]) and _NUMERAL.match(rest[0]))
