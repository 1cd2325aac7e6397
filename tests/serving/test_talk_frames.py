"""/ws/talk frame order, barge-in, playback reports and the send path, on fake engines
(tests/fakes.py): the real app, socket, session and assistant code with no model loaded.
tests/serving/test_talk.py runs the same socket with the real engines."""

from __future__ import annotations

import asyncio
import re
import threading

from assistant.config import AssistantSettings
from tests.fakes import FakeGenerator, FakeSynthesizer, FakeTranscriber, frames, silence, tone
from tests.serving.talk_client import Recorder

START = {"type": "start", "sample_rate": 16000, "language": "en", "collection": "demo"}


def started(ws) -> Recorder:
    rec = Recorder(ws)
    ws.send_json(START)
    rec.until_type("ready")
    return rec


def metric(text: str, name: str, **labels: str) -> float:
    label = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    match = re.search(rf"^{name}\{{{label}\}} ([0-9.]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_a_typed_turn_sends_its_frames_in_order_with_an_outcome(fake_talk_client) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "How much is the passport fee?"})
        end = rec.until_type("turn_end")
    kinds = [k for k in rec.types() if k != "ready"]
    assert kinds[0] == "turn_start" and kinds[-1] == "turn_end"
    order = ["turn_start", "sources", "answer", "audio_start", "__audio__", "audio_end"]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order), kinds
    assert end["outcome"] in ("model", "extractive_fallback") and end["refused"] is False
    assert {"retrieval", "first_token", "first_audio", "total"} <= set(end["timings"])


def test_a_follow_up_does_not_count_the_finished_turn_as_interrupted(fake_talk_client) -> None:
    # a slow voice: the first answer is still playing when the follow-up comes
    client = fake_talk_client(synthesizer=FakeSynthesizer(ms_per_char=200))
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        rec.ask("How much is the passport fee?", 1)
        rec.ask("And for a child?", 2)
    assert rec.of_type("interrupted")[0]["reason"] == "new_question"  # its playback stopped
    text = client.get("/metrics").text
    assert metric(text, "samyu_turns_total", input="text", outcome="interrupted") == 0
    assert (
        sum(
            metric(text, "samyu_turns_total", input="text", outcome=o)
            for o in ("model", "extractive_fallback", "refused", "timeout", "error")
        )
        == 2
    )


def test_speech_over_an_answer_interrupts_it_and_no_more_of_its_audio_is_sent(
    fake_talk_client,
) -> None:
    generator = FakeGenerator(hold_at=3)
    transcriber = FakeTranscriber.saying("what about a child passport")
    client = fake_talk_client(generator=generator, transcriber=transcriber, barge_in_guard_ms=0)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "How much is the passport fee?"})
        rec.until_type("sources")
        for frame in frames(tone(600) + silence(900)):
            ws.send_bytes(frame)
        interrupted = rec.until_type("interrupted")
        assert interrupted["turn_id"] == 1 and interrupted["reason"] == "barge_in"
        rec.until(lambda f: f["type"] == "turn_start" and f["turn_id"] == 2)
    cut = rec.frames.index(interrupted)
    assert not [f for f in rec.frames[cut:] if f.get("turn_id") == 1 and f is not interrupted]
    assert "speech_started" in rec.types()[:cut]


def test_a_frame_that_cannot_be_encoded_becomes_an_error_and_the_session_goes_on(
    fake_talk_client,
) -> None:
    # a lone surrogate (from a model, or echoed from a client) cannot be sent as UTF-8
    generator = FakeGenerator.replying("Passports are issued by the department \ud800 here.")
    client = fake_talk_client(generator=generator)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "Who issues passports?"})
        error = rec.until(lambda f: f["type"] == "error" and f["code"] == "unencodable_frame")
        assert error["turn_id"] == 1 and error["fatal"] is False
        rec.ask("How much is the passport fee?", 2)
    text = client.get("/metrics").text
    assert metric(text, "samyu_errors_total", code="unencodable_frame") >= 1


