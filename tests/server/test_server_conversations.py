"""Conversations through the API: channels, languages, and the same text for the same audio.

Real audio from ``../shared/data/asr_samples``: a stereo file with one speaker per channel
talking at once, and a recording that reads the MIT licence in English, then German.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import assemblyai as aai
import pytest
from conftest import KEY, LiveServer


@pytest.fixture(scope="module")
def samples(shared: Path) -> Path:
    return shared / "data" / "asr_samples" / "audio"


@pytest.fixture(scope="module")
def base_server(launch: Callable[..., LiveServer]) -> LiveServer:
    """Whisper base (multilingual) as the default model."""
    return launch(asr={"asr_model": "base", "asr_beam_size": 2}, speech_model_map="")


def _run(server: LiveServer, path: Path, **body: Any) -> dict[str, Any]:
    with server.client() as c:
        url = c.post("/v2/upload", content=path.read_bytes()).json()["upload_url"]
        created = c.post("/v2/transcript", json={"audio_url": url, **body})
        assert created.status_code == 200, created.text
    done = server.wait(created.json()["id"], timeout=300)
    assert done["status"] == "completed", done.get("error")
    return done


def test_multichannel_keeps_both_speakers(base_server: LiveServer, samples: Path) -> None:
    done = _run(base_server, samples / "stereo_diarization.wav", multichannel=True)
    assert done["audio_channels"] == 2
    text = done["text"].lower()
    assert "horizon seems extremely distant" in text  # the right channel, lost in a downmix
    assert "confused complaint against the wizard" in text
    assert {w["channel"] for w in done["words"]} == {"1", "2"}
    turns = done["utterances"]
    assert [u["channel"] for u in turns] == ["1", "2"] or [u["channel"] for u in turns] == [
        "2",
        "1",
    ]
    right = next(u for u in turns if u["channel"] == "2")
    assert "horizon" in right["text"].lower() and all(w["channel"] == "2" for w in right["words"])
    assert (
        "earmark_not_performed" not in done or "multichannel" not in done["earmark_not_performed"]
    )


def test_multichannel_through_the_sdk(base_server: LiveServer, samples: Path) -> None:
    aai.settings.base_url = base_server.url
    aai.settings.api_key = KEY
    transcript = aai.Transcriber().transcribe(
        str(samples / "stereo_diarization.wav"), aai.TranscriptionConfig(multichannel=True)
    )
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    assert transcript.json_response["audio_channels"] == 2
    assert transcript.utterances and {u.channel for u in transcript.utterances} == {"1", "2"}
    sentences = transcript.get_sentences()
    assert all(s.channel in ("1", "2") for s in sentences)


def test_mono_stored_as_stereo_is_transcribed_once(base_server: LiveServer, samples: Path) -> None:
    done = _run(base_server, samples / "jfk.flac", multichannel=True)
    assert done["audio_channels"] == 2
    assert {w["channel"] for w in done["words"]} == {"1"}
    assert done["text"].lower().count("ask not what your country") == 1


def test_a_recording_that_switches_language_keeps_both(
    base_server: LiveServer, samples: Path
) -> None:
    done = _run(base_server, samples / "multilingual.mp3", language_detection=True)
    text = done["text"]
    assert "Permission is hereby granted" in text
    assert "Software" in text and ("Genehmigung" in text or "Dokumentation" in text), text
    languages = {s["language"] for s in done["earmark_languages"]}
    assert {"en", "de"} <= languages
    assert done["language_code"] in ("en", "de")
    assert done["words"][-1]["end"] > 50_000  # the transcript does not stop mid-audio


def test_same_audio_same_text(base_server: LiveServer, samples: Path) -> None:
    texts = {
        _run(base_server, samples / "multilingual.mp3", language_code="en")["text"]
        for _ in range(3)
    }
    assert len(texts) == 1
