"""Sentences, paragraphs and word search from words; the ``serve`` and ``keys`` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from earmark.cli.keys import keys
from earmark.cli.serve import is_loopback, serve
from earmark.errors import InputError
from earmark.server.derive import paragraphs, parse_terms, sentences, word_search
from earmark.server.render import render_transcript
from earmark.storage import JobRecord, JobResult
from earmark.types import Segment, Transcript, Word


def _transcript() -> Transcript:
    spec = [
        ("Good", 0),
        ("morning.", 300),
        ("Is", 900),
        ("the", 1100),
        ("Oven", 1300),
        ("hot?", 1600),
        ("Yes,", 5000),
        ("the", 5300),
        ("oven", 5500),
        ("is", 5800),
        ("hot!", 6000),
        ("Bake", 6500),
    ]
    words = tuple(
        Word(text, start, start + 250, 0.5 + i / 100) for i, (text, start) in enumerate(spec)
    )
    text = " ".join(w.text for w in words)
    return Transcript(text, (Segment(0, 0, 6750, text, words),), "en", 0.9, 7001, "tiny.en")


def test_sentences_split_on_terminal_punctuation() -> None:
    got = sentences(_transcript())
    assert [s["text"] for s in got] == [
        "Good morning.",
        "Is the Oven hot?",
        "Yes, the oven is hot!",
        "Bake",
    ]
    assert got[1]["start"] == 900 and got[1]["end"] == 1850
    assert all(isinstance(s["start"], int) and s["speaker"] is None for s in got)
    assert sum(len(s["words"]) for s in got) == 12


def test_paragraphs_break_on_pauses() -> None:
    got = paragraphs(_transcript())
    assert [p["text"] for p in got] == [
        "Good morning. Is the Oven hot?",
        "Yes, the oven is hot! Bake",
    ]
    assert got[1]["start"] == 5000


def test_word_search_phrases_and_indexes() -> None:
    t = _transcript()
    result = word_search(t, parse_terms("oven, the oven is,HOT,missing"))
    by_text = {m["text"]: m for m in result["matches"]}
    assert by_text["oven"]["indexes"] == [4, 8] and by_text["oven"]["count"] == 2
    assert by_text["the oven is"] == {
        "text": "the oven is",
        "count": 1,
        "timestamps": [[5300, 6050]],
        "indexes": [7],
    }
    assert by_text["HOT"]["count"] == 2
    assert by_text["missing"]["count"] == 0
    assert result["total_count"] == 5
    with pytest.raises(InputError, match="more than 5 words"):
        parse_terms("one two three four five six")
    with pytest.raises(InputError):
        parse_terms(" , ")


def test_render_types_and_nulls() -> None:
    job = JobRecord(
        id="t1",
        owner="",
        status="completed",
        created="2024-01-01T00:00:00.000000",
        audio_url="https://x/a.mp3",
        request={
            "speech_models": ["universal-3-pro"],
            "webhook_url": "https://h",
            "webhook_auth_header_name": "X-S",
            "sentiment_analysis": True,
        },
        webhook_secret="secret",
        result=JobResult(_transcript(), "tiny.en"),
    )
    body = render_transcript(job)
    assert body["audio_duration"] == 8  # 7.001 s rounds up
    assert body["speech_model"] is None and body["speech_model_used"] == "tiny.en"
    assert body["speech_models"] == ["universal-3-pro"]
    assert body["sentiment_analysis"] is True and body["sentiment_analysis_results"] is None
    assert body["iab_categories_result"] is None and "custom_tags_result" not in body
    assert body["webhook_auth"] is True and "secret" not in str(body)
    assert body["language_code"] == "en_us" and body["punctuate"] is True
    assert all(type(w["start"]) is int and type(w["end"]) is int for w in body["words"])
    assert body["utterances"] is None  # earmark does not diarize: null, never invented


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")


def test_serve_refuses_public_address_without_keys(tmp_path: Path) -> None:
    env = {"EARMARK_DATA_DIR": str(tmp_path), "EARMARK_API_KEYS": ""}
    result = CliRunner().invoke(serve, ["--host", "0.0.0.0", "--port", "1"], env=env)
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0 with no API keys configured" in result.output


def test_keys_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"EARMARK_DATA_DIR": str(tmp_path)}
    created = runner.invoke(keys, ["create", "--name", "laptop"], env=env)
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("em_") and len(key) > 30
    listed = runner.invoke(keys, ["list"], env=env)
    assert "laptop" in listed.output and "active" in listed.output and key not in listed.output
    key_id = listed.output.splitlines()[1].split()[0]
    revoked = runner.invoke(keys, ["revoke", key_id], env=env)
    assert revoked.exit_code == 0 and "revoked" in runner.invoke(keys, ["list"], env=env).output
    missing = runner.invoke(keys, ["revoke", "nope"], env=env)
    assert missing.exit_code == 1 and "no key with id" in missing.output