def test_playback_reports_are_accepted_and_checked(fake_talk_client) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "How much is the passport fee?"})
        rec.until_type("turn_end")
        ws.send_json({"type": "playback", "turn_id": 1, "sentence": 1, "played_ms": 800})
        ws.send_json({"type": "playback", "turn_id": 1, "sentence": -1, "played_ms": 0})
        error = rec.until_type("error")
        assert error["code"] == "bad_frame" and "sentence" in error["message"]
        assert len(rec.of_type("error")) == 1  # the good report was taken silently


class ThreadHeldGenerator(FakeGenerator):
    """A slow model: no word until the test thread (the socket client) sets `go`."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    async def stream(self, messages, *, max_tokens: int, temperature: float):  # type: ignore[override]
        await asyncio.to_thread(self.go.wait, 30)
        async for word in super().stream(messages, max_tokens=max_tokens, temperature=temperature):
            yield word


def test_a_slow_answer_gets_a_holding_frame_that_is_not_answer_text(fake_talk_client) -> None:
    generator = ThreadHeldGenerator()
    client = fake_talk_client(
        generator=generator, assistant=AssistantSettings(acknowledge_after_s=0.001)
    )
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "How much is the passport fee?"})
        holding = rec.until_type("holding")
        if "audio_start" not in rec.types():
            rec.until_type("audio_start")  # the phrase's audio is on its way ...
        generator.go.set()  # ... before the model may answer: the order below is then fixed
        end = rec.until_type("turn_end")
    kinds = rec.types()
    assert holding["turn_id"] == 1 and holding["language"] == "en" and holding["text"]
    assert kinds.count("holding") == 1
    assert kinds.index("sources") < kinds.index("holding") < kinds.index("answer")
    assert kinds.index("audio_start") < kinds.index("answer")  # the phrase is spoken first
    answer = "".join(f["delta"] for f in rec.of_type("answer"))
    assert holding["text"] not in answer and holding["text"] not in end["answer"]
    assert end["outcome"] in ("model", "extractive_fallback")
    timings = end["timings"]
    assert timings["acknowledgement_audio"] <= timings["first_audio"]


def test_a_fast_answer_and_a_refusal_get_no_holding_frame(fake_talk_client) -> None:
    client = fake_talk_client(assistant=AssistantSettings(acknowledge_after_s=1.5))
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        rec.ask("How much is the passport fee?", 1)
        refused = rec.ask("Qwertyuiop zxcvbnm asdfghjkl?", 2)
    assert refused["outcome"] == "refused"
    assert "holding" not in rec.types()


def test_audio_marks_count_the_sentences_whose_audio_was_sent(fake_talk_client) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "How much is the passport fee?"})
        rec.until_type("turn_end")
        ws.send_json({"type": "playback", "turn_id": 1, "sentence": 1, "played_ms": 500})
        ws.send_json({"type": "playback", "turn_id": 1, "sentence": 1, "played_ms": 900})
        ws.send_json({"type": "text", "text": "And for a child?"})  # the reports came first
        rec.until_turn_end(2)
    kinds = rec.types()
    first = [i for i, f in enumerate(rec.frames) if isinstance(f, dict) and f.get("turn_id") == 1]
    marks = [rec.frames[i] for i in first if rec.frames[i]["type"] == "audio_mark"]
    assert marks, kinds
    assert [m["sentence"] for m in marks] == list(range(1, len(marks) + 1)), marks
    # each mark follows that sentence's audio and comes before the turn's audio_end
    mark_at = [i for i in first if rec.frames[i]["type"] == "audio_mark"]
    end_at = next(i for i in first if rec.frames[i]["type"] == "audio_end")
    assert kinds[mark_at[0] - 1] == "__audio__" and mark_at[-1] < end_at
    text = client.get("/metrics").text
    assert re.search(r"^samyu_playback_reports_total 2\.0$", text, re.M), text
