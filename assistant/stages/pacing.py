"""Output pacing: how far the caller has heard an answer.

The server sends audio faster than real time; the caller hears it at 1x. Barge-in and the
echo guard need to know whether the answer is still playing on the caller's side, and the
conversation memory needs to know which sentences of an interrupted answer were heard. Two
sources, the better one wins:
- an estimate: each AudioData adds its duration to a playback end that starts when the
  first audio was sent (the client plays it at once);
- the client's `playback` report (played up to sentence n, `played_ms` of audio): then the
  playback end is now plus the audio sent but not yet played.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlaybackClock:
    started_at: float | None = None  # when the first audio was sent
    ends_at: float = 0.0  # estimated end of the caller's playback (clock seconds)
    sent_s: float = 0.0  # audio sent so far
    sentences_sent: int = 0  # AnswerSentence frames so far
    heard_sentences: int | None = None  # the client's report, if any
    played_s: float | None = None
    deltas: list[str] = field(default_factory=list)  # display text, as sent
    _marks: list[int] = field(default_factory=list)  # len(deltas) at each sentence

    def on_delta(self, text: str) -> None:
        self.deltas.append(text)

    def on_sentence(self) -> None:
        self.sentences_sent += 1
        self._marks.append(len(self.deltas))

    def on_audio(self, seconds: float, now: float) -> None:
        if self.started_at is None:
            self.started_at = now
            self.ends_at = now
        self.sent_s += seconds
        self.ends_at = max(self.ends_at, now) + seconds

    def on_report(self, sentence: int, played_ms: float, now: float) -> None:
        """The client heard all sentences before `sentence` and `played_ms` of audio."""
        self.heard_sentences = max(0, min(sentence, self.sentences_sent))
        self.played_s = max(0.0, played_ms / 1000)
        self.ends_at = now + max(0.0, self.sent_s - self.played_s)

    def playing(self, now: float) -> bool:
        return now < self.ends_at

    def stop(self) -> None:
        self.ends_at = 0.0

    def heard_text(self) -> str | None:
        """The display text of the sentences the caller reported hearing (None: no report)."""
        if self.heard_sentences is None:
            return None
        if self.heard_sentences == 0:
            return ""
        return "".join(self.deltas[: self._marks[self.heard_sentences - 1]]).strip()
