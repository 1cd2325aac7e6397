"""A meeting record out: Markdown, DOCX, SRT, WebVTT, JSON, and the text a collection ingests.

With `redact=True` (minutes leaving the department) HKID numbers, Hong Kong phone numbers and
email addresses are replaced exactly as in the logs (serving.redaction).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, Literal

from assistant.minutes import Minutes, MinutesItem, format_clock
from serving.redaction import redact as redact_text
from voices.meeting import MeetingTranscript

ExportFormat = Literal["md", "docx", "srt", "vtt", "json"]
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}
_HEADINGS = {
    "en": ("Summary", "Decisions", "Action items", "Open questions", "Transcript", "Speakers"),
    "cmn": ("摘要", "决定", "待办事项", "未决问题", "逐字记录", "发言人"),
    "yue": ("摘要", "決定", "跟進事項", "未決問題", "逐字紀錄", "發言人"),
}


def export(record: dict[str, Any], fmt: ExportFormat, *, redact: bool = False) -> bytes:
    transcript = MeetingTranscript.from_dict(record["transcript"])
    minutes = Minutes.from_dict(record["minutes"]) if record.get("minutes") else None
    clean: Callable[[str], str] = redact_text if redact else (lambda s: s)
    title = clean(record.get("title") or "Meeting")
    if fmt == "json":
        body = {**record, "transcript": transcript.as_dict()}
        if redact:
            body = json.loads(clean(json.dumps(body, ensure_ascii=False)))
        return json.dumps(body, ensure_ascii=False, indent=2).encode()
    if fmt == "srt":
        return _subtitles(transcript, clean, srt=True).encode()
    if fmt == "vtt":
        return _subtitles(transcript, clean, srt=False).encode()
    if fmt == "md":
        return markdown(record, transcript, minutes, clean, title).encode()
    if fmt == "docx":
        return _docx(record, transcript, minutes, clean, title)
    raise ValueError(f"unknown export format {fmt!r}")


def _stamp(seconds: float, sep: str) -> str:
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _subtitles(transcript: MeetingTranscript, clean: Callable[[str], str], *, srt: bool) -> str:
    lines = [] if srt else ["WEBVTT", ""]
    sep = "," if srt else "."
    for n, seg in enumerate(transcript.segments, start=1):
        if srt:
            lines.append(str(n))
        lines.append(f"{_stamp(seg.start, sep)} --> {_stamp(seg.end, sep)}")
        text = clean(seg.text)
        lines.append(f"[{seg.speaker}] {text}" if srt else f"<v {seg.speaker}>{text}")
        lines.append("")
    return "\n".join(lines)


def _headings(transcript: MeetingTranscript, minutes: Minutes | None) -> tuple[str, ...]:
    """Section headings in the minutes' language (the transcript's main one without minutes)."""
    language = minutes.language if minutes else transcript.main_language
    return tuple(_HEADINGS.get(language, _HEADINGS["en"]))


def _minutes_sections(
    heads: tuple[str, ...], minutes: Minutes | None
) -> list[tuple[str, list[MinutesItem], bool]]:
    """(heading, items, is_action) for each non-empty minutes section, in reading order."""
    if minutes is None:
        return []
    sections = (
        (heads[0], minutes.summary, False),
        (heads[1], minutes.decisions, False),
        (heads[2], minutes.actions, True),
        (heads[3], minutes.questions, False),
    )
    return [(head, list(items), action) for head, items, action in sections if items]


def _item_line(item: MinutesItem, clean: Callable[[str], str], action: bool) -> str:
    where = f"[{format_clock(item.start)}]"
    if action:
        who = item.who or item.speaker or "?"
        when = f" ({clean(item.when)})" if item.when else ""
        return f"- **{clean(who)}**: {clean(item.text)}{when} {where}"
    return f"- {clean(item.text)} {where}"


def markdown(
    record: dict[str, Any],
    transcript: MeetingTranscript,
    minutes: Minutes | None,
    clean: Callable[[str], str],
    title: str,
) -> str:
    heads = _headings(transcript, minutes)
    out = [f"# {title}", ""]
    if record.get("created"):
        out.append(f"{record['created']} · {format_clock(transcript.duration_s)}")
    out += [f"{heads[5]}: " + ", ".join(clean(s) for s in transcript.speakers), ""]
    for head, items, action in _minutes_sections(heads, minutes):
        out += [f"## {head}", ""] + [_item_line(i, clean, action) for i in items] + [""]
    out += [f"## {heads[4]}", ""]
    for seg in transcript.segments:
        out.append(f"**[{format_clock(seg.start)}] {clean(seg.speaker)}**: {clean(seg.text)}")
        out.append("")
    return "\n".join(out)


def _docx(
    record: dict[str, Any],
    transcript: MeetingTranscript,
    minutes: Minutes | None,
    clean: Callable[[str], str],
    title: str,
) -> bytes:
    from docx import Document

    heads = _headings(transcript, minutes)
    doc = Document()
    doc.add_heading(title, level=0)
    doc.add_paragraph(f"{heads[5]}: " + ", ".join(clean(s) for s in transcript.speakers))
    for head, items, action in _minutes_sections(heads, minutes):
        doc.add_heading(head, level=1)
        for item in items:
            doc.add_paragraph(
                _item_line(item, clean, action)[2:].replace("**", ""), style="List Bullet"
            )
    doc.add_heading(heads[4], level=1)
    for seg in transcript.segments:
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"[{format_clock(seg.start)}] {clean(seg.speaker)}: ").bold = True
        paragraph.add_run(clean(seg.text))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def collection_text(record: dict[str, Any], minutes: Minutes | None) -> str:
    """The document a collection ingests: minutes first, then one line per segment with its
    time and speaker in the text itself, so every chunk carries who and when."""
    transcript = MeetingTranscript.from_dict(record["transcript"])
    title = record.get("title") or "Meeting"
    date = (record.get("created") or "")[:10]
    return markdown(
        {**record, "created": date}, transcript, minutes, lambda s: s, f"{title} {date}".strip()
    )
