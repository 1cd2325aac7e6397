"""Any LangChain chat model as a `Generator`: the seam between a turn and an LLM engine.

Both engines are LangChain `BaseChatModel`s (ChatOpenAI for vLLM, `LlamaCppChatModel` for the
embedded model), so prompts are `ChatPromptTemplate`s and the chain stays LangChain-native;
this adapter only turns `ChatTurn`s into LangChain messages and chunks into text deltas.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    BaseMessageChunk,
    HumanMessage,
    SystemMessage,
)

from assistant.types import ChatTurn

_MESSAGE_TYPES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def to_langchain(messages: Sequence[ChatTurn]) -> list[BaseMessage]:
    return [_MESSAGE_TYPES[turn.role](content=turn.content) for turn in messages]


def from_langchain(messages: Sequence[BaseMessage]) -> list[ChatTurn]:
    return [ChatTurn(_ROLES[m.type], m.text) for m in messages]  # type: ignore[arg-type]


def chunk_text(content: object) -> str:
    """Text of a streamed chunk (content may be a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block.get("text", "") if isinstance(block, dict) else str(block) for block in content
        )
    return ""


class ChatModelGenerator:
    """Streams the text of a LangChain chat model's answer."""

    def __init__(self, name: str, chat_model: BaseChatModel) -> None:
        self.name = name
        self.chat_model = chat_model

    def request_options(self, max_tokens: int, temperature: float) -> dict[str, object]:
        return {"max_tokens": max_tokens, "temperature": temperature}

    async def chunks(
        self, messages: Sequence[ChatTurn], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[BaseMessageChunk]:
        """The chat model's raw chunks (text and response metadata)."""
        bound = self.chat_model.bind(**self.request_options(max_tokens, temperature))
        async for chunk in bound.astream(to_langchain(messages)):
            yield chunk

    async def stream(
        self, messages: Sequence[ChatTurn], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str]:
        async for chunk in self.chunks(messages, max_tokens=max_tokens, temperature=temperature):
            if text := chunk_text(chunk.content):
                yield text

    @property
    def can_prefill(self) -> bool:
        """Whether the engine can read a prompt's prefix ahead (the embedded llama.cpp)."""
        return callable(getattr(self.chat_model, "prefill", None))

    def prefill(self, messages: Sequence[ChatTurn]) -> int:
        """Read `messages` (a prompt's prefix) now, so a request starting with them reads
        only the rest; blocking (run it in a thread); the tokens now cached (0: cannot)."""
        prefill = getattr(self.chat_model, "prefill", None)
        return int(prefill(messages)) if callable(prefill) else 0

    async def aclose(self) -> None:
        """Release what the engine holds (HTTP connections, a model)."""
        close = getattr(self.chat_model, "aclose", None)
        if close is not None:
            await close()
