"""One text turn: question -> standalone query -> retrieval -> evidence gate -> streamed,
checked, speakable answer sentences. The events are the turn API (see assistant/__init__.py).

Streaming and the grounding check: each sentence is checked before it is emitted (as an
`AnswerDelta` for display and an `AnswerSentence` for speech): its numbers must be in the
sources, it must not quote the system prompt and it must be in the caller's language. So what
was already shown or spoken is always checked text; at the first sentence that fails, the
model is stopped and the rest of the answer is a quoted extractive answer from the best
matching source. The first sentence goes out sooner than whole (assistant/stages/release.py):
spoken a clause at a time, and shown a few words at a time, each prefix checked as the
sentence so far; later sentences are shown and spoken whole.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from assistant.colloquial import spoken_fragment, to_colloquial
from assistant.config import AssistantSettings
from assistant.evidence import figure_support, select_evidence
from assistant.extractive import INTRO, extractive_answer
from assistant.gate import Evidence, judge_evidence
from assistant.injection import remove_instructions, remove_question_instructions
from assistant.language import is_chinese, to_script
from assistant.preempt import (
    DUE,
    acknowledgement,
    prefill_done,
    prefix_messages,
    until_due,
)
from assistant.prompts import (
    PHRASES,
    PromptSource,
    answer_messages,
    phrase,
    prompt_text,
    system_prompt,
)
from assistant.rewrite import rewrite_follow_up
from assistant.speakable import (
    clean_for_display,
    clean_for_speech,
    has_speakable_content,
)
from assistant.stages.checking import SentenceChecker, restates
from assistant.stages.language import decide_language
from assistant.stages.release import ELLIPSIS, Piece, Release
from assistant.stages.retrieval import retrieve, to_sources
from assistant.types import (
    AnswerDelta,
    AnswerSentence,
    ChatTurn,
    Generator,
    GeneratorError,
    HoldingPhrase,
    Source,
    SourcesFound,
    SpokenLanguage,
    TurnEnd,
    TurnError,
    TurnEvent,
)
from knowledge_base.config import RedirectSettings
from knowledge_base.types import Hit, Retriever
from voices.sentences import split_sentences

_LANGUAGES: tuple[SpokenLanguage, ...] = ("yue", "cmn", "en")

log = logging.getLogger(__name__)


@dataclass
class Conversation:
    """One session's memory, owned by the session and passed to every turn.

    `history` holds (standalone question, answer) pairs, at most `max_turns` of them;
    `language` is the caller's language as last decided (a hint for the next turn).
    """

    max_turns: int = 4
    language: SpokenLanguage | None = None
    history: deque[tuple[str, str]] = field(default_factory=deque)

    def remember(self, question: str, answer: str) -> None:
        if self.max_turns <= 0:
            return
        self.history.append((question, answer))
        while len(self.history) > self.max_turns:
            self.history.popleft()

    def amend_last_answer(self, answer: str) -> None:
        """Keep only `answer` (the part the caller heard) of the last remembered answer."""
        if self.history:
            question, _said = self.history.pop()
            self.history.append((question, answer))

    def clear(self) -> None:
        self.history.clear()


class _Clock:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def ms(self) -> float:
        return round((time.perf_counter() - self.start) * 1000, 1)


_LATIN = re.compile(r"[A-Za-z0-9]")


@dataclass
class _Answer:
    """What the turn has said so far (display text) and how it ended."""

    language: SpokenLanguage
    parts: list[str] = field(default_factory=list)
    # the display text of what was said (spoken pieces, whole): what a quote after them must
    # not restate, and whether the model answered at all (shown-only words do not count)
    said: list[str] = field(default_factory=list)
    fallback: str | None = None
    error: str | None = None
    collection: str = ""  # whose redirect (hotline, wording) applies
    colloquial: bool = True  # issue 14: Cantonese said in spoken forms
    turn_number: int = 0  # varies the holding phrase from turn to turn
    question: str = ""  # what a bare fragment of an answer is said in answer to

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def say(
        self,
        sentence: str,
        *,
        whole: bool = False,
        display: str | None = None,
        spoken: bool = True,
    ) -> list[TurnEvent]:
        """Events of checked text to show and speak; `whole`: a whole sentence of the
        model's (a bare fragment of it is then said as a Cantonese sentence). `display`: what
        to show when it is not all of `sentence` (its first words were shown already, as
        glimpses); `spoken` False: shown only."""
        # `whole` makes a bare fragment a sentence: not for the rest of one shown in part
        if display is None:
            shown = self._display(sentence, whole=whole)
        else:
            shown = self._display(display, whole=False)
        events: list[TurnEvent] = []
        if shown:
            separator = " " if self.parts and self._spaced(self.parts[-1], shown) else ""
            self.parts.append(separator + shown)
            events.append(AnswerDelta(separator + shown))
        if spoken:
            said = shown if display is None else self._display(sentence, whole=whole)
            if said:
                self.said.append(said)
            speech = clean_for_speech(said)
            if has_speakable_content(speech):
                events.append(AnswerSentence(speech))
        return events

    def _spaced(self, before: str, shown: str) -> bool:
        """Whether a space goes between text shown and the next piece: in English unless
        punctuation (or the "…" that closes a cut sentence) ends the words before (an ASCII
        quote before a letter opens a quote: '"Smart ID"'); in Chinese only between two Latin
        words (a piece can end inside an English phrase: "iAM|Smart")."""
        if self.language != "en":
            return _LATIN.match(before[-1:]) is not None and _LATIN.match(shown) is not None
        if shown[:1] in "'\"":
            return shown[1:2].isalnum()
        return not shown.startswith((ELLIPSIS, *".,;:!?)"))

    def shown_as(self, text: str) -> str:
        """How words of the model's are shown (script, 口語), mid-sentence."""
        return self._display(text, whole=False)

    def _display(self, text: str, *, whole: bool) -> str:
        display = to_script(clean_for_display(text), self.language)
        if self.language == "yue" and self.colloquial:  # issue 14: 口語, not 書面語
            display = to_colloquial(display)
            if whole:
                display = spoken_fragment(display, self.question)
        return display


