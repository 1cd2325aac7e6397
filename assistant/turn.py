"""The turn API: `Assistant` answers a question (typed or spoken) as a stream of events, and
speaks the answer sentence by sentence while the model is still writing.

A spoken turn is one chain of async generators, no queue or task between them:
`Answerer.answer` (rewrite, retrieval, evidence gate, generation, sentence checks) ->
`stages.synthesis.speak` (each sentence's audio as it comes). Closing or cancelling the
consumer of `answer_spoken()` stops the model at its next token and the synthesizer at its
next chunk. `TurnEnd` comes last, after the audio, with `first_audio` added to its timings.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing

import numpy as np

from assistant.answerer import Answerer, Conversation
from assistant.config import AssistantSettings
from assistant.generators import build_generator
from assistant.preempt import Speculation
from assistant.stages.language import decide_language
from assistant.stages.retrieval import retrieve_now
from assistant.stages.synthesis import speak
from assistant.types import (
    FinalTranscript,
    Generator,
    SpokenLanguage,
    TurnEnd,
    TurnEvent,
)
from knowledge_base import KnowledgeBase, RedirectSettings
from knowledge_base.types import Retriever
from voices.types import Synthesizer, Transcriber

log = logging.getLogger(__name__)
VoiceFor = Callable[[SpokenLanguage], Synthesizer]


def _log_failure(task: asyncio.Task[bool]) -> None:
    """A prefill that failed is an optimisation lost, not a turn lost: log it (here only,
    whether or not a turn waits for it)."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("prefill failed: %r", exc, exc_info=exc)


class Assistant:
    """Answers questions from knowledge base collections, as text and (optionally) speech.

    Build it with `Assistant.from_settings(...)`, or directly from parts (tests, the server).
    """

    def __init__(
        self,
        settings: AssistantSettings,
        *,
        generator: Generator,
        retriever_for: Callable[[str], Retriever],
        collections: Callable[[], Sequence[str]] | None = None,
        transcriber: Transcriber | None = None,
        voice_for: VoiceFor | None = None,
        redirect_for: Callable[[str], RedirectSettings] | None = None,
    ) -> None:
        self.settings = settings
        self.generator = generator
        self.transcriber = transcriber
        self.voice_for = voice_for
        self.answerer = Answerer(
            settings, generator, retriever_for, collections, redirect_for=redirect_for
        )

    @classmethod
    def from_settings(
        cls,
        settings: AssistantSettings,
        knowledge_base: KnowledgeBase,
        *,
        generator: Generator | None = None,
        transcriber: Transcriber | None = None,
        voice_for: VoiceFor | None = None,
    ) -> Assistant:
        """The configured generator (loaded now) over a KnowledgeBase's collections."""
        return cls(
            settings,
            generator=generator or build_generator(settings),
            retriever_for=lambda name: knowledge_base.collection(name).retriever(),
            collections=knowledge_base.collections,
            transcriber=transcriber,
            voice_for=voice_for,
            redirect_for=lambda name: knowledge_base.collection(name).redirect,
        )

    def new_conversation(self) -> Conversation:
        return self.answerer.new_conversation()

    def decide_language(
        self, question: str, language: SpokenLanguage | None, conversation: Conversation | None
    ) -> SpokenLanguage:
        previous = conversation.language if conversation is not None else None
        return decide_language(question, declared=language, previous=previous)

    def speculate(self, question: str, *, collection: str, language: SpokenLanguage) -> Speculation:
        """Retrieval for a caller's stable partial transcript, started now; the turn reuses
        it when its final query asks the same (assistant.preempt). With `prefill_partials`
        and an engine that can, the model then reads the prompt up to the question."""
        k = self.settings.retrieval_k
        retriever = self.answerer.retriever_for(collection)
        hits = asyncio.create_task(
            retrieve_now(retriever, question, language, k), name="speculative-retrieval"
        )
        hits.add_done_callback(lambda task: task.cancelled() or task.exception())  # retrieved
        speculation = Speculation(question, language, k, hits)
        if self.settings.prefill_partials and getattr(self.generator, "can_prefill", False):
            speculation.prefill = asyncio.create_task(
                self._prefill(speculation), name="speculative-prefill"
            )
            speculation.prefill.add_done_callback(_log_failure)
        return speculation

    async def _prefill(self, speculation: Speculation) -> bool:
        """Read the prompt up to the question for the speculation's hits (not when the turn
        would be refused: the model will not be asked)."""
        try:
            hits = await speculation.hits
        except Exception:  # retrieval failed: logged by the turn that uses it, not twice
            return False
        if speculation.outcome == "discarded":
            log.info("no prefill for %r: the final asked something else", speculation.question)
            return False  # the final asked something else
        messages = self.answerer.prompt_prefix(speculation.question, hits, speculation.language)
        if messages is None:
            log.info("no prefill for %r: the turn would be refused", speculation.question)
            return False
        started = time.perf_counter()
        tokens = await asyncio.to_thread(self.generator.prefill, messages)  # type: ignore[attr-defined]
        speculation.prefill_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info(
            "prefilled %d tokens for %r in %.0f ms",
            tokens,
            speculation.question,
            speculation.prefill_ms,
        )
        return True

    def answer(
        self,
        question: str,
        *,
        language: SpokenLanguage | None = None,
        collection: str,
        conversation: Conversation | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """Text turn: SourcesFound, AnswerDelta/AnswerSentence..., then TurnEnd (or TurnError)."""
        return self.answerer.answer(
            question, language=language, collection=collection, conversation=conversation
        )

    async def answer_spoken(
        self,
        question: str,
        *,
        language: SpokenLanguage | None = None,
        collection: str,
        conversation: Conversation | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """`answer()` plus the audio of each sentence, synthesised while the model writes."""
        if self.voice_for is None:
            raise RuntimeError("this Assistant was built without speech (voice_for)")
        lang = self.decide_language(question, language, conversation)
        events = self.answer(
            question, language=lang, collection=collection, conversation=conversation
        )
        async with aclosing(speak(events, self.voice_for(lang), lang)) as spoken:
            async for event in spoken:
                yield event

    async def answer_audio(
        self,
        audio: np.ndarray,
        *,
        language: SpokenLanguage | None = None,
        collection: str,
        conversation: Conversation | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """Spoken turn over float32 mono 16 kHz audio: FinalTranscript, then `answer_spoken()`."""
        if self.transcriber is None:
            raise RuntimeError("this Assistant was built without a transcriber")
        started = time.perf_counter()
        hint = language or (conversation.language if conversation is not None else None)
        transcript = await asyncio.to_thread(self.transcriber.transcribe, audio, language=hint)
        asr_ms = round((time.perf_counter() - started) * 1000, 1)
        lang = decide_language(transcript.text, declared=language, heard=transcript.language)
        yield FinalTranscript(transcript.text, lang)
        async with aclosing(
            self.answer_spoken(
                transcript.text,
                language=lang,
                collection=collection,
                conversation=conversation,
            )
        ) as events:
            async for event in events:
                if isinstance(event, TurnEnd):
                    event = dataclasses.replace(event, timings={"asr": asr_ms, **event.timings})
                yield event

    async def aclose(self) -> None:
        close = getattr(self.generator, "aclose", None)
        if close is not None:
            await close()
