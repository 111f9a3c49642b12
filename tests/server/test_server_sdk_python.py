"""AssemblyAI's official Python SDK (assemblyai 1.8.2) against a real earmark server.

Only the base URL and the key change; everything else is the SDK's documented usage.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import assemblyai as aai
import httpx
import pytest
from conftest import KEY, OTHER_KEY, LiveServer, LocalHTTP

JFK_WORDS = "ask not what your country can do for you"


@pytest.fixture(scope="module")
def server(launch: object) -> Iterator[LiveServer]:
    live: LiveServer = launch()  # type: ignore[operator]
    saved = (aai.settings.base_url, aai.settings.api_key, aai.settings.polling_interval)
    aai.settings.base_url = live.url
    aai.settings.api_key = KEY
    aai.settings.polling_interval = 0.1
    yield live
    aai.settings.base_url, aai.settings.api_key, aai.settings.polling_interval = saved


@pytest.fixture(scope="module")
def done(server: LiveServer, jfk_flac: Path) -> aai.Transcript:
    """One completed transcript of the JFK clip, uploaded from a local file."""
    config = aai.TranscriptionConfig(speech_models=["universal-3-pro", "universal-2"])
    transcript = aai.Transcriber().transcribe(str(jfk_flac), config)
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    return transcript


def _norm(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


def test_local_file_goes_through_upload(done: aai.Transcript, server: LiveServer) -> None:
    assert JFK_WORDS in _norm(done.text or "")
    assert done.audio_url.startswith(server.url + "/v2/upload/")
    raw = done.json_response or {}
    assert raw["speech_model"] is None
    assert raw["speech_models"] == ["universal-3-pro", "universal-2"]
    assert raw["speech_model_used"] == "tiny.en"
    assert raw["audio_duration"] == 11  # 11.0 s, rounded up to whole seconds
    words = done.words or []
    assert len(words) >= 20
    assert all(isinstance(w.start, int) and isinstance(w.end, int) for w in words)
    assert all(0 <= w.start <= w.end <= 11_100 for w in words)
    assert 0.0 < (done.confidence or 0) <= 1.0


def test_url_served_locally(server: LiveServer, local_http: LocalHTTP, jfk_flac: Path) -> None:
    url = local_http.serve_file("/media/jfk.flac", jfk_flac)
    transcript = aai.Transcriber().transcribe(url)
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    assert transcript.audio_url == url
    assert JFK_WORDS in _norm(transcript.text or "")
    assert (transcript.json_response or {})["language_code"] == "en_us"


TAGS = {
    "Politics": "Government, presidents, citizens, patriotism and national duty.",
    "Cooking": "Recipes, ingredients, kitchens and baking.",
    "Sports": "Games, athletes, teams, scores and matches.",
}


def _check_custom_tags(url: str, transcript_id: str) -> None:
    # the SDK's response model drops extension fields: read custom_tags_result from the JSON
    body = httpx.get(f"{url}/v2/transcript/{transcript_id}", headers={"authorization": KEY}).json()
    result = body["custom_tags_result"]
    assert result["status"] == "success", result
    assert set(result["summary"]) == set(TAGS)
    assert max(result["summary"], key=result["summary"].get) == "Politics"
    assert result["best_tag"] == "Politics"
    window = result["results"][0]
    assert window["text"] and isinstance(window["timestamp"]["start"], int)
    assert {lb["label"] for lb in window["labels"]} == set(TAGS)


def test_custom_tags_by_server_default_and_iab(launch: object, jfk_flac: Path) -> None:
    """An unchanged SDK call gets custom tags when the server sets EARMARK_CUSTOM_TAGS."""
    import json

    tagged: LiveServer = launch(custom_tags=json.dumps(TAGS))  # type: ignore[operator]
    settings = aai.Settings(base_url=tagged.url, api_key=KEY, polling_interval=0.1)
    transcriber = aai.Transcriber(client=aai.Client(settings=settings))
    transcript = transcriber.transcribe(str(jfk_flac), aai.TranscriptionConfig(iab_categories=True))
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error

    iab = transcript.iab_categories
    assert iab is not None and iab.status == "success"
    assert iab.results and iab.summary
    first = iab.results[0]
    assert isinstance(first.timestamp.start, int) and first.timestamp.end > first.timestamp.start
    assert 1 <= len(first.labels) <= 10
    assert all(" " not in lb.label and lb.label[0].isupper() for lb in first.labels)
    relevances = [lb.relevance for lb in first.labels]
    assert relevances == sorted(relevances, reverse=True)
    _check_custom_tags(tagged.url, transcript.id)


def test_custom_tags_field_through_the_sdk_request_model(
    server: LiveServer, done: aai.Transcript
) -> None:
    """The ``custom_tags`` request field, sent through the SDK's own request path.

    assemblyai 1.8.2 keeps extra fields on ``RawTranscriptionConfig`` but its
    ``TranscriptRequest`` drops them before sending, so an extension field needs a request
    model that allows extras; the rest (create, poll, parse) is the SDK's code.
    """
    from assemblyai.prerecorded.v2 import api as transcript_api
    from pydantic import ConfigDict

    class TaggedRequest(aai.types.TranscriptRequest):  # type: ignore[misc]
        model_config = ConfigDict(extra="allow")

    client = aai.Client.get_default()
    request = TaggedRequest(audio_url=done.audio_url, custom_tags={"tags": TAGS, "threshold": 0.3})
    response = transcript_api.create_transcript(client.http_client, request)
    transcript = aai.Transcript.from_response(client=client, response=response)
    transcript = transcript.wait_for_completion()
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    assert transcript.iab_categories is None  # not requested: null, never invented
    _check_custom_tags(server.url, transcript.id)


def test_list_pages_newest_first(server: LiveServer, local_http: LocalHTTP) -> None:
    transcriber = aai.Transcriber()
    # jobs that fail fast (nothing at these URLs): listing does not care about the status
    urls = [f"{local_http.url}/media/absent-{i}.mp3" for i in range(3)]
    made = [transcriber.submit(url).id for url in urls]
    page = transcriber.list_transcripts(aai.ListTranscriptParameters(limit=2))
    assert [t.id for t in page.transcripts] == made[:0:-1]
    assert [t.audio_url for t in page.transcripts] == urls[:0:-1]
    assert page.page_details.result_count == 2
    prev_url = page.page_details.prev_url or ""
    assert prev_url.startswith(server.url + "/v2/transcript?")
    before = page.page_details.before_id_of_prev_url
    assert before == made[1]
    older = transcriber.list_transcripts(aai.ListTranscriptParameters(limit=2, before_id=before))
    assert older.transcripts[0].id == made[0]
    for transcript_id in made:
        assert server.wait(transcript_id)["status"] == "error"
    failed = transcriber.list_transcripts(aai.ListTranscriptParameters(status="error", limit=3))
    assert {t.id for t in failed.transcripts} == set(made)


def test_keys_see_only_their_own(server: LiveServer, done: aai.Transcript) -> None:
    other = aai.Transcriber(
        client=aai.Client(settings=aai.Settings(base_url=server.url, api_key=OTHER_KEY))
    )
    assert done.id not in [t.id for t in other.list_transcripts().transcripts]
    answer = httpx.get(
        f"{server.url}/v2/transcript/{done.id}", headers={"authorization": OTHER_KEY}
    )
    assert answer.status_code == 400
    assert answer.json() == {"error": "Transcript lookup error, transcript id not found"}


def test_subtitles(done: aai.Transcript) -> None:
    srt = done.export_subtitles_srt(chars_per_caption=32)
    blocks = [b.splitlines() for b in srt.strip().split("\n\n")]
    assert len(blocks) >= 3
    assert blocks[0][0] == "1" and " --> " in blocks[0][1]
    assert all(len(line) <= 32 for b in blocks for line in b[2:])
    vtt = done.export_subtitles_vtt()
    assert vtt.startswith("WEBVTT")
    assert "country" in vtt


def test_sentences_paragraphs_word_search(done: aai.Transcript) -> None:
    sentences = done.get_sentences()
    assert sentences and all(isinstance(s.start, int) for s in sentences)
    words = done.words or []
    assert sum(len(s.words) for s in sentences) == len(words)
    paragraphs = done.get_paragraphs()
    assert paragraphs and paragraphs[0].start == words[0].start
    assert sum(len(p.words) for p in paragraphs) == len(words)

    matches = {m.text: m for m in done.word_search(["country", "ask not", "banana"])}
    assert matches["country"].count == 2
    assert all(_norm(words[i].text) == "country" for i in matches["country"].indexes)
    ask = matches["ask not"]
    assert ask.count == 1 and _norm(words[ask.indexes[0] + 1].text) == "not"
    assert ask.timestamps[0][0] == words[ask.indexes[0]].start
    assert matches["banana"].count == 0


def test_delete(server: LiveServer, done: aai.Transcript) -> None:
    victim = aai.Transcriber().transcribe(done.audio_url)
    assert victim.status == aai.TranscriptStatus.completed
    deleted = aai.Transcript.delete_by_id(victim.id)
    assert deleted.text == "Deleted by user."
    assert deleted.audio_url == "http://deleted_by_user"
    assert deleted.words is None
    again = aai.Transcript.get_by_id(victim.id)
    assert again.text == "Deleted by user."
    with pytest.raises(aai.TranscriptError, match="deleted"):
        again.export_subtitles_srt()


def test_failed_job_is_returned_not_raised(server: LiveServer, local_http: LocalHTTP) -> None:
    missing = f"{local_http.url}/media/nothing-here.mp3"
    transcript = aai.Transcriber().transcribe(missing)
    assert transcript.status == aai.TranscriptStatus.error
    assert transcript.error is not None
    assert transcript.error.startswith(f"Download error, unable to download {missing}")
    assert "404" in transcript.error


def test_bad_key_is_401(server: LiveServer, done: aai.Transcript) -> None:
    bad = aai.Transcriber(
        client=aai.Client(settings=aai.Settings(base_url=server.url, api_key="wrong-key"))
    )
    with pytest.raises(aai.TranscriptError) as info:
        bad.transcribe(done.audio_url)
    assert info.value.status_code == 401
    assert "Authentication error, API token missing/invalid" in str(info.value)
