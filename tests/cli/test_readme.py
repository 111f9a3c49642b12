"""The README's `earmark tag --format json` example is what a real run prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "earmark"


def _readme_example() -> dict[str, object]:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"`earmark tag --format json` gives.*?```json\n(.*?)```", readme, re.S)
    assert match is not None, "the README lost its JSON example"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_readme_json_example_matches_the_demo_run(example_clip: Path) -> None:
    example = _readme_example()
    out = subprocess.run(
        [str(BIN), "tag", "examples/news_clip.mp3", "--tags", "media", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    real = json.loads(out.stdout)
    for key in ("file", "language", "duration_ms", "best_tag", "selected", "threshold", "engine"):
        assert example[key] == real[key], key
    shown = [t for t in example["tags"] if isinstance(t, dict)]  # type: ignore[attr-defined]
    for mine, theirs in zip(shown, real["tags"], strict=False):
        assert mine["tag"] == theirs["tag"]
        assert abs(mine["relevance"] - theirs["relevance"]) < 0.01  # int8 kernels vary by CPU
    first = example["segments"][0]  # type: ignore[index]
    assert first["selected"] == real["segments"][0]["selected"]
    assert abs(first["end_ms"] - real["segments"][0]["end_ms"]) < 500
    assert str(example["text"]).rstrip("… ") in real["text"]
