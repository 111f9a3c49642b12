"""``earmark transcribe`` with the conversation options, through the real entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _earmark(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    cmd = [sys.executable, "-c", "from earmark.cli.main import main; main()", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_multichannel_prints_each_channels_turn(shared: Path, tmp_path: Path) -> None:
    wav = shared / "data" / "asr_samples" / "audio" / "stereo_diarization.wav"
    out = _earmark("transcribe", str(wav), "--fast", "--multichannel", "-q", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert any(ln.startswith("channel 2:") and "horizon" in ln.lower() for ln in lines), lines
    assert any(ln.startswith("channel 1:") and "wizard" in ln.lower() for ln in lines), lines


def test_speaker_labels_and_redaction_in_json(tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is missing: apt-get install espeak-ng (.ci/run installs it)")
    wav = tmp_path / "pii.wav"
    said = "Hello, my name is John Smith and my phone number is five five five, one two three, four five six seven."
    subprocess.run([espeak, "-w", str(wav), said], check=True)
    out = _earmark(
        "transcribe",
        str(wav),
        "--fast",
        "--speaker-labels",
        "--redact-pii",
        "all",
        "--redact-sub",
        "entity_name",
        "--format",
        "json",
        "-q",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert "smith" not in record["text"].lower() and "4567" not in record["text"]  # 5951234567
    assert "[PHONE_NUMBER]" in record["text"], record["text"]
    words = [w for s in record["segments"] for w in s["words"]]
    assert words and all(w["speaker"] == "A" for w in words)


def test_bad_policy_and_conflicting_options_are_usage_errors(shared: Path, tmp_path: Path) -> None:
    wav = shared / "data" / "asr_samples" / "audio" / "jfk.flac"
    bad = _earmark("transcribe", str(wav), "--fast", "--redact-pii", "blood_type", cwd=tmp_path)
    assert bad.returncode == 2 and "blood_type" in bad.stderr
    both = _earmark(
        "transcribe", str(wav), "--fast", "--speaker-labels", "--multichannel", cwd=tmp_path
    )
    assert both.returncode == 2 and "cannot be combined" in both.stderr
