"""Wire schemas of the LLM gateway (OpenAI chat-completions shape + AssemblyAI extensions)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChatCompletionIn", "ContentPart", "MessageIn"]


class ContentPart(BaseModel):
    """One part of an array ``content``; only ``{"type": "text", "text": ...}`` is used."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class MessageIn(BaseModel):
    """A chat message as clients send it."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class ChatCompletionIn(BaseModel):
    """``POST /v1/chat/completions``. Unknown fields (``fallbacks``, ``tools``...) are accepted
    and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[MessageIn] | None = None
    prompt: str | None = None
    transcript_id: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    response_format: dict[str, Any] | None = None
    stream: bool = False
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)
