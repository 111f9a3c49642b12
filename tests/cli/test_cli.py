"""The CLI, run through the installed ``earmark`` entry point on real models."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent / "earmark"


def run(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        cwd=cwd,
        timeout=240,
        check=False,
    )


def test_help_lists_commands() -> None:
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("transcribe", "tag", "tags", "eval", "config"):
        assert cmd in out.stdout


def test_tags_show_preset_is_the_seed_list(shared: Path) -> None:
    seed = json.loads((shared / "docs" / "seed-taglists.json").read_text())
    for name in ("media", "support"):
        out = run("tags", "show", name, "--format", "json")
        assert out.returncode == 0, out.stderr
        shown = json.loads(out.stdout)
        tags = shown.get("tags", shown)
        flat = {k: (v["description"] if isinstance(v, dict) else v) for k, v in tags.items()}
        assert flat == seed[name]
    out = run("tags", "show", "media")
    assert out.returncode == 0
    assert yaml.safe_load(out.stdout)


def test_tags_show_unknown_preset_is_a_clear_error() -> None:
    out = run("tags", "show", "nosuchpreset")
    assert out.returncode != 0
    assert "nosuchpreset" in out.stderr
    assert "media" in out.stderr  # lists what exists


def test_transcribe_json_has_words_with_integer_ms(jfk_flac: Path) -> None:
    out = run("transcribe", str(jfk_flac), "--fast", "--format", "json", "-q")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert "ask not what your country can do for you" in record["text"].lower()
    assert record["language"] == "en"
    assert 10_000 < record["duration_ms"] < 12_000
    words = [w for s in record["segments"] for w in s["words"]]
    assert len(words) > 15
    assert all(isinstance(w["start_ms"], int) and isinstance(w["end_ms"], int) for w in words)
    assert all(0.0 <= w["confidence"] <= 1.0 for w in words)


@pytest.mark.parametrize(("fmt", "marker"), [("srt", " --> "), ("vtt", "WEBVTT")])
def test_transcribe_subtitles(jfk_flac: Path, fmt: str, marker: str) -> None:
    out = run("transcribe", str(jfk_flac), "--fast", "--format", fmt, "-q")
    assert out.returncode == 0, out.stderr
    assert marker in out.stdout
    assert "fellow Americans" in out.stdout


def test_tag_example_clip_json_shape(example_clip: Path) -> None:
    out = run("tag", str(example_clip), "--fast", "--tags", "media", "--format", "json", "-q")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    for key in (
        "file",
        "text",
        "language",
        "duration_ms",
        "best_tag",
        "tags",
        "selected",
        "segments",
    ):
        assert key in r
    assert "council" in r["text"].lower()
    assert len(r["tags"]) == 15
    relevances = [t["relevance"] for t in r["tags"]]
    assert relevances == sorted(relevances, reverse=True)
    assert all(0.0 <= x <= 1.0 for x in relevances)
    assert r["best_tag"] in {t["tag"] for t in r["tags"]}
    assert set(r["selected"]) <= {t["tag"] for t in r["tags"]}
    assert r["segments"]
    for seg in r["segments"]:
        assert isinstance(seg["start_ms"], int) and seg["end_ms"] > seg["start_ms"]
        assert seg["tags"]


def test_tag_text_and_stdin_support_preset() -> None:
    out = run(
        "tag",
        "--text",
        "I cannot log in to my account, the password reset email never arrives.",
        "--tags",
        "support",
        "--format",
        "jsonl",
    )
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout.strip())
    assert rec["best_tag"] == "Account Issues"
    assert rec["language"] is None and rec["duration_ms"] is None

    out = run(
        "tag",
        "-",
        "--tags",
        "support",
        "--format",
        "jsonl",
        stdin="I was charged twice on my last invoice.",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip())["best_tag"] == "Billing and Payments"


def test_tag_text_with_the_static_engine(
    static_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARMARK_CACHE_DIR", str(static_cache_dir))  # the small test table
    text = "The football team won the match after a late goal, and the coach praised the players."
    out = run("tag", "--engine", "static", "--text", text, "--tags", "media", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert "building the static tagging table" not in out.stderr  # found in the cache
    rec = json.loads(out.stdout)
    assert rec["engine"] == "static" and rec["best_tag"] == "Sports"
    assert len(rec["tags"]) == 15 and rec["selected"][0] == "Sports"
    out = run("tag", "--help")
    assert "static: about 9x faster per call end to end, less accurate" in " ".join(
        out.stdout.split()
    )


def test_tag_batch_keeps_going_and_resumes(tmp_path: Path, jfk_flac: Path) -> None:
    inputs = tmp_path / "in"
    (inputs / "calls").mkdir(parents=True)
    shutil.copy(jfk_flac, inputs / "calls" / "jfk.flac")
    (inputs / "broken.mp3").write_text("this is not audio at all")
    (inputs / "note.txt").write_text("The election results and the new government policy on taxes.")
    out_dir = tmp_path / "out"

    first = run(
        "tag", str(inputs), "--fast", "--tags", "media", "--format", "json", "-o", str(out_dir)
    )
    assert first.returncode == 1  # one file failed
    assert "broken.mp3" in first.stderr
    done = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.json"))
    # outputs keep the source suffix, so talk.mp3 and talk.txt never collide
    assert done == ["calls/jfk.flac.json", "note.txt.json"]
    assert json.loads((out_dir / "note.txt.json").read_text())["best_tag"] == "Politics"
    stamp = (out_dir / "calls" / "jfk.flac.json").stat().st_mtime_ns

    again = run(
        "tag", str(inputs), "--fast", "--tags", "media", "--format", "json", "-o", str(out_dir)
    )
    assert again.returncode == 1
    assert "2 skipped" in again.stderr
    assert (out_dir / "calls" / "jfk.flac.json").stat().st_mtime_ns == stamp


def test_tag_csv_rows(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("The team won the cup final after extra time; the striker scored twice.")
    b = tmp_path / "b.txt"
    b.write_text("Shares fell as the company reported lower quarterly profits and cut jobs.")
    out = run("tag", str(a), str(b), "--tags", "media", "--format", "csv", "-q")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [Path(r["file"]).name for r in rows] == ["a.txt", "b.txt"]
    assert rows[0]["best_tag"] == "Sports"
    assert rows[1]["best_tag"] in {"Business", "Finance"}


def test_missing_file_is_reported(tmp_path: Path) -> None:
    out = run("transcribe", str(tmp_path / "nope.wav"), "--fast")
    assert out.returncode == 1
    assert "nope.wav" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_tag_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "tags.yaml"
    bad.write_text("Sports: ''\n")
    out = run("tag", "--text", "hello", "--tags", str(bad))
    assert out.returncode != 0
    assert "Sports" in out.stderr
    assert "Traceback" not in out.stderr


def test_eval_on_users_labelled_data(tmp_path: Path) -> None:
    data = tmp_path / "labelled.csv"
    data.write_text(
        "text,label\n"
        "I cannot log in to my account and the reset link fails,Account Issues\n"
        "I was charged twice on this month's invoice,Billing and Payments\n"
        "Your whole service has been down since this morning,Service Disruption\n"
        "hello how are you today,none\n"
    )
    out = run("eval", str(data), "--tags", "support", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["n"] == 4
    assert 0.5 <= report["accuracy"] <= 1.0
    assert set(report["per_tag"]) >= {"Account Issues", "Billing and Payments"}
    text = run("eval", str(data), "--tags", "support")
    assert "accuracy" in text.stdout and "macro-F1" in text.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text("words,category\nhello,x\n")
    out = run("eval", str(bad), "--tags", "support")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
