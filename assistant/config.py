"""Settings section `[assistant]` (env `SAMYU_ASSISTANT__*`): generator engine, prompt, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class LlamaCppSettings(BaseModel):
    """The embedded llama.cpp engine (env `SAMYU_ASSISTANT__LLAMA_CPP__*`)."""

    model_path: Path | None = Field(
        default=None,
        description="A local GGUF file; None = the packaged model named by `model`.",
    )
    model: Literal["qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-q4", "qwen2.5-coder-1.5b"] = Field(
        default="qwen2.5-coder-0.5b",
        description="The packaged model (assembled into SAMYU_CACHE from its PyPI parts and "
        "checked by sha256) used when model_path is None. 0.5B: 2-3x faster on 2 cores; 1.5B: "
        "more often right when the answer is in the evidence; 0.5b-q4: the 0.5B requantised "
        "to Q4_0 here, ~1.4x faster again with extra_buffers (docs/llm.md has the figures).",
    )
    n_ctx: int = Field(
        default=2048,
        ge=512,
        description="Context window in tokens, per context (prompts are ~400 tokens of evidence "
        "and instructions plus the answer).",
    )
    n_contexts: int = Field(
        default=4,
        ge=1,
        le=16,
        description="llama.cpp contexts over the one memory-mapped model: this many callers "
        "are answered at once (sharing the threads, see share_threads), the others wait for "
        "a free context. With 2, a third caller waited for a whole answer and hit the "
        "first-token limit (3 of 8 turns with 4 typed sessions). Each context adds its KV "
        "cache and compute buffers (bench/llm_prefix.py --memory).",
    )
    reuse_system_prompt: bool = Field(
        default=True,
        description="Evaluate each language's system prompt once per context and restore its "
        "saved KV state, instead of reading it again every turn.",
    )
    share_threads: bool = Field(
        default=True,
        description="When k contexts work at once, each uses max(1, n // k) of n_threads / "
        "n_threads_batch, set again before every token: one caller gets every thread, "
        "concurrent callers do not oversubscribe the cores (llama.cpp threads spin-wait).",
    )
    serial_prompts: bool = Field(
        default=True,
        description="Read one prompt at a time with every thread while the other answers "
        "pause between tokens: the k-th of k callers arriving together gets its first token "
        "after k reads (~1.1 s each on 2 cores) instead of all of them after all k.",
    )
    n_threads: int = Field(
        default=2,
        ge=1,
        description="CPU threads for generation when one caller is answered (share_threads "
        "divides them among busy contexts). Measured on the near-idle 2-core machine "
        "(bench/llm_prefix.py): 41 tokens/s with 2 threads vs 25 with 1. On a CPU shared "
        "with other heavy work 1 can be faster (llama.cpp threads spin-wait).",
    )
    n_threads_batch: int = Field(
        default=2,
        ge=1,
        description="CPU threads for reading the prompt. Nothing else runs while the prompt is "
        "read (ASR is done, TTS has not started), so both cores help: first token 2.8 s vs "
        "5.2 s for a 528-token prompt on an idle 2-core machine.",
    )
    n_batch: int = Field(default=256, ge=16, description="Prompt-processing batch size.")
    seed: int = Field(default=0, description="Sampling seed (answers are reproducible).")
    bf16_weights: bool | Literal["auto"] = Field(
        default="auto",
        description="Load a packaged model (model_path None; not the -q4 key) with its "
        "weights expanded to BF16: the same model, its quantised values rounded to BF16, made "
        "once at set-up from the verified file by llama.cpp's quantiser (twice the size on "
        "disk and in memory). On a CPU with BF16 dot products it reads prompts ~1.7x faster "
        "and writes ~0.8x as fast (docs/llm.md, 'BF16'). auto: on where the CPU advertises "
        "avx512_bf16, for the 0.5B (the one measured; the 1.5B only with true); elsewhere "
        "BF16 is emulated and slower, so the file is used as shipped.",
    )
    extra_buffers: bool | Literal["auto"] = Field(
        default="auto",
        description="Let llama.cpp repack weights into extra buffer types (AVX2/AVX512 "
        "layouts, AMX). auto: on for the requantised Q4_0 model, where it makes prompt reading "
        "and writing ~1.4x faster (the packaged 0.5B measured no faster), unless the CPU "
        "advertises AMX: there llama-cpp-python 0.3.36 segfaulted on every prompt longer than "
        "one token (docs/llm.md).",
    )


class OpenAICompatibleSettings(BaseModel):
    """Chat completions over HTTP: vLLM in production (env `SAMYU_ASSISTANT__OPENAI__*`)."""

    base_url: str = Field(
        default="http://127.0.0.1:8001/v1", description="The server's /v1 root (vLLM: /v1)."
    )
    model: str = Field(
        default="llama-3.3-70b-instruct",
        description="Model name as the server knows it (vLLM: --served-model-name).",
    )
    api_key: SecretStr = Field(
        default=SecretStr("EMPTY"), description="Bearer token (vLLM: --api-key); EMPTY if none."
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, description="TCP connect timeout.")
    read_timeout_s: float = Field(
        default=20.0, gt=0, description="Longest wait for the next bytes of a response."
    )
    max_retries: int = Field(
        default=2, ge=0, description="Retries of a request that failed before its first token."
    )
    retry_backoff_s: float = Field(
        default=0.5, ge=0, description="First retry delay; doubles on each further retry."
    )


class AssistantSettings(BaseModel):
    cache: Path = Field(
        default=Path("~/.cache/samyu").expanduser(),
        description="Set from SAMYU_CACHE by the root settings; assembled models live under it.",
    )
    engine: Literal["llama_cpp", "openai"] = Field(
        default="llama_cpp",
        description="llama_cpp = the embedded model; openai = an OpenAI-compatible server (vLLM).",
    )
    llama_cpp: LlamaCppSettings = Field(default_factory=LlamaCppSettings)
    openai: OpenAICompatibleSettings = Field(default_factory=OpenAICompatibleSettings)

    # ---- generation ------------------------------------------------------------------
    max_answer_tokens: int = Field(default=160, ge=8, description="Longest answer in tokens.")
    max_answer_sentences: int = Field(
        default=4, ge=1, description="The model is stopped after this many sentences (speakable)."
    )
    temperature: float = Field(default=0.1, ge=0, le=2, description="Sampling temperature.")
    early_clauses: bool = Field(
        default=True,
        description="issue 14: say the answer's first sentence a clause at a time (at ，；： "
        'or ", "), each checked as the sentence so far (figures grounded, no leak, the '
        "caller's language); a clause that does not pass yet waits for its sentence's end "
        "(assistant/stages/release.py). Off: the first sentence is said whole.",
    )
    early_text: bool = Field(
        default=True,
        description="issue 14: show the answer's first sentence a few words at a time as the "
        "model writes it, each prefix checked as the sentence so far (as early clauses are), "
        "holding back a word or figure still being written and the last Chinese characters; "
        "speech still waits for a clause (assistant/stages/release.py). Off: text advances a "
        "clause at a time.",
    )
    glimpse_hold_chars: int = Field(
        default=3,
        ge=0,
        description="Chinese characters at the end of the first sentence so far not shown yet "
        "(the script and 口語 conversions read whole words: 了 is 咗 inside a clause, 喇 at "
        "its end).",
    )
    glimpse_interval_s: float = Field(
        default=0.25,
        ge=0,
        description="The least time between two showings of the first sentence's words (the "
        "first at once): each is a check and a frame, work that slows the model on 2 cores.",
    )
    prefill_partials: bool = Field(
        default=True,
        description="issue 14: when speculative retrieval ran on a caller's stable partial "
        "transcript, the embedded model reads the answer prompt up to the question (system "
        "prompt + evidence) while they still speak; the turn then reads only the rest. "
        "Engines that cannot prefill (openai) ignore it.",
    )
    min_clause_chars: int = Field(
        default=2,
        ge=1,
        description="Letters or digits an early clause must add to be said on its own.",
    )
    first_token_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Give up on the model when it has not started answering by then (waiting "
        "for a free context included) and say the extractive answer instead: a caller is "
        "better served by the source's sentence at 10 s than by silence until 30 s. A ~400-token "
        "prompt's first token takes ~2 s on an idle 2-core machine.",
    )
    answer_timeout_s: float = Field(
        default=120.0, gt=0, description="Give up on an answer that takes longer in total."
    )
    acknowledge_after_s: float | None = Field(
        default=1.5,
        ge=0,
        description='Say a short holding phrase ("好，我幫你查下。", "Sure, let me check.") '
        "when the model has not started answering (no word, no sentence) this long after the "
        "evidence gate passed (a busy or slow model), so the caller is not left in silence. "
        "Spoken once, never for refusals, not part of the answer or the memory. 0 or null: never.",
    )

    # ---- input limits ----------------------------------------------------------------
    max_question_chars: int = Field(
        default=2000, ge=1, description="Longer questions are refused with a clear message."
    )

    # ---- retrieval and the evidence gate ---------------------------------------------
    retrieval_k: int = Field(default=3, ge=1, le=20, description="Sources put in the prompt.")
    max_source_chars: int = Field(
        default=4000,
        ge=100,
        description="Each source is cut to this many characters before evidence is selected "
        "from it (bounds the scoring work on a huge chunk; the prompt itself is bounded by "
        "evidence_budget_tokens).",
    )
    min_dense_score: float = Field(
        default=0.40,
        description="Evidence gate: a best hit with at least this dense (cosine) score is "
        "evidence on its own. Depends on the collection's embedder: tune with the answer bench.",
    )
    min_term_overlap: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Evidence gate: share of the question's content terms the best source must "
        "contain to count as evidence (together with min_dense_with_terms).",
    )
    min_dense_with_terms: float = Field(
        default=0.25,
        description="Evidence gate: the dense score that term overlap still needs beside it.",
    )
    extractive_sentences: int = Field(
        default=2, ge=1, description="Sentences quoted by the extractive fallback answer."
    )
    evidence_budget_tokens: int = Field(
        default=200,
        ge=32,
        description="Evidence put in the prompt (estimated tokens, titles included): the "
        "sentences of the top sources that answer, with their neighbours. With the system "
        "prompt (its KV cached) and the question this keeps a prompt near 300-360 tokens in "
        "every language; reading the new part is most of a typed turn's wait for its first "
        "token. 200 (was 240): measured in docs/llm.md, same answer benchmark figures within "
        "one turn; 180 lost 3 right answers of 36.",
    )
    min_figure_support: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A question asking for a figure (how much, how long, when ...) is answered "
        "only when a source states a figure of that kind beside at least this share of the "
        "question's content terms; else the polite redirect. 0 turns the gate off.",
    )
    bind_figures: bool = Field(
        default=True,
        description='issue 14: figures that one clause of an answer states together ("48頁護照'
        '要370元") must occur together in one line, sentence or table row of a source; a '
        "clause pairing figures no source unit pairs fails like an invented figure (the "
        "extractive answer follows). A clause's figures that restate the question's bind to "
        "the next clause's; the hotline binds to nothing. Measured (docs/llm.md): on 44 "
        "benchmark turns it replaced the one mispaired answer and no other.",
    )
    evidence_neighbours: int = Field(
        default=1, ge=0, le=5, description="Units kept on each side of a chosen evidence unit."
    )
    colloquial_cantonese: bool = Field(
        default=True,
        description="Convert Cantonese answers to spoken forms (嘅 係 唔 冇 喺 咗, a bare "
        'amount in 蚊) after generation, and a bare fragment the model wrote ("140元[1]", '
        '"1948年[1]") to a short spoken sentence ("要140蚊[1]。", "係1948年[1]。"); '
        "figures and titles are never changed.",
    )
    repeat_min_share: float = Field(
        default=0.6,
        ge=0,
        description="A model sentence whose figures were all said already and with at least "
        "this share of its content terms said already restates an earlier one (often the same "
        "fact from a second source): it is skipped, and so is a quoted sentence after the "
        "model's that restates them. Above 1: never skipped.",
    )

    # ---- conversation ----------------------------------------------------------------
    history_turns: int = Field(
        default=4, ge=0, description="Question/answer pairs a conversation remembers."
    )
    rewrite_timeout_s: float = Field(
        default=15.0, gt=0, description="Longest wait for the LLM rewrite of a follow-up."
    )
    rewrite_max_tokens: int = Field(
        default=48, ge=8, description="Longest standalone query the rewrite step may write."
    )
    hotline: str = Field(default="1823", description="Number named in the polite redirect.")
