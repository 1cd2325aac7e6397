"""Minutes of a meeting: summary, decisions, action items (who, what, when), open questions.

Every item points at the transcript segments it came from (ids and start times), so a reader
can jump to the moment it was said.

Two engines:
- `llm` (map-reduce): the transcript is cut into pieces of about `map_chars` characters
  (numbered lines "[12] 00:03:05 S1: ..."); the model lists the items of each piece in a fixed
  line format citing line numbers; the pieces' items are merged and de-duplicated, and the
  summaries of many pieces are reduced by one more call. Each item is then checked against
  the lines it cites, like answers are checked against sources: a number it states must be
  in those lines, a name it states must be a speaker or appear in the transcript, and the
  lines must exist. Items that fail are dropped (and counted).
- `extractive`: no model. Sentences carrying decision / action / question cues in English,
  Mandarin and Cantonese are quoted as they were said, with the speaker as the default owner
  of an action and the time phrase found in the sentence; the summary is each main
  speaker's most content-bearing sentences. Used when no model is configured, when the
  model fails or runs past `timeout_s`, and on request.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from assistant.gate import allowed_numbers, content_terms, ungrounded_numbers
from assistant.minutes_config import MinutesSettings
from assistant.types import ChatTurn, Generator, GeneratorError
from voices.meeting import MeetingSegment, MeetingTranscript

LanguageName = Literal["yue", "cmn", "en"]


@dataclass
class MinutesItem:
    text: str
    segments: list[int]  # transcript segment ids it came from
    start: float  # seconds: where to jump to
    speaker: str | None = None
    who: str | None = None  # actions: the owner
    when: str | None = None  # actions: the deadline when one was said


@dataclass
class Minutes:
    language: str
    summary: list[MinutesItem] = field(default_factory=list)
    decisions: list[MinutesItem] = field(default_factory=list)
    actions: list[MinutesItem] = field(default_factory=list)
    questions: list[MinutesItem] = field(default_factory=list)
    engine: str = "extractive"
    dropped: list[str] = field(default_factory=list)  # model items that failed the checks
    note: str = ""
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Minutes:
        lists = {
            key: [MinutesItem(**item) for item in data.get(key, [])]
            for key in ("summary", "decisions", "actions", "questions")
        }
        return cls(
            language=data.get("language", "en"),
            engine=data.get("engine", "extractive"),
            dropped=list(data.get("dropped", [])),
            note=data.get("note", ""),
            elapsed_s=float(data.get("elapsed_s", 0.0)),
            **lists,
        )


# ---- cues (English, Mandarin, Cantonese; Traditional and Simplified) ----------------------

_DECISION = re.compile(
    r"\b(we(?:'ve| have)? (?:decided|agreed)|(?:it is|it's|that's) (?:decided|agreed)|"
    r"the decision is|we will go with|we'll go with|let's go with|approved|agreed to)\b"
    r"|決定|决定|同意|通過|通过|確定|确定|拍板|就咁定|就這樣定|就这样定|議決|议决|定咗|定了",
    re.IGNORECASE,
)
_ACTION = re.compile(
    r"\b(I'll|I will|(?i:you'll|you will|he'll|she'll|they'll)|"
    r"(?!(?:It|This|That|There|What|Which) )[A-Z][a-z]+ will|"
    r"(?i:will you|can you|could you|please|follow up|responsible for|action item|needs? to|"
    r"has to|have to))\b"
    r"|負責|负责|跟進|跟进|我會|我会|我嚟|我來|我来|你去|請你|请你|麻煩你|麻烦你|交俾|交给|"
    r"之前.{0,12}(?:交|完成|準備|准备|提交|發|发)|聯絡|联络|联系|聯繫",
)
_QUESTION = re.compile(r"[?？]\s*$|嗎[?？。]?$|吗[?？。]?$|咩[?？。]?$|係唔係|是不是|會唔會|会不会")
_WHEN = re.compile(
    r"\b(?:by|before|on|until|next|this)\s+(?:the\s+)?(?:end of (?:the )?\w+|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|month|year|tomorrow|"
    r"\d{1,2}(?:st|nd|rd|th)?(?:\s+\w+)?|(?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december)(?:\s+\d{1,2}(?:st|nd|rd|th)?)?)\b|"
    r"\btomorrow\b|\bnext week\b|\bend of (?:the )?(?:week|month|year)\b"
    r"|(?:下(?:個|个)?(?:星期|禮拜|礼拜|周|週|月)[一二三四五六日天]?|"
    r"(?:星期|禮拜|礼拜|周|週)[一二三四五六日天]|明天|聽日|听日|後日|后天|月底|年底|"
    r"\d{1,2}月\d{1,2}[日號号]|[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}[日號号]|"
    r"\d{1,2}[日號号])(?:之前|前|或之前)?",
    re.IGNORECASE,
)
_NAME_WILL = re.compile(r"\b([A-Z][a-z]+) (?:will|is going to|should|to)\b")
_NOT_NAMES = frozenset(
    {
        "I",
        "We",
        "You",
        "He",
        "She",
        "They",
        "It",
        "This",
        "That",
        "There",
        "Then",
        "So",
        "And",
        "But",
        "Okay",
        "OK",
        "Yes",
        "No",
        "Please",
        "Can",
        "Could",
        "Let",
        "Maybe",
        "Also",
        "Our",
        "The",
    }
)
_SELF = re.compile(r"\b(I'll|I will|I can|I'm going to)\b|我會|我会|我嚟|我來|我来|我負責|我负责")
_ENGLISH_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")


# ---- extractive --------------------------------------------------------------------------------


def extractive_minutes(
    transcript: MeetingTranscript,
    settings: MinutesSettings | None = None,
    language: str | None = None,
) -> Minutes:
    settings = settings or MinutesSettings()
    segments = transcript.segments
    minutes = Minutes(language=language or transcript.main_language, engine="extractive")
    for n, seg in enumerate(segments):
        text = seg.text.strip()
        if not text:
            continue
        if _DECISION.search(text):
            minutes.decisions.append(_item(seg))
        elif _ACTION.search(text):
            item = _item(seg)
            item.who = _owner(
                seg, segments[n + 1] if n + 1 < len(segments) else None, transcript.speakers
            )
            when = _WHEN.search(text)
            item.when = when.group(0) if when else None
            minutes.actions.append(item)
        elif _QUESTION.search(text):
            minutes.questions.append(_item(seg))
    minutes.summary = _key_sentences(segments, settings.max_summary_items)
    for key in ("decisions", "actions", "questions"):
        setattr(minutes, key, getattr(minutes, key)[: settings.max_items])
    return minutes


def _item(seg: MeetingSegment) -> MinutesItem:
    return MinutesItem(seg.text.strip(), [seg.id], seg.start, seg.speaker)


def _owner(seg: MeetingSegment, following: MeetingSegment | None, speakers: list[str]) -> str:
    """Who an action belongs to: a name said before 'will', the speaker for 'I will', the
    next speaker when asked ('can you ...?'), else the speaker."""
    text = seg.text
    for name in speakers:
        if not name.startswith("S") and name in text and not _SELF.search(text):
            return name
    match = _NAME_WILL.search(text)
    if match and match.group(1) not in _NOT_NAMES:
        return match.group(1)
    if _SELF.search(text):
        return seg.speaker
    asked = re.search(r"\b(can|could|will) you\b|請你|请你|麻煩你|麻烦你|你去", text, re.I)
    if asked and following is not None and following.speaker != seg.speaker:
        return following.speaker
    return seg.speaker


def _key_sentences(segments: Sequence[MeetingSegment], limit: int) -> list[MinutesItem]:
    """Each speaker's most content-bearing segments, by the meeting's own term frequencies."""
    terms = [content_terms(s.text) for s in segments]
    frequency = Counter(t for ts in terms for t in ts)
    scored: dict[str, list[tuple[float, MeetingSegment]]] = {}
    for seg, ts in zip(segments, terms, strict=True):
        if len(ts) < 2:
            continue
        score = sum(frequency[t] for t in ts) / (len(ts) ** 0.5)
        scored.setdefault(seg.speaker, []).append((score, seg))
    picked: list[MeetingSegment] = []
    rounds = [sorted(v, key=lambda p: -p[0]) for v in scored.values()]
    while len(picked) < limit and any(rounds):
        for ranked in rounds:
            if ranked and len(picked) < limit:
                picked.append(ranked.pop(0)[1])
    return [_item(s) for s in sorted(picked, key=lambda s: s.start)]


# ---- the model (map-reduce) ---------------------------------------------------------------------

_LANGUAGE_NAMES = {
    "en": "English",
    "cmn": "Simplified Chinese (Mandarin)",
    "yue": "Traditional Chinese as used in Hong Kong",
}
_MAP_SYSTEM = (
    "You write meeting minutes from a transcript. Use only what the transcript says. "
    "Write each item on its own line, in {language}, in exactly one of these forms:\n"
    "SUMMARY: <one sentence> [line numbers]\n"
    "DECISION: <what was decided> [line numbers]\n"
    "ACTION: <who> | <what> | <when, or -> [line numbers]\n"
    "QUESTION: <an open question> [line numbers]\n"
    "Line numbers are the numbers in brackets at the start of transcript lines. "
    "If there is nothing of a kind, write nothing for it."
)
_REDUCE_SYSTEM = (
    "Combine these meeting summary sentences into at most {limit} sentences in {language}. "
    "Keep only facts they state. Write each sentence on its own line as "
    "SUMMARY: <sentence> [line numbers], keeping the line numbers they cite."
)
_LINE = re.compile(r"^\s*[-*]?\s*(SUMMARY|DECISION|ACTION|QUESTION)\s*[:：]\s*(.+)$", re.I)
_REFS = re.compile(r"\[([\d,\s\-–]+)\]")


async def write_minutes(
    transcript: MeetingTranscript,
    generator: Generator | None,
    settings: MinutesSettings | None = None,
    *,
    language: str | None = None,
) -> Minutes:
    """Minutes in `language` (default: the meeting's main language)."""
    settings = settings or MinutesSettings()
    started = time.perf_counter()
    language = language or transcript.main_language
    if generator is None or settings.engine == "extractive" or not transcript.segments:
        minutes = extractive_minutes(transcript, settings, language)
        if generator is None and settings.engine == "llm":
            minutes.note = "no language model configured: extractive minutes"
    else:
        try:
            minutes = await asyncio.wait_for(
                _llm_minutes(transcript, generator, settings, language), settings.timeout_s
            )
        except (TimeoutError, GeneratorError) as exc:
            minutes = extractive_minutes(transcript, settings, language)
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            minutes.note = f"language model {reason}: extractive minutes"
    minutes.elapsed_s = round(time.perf_counter() - started, 2)
    return minutes


def numbered_lines(segments: Sequence[MeetingSegment]) -> list[str]:
    return [f"[{s.id}] {format_clock(s.start)} {s.speaker}: {s.text.strip()}" for s in segments]


def format_clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _pieces(segments: Sequence[MeetingSegment], map_chars: int) -> list[list[MeetingSegment]]:
    pieces: list[list[MeetingSegment]] = [[]]
    size = 0
    for seg in segments:
        if pieces[-1] and size + len(seg.text) > map_chars:
            pieces.append([])
            size = 0
        pieces[-1].append(seg)
        size += len(seg.text) + 20
    return [p for p in pieces if p]


async def _ask(generator: Generator, system: str, user: str, max_tokens: int) -> str:
    messages = [ChatTurn("system", system), ChatTurn("user", user)]
    parts = [
        part async for part in generator.stream(messages, max_tokens=max_tokens, temperature=0.0)
    ]
    return "".join(parts)


async def _llm_minutes(
    transcript: MeetingTranscript,
    generator: Generator,
    settings: MinutesSettings,
    language: str,
) -> Minutes:
    language_name = _LANGUAGE_NAMES.get(language, "English")
    checker = _Checker(transcript)
    minutes = Minutes(language=language, engine=f"llm:{generator.name}")
    for piece in _pieces(transcript.segments, settings.map_chars):
        reply = await _ask(
            generator,
            _MAP_SYSTEM.format(language=language_name),
            "Transcript:\n" + "\n".join(numbered_lines(piece)),
            settings.max_tokens,
        )
        _collect(reply, {s.id for s in piece}, checker, minutes)
    if len(minutes.summary) > settings.max_summary_items:
        reply = await _ask(
            generator,
            _REDUCE_SYSTEM.format(limit=settings.max_summary_items, language=language_name),
            "\n".join(
                f"SUMMARY: {i.text} [{', '.join(map(str, i.segments))}]" for i in minutes.summary
            ),
            settings.max_tokens,
        )
        reduced = Minutes(language=language)
        _collect(reply, {s.id for s in transcript.segments}, checker, reduced)
        minutes.summary = reduced.summary or minutes.summary[: settings.max_summary_items]
        minutes.dropped += reduced.dropped
    for key in ("decisions", "actions", "questions"):
        setattr(minutes, key, _dedupe(getattr(minutes, key))[: settings.max_items])
    return minutes


def _collect(reply: str, valid_ids: set[int], checker: _Checker, minutes: Minutes) -> None:
    for line in reply.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        kind, body = match.group(1).upper(), match.group(2).strip()
        refs = [r for r in _parse_refs(body) if r in valid_ids]
        text = _REFS.sub("", body).strip(" .;")
        if not text or text.upper() == "NONE":
            continue
        if not refs:  # small models forget the line numbers: the line that says it, if any
            best = checker.best_line(text, valid_ids)
            if best is None:
                minutes.dropped.append(f"{kind}: {text} (no transcript line says it)")
                continue
            refs = [best]
        item = _build_item(kind, text, refs, checker)
        problem = checker.problem(item)
        if problem:
            minutes.dropped.append(f"{kind}: {text} ({problem})")
            continue
        first = checker.segment(refs[0])
        if kind == "ACTION" and _SELF.search(first.text):  # "I will ..." is the speaker's
            item.who = first.speaker
        {
            "SUMMARY": minutes.summary,
            "DECISION": minutes.decisions,
            "ACTION": minutes.actions,
            "QUESTION": minutes.questions,
        }[kind].append(item)


def _build_item(kind: str, text: str, refs: list[int], checker: _Checker) -> MinutesItem:
    first = checker.segment(refs[0])
    item = MinutesItem(text, refs, first.start, first.speaker)
    if kind == "ACTION":
        parts = [p.strip() for p in text.split("|")]
        if len(parts) >= 2:
            item.who = parts[0] or first.speaker
            item.text = parts[1]
            item.when = parts[2] if len(parts) > 2 and parts[2] not in ("-", "", "none") else None
        else:
            item.who = first.speaker
    return item


def _parse_refs(body: str) -> list[int]:
    refs: list[int] = []
    for group in _REFS.findall(body):
        for part in re.split(r"[,\s]+", group.strip()):
            bounds = re.split(r"[-–]", part)
            if all(b.isdigit() for b in bounds) and bounds != [""]:
                lo, hi = int(bounds[0]), int(bounds[-1])
                refs.extend(range(lo, min(hi, lo + 50) + 1))
    return list(dict.fromkeys(refs))


class _Checker:
    """Numbers and names in a model's item must come from the transcript lines it cites."""

    def __init__(self, transcript: MeetingTranscript) -> None:
        self.by_id = {s.id: s for s in transcript.segments}
        self.speakers = set(transcript.speakers)
        self.all_text = " ".join(s.text for s in transcript.segments)

    def segment(self, segment_id: int) -> MeetingSegment:
        return self.by_id[segment_id]

    def best_line(self, text: str, among: set[int]) -> int | None:
        """The line holding at least half of the item's content terms (the most of them)."""
        terms = content_terms(text)
        if not terms:
            return None
        scored = [(len(terms & content_terms(self.by_id[i].text)) / len(terms), i) for i in among]
        share, best = max(scored, default=(0.0, -1))
        return best if share >= 0.5 else None

    def problem(self, item: MinutesItem) -> str | None:
        cited = [self.by_id[i].text for i in item.segments]
        said = " ".join(x for x in (item.text, item.who or "", item.when or "") if x)
        numbers = ungrounded_numbers(said, allowed_numbers(cited))
        if numbers:
            return f"numbers not in the cited lines: {sorted(str(n) for n in numbers)}"
        for name in _ENGLISH_NAME.findall(said):
            if name in _NOT_NAMES or name in self.speakers:
                continue
            if name.lower() not in self.all_text.lower():
                return f"name {name!r} is not in the transcript"
        if item.who and item.who not in self.speakers and item.who not in self.all_text:
            return f"owner {item.who!r} is neither a speaker nor named in the transcript"
        return None


def _dedupe(items: list[MinutesItem]) -> list[MinutesItem]:
    kept: list[MinutesItem] = []
    for item in items:
        grams = _grams(item.text)
        if any(_jaccard(grams, _grams(k.text)) > 0.6 for k in kept):
            continue
        kept.append(item)
    return kept


def _grams(text: str) -> set[str]:
    text = re.sub(r"\s+", " ", text.lower())
    return {text[i : i + 3] for i in range(max(1, len(text) - 2))}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))
