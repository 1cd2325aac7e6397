"""The meeting exporter on a small hand-made record: no model is loaded."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from assistant.minutes import Minutes, MinutesItem
from serving.meeting_export import collection_text, export
from voices.meeting import MeetingSegment, MeetingTranscript


def _record(minutes: Minutes | None) -> dict[str, Any]:
    transcript = MeetingTranscript(
        segments=[
            MeetingSegment(0, 0.0, 4.2, "陳主席", "yue", "我哋下星期三交報告。"),
            MeetingSegment(1, 4.5, 9.0, "李小姐", "yue", "有問題打 9123 4567 搵我。"),
        ],
        speakers=["陳主席", "李小姐"],
        duration_s=9.0,
        languages={"yue": 9.0},
    )
    return {
        "title": "房屋委員會",
        "created": "2026-12-01T09:00:00",
        "transcript": transcript.as_dict(),
        "minutes": minutes.as_dict() if minutes else None,
    }


def _minutes() -> Minutes:
    return Minutes(
        language="yue",
        summary=[MinutesItem("討論報告限期", [0], 0.0, speaker="陳主席")],
        actions=[MinutesItem("交報告", [0], 0.0, speaker="陳主席", who="李小姐", when="下星期三")],
    )


def test_markdown_has_the_minutes_sections_in_the_meetings_language_then_the_transcript() -> None:
    text = export(_record(_minutes()), "md").decode()
    assert text.index("## 摘要") < text.index("## 跟進事項") < text.index("## 逐字紀錄")
    assert "- **李小姐**: 交報告 (下星期三) [00:00:00]" in text
    assert "## 決定" not in text  # empty sections are left out
    assert "**[00:00:04] 李小姐**: 有問題打 9123 4567 搵我。" in text


def test_without_minutes_only_the_transcript_is_written() -> None:
    text = export(_record(None), "md").decode()
    assert "## 逐字紀錄" in text and "## 摘要" not in text


def test_docx_carries_the_same_sections() -> None:
    docx = pytest.importorskip("docx", reason="python-docx is a project dependency")
    document = docx.Document(io.BytesIO(export(_record(_minutes()), "docx")))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "房屋委員會"
    assert "跟進事項" in paragraphs and "決定" not in paragraphs
    assert "李小姐: 交報告 (下星期三) [00:00:00]" in paragraphs


def test_redacted_exports_hide_phone_numbers_in_every_format() -> None:
    for fmt in ("md", "srt", "vtt", "json"):
        body = export(_record(_minutes()), fmt, redact=True).decode()  # type: ignore[arg-type]
        assert "9123 4567" not in body, fmt
    assert json.loads(export(_record(None), "json"))["title"] == "房屋委員會"


def test_collection_text_keeps_speaker_and_time_on_every_line() -> None:
    text = collection_text(_record(None), None)
    assert text.startswith("# 房屋委員會 2026-12-01")
    assert "**[00:00:00] 陳主席**: 我哋下星期三交報告。" in text
