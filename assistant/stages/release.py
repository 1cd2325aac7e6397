"""Release: which of the model's words may be said now, and in what pieces.

The model's stream is split into sentences (voices.sentences, as the TTS engines split) and
each sentence is checked whole before it is said (assistant.stages.checking). The first
sentence of a small model is often a long copied one (a 40-token Cantonese sentence takes 1-3 s
to write), so with `early_clauses` the first sentence is released a clause at a time (issue
14): a clause ends at ，；： or ", " / "; " / ": " with more text after it.

What keeps "the right facts or none" when a clause goes out before its sentence ends:
- every release is checked as the sentence *so far* (all of it, from its start to the new
  clause's end) with the same checker: figures grounded in a cited source in the context of
  the words so far (fewer words than the whole sentence, so a harder test), no prompt leak
  (every 10/16-character run of the words so far), no echo of the prompt's labels, no loop;
- a figure with no words of its own yet ("370元，") waits for them, and the language must
  already match at any length (the checker's `partial` tests, SentenceChecker.check);
- a prefix that fails, or that only copies a source's "[n] title" heading, is held, not
  failed: the clause waits, and the whole sentence is checked when it ends, exactly as
  without early clauses; only then can the sentence fail (the model is stopped and the
  extractive answer follows what was said, as after any failed sentence);
- mid-sentence clauses are said without [n] marks; the sentence's citations (made by the
  check to follow its facts) come with its last piece.

With `early_text` the first sentence is also *shown* a few words at a time, before its clause
ends (issue 14: a typed caller reads the answer as the model writes it, as in any chat). What
is shown is checked exactly like an early clause (the sentence so far, `partial`), and is held
back where the next token could still change it:
- a word or number still being written (the text after the last space, for Latin script), and
  any figure at the end ("HK$370", "三百", "three hundred and", "2835 " of a phone number):
  the next token may change its value, so a figure is shown only with a word after it;
- the last `glimpse_hold_chars` Chinese characters: the script and 口語 conversions read a word
  at a time (了 is 咗 inside a clause and 喇 at its end), so their last word is not settled;
  and a cut across a word those conversions read whole (不|適用, 头|发: shown pieces are
  converted one by one) waits for the next token (`display`, the answer's conversion);
- an opened bracket or quote ("[1", "《護照"), and the sentence's end mark (。 ! ?), which
  comes with its last piece, after the [n] the check may add;
- a start that could still become a copied title, heading, FAQ question or the caller's own
  question ("補領身份", "How much is the Old Age Living"): whole, those are skipped or failed.
Words are shown at most every `glimpse_interval_s` (the first at once): each showing is a
check of the sentence so far and a frame, and on 2 cores that work, done per token, made the
English first sentence ~150 ms later to write (bench/answers_latency.py, 2026-12-02).
Shown words are only shown: speech still goes a clause (or sentence) at a time, and the
clause's or sentence's display is what is left of it after the words already shown. If the
sentence then fails (or turns out to be a copied heading, or the model stops in it: a timeout,
`abandon`), "…" closes what was shown of it.

A later sentence that only restates what was said (the same figures, mostly the same words:
the small model often copies the same fact from two sources) is skipped, not said twice
(checking.restates); a sentence with a new figure or mostly new words is said.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.language import is_chinese
from assistant.numbers import is_number_word
from assistant.speakable import CITATION_MARK, cited_numbers, strip_citations
from assistant.stages.checking import REPEAT_MIN_SHARE, SentenceChecker, restates
from voices.sentences import SentenceSplitter

# a clause ends at a full-width comma/semicolon/colon, or an ASCII one followed by a space
# ("1,000" and "10:30" are not clause ends)
_CLAUSE_END = re.compile(r"[，；：]|[,;:](?=\s)")
_PAIRS = (
    ("(", ")"),
    ("（", "）"),
    ("「", "」"),
    ("『", "』"),
    ("《", "》"),
    ("“", "”"),
    ("[", "]"),
    ("［", "］"),
    ("【", "】"),
)
_END_PUNCTUATION = re.compile(r"[。！？.!?]*\s*$")
# a stream of at least this share of the token limit in deltas ran into it (a character split
# over two tokens comes as one delta, so a cut stream can show fewer deltas than tokens)
CUT_SHARE = 0.75
# how a sentence the model finished ends: a sentence end (closing quotes or brackets after it
# allowed), or a citation mark
_ENDED = re.compile(r"(?:[。！？.!?…；;][」』”’)）\]]*|[\[［【][\d,，、\s]+[\]］】])\s*$")


# a token the model may still be writing: Latin letters, digits and what joins them in a word
# or a figure ("10:30", "1/7/2024", "R&D", "café"): a cut inside one shows half of it
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9À-ɏ$%.,:/&+#@_'’\"\-–—]+$")
# a figure's tail in Chinese: digits and numerals (with what joins them), held until a word follows
_FIGURE_TAIL = re.compile(
    r"[0-9０-９零〇一二三四五六七八九十百千萬万億亿兩两廿卅卌壹貳贰參叁肆伍陸陆柒捌玖拾佰仟點点.,$\s]+$"
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# a sentence's end: shown with its last piece, after the [n] marks the check may put before it
_TERMINATOR_TAIL = re.compile(r"[。！？!?；;…]+$")
# English words that join a number's words ("three hundred and seventy", "a thousand")
_NUMBER_JOINERS = frozenset({"and", "a", "an", "point", "half", "quarter", "hk$", "$", "us$"})
ELLIPSIS = "…"


@dataclass(frozen=True)
class Piece:
    """Checked text to say: a clause of a sentence, or a sentence's (rest up to its) end; or,
    `spoken` False, words of the first sentence only shown (a glimpse) or the "…" that closes
    a shown sentence that failed."""

    text: str
    ends_sentence: bool
    whole: bool = False  # the whole sentence in one piece (no clause of it said before)
    # what to show when it is not `text`: the words of `text` already shown are not shown again
    display: str | None = None
    spoken: bool = True


class Release:
    """Feed the model's text deltas; get back the checked pieces that may be said now, and the
    first problem (the model is then stopped)."""

    def __init__(
        self,
        checker: SentenceChecker,
        *,
        early_clauses: bool = True,
        early_text: bool = False,
        glimpse_hold_chars: int = 3,
        glimpse_interval_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        display: Callable[[str], str] | None = None,
        min_clause_chars: int = 2,
        repeat_min_share: float = REPEAT_MIN_SHARE,
        token_limit: int | None = None,
    ) -> None:
        self.checker = checker
        self.early_clauses = early_clauses
        self.early_text = early_text  # the first sentence shown a few words at a time
        self.glimpse_hold_chars = glimpse_hold_chars  # Chinese characters held back (above)
        self.glimpse_interval_s = glimpse_interval_s  # the least time between two showings
        self._clock = clock
        self._display = display  # how shown text is converted (script, 口語), for the cut
        self._glimpsed_at: float | None = None  # when words were last shown early
        self.min_clause_chars = min_clause_chars  # letters/digits a released clause must add
        self.repeat_min_share = repeat_min_share  # checking.restates: a sentence said again
        self._spoken: list[str] = []  # the checked sentences said so far
        self.token_limit = token_limit  # the model's max tokens: a stream that long was cut
        self._deltas = 0  # text deltas fed (about one per token: split characters give fewer)
        self.sentences = 0  # whole sentences said (the answer's sentence limit counts these)
        self._splitter = SentenceSplitter()
        self._said = ""  # the current sentence's words said so far (no [n] marks)
        self._clause_ends = 0  # clause ends of the current sentence already judged
        self._shown = ""  # the current sentence's words shown so far (said or glimpsed)
        self._glimpse_end = 0  # the end of the longest prefix of it judged for a glimpse

    def feed(self, delta: str) -> tuple[list[Piece], str | None]:
        self._deltas += 1
        pieces, problem = self._sentences(self._splitter.feed(delta))
        if problem is None and self.sentences == 0:
            pending = self._splitter.pending.lstrip()
            if self.early_clauses:
                pieces += self._clauses(pending)
            if self.early_text:
                pieces += self._glimpse(pending)
        return pieces, problem

    def flush(self) -> tuple[list[Piece], str | None]:
        """The end of the model's stream: the last sentence, unterminated or not; but when
        the stream ran to (near) the token limit, a tail after a said sentence that stops
        mid-text (no sentence end, no [n]: "如因容貌有顯著改變，以致相片與本人") is where the
        limit cut the model off, not a sentence: it is not said."""
        sentences = self._splitter.flush()
        cut = self.token_limit is not None and self._deltas >= CUT_SHARE * self.token_limit
        if cut and self.sentences and sentences and not _ENDED.search(sentences[-1]):
            sentences = sentences[:-1]
        return self._sentences(sentences)

    def abandon(self) -> list[Piece]:
        """The model stopped mid-sentence (a timeout, an error): the "…" that closes what was
        shown or said of the sentence, as after a sentence that failed."""
        shown = self._shown
        self._shown = self._said = ""
        return _closing(shown)

    # ---- whole sentences -------------------------------------------------------------

    def _sentences(self, sentences: list[str]) -> tuple[list[Piece], str | None]:
        pieces: list[Piece] = []
        for sentence in sentences:
            said, self._said = self._said, ""
            shown, self._shown = self._shown, ""
            self._clause_ends = self._glimpse_end = 0
            if self.checker.copies_scaffold(sentence):
                # a copied "[n] title" heading or FAQ question: skipped, not failed (its
                # clauses already said stay said: they passed the checks)
                pieces += _closing(shown)
                continue
            checked, problem = self.checker.check(sentence)
            if problem:
                return pieces + _closing(shown), problem
            if not shown and restates(checked, self._spoken, self.repeat_min_share):
                continue  # the same fact said again (often from a second source): skipped
            rest = _after(checked, said) if said else checked
            display = _after(checked, shown) if len(shown) > len(said) else None
            if rest.strip():
                # `whole` is how it is said (a bare fragment said whole becomes a sentence, as
                # without early text); what is shown of it is `display` when words were shown
                pieces.append(Piece(rest, True, whole=not said, display=display))
            self._spoken.append(checked)
            self.sentences += 1
        return pieces, None

    # ---- clauses of the first sentence ----------------------------------------------------

    def _clauses(self, pending: str) -> list[Piece]:
        """The clauses of the unfinished sentence `pending` that may be said now, at once."""
        ends = [m.end() for m in _CLAUSE_END.finditer(pending) if _closed(pending[: m.end()])]
        if len(ends) == self._clause_ends:
            # no new clause end since the last delta: each prefix was judged then, and the
            # checks are pure, so judging them again (per token) would change nothing
            return []
        self._clause_ends = len(ends)
        for end in reversed(ends):  # the longest prefix that passes says the most
            prefix = pending[:end].rstrip()
            words = self._clause_words(prefix)
            if words is None or not words.startswith(self._said):
                continue
            new = words[len(self._said) :]
            if sum(ch.isalnum() for ch in new) < self.min_clause_chars:
                return []
            self._said = words
            if self._shown.startswith(words):  # glimpses showed all of it (and more)
                return [Piece(new, False, display="")]
            shown, self._shown = self._shown, words
            if len(shown) > len(words) - len(new) and words.startswith(shown):
                return [Piece(new, False, display=words[len(shown) :])]  # glimpsed in part
            return [Piece(new, False)]
        return []

    # ---- words of the first sentence shown before its clause ends ----------------------------

    def _glimpse(self, pending: str) -> list[Piece]:
        """The words of the unfinished first sentence that may be shown now (not spoken)."""
        end = _glimpse_end(pending, self.glimpse_hold_chars)
        if end <= self._glimpse_end:
            return []  # nothing new to judge since the last token (the checks are pure)
        now = self._clock()
        if self._glimpsed_at is not None and now - self._glimpsed_at < self.glimpse_interval_s:
            return []  # shown a moment ago: the next token judges again
        self._glimpse_end = end
        prefix = pending[:end].rstrip()
        if self.checker.may_copy_scaffold(prefix):
            return []  # it may yet be a copied heading or question: shown only if it is not
        words = self._clause_words(prefix)
        if words is None or not words.startswith(self._shown):
            return []
        new = words[len(self._shown) :]
        if sum(ch.isalnum() for ch in new) < self.min_clause_chars:
            return []
        if not self._cut_is_settled(new, strip_citations(pending[end:])):
            return []  # a word the conversion reads whole goes on past the cut: wait
        self._shown, self._glimpsed_at = words, now
        return [Piece(new, False, spoken=False)]

    def _cut_is_settled(self, shown: str, after: str) -> bool:
        """Whether `shown` converts the same alone as followed by `after` (the text written
        after the cut): each piece is converted on its own, so a word across the cut (不|適用,
        头|发) would be shown as two (唔適用, 頭發)."""
        if self._display is None or not after:
            return True
        return self._display(shown) + self._display(after) == self._display(shown + after)

    def _clause_words(self, prefix: str) -> str | None:
        """The sentence so far as it may be said (checked, no [n] marks), or None: hold it."""
        if self.checker.copies_scaffold(prefix):
            return None
        checked, problem = self.checker.check(prefix, partial=True)
        words = strip_citations(checked)
        return None if problem or not words else words


def _glimpse_end(pending: str, hold_chars: int) -> int:
    """How much of the unfinished sentence `pending` is settled enough to show: without the
    token being written, a figure at its end, the last `hold_chars` Chinese characters, or an
    unclosed bracket (the module's docstring says why)."""
    text = _TOKEN_TAIL.sub("", pending)
    if _CJK.search(text[-1:]):
        text = text[: max(0, len(text) - hold_chars)]
    while True:
        before = text
        text = _FIGURE_TAIL.sub("", _TERMINATOR_TAIL.sub("", text)).rstrip()
        if len(text) < len(pending) and not pending[len(text)].isspace():
            text = _TOKEN_TAIL.sub("", text)  # "HK" of "HK$460": shown with its figure
        last = text.rsplit(None, 1)[-1] if text.split() else ""
        if (
            last
            and not _CJK.search(last)
            and (
                any(is_number_word(w) for w in last.strip(",;:").split("-"))  # "twenty-five"
                or last.lower() in _NUMBER_JOINERS
            )
        ):
            text = text[: len(text) - len(last)]
        while text and not _closed(text):
            opener = max(text.rfind(o) for o, c in _PAIRS if text.count(o) > text.count(c))
            text = text[:opener]
        if text == before:
            return len(text)


def _closing(shown: str) -> list[Piece]:
    """A "…" after words shown of a sentence that was then failed or skipped: what was shown
    of it reads as cut off, not as a sentence (nothing is spoken: a said clause ended in a
    pause already)."""
    return [Piece(ELLIPSIS, False, display=ELLIPSIS, spoken=False)] if shown else []


def _closed(text: str) -> bool:
    """Whether every bracket or quote opened in `text` is closed (no clause ends inside
    "(Norman: Nourmands; ...)")."""
    return all(text.count(o) <= text.count(c) for o, c in _PAIRS)


def _after(checked: str, said: str) -> str:
    """What is left of the checked sentence once `said` (its first words, without [n] marks)
    has been said; [n] marks that stood in the said part move to the end of the rest."""
    marks: list[str] = []
    i = 0
    for ch in said:
        while i < len(checked):
            mark = CITATION_MARK.match(checked, i)
            if mark:
                marks.append(mark.group(0).strip())
                i = mark.end()
            elif checked[i].isspace() and not ch.isspace():
                i += 1
            else:
                break
        if i < len(checked) and checked[i] == ch:
            i += 1
        elif not ch.isspace():
            break  # the check changed the words (it should not): say the rest from here
    rest = checked[i:].lstrip()
    if marks and not cited_numbers(rest):
        body = _END_PUNCTUATION.search(rest)
        at = body.start() if body else len(rest)
        body_text = rest[:at].rstrip()
        separator = "" if is_chinese(body_text[-1:]) or not body_text else " "
        rest = body_text + separator + "".join(dict.fromkeys(marks)) + rest[at:]
    return rest
