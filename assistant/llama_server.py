"""`python -m assistant.llama_server --model X.gguf --host 127.0.0.1 --port N`: llama-cpp-python's
OpenAI-compatible server (`python -m llama_cpp.server`, unchanged) with the one workaround the
embedded engine also applies (no repacked weight buffers: see
`assistant.generators.llama_cpp.disable_extra_buffers`). A stand-in for vLLM on one machine
and what the tests of the OpenAI-compatible client run against.
"""

from __future__ import annotations

import runpy

from assistant.generators.llama_cpp import disable_extra_buffers


def main() -> None:
    disable_extra_buffers()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
