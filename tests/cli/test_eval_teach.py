"""``earmark eval --report`` then ``earmark tags teach`` on its errors.csv, through the real
entry point (MiniLM; Whisper tiny.en for the audio folder)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent / "earmark"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=240
    )


def test_eval_report_then_teach(tmp_path: Path) -> None:
    data = tmp_path / "labelled.csv"
    data.write_text(
        "text,label,also\n"
        "I cannot log in to my account and the reset link fails,Account Issues,\n"
        "I was charged twice on this month's invoice,Billing and Payments,\n"
        "Your whole service has been down since this morning,Service Disruption,\n"
        # labelled against what it says: the tagger will be wrong on it
        '"My card was charged twice, please refund the second payment",Technical Support,\n'
        "hello how are you today,none,\n"
    )
    report = tmp_path / "eval_out"
    out = run("eval", str(data), "--tags", "support", "--report", str(report))
    assert out.returncode == 0, out.stderr
    assert "accuracy" in out.stdout and "precision" in out.stdout
    assert str(report / "confusion.png") in out.stdout and "errors.csv" in out.stdout
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["n"] == 5 and len(metrics["calibration"]) == 10
    for name in ("confusion.png", "calibration.png", "relevance.png", "per_tag.png"):
        assert (report / name).read_bytes()[:8] == PNG_SIGNATURE
    with (report / "errors.csv").open(newline="") as fh:
        errors = list(csv.DictReader(fh))
    assert any(e["gold"] == "Technical Support" for e in errors)

    taught = tmp_path / "my_tags.yaml"
    out = run("tags", "teach", "support", "--from", str(report / "errors.csv"), "-o", str(taught))
    assert out.returncode == 0, out.stderr
    assert "Technical Support: +" in out.stdout and str(taught) in out.stdout
    tags = yaml.safe_load(taught.read_text())
    assert any("refund the second payment" in ex for ex in tags["Technical Support"]["examples"])
    out = run("eval", str(data), "--tags", str(taught), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n"] == 5

    out = run("tags", "teach", "support", "--from", str(data), "-o", str(tmp_path / "x.yaml"))
    assert out.returncode == 0 and "skipped 1: labelled none" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nsome words,Weather\n")
    out = run("tags", "teach", "support", "--from", str(bad), "-o", str(tmp_path / "y.yaml"))
    assert out.returncode != 0 and "'Weather'" in out.stderr and "Traceback" not in out.stderr


def test_eval_audio_folder(tmp_path: Path, jfk_flac: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(jfk_flac, folder / "jfk.flac")
    (folder / "labels.csv").write_text("file,label\njfk.flac,none\n")
    out = run("eval", str(folder), "--tags", "media", "--fast", "--report", str(tmp_path / "r"))
    assert out.returncode == 0, out.stderr
    assert "items: 1" in out.stdout
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["n"] == 1 and metrics["none_expected"] == 1
    with (tmp_path / "r" / "errors.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):  # if it is wrong, the transcript is there to teach
            assert row["file"].endswith("jfk.flac") and "country" in row["text"].lower()
