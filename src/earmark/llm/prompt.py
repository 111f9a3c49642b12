"""Prompt helpers: the ChatML template of the local models and the guide's tagging prompt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from earmark.llm.types import Message

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "TAG_PROMPT_TEMPLATE",
    "TRANSCRIPT_TAG",
    "format_chatml",
    "inject_transcript",
    "tag_prompt",
]

DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
"""What SmolLM2's own chat template inserts when the conversation has no system message."""

TRANSCRIPT_TAG = "{{ transcript }}"
"""The literal that the gateway replaces with a transcript's text (exactly one space inside)."""

TAG_PROMPT_TEMPLATE = """
You are a helpful assistant designed to label video content with topic tags.

I will give you a list of topics and definitions. Select the most relevant topic from the list. Return your selection and nothing else.

<topics_list>
{tag_list}
</topics_list>
"""
"""The prompt of the custom-topic-tags guide; ``{tag_list}`` is the Python dict repr of the tags."""


def format_chatml(
    messages: Sequence[Message],
    *,
    add_generation_prompt: bool = True,
    default_system: str | None = DEFAULT_SYSTEM_PROMPT,
) -> str:
    """Render messages in ChatML (``<|im_start|>role\\ncontent<|im_end|>``).

    Mirrors SmolLM2's template: a default system message is added when the first
    message is not a system message (``default_system=None`` skips it).
    """
    parts: list[str] = []
    if default_system is not None and (not messages or messages[0].role != "system"):
        parts.append(f"<|im_start|>system\n{default_system}<|im_end|>\n")
    for m in messages:
        parts.append(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n")
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def inject_transcript(messages: Sequence[Message], text: str) -> tuple[tuple[Message, ...], bool]:
    """Apply the LLM Gateway's ``{{ transcript }}`` rule.

    The first message whose content contains the exact literal gets its first
    occurrence replaced by ``text``; everything else stays as it is. Returns the new
    messages and whether a replacement happened.
    """
    out = list(messages)
    for i, m in enumerate(out):
        if TRANSCRIPT_TAG in m.content:
            out[i] = Message(m.role, m.content.replace(TRANSCRIPT_TAG, text, 1))
            return tuple(out), True
    return tuple(out), False


def tag_prompt(tags: Mapping[str, str], template: str | None = None) -> str:
    """The guide's tagging prompt for ``tags`` (name -> description).

    A user ``template`` may use ``{tag_list}`` (the dict as the guide prints it),
    ``{tag_names}`` (comma-separated names) and ``{tag_lines}`` (``- name: description``).
    """
    fields = {
        "tag_list": str(dict(tags)),
        "tag_names": ", ".join(tags),
        "tag_lines": "\n".join(f"- {k}: {v}" for k, v in tags.items()),
    }
    text = template if template is not None else TAG_PROMPT_TEMPLATE
    for key, value in fields.items():
        text = text.replace("{" + key + "}", value)
    return text
