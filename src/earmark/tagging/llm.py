"""The LLM tagger: ask a chat model (any routed provider) which tag fits.

The prompt defaults to the custom-topic-tags guide's ("Select the most relevant topic from
the list. Return your selection and nothing else.") and can be overridden. The answer is
always one of the tag names, by the strongest means the provider offers:

- ``local`` (llama.cpp): no free generation at all. Each tag is scored by the
  log-likelihood of answering exactly that tag, minus its log-likelihood for an empty
  input (calibration removes the model's prior for each name); relevance is the softmax
  of the calibrated scores divided by its maximum.
- providers that enforce a JSON schema (``openai``): ``{"tag": <enum of names>}``; with
  log-probabilities the chosen tag's probability and the alternatives at its first token
  give the relevances, else the chosen tag gets 1.0 and the others 0.
- others (``anthropic``): free text, normalised and fuzzy-matched to a name, with one
  retry that repeats the allowed names; an answer that names no tag gives no tag.

Relevances are normalised so the top tag is 1.0; the default threshold is 0.5.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from earmark.errors import ContextLengthError
from earmark.llm import ChatRequest, Message, ResponseFormat, Router, default_router
from earmark.llm.constraints import choice_schema, match_choice
from earmark.llm.prompt import tag_prompt
from earmark.llm.router import Resolved
from earmark.llm.types import TokenLogprob
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.types import TagList, TagResult, TagScore, Transcript, WindowTags

__all__ = ["DEFAULT_THRESHOLD", "LLMTagger", "LLMTaggerOptions"]

DEFAULT_THRESHOLD = 0.5
_WINDOW_TOKENS = 2048  # chat models take long windows; words and duration limit them first


@dataclass(frozen=True)
class LLMTaggerOptions:
    """How the LLM tagger asks.

    model: the model name, routed like a gateway request (``None`` = ``EARMARK_LLM_TAG_MODEL``).
    prompt: a prompt template (``{tag_list}``, ``{tag_names}``, ``{tag_lines}`` are filled
        in); ``None`` is the guide's prompt. The text to tag follows it after a blank line.
    calibrate: subtract each tag's score for an empty input (local scoring only).
    max_tokens: answer budget for generating providers.
    """

    model: str | None = None
    prompt: str | None = None
    calibrate: bool = True
    max_tokens: int = 32


@dataclass(frozen=True)
class _Ranked:
    relevance: dict[str, float]
    answer: str | None
    method: str


class LLMTagger(Tagger):
    """Tags with a chat model through the router (see the module docstring)."""

    name = "llm"

    def __init__(
        self, options: LLMTaggerOptions | None = None, router: Router | None = None
    ) -> None:
        self.options = options or LLMTaggerOptions()
        self._router = router
        self._calibration: dict[tuple[int, str, str], list[float]] = {}
        self._lock = threading.Lock()

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = default_router()
        return self._router

    def _resolve(self) -> Resolved:
        model = self.options.model or self.router.settings.llm_tag_model
        return self.router.resolve(model)

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        """Rank every tag for ``item``; per-window tags too when ``options.per_window``."""
        opts = options or TagOptions()
        threshold = DEFAULT_THRESHOLD if opts.threshold is None else opts.threshold
        hit = self._resolve()
        prompt = tag_prompt(tags.as_dict(), self.options.prompt)
        text = item.text if isinstance(item, Transcript) else item
        windows = _windows(item, opts) if opts.per_window else []
        window_results: list[WindowTags] = []
        for start, end, wtext in windows:
            ranked = self._rank(hit, prompt, wtext, tags.names)
            window_results.append(
                WindowTags(start, end, wtext, _scores(ranked), _selected(ranked, threshold))
            )
        if len(windows) == 1:
            whole = self._rank(hit, prompt, windows[0][2], tags.names)
        else:
            try:
                whole = self._rank(hit, prompt, text, tags.names)
            except ContextLengthError:
                if not window_results:
                    raise
                whole = _aggregate(window_results, tags.names)
        scores = _scores(whole)
        selected = _selected(whole, threshold)
        best = scores[0].tag if scores and scores[0].relevance >= threshold and selected else None
        return TagResult(
            best_tag=best,
            tags=scores,
            selected=selected,
            segments=tuple(window_results),
            threshold=threshold,
            engine=self.name,
            extra={
                "model": hit.model,
                "provider": hit.route.provider,
                "method": whole.method,
                "answer": whole.answer,
            },
        )

    def _rank(self, hit: Resolved, prompt: str, text: str, names: Sequence[str]) -> _Ranked:
        provider = hit.provider
        request = ChatRequest(
            model=hit.upstream_model,
            messages=(Message("user", _fill(prompt, text)),),
            max_tokens=self.options.max_tokens,
            temperature=0.0,
        )
        scores = provider.score_choices(request, names)
        if scores is not None:
            if self.options.calibrate:
                base = self._prior(hit, prompt, names)
                scores = [s - b for s, b in zip(scores, base, strict=True)]
            return _Ranked(_softmax_relevance(names, scores), None, "loglik")
        if provider.supports_json_schema:
            fmt = ResponseFormat("json_schema", choice_schema(names), "topic_tag", strict=True)
            req = _with(request, response_format=fmt, logprobs=provider.supports_logprobs)
            response = provider.chat(req)
            chosen = match_choice(response.content, names)
            if chosen is not None:
                relevance = _logprob_relevance(response.logprobs, response.content, chosen, names)
                return _Ranked(relevance, response.content, "json_schema")
            return self._retry(request, response.content, names, "json_schema")
        response = provider.chat(request)
        chosen = match_choice(response.content, names)
        if chosen is not None:
            return _Ranked(_one_hot(names, chosen), response.content, "text")
        return self._retry(request, response.content, names, "text")

    def _retry(
        self, request: ChatRequest, answer: str, names: Sequence[str], method: str
    ) -> _Ranked:
        hit = self._resolve()
        follow_up = (
            "That is not one of the topics. Answer with exactly one of these names and "
            f"nothing else: {', '.join(names)}"
        )
        messages = (*request.messages, Message("assistant", answer), Message("user", follow_up))
        response = hit.provider.chat(_with(request, messages=messages))
        chosen = match_choice(response.content, names)
        relevance = _one_hot(names, chosen) if chosen else {n: 0.0 for n in names}
        return _Ranked(relevance, response.content, method + "+retry")

    def _prior(self, hit: Resolved, prompt: str, names: Sequence[str]) -> list[float]:
        key = (id(hit.provider), hit.upstream_model, prompt)
        with self._lock:
            cached = self._calibration.get(key)
        if cached is not None:
            return cached
        empty = ChatRequest(hit.upstream_model, (Message("user", _fill(prompt, "")),))
        scores = hit.provider.score_choices(empty, names) or [0.0] * len(names)
        with self._lock:
            self._calibration[key] = scores
        return scores


def _fill(prompt: str, text: str) -> str:
    """The user message: ``{text}`` in the prompt is replaced, else the text follows it."""
    if "{text}" in prompt:
        return prompt.replace("{text}", text)
    return f"{prompt}\n\n{text}"


def _with(request: ChatRequest, **changes: object) -> ChatRequest:
    from dataclasses import replace

    return replace(request, **changes)  # type: ignore[arg-type]


def _one_hot(names: Sequence[str], chosen: str) -> dict[str, float]:
    return {n: 1.0 if n == chosen else 0.0 for n in names}


def _softmax_relevance(names: Sequence[str], scores: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(scores, dtype=np.float64)
    probs = np.exp(arr - arr.max())
    probs /= probs.max()
    return {n: float(p) for n, p in zip(names, probs, strict=True)}


def _logprob_relevance(
    logprobs: tuple[TokenLogprob, ...] | None, content: str, chosen: str, names: Sequence[str]
) -> dict[str, float]:
    """Relevance from token log-probabilities: the chosen tag's probability, and for other
    tags the probability of an alternative first token that starts their name."""
    if not logprobs:
        return _one_hot(names, chosen)
    start = content.find(chosen)
    if start < 0:
        return _one_hot(names, chosen)
    end, pos = start + len(chosen), 0
    first: TokenLogprob | None = None
    total = 0.0
    for tok in logprobs:
        tok_end = pos + len(tok.token)
        if tok_end > start and pos < end:
            if first is None:
                first = tok
            total += tok.logprob
        pos = tok_end
    if first is None:
        return _one_hot(names, chosen)
    probs = {n: 0.0 for n in names}
    probs[chosen] = math.exp(total)
    own = first.token.lstrip(" \"'").casefold()
    for alt, lp in first.top:
        piece = alt.lstrip(" \"'").casefold()
        if not piece or piece == own:
            continue
        matching = [n for n in names if n != chosen and n.casefold().startswith(piece)]
        for n in matching:
            probs[n] = max(probs[n], math.exp(lp) / len(matching))
    top = max(probs.values()) or 1.0
    return {n: p / top for n, p in probs.items()}


def _scores(ranked: _Ranked) -> tuple[TagScore, ...]:
    items = sorted(ranked.relevance.items(), key=lambda kv: -kv[1])
    return tuple(TagScore(name, round(value, 6)) for name, value in items)


def _selected(ranked: _Ranked, threshold: float) -> tuple[str, ...]:
    return tuple(s.tag for s in _scores(ranked) if s.relevance >= threshold and s.relevance > 0)


def _aggregate(windows: Sequence[WindowTags], names: Sequence[str]) -> _Ranked:
    """Whole-recording relevance as the length-weighted mean of the windows'."""
    totals = {n: 0.0 for n in names}
    weight = 0.0
    for w in windows:
        size = float(max(1, len(w.text)))
        weight += size
        for s in w.tags:
            totals[s.tag] += s.relevance * size
    top = max(totals.values()) or 1.0
    return _Ranked({n: v / top for n, v in totals.items()}, None, "windows")


def _windows(item: TagInput, options: TagOptions) -> list[tuple[int | None, int | None, str]]:
    """Time-stamped windows of a transcript, or word windows of plain text."""
    from earmark.tagging.windows import make_windows

    windows = make_windows(item, options, max_tokens=_WINDOW_TOKENS)
    return [(w.start_ms, w.end_ms, w.text) for w in windows]
