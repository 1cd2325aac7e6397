"""Generator engines: `llama_cpp` (embedded GGUF) and `openai` (an OpenAI-compatible server such
as vLLM). Both are LangChain chat models behind the `Generator` protocol."""

from __future__ import annotations

from assistant.config import AssistantSettings
from assistant.generators.chat_model import ChatModelGenerator


def build_generator(settings: AssistantSettings) -> ChatModelGenerator:
    """The configured engine (the embedded model is loaded now, once)."""
    if settings.engine == "openai":
        from assistant.generators.openai_compatible import build_openai_generator

        return build_openai_generator(settings)
    from assistant.generators.llama_cpp import build_llama_cpp_generator

    return build_llama_cpp_generator(settings)
