"""The anthropic provider against a local server that speaks the Messages wire format."""

from __future__ import annotations

import threading

import pytest
from wire_servers import Reply, WireServer

from earmark.errors import ContextLengthError, UpstreamError, UpstreamTimeoutError
from earmark.llm import ChatRequest, Message, ProviderConfig
from earmark.llm.anthropic import ANTHROPIC_VERSION, AnthropicProvider, map_stop_reason


def _message(text: str, stop_reason: str = "end_turn") -> dict[str, object]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 42, "output_tokens": 3},
    }


def _provider(url: str, **kw: object) -> AnthropicProvider:
    options: dict[str, object] = {"timeout_s": 5.0, **kw}
    config = ProviderConfig(base_url=url, api_key="sk-ant-test", **options)  # type: ignore[arg-type]
    provider = AnthropicProvider(config)
    provider._http.sleep = lambda s: None
    return provider


REQUEST = ChatRequest(
    model="claude-sonnet-4-5-20250929",
    messages=(
        Message("system", "Be brief."),
        Message("user", "Pick a topic."),
        Message("user", "The team won."),
        Message("assistant", "Sports"),
        Message("user", "Again?"),
    ),
    max_tokens=50,
    temperature=0.2,
    stop=("\n\n",),
)


def test_chat_maps_request_and_response() -> None:
    with WireServer([Reply(body=_message("Sports", "stop_sequence"))]).running() as srv:
        r = _provider(srv.url).chat(REQUEST)
    assert r.content == "Sports" and r.finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (42, 3, 45)
    sent = srv.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-test"
    assert sent.headers["anthropic-version"] == ANTHROPIC_VERSION
    body = sent.body
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 50 and body["stop_sequences"] == ["\n\n"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"] == "Pick a topic.\n\nThe team won."


@pytest.mark.parametrize(
    ("reason", "finish"),
    [("end_turn", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), (None, "stop")],
)
def test_stop_reason_mapping(reason: str | None, finish: str) -> None:
    assert map_stop_reason(reason) == finish


def test_stream_events_become_deltas() -> None:
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 7, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Wor"}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ld"}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens"},
            "usage": {"output_tokens": 2},
        },
        {"type": "message_stop"},
    ]
    with WireServer([Reply(events=events)]).running() as srv:
        deltas = list(_provider(srv.url).stream(REQUEST))
    assert "".join(d.content for d in deltas) == "World"
    assert deltas[-1].finish_reason == "length"
    assert deltas[-1].usage is not None and deltas[-1].usage.total_tokens == 9
    assert srv.requests[0].body["stream"] is True


def test_retries_429_and_529_then_succeeds() -> None:
    busy = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    replies = [
        Reply(429, busy, headers={"retry-after": "0"}),
        Reply(529, busy),
        Reply(body=_message("ok")),
    ]
    with WireServer(replies).running() as srv:
        assert _provider(srv.url, retries=2).chat(REQUEST).content == "ok"
    assert len(srv.requests) == 3


def test_errors_are_mapped() -> None:
    too_long = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "prompt is too long: 300000 tokens"},
    }
    with WireServer([Reply(400, too_long)]).running() as srv, pytest.raises(ContextLengthError):
        _provider(srv.url).chat(REQUEST)
    bad_key = {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    with WireServer([Reply(401, bad_key)]).running() as srv:
        with pytest.raises(UpstreamError, match="invalid x-api-key") as info:
            _provider(srv.url).chat(REQUEST)
        assert info.value.status_code == 502
    with WireServer([Reply(500, {"error": "boom"})]).running() as srv:
        with pytest.raises(UpstreamError, match="boom"):
            _provider(srv.url, retries=1).chat(REQUEST)
        assert len(srv.requests) == 2


def test_timeout_is_a_504() -> None:
    never = threading.Event()
    with WireServer([Reply(body=_message("late"), wait=never)]).running() as srv:
        provider = _provider(srv.url, retries=0, timeout_s=0.3)
        with pytest.raises(UpstreamTimeoutError) as info:
            provider.chat(REQUEST)
    assert info.value.status_code == 504


def test_estimated_context_overflow_is_rejected_before_sending() -> None:
    with WireServer([Reply(body=_message("never"))]).running() as srv:
        provider = _provider(srv.url, context_length=100)
        with pytest.raises(ContextLengthError, match="100 tokens"):
            provider.chat(ChatRequest("claude-x", (Message("user", "word " * 200),)))
    assert srv.requests == []