class Answerer:
    """Answers questions from a knowledge base collection with a `Generator`."""

    def __init__(
        self,
        settings: AssistantSettings,
        generator: Generator,
        retriever_for: Callable[[str], Retriever],
        collections: Callable[[], Sequence[str]] | None = None,
        redirect_for: Callable[[str], RedirectSettings] | None = None,
    ) -> None:
        self.settings = settings
        self.generator = generator
        self.retriever_for = retriever_for
        self.collections = collections
        self.redirect_for = redirect_for  # a collection's own hotline and redirect wording
        self._prompts = [system_prompt(lang, settings.hotline) for lang in _LANGUAGES]

    def new_conversation(self) -> Conversation:
        return Conversation(max_turns=self.settings.history_turns)

    # ---- the turn ---------------------------------------------------------------------

    async def answer(
        self,
        question: str,
        *,
        language: SpokenLanguage | None = None,
        collection: str,
        conversation: Conversation | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """The events of one turn, ending with TurnEnd or TurnError (see assistant/__init__)."""
        clock = _Clock()
        conversation = conversation if conversation is not None else self.new_conversation()
        question = " ".join(question.split())
        lang = decide_language(question, declared=language, previous=conversation.language)
        conversation.language = lang
        if error := self._input_error(question, lang, collection):
            yield error
            return
        asked = remove_question_instructions(question)
        answer = _Answer(
            lang,
            collection=collection,
            colloquial=self.settings.colloquial_cantonese,
            turn_number=len(conversation.history),
            question=asked,
        )
        timings: dict[str, float] = {}
        query = asked
        try:
            if not has_speakable_content(asked):  # the question was only an instruction to us
                yield SourcesFound([])
                for event in self._redirect(answer):
                    yield event
                yield TurnEnd(answer.text, True, lang, {"total": clock.ms()}, query=question)
                return
            rewrite = await rewrite_follow_up(
                asked,
                list(conversation.history),
                self.generator,
                max_tokens=self.settings.rewrite_max_tokens,
                timeout_s=self.settings.rewrite_timeout_s,
            )
            query = rewrite.query
            timings["rewrite"] = clock.ms()
            try:
                hits = await self._retrieve(query, collection, lang)
            except Exception as exc:  # the KB failing must not end the session: tell the caller
                message = phrase("retrieval_failed", lang, hotline=self.settings.hotline)
                timings["total"] = clock.ms()
                yield TurnError("retrieval_failed", f"{message} ({exc})", timings)
                return
            timings["retrieval"] = round(clock.ms() - timings["rewrite"], 1)
            prompt_sources = self._answerable(query, hits)
            if prompt_sources is None:
                yield SourcesFound([])
                for event in self._redirect(answer):
                    yield event
                timings["total"] = clock.ms()
                yield TurnEnd(answer.text, True, lang, timings, query=query)
                return
            yield SourcesFound(to_sources(hits))
            # closed with the answer, so the model's stream stops at once, not at collection
            async with aclosing(
                self._generate(asked, query, prompt_sources, answer, clock, timings)
            ) as generated:
                async for event in generated:
                    yield event
            timings["total"] = clock.ms()
            yield TurnEnd(
                answer.text,
                False,
                lang,
                timings,
                query=query,
                fallback=answer.fallback,
                error=answer.error,
            )
        finally:
            if answer.parts:
                conversation.remember(query, answer.text)

    # ---- steps ------------------------------------------------------------------------

    def _input_error(
        self, question: str, lang: SpokenLanguage, collection: str
    ) -> TurnError | None:
        limit = self.settings.max_question_chars
        if not question:
            return TurnError("empty_question", phrase("empty_question", lang))
        if len(question) > limit:
            return TurnError("question_too_long", phrase("question_too_long", lang, limit=limit))
        if not has_speakable_content(question):
            return TurnError("no_words", phrase("no_words", lang))
        if self.collections is not None and collection not in self.collections():
            return TurnError("unknown_collection", f"no collection named {collection!r}")
        return None

    async def _retrieve(self, query: str, collection: str, lang: SpokenLanguage) -> list[Hit]:
        retriever = self.retriever_for(collection)
        return await retrieve(retriever, query, lang, self.settings.retrieval_k)

    def _redirect(self, answer: _Answer) -> list[TurnEvent]:
        own = self.redirect_for(answer.collection) if self.redirect_for else RedirectSettings()
        wording = PHRASES["redirect"][answer.language]
        text = own.text(answer.language, wording, self.settings.hotline)
        return [event for sentence in split_sentences(text) for event in answer.say(sentence)]

    def _prompt_sources(self, question: str, hits: Sequence[Hit]) -> list[PromptSource]:
        """issue 14: the evidence (the units that answer, within a token budget) of the
        hits that are not quarantined; numbered as the caller's sources are."""
        sources = []
        for number, hit in enumerate(hits, 1):
            if hit.chunk.quarantine is not None:  # no fact may come from a quarantined chunk
                continue
            text, _removed = remove_instructions(hit.chunk.text)
            text = prompt_text(text)[: self.settings.max_source_chars]
            sources.append(PromptSource(number, hit.chunk.title, text))
        return select_evidence(
            question,
            sources,
            budget_tokens=self.settings.evidence_budget_tokens,
            neighbours=self.settings.evidence_neighbours,
        )

    def _judge(self, question: str, hits: Sequence[Hit]) -> Evidence:
        """The evidence gate with this answerer's thresholds (the turn and the prefill agree)."""
        return judge_evidence(
            question,
            hits,
            min_overlap=self.settings.min_term_overlap,
            min_dense=self.settings.min_dense_score,
            min_dense_with_terms=self.settings.min_dense_with_terms,
        )

    def _answerable(self, question: str, hits: Sequence[Hit]) -> list[PromptSource] | None:
        """The evidence to answer from, or None when the turn is refused: the evidence gate,
        or (issue 14) a figure asked for that the evidence does not state (refused, not
        guessed). The turn and the prefill both ask here, so they cannot disagree."""
        if not self._judge(question, hits).enough:
            return None
        sources = self._prompt_sources(question, hits)
        if figure_support(question, sources) < self.settings.min_figure_support:
            return None
        return sources

    def prompt_prefix(
        self, question: str, hits: Sequence[Hit], language: SpokenLanguage
    ) -> list[ChatTurn] | None:
        """The answer prompt up to the question for these hits (what a prefill reads ahead),
        or None when the evidence gate or the figure check would refuse the turn."""
        sources = self._answerable(question, hits)
        if not sources:
            return None
        return prefix_messages(sources, language, hotline=self.settings.hotline)

    async def _generate(
        self,
        question: str,
        query: str,
        prompt_sources: list[PromptSource],
        answer: _Answer,
        clock: _Clock,
        timings: dict[str, float],
    ) -> AsyncIterator[TurnEvent]:
        lang = answer.language
        messages = answer_messages(question, prompt_sources, lang, hotline=self.settings.hotline)
        checker = SentenceChecker(
            lang,
            question,
            prompt_sources,
            self._prompts,
            query,
            self.settings.hotline,
            bind_figures=self.settings.bind_figures,
        )

        release = Release(
            checker,
            early_clauses=self.settings.early_clauses,
            early_text=self.settings.early_text,
            glimpse_hold_chars=self.settings.glimpse_hold_chars,
            glimpse_interval_s=self.settings.glimpse_interval_s,
            display=answer.shown_as,
            min_clause_chars=self.settings.min_clause_chars,
            repeat_min_share=self.settings.repeat_min_share,
            token_limit=self.settings.max_answer_tokens,
        )

        def accept(released: tuple[list[Piece], str | None]) -> tuple[list[TurnEvent], str | None]:
            """Events of the checked pieces (clauses of the first sentence, then sentences),
            and the first problem, if a sentence failed."""
            pieces, problem = released
            events: list[TurnEvent] = []
            for piece in pieces:
                said = answer.say(
                    piece.text, whole=piece.whole, display=piece.display, spoken=piece.spoken
                )
                events += said
                if "first_text" not in timings and any(isinstance(e, AnswerDelta) for e in said):
                    timings["first_text"] = clock.ms()  # first text shown
                if "first_sentence" not in timings and piece.spoken:
                    timings["first_sentence"] = clock.ms()  # first text said
                    log.info(
                        "first piece %r at %.0f ms (first text at %s ms, first token at %s "
                        "ms; %d tokens written: %r)",
                        piece.text,
                        timings["first_sentence"],
                        timings.get("first_text"),
                        timings.get("first_token"),
                        len(written),
                        "".join(written),
                    )
            return events, problem

        def enough() -> bool:
            return release.sentences >= self.settings.max_answer_sentences

        started = clock.ms()
        loop = asyncio.get_running_loop()
        problem: str | None = None
        written: list[str] = []  # the model's deltas so far (the log of the first piece)
        try:
            async with asyncio.timeout(self.settings.first_token_timeout_s) as deadline:
                timings.update(await prefill_done())  # the prompt's prefix read ahead
                stream = self.generator.stream(
                    messages,
                    max_tokens=self.settings.max_answer_tokens,
                    temperature=self.settings.temperature,
                )
                # issues 10/14: a holding phrase when the model has not started in time. Not
                # once its words flow: the sentence is near, and the phrase would be spoken
                # first (one TTS queue) and take the CPU the model is writing with.
                waited = until_due(
                    stream,
                    self.settings.acknowledge_after_s,
                    lambda: not answer.parts and "first_token" not in timings,
                )
                async with aclosing(stream), aclosing(waited):
                    async for delta in waited:
                        if delta is DUE:
                            timings["acknowledgement"] = clock.ms()
                            yield HoldingPhrase(acknowledgement(lang, answer.turn_number), lang)
                            continue
                        assert isinstance(delta, str)
                        if "first_token" not in timings:
                            timings["first_token"] = clock.ms()
                            deadline.reschedule(loop.time() + self.settings.answer_timeout_s)
                        written.append(delta)
                        events, problem = accept(release.feed(delta))
                        for event in events:
                            yield event
                        if problem or enough():
                            break  # closing the stream stops the model
            if not problem and not enough():
                events, problem = accept(release.flush())
                for event in events:
                    yield event
        except TimeoutError:
            problem, answer.error = "timeout", "timeout"
        except GeneratorError as exc:
            problem, answer.error = exc.code, exc.code
        timings["generation"] = round(clock.ms() - started, 1)
        if problem is not None:  # a timeout or an error mid-sentence: close what was shown
            events, _ = accept((release.abandon(), None))
            for event in events:
                yield event
        if problem is None and not answer.said:
            problem = "empty"  # nothing said (words shown and closed by a "…" are not an answer)
        if problem is not None:
            for event in self._extractive(question or query, prompt_sources, answer):
                yield event
            timings.setdefault("first_text", clock.ms())
            timings.setdefault("first_sentence", clock.ms())

    def _extractive(
        self, question: str, prompt_sources: Sequence[PromptSource], answer: _Answer
    ) -> list[TurnEvent]:
        """issue 14: the one or two source units that answer, in the caller's script and
        words, introduced by the source's title (no "service unavailable" apology). After
        sentences of the model's, a quoted sentence that restates them is not said again
        (nothing quoted: the model's sentences stand, and the answer is not a fallback)."""
        lang = answer.language
        in_language = [s for s in prompt_sources if is_chinese(s.text) == (lang != "en")]
        quote = extractive_answer(
            question,
            in_language or list(prompt_sources),
            lang,
            max_sentences=self.settings.extractive_sentences,
            min_figure_support=self.settings.min_figure_support,
        )
        if quote is None:
            answer.fallback = "extractive"
            return self._redirect(answer)
        sentences = quote.sentences
        if answer.said:
            intro = INTRO[lang].format(title=quote.title)
            units = [s.removeprefix(intro).lstrip() for s in sentences]
            share = self.settings.repeat_min_share
            new = [u for u in units if not restates(u, answer.said, share)]
            if not new:
                return []
            sentences = [f"{intro}{' ' if lang == 'en' else ''}{new[0]}", *new[1:]]
        answer.fallback = "extractive"
        return [event for sentence in sentences for event in answer.say(sentence)]


def sources_of(events: Sequence[TurnEvent]) -> list[Source]:
    """The sources a finished turn cited (the last SourcesFound)."""
    found = [e for e in events if isinstance(e, SourcesFound)]
    return found[-1].sources if found else []
