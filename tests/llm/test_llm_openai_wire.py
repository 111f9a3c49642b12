"""The openai provider's request mapping, retries and fallbacks, against scripted replies
from a real local HTTP server (the real OpenAI-compatible server tests are in
tests/server/test_gateway_openai_provider.py)."""

from __future__ import annotations

import pytest
from wire_servers import Reply, WireServer

from earmark.errors import ContextLengthError, UpstreamError
from earmark.llm import ChatRequest, Message, ProviderConfig, ResponseFormat
from earmark.llm.openai import OpenAIProvider

ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-5",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}
REQUEST = ChatRequest(
    "gpt-5",
    (Message("system", "S"), Message("user", "U")),
    max_tokens=7,
    temperature=0.5,
    stop=("X",),
    response_format=ResponseFormat("json_schema", {"type": "object"}, "n"),
)


def _provider(url: str, **kw: object) -> OpenAIProvider:
    provider = OpenAIProvider(ProviderConfig(base_url=url + "/v1", api_key="sk-1", **kw))  # type: ignore[arg-type]
    provider._http.sleep = lambda s: None
    return provider


def test_request_mapping_and_bearer_key() -> None:
    with WireServer([Reply(body=ANSWER)]).running() as srv:
        r = _provider(srv.url).chat(REQUEST)
    assert (r.content, r.finish_reason, r.usage.total_tokens) == ("hi", "stop", 6)
    sent = srv.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-1"
    body = sent.body
    assert body["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U"},
    ]
    assert (body["max_tokens"], body["temperature"], body["stop"]) == (7, 0.5, ["X"])
    assert body["response_format"]["json_schema"] == {
        "name": "n",
        "schema": {"type": "object"},
        "strict": False,
    }


def test_retry_on_503_and_max_completion_tokens_fallback() -> None:
    unsupported = {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
        }
    }
    replies = [Reply(503, {"error": "busy"}), Reply(400, unsupported), Reply(body=ANSWER)]
    with WireServer(replies).running() as srv:
        assert _provider(srv.url, retries=1).chat(REQUEST).content == "hi"
    bodies = [r.body for r in srv.requests]
    assert len(bodies) == 3
    assert "max_tokens" in bodies[1] and bodies[2]["max_completion_tokens"] == 7
    assert "max_tokens" not in bodies[2]


def test_context_and_other_errors() -> None:
    too_long = {"error": {"message": "This model's maximum context length is 8192 tokens."}}
    with WireServer([Reply(400, too_long)]).running() as srv, pytest.raises(ContextLengthError):
        _provider(srv.url).chat(REQUEST)
    empty = WireServer([Reply(200, {"nothing": True})])
    with empty.running() as srv, pytest.raises(UpstreamError, match="without choices"):
        _provider(srv.url).chat(REQUEST)
    with pytest.raises(UpstreamError, match="cannot reach"):
        _provider("http://127.0.0.1:9", retries=0).chat(REQUEST)
