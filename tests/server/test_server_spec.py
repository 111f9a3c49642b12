"""Real responses of a live earmark server checked against AssemblyAI's published OpenAPI spec.

The spec is ``../shared/docs/assemblyai-spec/openapi.json`` (v1.3.4). A client generated
strictly from it rejects a ``null`` where a field is not nullable, and any key that
``Transcript``/``SentencesResponse``/``ParagraphsResponse`` do not list. earmark's extension
keys (:data:`spec_check.EXTENSIONS`) may appear only on requests that used them: there they
are validated with those keys allowed explicitly, elsewhere they must be absent.

Three jobs share one upload of the 11 s JFK clip (one worker: A, then B, then C):

- A: custom tags, IAB, language detection, a webhook, and features earmark does not perform;
- B: a plain spec-valid request with ``punctuate: false`` (no extension key may appear);
- C: an upload of bytes that are not media (ends in ``error``).

Every body seen (create, each poll, completed, error, list, derived views, delete) is checked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import assemblyai as aai
import httpx
import pytest
from conftest import LiveServer, LocalHTTP
from spec_check import EXTENSIONS, Spec

from earmark.server.render import render_transcript
from earmark.storage.base import JobRecord

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec(shared: Path) -> Spec:
    return Spec.load(shared / "docs" / "assemblyai-spec" / "openapi.json")


@pytest.fixture(scope="module")
def server(launch: object) -> LiveServer:
    live: LiveServer = launch()  # type: ignore[operator]
    return live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@dataclass
class Job:
    """One transcript job: what was sent, and every body the server answered for it."""

    name: str
    request: dict[str, Any]
    extensions: frozenset[str]
    created: dict[str, Any] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.created["id"])

    @property
    def final(self) -> dict[str, Any]:
        return self.seen[-1]


NOT_PERFORMED_A = [
    "summarization",
    "summary_model",
    "summary_type",
    "sentiment_analysis",
    "content_safety",
    "content_safety_confidence",
]
"""What job A asks for that earmark does not do (in the order of the features table)."""


@pytest.fixture(scope="module")
def uploads(client: httpx.Client, jfk_flac: Path) -> dict[str, httpx.Response]:
    return {
        "jfk": client.post("/v2/upload", content=jfk_flac.read_bytes()),
        "junk": client.post("/v2/upload", content=b"this is plain text, not audio\n" * 50),
    }


@pytest.fixture(scope="module")
def hooks(local_http: LocalHTTP) -> LocalHTTP:
    local_http.routes[("POST", "/spec-hook")] = lambda h, b: (200, {}, b"ok")
    return local_http


@pytest.fixture(scope="module")
def jobs(
    client: httpx.Client, uploads: dict[str, httpx.Response], hooks: LocalHTTP
) -> dict[str, Job]:
    """Create A, B and C, then poll each to its end, keeping every body."""
    jfk, junk = uploads["jfk"].json()["upload_url"], uploads["junk"].json()["upload_url"]
    all_ext = frozenset(EXTENSIONS)
    wanted = [
        Job(
            "A",
            {
                "audio_url": jfk,
                "speech_models": ["universal-3-pro"],
                "language_detection": True,
                "webhook_url": f"{hooks.url}/spec-hook",
                "webhook_auth_header_name": "X-Spec-Hook",
                "webhook_auth_header_value": "hook-secret",
                "iab_categories": True,
                "custom_tags": "media",
                "speaker_labels": True,
                "summarization": True,
                "summary_model": "informative",
                "summary_type": "bullets",
                "sentiment_analysis": True,
                "content_safety": True,
                "content_safety_confidence": 60,
            },
            all_ext,
        ),
        Job(
            "B",
            {"audio_url": jfk, "speech_models": ["universal-2"], "punctuate": False},
            frozenset(),
        ),
        Job("C", {"audio_url": junk, "speech_models": ["universal-3-pro"]}, frozenset()),
    ]
    for job in wanted:
        r = client.post("/v2/transcript", json=job.request)
        assert r.status_code == 200, r.text
        job.created = r.json()
        job.seen.append(client.get(f"/v2/transcript/{job.id}").json())
    deadline = time.monotonic() + 180
    for job in wanted:
        while job.final["status"] not in ("completed", "error"):
            assert time.monotonic() < deadline, f"job {job.name} stuck in {job.final['status']}"
            time.sleep(0.02)
            job.seen.append(client.get(f"/v2/transcript/{job.id}").json())
    return {job.name: job for job in wanted}


def check_transcript(spec: Spec, body: dict[str, Any], extensions: Iterable[str]) -> None:
    """``body`` is a spec ``Transcript`` plus exactly the extension keys in ``extensions``."""
    present = set(body) & EXTENSIONS.keys()
    assert present == set(extensions), f"extension keys {sorted(present)} != {sorted(extensions)}"
    spec.check("Transcript", body, allow=extensions)


def check_error(spec: Spec, r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    spec.check("Error", r.json())


def declared(spec: Spec, path: str, method: str) -> set[str]:
    """The status codes the spec declares for an operation."""
    return set(spec.doc["paths"][path][method]["responses"])


# --- the requests themselves ---------------------------------------------------------------


def test_request_bodies_are_spec_transcript_params(spec: Spec, jobs: dict[str, Job]) -> None:
    """The test's own create bodies are valid ``TranscriptParams`` (with its ``allOf``
    flattened, the spec's fault), ``custom_tags`` being earmark's one extra field."""
    for job in jobs.values():
        allow = {"custom_tags"} & set(job.request)
        spec.check("TranscriptParams", job.request, allow=allow)
    with pytest.raises(AssertionError, match="custom_tags"):
        spec.check("TranscriptParams", jobs["A"].request)


# --- Transcript in every state -------------------------------------------------------------


def test_upload_response_is_uploaded_file(spec: Spec, uploads: dict[str, httpx.Response]) -> None:
    for r in uploads.values():
        assert r.status_code == 200 and "200" in declared(spec, "/v2/upload", "post")
        spec.check("UploadedFile", r.json())


def test_queued_right_after_create(spec: Spec, jobs: dict[str, Job]) -> None:
    for job in jobs.values():
        assert job.created["status"] == "queued"
        check_transcript(spec, job.created, job.extensions)
        for key in ("error", "speech_model_used", "keyterms_prompt", "prompt", "redact_pii_sub"):
            assert key not in job.created, key
    assert "language_code" not in jobs["A"].created  # detection has not run yet
    assert jobs["B"].created["language_code"] == "en_us"
    assert jobs["A"].created["custom_tags_result"] is None


def test_every_polled_state(spec: Spec, jobs: dict[str, Job]) -> None:
    statuses = set()
    for job in jobs.values():
        for body in job.seen:
            statuses.add(body["status"])
            check_transcript(spec, body, job.extensions)
            if body["status"] != "error":
                assert "error" not in body
            if body["status"] != "completed":
                assert "speech_model_used" not in body
    assert {"queued", "completed", "error"} <= statuses


def test_completed_with_custom_tags_language_detection_and_webhook(
    spec: Spec, jobs: dict[str, Job]
) -> None:
    body = jobs["A"].final
    assert body["status"] == "completed", body.get("error")
    check_transcript(spec, body, EXTENSIONS)
    assert body["speech_model_used"] == "tiny.en" and body["speech_model"] is None
    assert body["language_code"] == "en" and 0 < body["language_confidence"] <= 1
    assert body["custom_tags"] == "media"
    assert body["custom_tags_result"]["status"] == "success"
    assert body["iab_categories_result"]["status"] == "success"
    assert body["webhook_auth"] is True and "hook-secret" not in str(body)
    assert "content_safety_confidence" not in body  # a TranscriptParams key Transcript lacks


def test_completed_plain_request_has_no_extension_keys(spec: Spec, jobs: dict[str, Job]) -> None:
    body = jobs["B"].final
    assert body["status"] == "completed", body.get("error")
    check_transcript(spec, body, ())
    assert body["punctuate"] is False and "," not in (body["text"] or "")
    for key in ("boost_param", "content_safety_confidence", "dual_channel", "word_boost"):
        assert key not in body
    assert body["language_confidence_threshold"] is None  # required by the spec, nullable


def test_error_transcript(spec: Spec, jobs: dict[str, Job]) -> None:
    body = jobs["C"].final
    assert body["status"] == "error"
    check_transcript(spec, body, ())
    assert isinstance(body["error"], str) and body["error"]
    assert "speech_model_used" not in body


def test_webhook_notification(spec: Spec, jobs: dict[str, Job], hooks: LocalHTTP) -> None:
    deadline = time.monotonic() + 30
    while not hooks.posts("/spec-hook"):
        assert time.monotonic() < deadline, "no webhook arrived"
        time.sleep(0.05)
    (note,) = hooks.posts("/spec-hook")
    spec.check("TranscriptReadyNotification", note)
    assert note == {"transcript_id": jobs["A"].id, "status": "completed"}
    headers = [h for m, p, h, _ in hooks.requests if p == "/spec-hook"]
    assert {k.lower(): v for k, v in headers[0].items()}["x-spec-hook"] == "hook-secret"
    after = jobs["A"].final
    check_transcript(spec, after, EXTENSIONS)


# --- list and derived views ----------------------------------------------------------------


def test_transcript_list(spec: Spec, client: httpx.Client, jobs: dict[str, Job]) -> None:
    body = client.get("/v2/transcript", params={"limit": 10}).json()
    spec.check("TranscriptList", body)
    listed = {t["id"]: t for t in body["transcripts"]}
    assert {j.id for j in jobs.values()} <= set(listed)
    assert listed[jobs["C"].id]["error"] and listed[jobs["A"].id]["error"] is None
    errors = client.get("/v2/transcript", params={"status": "error", "limit": 1}).json()
    spec.check("TranscriptList", errors)


@pytest.mark.parametrize("name", ["A", "B"])
def test_sentences_paragraphs_word_search(
    spec: Spec, client: httpx.Client, jobs: dict[str, Job], name: str
) -> None:
    tid = jobs[name].id
    sentences = client.get(f"/v2/transcript/{tid}/sentences").json()
    spec.check("SentencesResponse", sentences)
    assert sentences["sentences"]
    paragraphs = client.get(f"/v2/transcript/{tid}/paragraphs").json()
    spec.check("ParagraphsResponse", paragraphs)
    assert paragraphs["paragraphs"]
    found = client.get(f"/v2/transcript/{tid}/word-search", params={"words": "country,ask not"})
    spec.check("WordSearchResponse", found.json())
    assert found.json()["total_count"] >= 2


def test_error_bodies(
    spec: Spec, server: LiveServer, client: httpx.Client, jobs: dict[str, Job]
) -> None:
    check_error(spec, client.post("/v2/transcript", json={}), 400)
    check_error(spec, client.post("/v2/transcript", content=b"{not json"), 400)
    check_error(spec, client.get("/v2/transcript", params={"limit": 0}), 400)
    check_error(spec, client.get(f"/v2/transcript/{jobs['C'].id}/sentences"), 400)
    check_error(spec, client.post("/v2/upload", content=b""), 400)
    for path, method in (("/v2/transcript", "post"), ("/v2/transcript/{transcript_id}", "get")):
        assert {"400", "401", "404"} <= declared(spec, path, method)
    with server.client(key=None) as anonymous:
        check_error(spec, anonymous.get("/v2/transcript"), 401)
    with server.client(key="wrong-key") as wrong:
        check_error(spec, wrong.get(f"/v2/transcript/{jobs['A'].id}"), 401)
    check_error(spec, client.get("/v2/no-such-route"), 404)


def test_the_official_sdk_parses_every_response(client: httpx.Client, jobs: dict[str, Job]) -> None:
    for job in jobs.values():
        for body in [job.created, *job.seen]:
            parsed = aai.types.TranscriptResponse(**body)
            assert parsed.id == job.id and parsed.status == body["status"]
    a = jobs["A"].id
    aai.types.SentencesResponse(**client.get(f"/v2/transcript/{a}/sentences").json())
    aai.types.ParagraphsResponse(**client.get(f"/v2/transcript/{a}/paragraphs").json())
    found = client.get(f"/v2/transcript/{a}/word-search", params={"words": "country"}).json()
    aai.types.WordSearchMatchResponse(**found)
    aai.types.ListTranscriptResponse(**client.get("/v2/transcript").json())


# --- features accepted but not performed ---------------------------------------------------


def test_not_performed_listed_in_every_state(jobs: dict[str, Job]) -> None:
    for body in [jobs["A"].created, *jobs["A"].seen]:
        assert body["earmark_not_performed"] == NOT_PERFORMED_A, body["status"]
    for job in (jobs["B"], jobs["C"]):
        for body in [job.created, *job.seen]:
            assert "earmark_not_performed" not in body


def _render(request: dict[str, Any], status: str = "queued") -> dict[str, Any]:
    job = JobRecord(
        id="00000000-0000-4000-8000-000000000000",
        owner="",
        status=status,  # type: ignore[arg-type]
        created="2024-01-01T00:00:00.000000",
        audio_url="https://example.com/a.mp3",
        request=request,
        error="Transcoding error" if status == "error" else None,
    )
    return render_transcript(job)


def test_not_performed_from_the_stored_request(spec: Spec) -> None:
    from earmark.server.features import not_performed

    performed = {
        "speech_models": ["universal-2"],
        "language_detection": True,
        "punctuate": False,
        "format_text": False,
        "audio_start_from": 0,
        "audio_end_at": 5000,
        "keyterms_prompt": ["earmark"],
        "prompt": "Names: Kennedy.",
        "iab_categories": True,
        "webhook_url": "https://example.com/hook",
        "webhook_auth_header_name": "X-H",
        "summarization": False,
        "redact_pii": False,
        "speaker_labels": False,
        "custom_spelling": [],
        "multichannel": True,
        "temperature": 0.2,
        "redact_pii_policies": ["person_name"],
        "redact_pii_sub": "hash",
        "speakers_expected": 2,
    }
    assert not_performed(performed) == []
    for status in ("queued", "processing", "error"):
        body = _render(performed, status)
        assert "earmark_not_performed" not in body
        check_transcript(spec, body, ("earmark_languages",))  # asked for language_detection
    asked = {
        "auto_chapters": True,
        "entity_detection": True,
        "auto_highlights": True,
        "disfluencies": True,
        "filter_profanity": True,
        "custom_spelling": [{"from": ["jfk"], "to": "JFK"}],
        "speech_threshold": 0.5,
        "language_confidence_threshold": 0.8,
    }
    names = not_performed(asked)
    assert set(names) == set(asked) and len(names) == len(asked)
    for status in ("queued", "processing", "error"):
        body = _render(asked, status)
        assert body["earmark_not_performed"] == names
        check_transcript(spec, body, {"earmark_not_performed"})
    legacy = {"dual_channel": True, "word_boost": ["Kennedy"], "boost_param": "high"}
    assert not_performed(legacy) == ["boost_param"]  # word_boost: a prompt; dual_channel: done


def test_legacy_request_keys_echo_only_when_sent() -> None:
    """``dual_channel``/``word_boost``/``boost_param`` are in neither ``TranscriptParams`` nor
    ``Transcript``: a spec client never sends them, so they are echoed only when sent;
    ``content_safety_confidence`` is a ``TranscriptParams`` key that ``Transcript`` lacks,
    so it is never echoed."""
    plain = _render({})
    for key in ("dual_channel", "word_boost", "boost_param", "content_safety_confidence"):
        assert key not in plain
    legacy = _render(
        {
            "dual_channel": False,
            "word_boost": ["x"],
            "boost_param": "low",
            "content_safety_confidence": 50,
        }
    )
    assert legacy["dual_channel"] is False and legacy["word_boost"] == ["x"]
    assert legacy["boost_param"] == "low" and "content_safety_confidence" not in legacy


def test_every_request_field_is_classified(spec: Spec) -> None:
    from earmark.server.features import FEATURES
    from earmark.server.schemas import CreateTranscript

    fields = [f.field for f in FEATURES]
    assert len(fields) == len(set(fields))
    accepted = set(CreateTranscript.model_fields) - {"audio_url", "webhook_auth_header_value"}
    assert accepted <= set(fields), sorted(accepted - set(fields))
    params = set(spec.flattened("TranscriptParams")["properties"]) | {"custom_tags"}
    legacy = {"dual_channel", "word_boost", "boost_param"}  # in older AssemblyAI specs
    assert set(fields) <= params | legacy, sorted(set(fields) - params - legacy)
    assert {f.status for f in FEATURES} <= {"done", "partly", "not done"}


def test_readme_table_is_the_table_in_code() -> None:
    from earmark.server.features import README_HEADING, markdown_table

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert README_HEADING in readme
    section = readme.split(README_HEADING, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    assert markdown_table() in section, "README table differs: paste features.markdown_table()"
    server = readme.split("## The server: a self-hosted AssemblyAI", 1)[1]
    assert server.index(README_HEADING) < server.index("\n## ")
