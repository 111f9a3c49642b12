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


# -- speaker labels ---------------------------------------------------------------------

TURNS = [  # (LibriSpeech utterance, true speaker): two voices taking turns
    ("1688-142285-0007", "x"),
    ("1998-15444-0003", "y"),
    ("1688-142285-0006", "x"),
    ("1998-15444-0009", "y"),
]


@pytest.fixture(scope="module")
def dialogue(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A two-speaker conversation (wav) and its truth: (start_ms, end_ms, speaker) per turn."""
    import wave

    import numpy as np

    from earmark.audio import decode_audio

    folder = shared / "data" / "librispeech_test_other_subset" / "audio"
    pieces, truth, at = [], [], 0
    gap = np.zeros(8_000, dtype=np.float32)  # 0.5 s between turns
    for utt, who in TURNS:
        samples = decode_audio(folder / f"{utt}.flac").samples
        pieces += [samples, gap]
        truth.append((at, at + len(samples) // 16, who))
        at += (len(samples) + len(gap)) // 16
    audio = np.concatenate(pieces)
    path = tmp_path_factory.mktemp("dialogue") / "dialogue.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path, truth


def test_speaker_labels_through_the_sdk(
    launch: Callable[..., LiveServer], dialogue: tuple[Path, list[Any]]
) -> None:
    server = launch()
    aai.settings.base_url = server.url
    aai.settings.api_key = KEY
    path, truth = dialogue
    config = aai.TranscriptionConfig(speaker_labels=True, speakers_expected=2)
    transcript = aai.Transcriber().transcribe(str(path), config)
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    words = transcript.words or []
    assert words and all(w.speaker in ("A", "B") for w in words)
    assert {u.speaker for u in transcript.utterances or []} == {"A", "B"}

    # word-level accuracy under the best mapping of A/B to the true speakers
    def true_speaker(start: int, end: int) -> str:
        mid = (start + end) // 2
        return min(
            truth, key=lambda t: 0 if t[0] <= mid <= t[1] else min(abs(mid - t[0]), abs(mid - t[1]))
        )[2]

    pairs = [(w.speaker, true_speaker(w.start, w.end)) for w in words]
    best = max(
        sum((a == "A") == (t == "x") for a, t in pairs),
        sum((a == "A") == (t == "y") for a, t in pairs),
    )
    assert best / len(pairs) >= 0.9, pairs


# -- PII redaction ----------------------------------------------------------------------

PII_TEXT = (
    "hi my name is john smith and my phone number is five five five one two three four "
    "five six seven and my card is 4111 1111 1111 1111 thanks"
)


@pytest.fixture(scope="module")
def pii_server(launch: Callable[..., LiveServer]) -> LiveServer:
    import fake_asr

    from earmark.asr import register_engine

    register_engine("fake-pii", lambda options: fake_asr.FakeEngine(options, text=PII_TEXT))
    return launch(asr={"asr_engine": "fake-pii"})


def test_pii_redaction_through_the_sdk(
    pii_server: LiveServer, jfk_flac: Path, tmp_path: Path
) -> None:
    aai.settings.base_url = pii_server.url
    aai.settings.api_key = KEY
    config = aai.TranscriptionConfig(
        redact_pii=True,
        redact_pii_policies=[
            aai.PIIRedactionPolicy.person_name,
            aai.PIIRedactionPolicy.phone_number,
            aai.PIIRedactionPolicy.credit_card_number,
        ],
        redact_pii_sub=aai.PIISubstitutionPolicy.entity_name,
        redact_pii_audio=True,
    )
    transcript = aai.Transcriber().transcribe(str(jfk_flac), config)
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    text = transcript.text or ""
    for secret in ("john", "smith", "five five five", "4111"):
        assert secret not in text.lower(), text
    assert "[PERSON_NAME]" in text and "[PHONE_NUMBER]" in text and "[CREDIT_CARD_NUMBER]" in text
    assert all("4111" not in w.text for w in transcript.words or [])
    srt = transcript.export_subtitles_srt()
    assert "smith" not in srt.lower() and "4111" not in srt
    assert all("john" not in s.text.lower() for s in transcript.get_sentences())
    url = transcript.get_redacted_audio_url()
    assert url.startswith(pii_server.url + "/v2/redacted-audio/r")
    out = tmp_path / "redacted.mp3"
    transcript.save_redacted_audio(str(out))
    assert out.stat().st_size > 1000


def test_pii_hash_substitution_and_redacted_audio_needs_the_flag(
    pii_server: LiveServer, jfk_flac: Path
) -> None:
    with pii_server.client() as c:
        url = c.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
        created = c.post("/v2/transcript", json={"audio_url": url, "redact_pii": True}).json()
        done = pii_server.wait(created["id"])
        assert done["status"] == "completed", done
        assert "john" not in done["text"] and "####" in done["text"]
        r = c.get(f"/v2/transcript/{done['id']}/redacted-audio")
        assert r.status_code == 400 and "redact_pii_audio" in r.json()["error"]
        assert c.get("/v2/redacted-audio/" + "0" * 32).status_code == 404  # never a client upload


# -- tags in another language -----------------------------------------------------------

SPANISH = (
    "El equipo de fútbol ganó el partido de la liga anoche con dos goles del delantero, "
    "y el entrenador felicitó a los jugadores por la victoria en el campeonato."
)


def test_spanish_speech_gets_the_english_tag(base_server: LiveServer, tmp_path: Path) -> None:
    import shutil
    import subprocess

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is missing: apt-get install espeak-ng (.ci/run installs it)")
    wav = tmp_path / "es.wav"
    subprocess.run([espeak, "-v", "es", "-w", str(wav), SPANISH], check=True)
    done = _run(base_server, wav, language_detection=True, custom_tags="media")
    assert done["language_code"] == "es"
    assert "fútbol" in done["text"].lower() or "futbol" in done["text"].lower()
    result = done["custom_tags_result"]
    assert result["best_tag"] == "Sports", result["summary"]
    # the windows show what the English tagger read: Whisper's translation
    assert (
        result["results"] and "football" in " ".join(w["text"] for w in result["results"]).lower()
    )
