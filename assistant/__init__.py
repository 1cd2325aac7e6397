"""One conversation turn: language, standalone query, retrieval, evidence gate, streamed LLM
answer, grounding check, sentence splitting and speech. Never imports serving, so a turn
runs the same from the CLI and from the socket.

Turn API (what the voice server and `samyu ask` call)::

    from assistant import Assistant, Conversation
    from assistant.types import (SourcesFound, AnswerDelta, AnswerSentence, AudioStart,
                                 AudioData, AudioEnd, FinalTranscript, TurnEnd, TurnError)

    assistant = Assistant.from_settings(settings.assistant, KnowledgeBase(settings.kb),
                                        transcriber=..., voice_for=...)  # speech optional
    conversation = assistant.new_conversation()      # one per session; the session owns it

    async for event in assistant.answer(question, language=None | "yue" | "cmn" | "en",
                                        collection="demo", conversation=conversation):
        ...
    # answer_spoken(question, ...)  same, plus AudioStart / AudioData... / AudioEnd
    # answer_audio(float32 16 kHz audio, ...)  FinalTranscript first, then answer_spoken

Events of `answer()`, in order:
- `TurnError(code, message)` alone, for input that cannot be answered: codes `empty_question`,
  `question_too_long` (limit `assistant.max_question_chars`), `no_words` (only emoji or
  punctuation), `unknown_collection`, `retrieval_failed`; the message is in the caller's
  language and fit to show. Nothing follows a TurnError.
- `SourcesFound(sources)`: the numbered `Source`s given to the model ([] when refused).
- at most once, before the first sentence: `HoldingPhrase(text, language)` ("好，我幫你查下。")
  when the model has no checked sentence `assistant.acknowledge_after_s` after the evidence
  gate passed; spoken by `answer_spoken` (its audio: `AudioData(holding=True)`), never part
  of the answer text or the conversation memory, never for a refusal.
- per checked sentence: `AnswerDelta(text)` (display text, with [n] citation marks, in the
  caller's script) then `AnswerSentence(text)` (the same without marks: what to speak).
- `TurnEnd(answer, refused, language, timings, query=..., fallback=..., error=...)`:
  `refused` = the evidence gate redirected the caller (the model was not asked);
  `fallback="extractive"` = the model's answer failed the grounding check (or the model
  was unreachable: then `error` holds the GeneratorError code) and quoted source sentences
  were given instead; `query` = the standalone query retrieval used. Timings in ms:
  `rewrite` and `retrieval` (durations), `first_token`, `first_sentence`, `total` (since
  the turn started), `generation` (duration), `acknowledgement` (the holding phrase, if
  any); `answer_spoken` adds `first_audio` (the answer's) and `acknowledgement_audio`,
  `answer_audio` adds `asr`.

Cancellation (barge-in): cancel the task iterating the stream, or close it (`aclose()`):
the model stops at its next token (llama.cpp) or the HTTP stream closes (vLLM), and the
synthesizer stops at its next chunk. The conversation keeps what was said up to then.
"""

from assistant.answerer import Answerer, Conversation
from assistant.turn import Assistant, speak

__all__ = ["Answerer", "Assistant", "Conversation", "speak"]
