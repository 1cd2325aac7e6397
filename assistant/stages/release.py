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

A later sentence that only restates what was said (the same figures, mostly the same words:
the small model often copies the same fact from two sources) is skipped, not said twice
(checking.restates); a sentence with a new figure or mostly new words is said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.language import is_chinese
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
)
_END_PUNCTUATION = re.compile(r"[。！？.!?]*\s*$")
# a stream of at least this share of the token limit in deltas ran into it (a character split
# over two tokens comes as one delta, so a cut stream can show fewer deltas than tokens)
CUT_SHARE = 0.75
# how a sentence the model finished ends: a sentence end (closing quotes or brackets after it
# allowed), or a citation mark
_ENDED = re.compile(r"(?:[。！？.!?…；;][」』”’)）\]]*|[\[［【][\d,，、\s]+[\]］】])\s*$")


@dataclass(frozen=True)
class Piece:
    """Checked text to say: a clause of a sentence, or a sentence's (rest up to its) end."""

    text: str
    ends_sentence: bool
    whole: bool = False  # the whole sentence in one piece (no clause of it said before)


class Release:
    """Feed the model's text deltas; get back the checked pieces that may be said now, and the
    first problem (the model is then stopped)."""

    def __init__(
        self,
        checker: SentenceChecker,
        *,
        early_clauses: bool = True,
        min_clause_chars: int = 2,
        repeat_min_share: float = REPEAT_MIN_SHARE,
        token_limit: int | None = None,
    ) -> None:
        self.checker = checker
        self.early_clauses = early_clauses
        self.min_clause_chars = min_clause_chars  # letters/digits a released clause must add
        self.repeat_min_share = repeat_min_share  # checking.restates: a sentence said again
        self._spoken: list[str] = []  # the checked sentences said so far
        self.token_limit = token_limit  # the model's max tokens: a stream that long was cut
        self._deltas = 0  # text deltas fed (about one per token: split characters give fewer)
        self.sentences = 0  # whole sentences said (the answer's sentence limit counts these)
        self._splitter = SentenceSplitter()
        self._said = ""  # the current sentence's words said so far (no [n] marks)
        self._clause_ends = 0  # clause ends of the current sentence already judged

    def feed(self, delta: str) -> tuple[list[Piece], str | None]:
        self._deltas += 1
        pieces, problem = self._sentences(self._splitter.feed(delta))
        if problem is None and self.early_clauses and self.sentences == 0:
            pieces += self._clauses(self._splitter.pending.lstrip())
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

    # ---- whole sentences -------------------------------------------------------------

    def _sentences(self, sentences: list[str]) -> tuple[list[Piece], str | None]:
        pieces: list[Piece] = []
        for sentence in sentences:
            said, self._said = self._said, ""
            self._clause_ends = 0
            if self.checker.copies_scaffold(sentence):
                # a copied "[n] title" heading or FAQ question: skipped, not failed (its
                # clauses already said stay said: they passed the checks)
                continue
            checked, problem = self.checker.check(sentence)
            if problem:
                return pieces, problem
            if not said and restates(checked, self._spoken, self.repeat_min_share):
                continue  # the same fact said again (often from a second source): skipped
            rest = _after(checked, said) if said else checked
            if rest.strip():
                pieces.append(Piece(rest, True, whole=not said))
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
            return [Piece(new, False)]
        return []

    def _clause_words(self, prefix: str) -> str | None:
        """The sentence so far as it may be said (checked, no [n] marks), or None: hold it."""
        if self.checker.copies_scaffold(prefix):
            return None
        checked, problem = self.checker.check(prefix, partial=True)
        words = strip_citations(checked)
        return None if problem or not words else words


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
