"""What the terminal gets: colour only on a terminal (and never with ``NO_COLOR``), and
text wrapped to the terminal's width only when stdout is one.

The rule for transcript text, the same in ``earmark transcribe`` and ``earmark tag``: it is
printed as the transcript's own lines (one per Whisper segment for a recording, the text as
given for a text input). On a terminal each line is wrapped at word boundaries to the
terminal's width; in a pipe, a file or ``--output-dir`` lines are never wrapped, so what a
script reads does not depend on the window it ran in.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import Any, TextIO

import click

__all__ = ["color_enabled", "styled", "wrap_lines", "wrap_width"]


def color_enabled(stream: TextIO | None = None) -> bool:
    """Colour for ``stream`` (default stderr): a terminal, and ``NO_COLOR`` unset or empty."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream if stream is not None else sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def styled(text: str, stream: TextIO | None = None, **styles: Any) -> str:
    """``click.style(text, **styles)`` when :func:`color_enabled` for ``stream``, else ``text``."""
    return click.style(text, **styles) if color_enabled(stream) else text


def wrap_width(stream: TextIO | None = None) -> int | None:
    """The width to wrap text at: the terminal's columns when ``stream`` (default stdout) is
    a terminal, ``None`` (never wrap) otherwise."""
    stream = stream if stream is not None else sys.stdout
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return max(20, shutil.get_terminal_size().columns)


def wrap_lines(text: str, width: int | None) -> str:
    """Each line of ``text`` wrapped at word boundaries to ``width`` (``None``: unchanged)."""
    if width is None:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)
