"""Hostile create requests, as an attacker would send them, on SQLite and PostgreSQL.

Each case is a defect found when earmark was tried as an attacker (2026-12-01): the server
read its own files for a client, jobs were accepted that could never end, bodies had no
size limit, webhook headers could inject framing, and a feature asked for was silently not
done. Every accepted job must end ``completed`` or ``error``; nothing answers 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer
from pg_helpers import drop_schema, new_schema, pg_url

# A URL that fails at once (nothing listens on port 1): jobs end in error without Whisper.
DEAD_URL = "http://127.0.0.1:1/audio.mp3"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, launch: Callable[..., LiveServer]
) -> Iterator[LiveServer]:
    if request.param == "sqlite":
        yield launch(max_request_kb=256)
        return
    url = pg_url()
    if url is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = new_schema("hostile")
    live = launch(max_request_kb=256, database_url=url, database_schema=schema)
    yield live
    live.stop()
    drop_schema(url, schema)


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def _create(c: httpx.Client, body: object) -> httpx.Response:
    return c.post(
        "/v2/transcript", content=json.dumps(body), headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "spec",
    ["/etc/shadow", "/etc/passwd", "/root/.bash_history", "../../../etc/hostname", "README.md"],
)
def test_custom_tags_never_read_a_server_file(client: httpx.Client, spec: str) -> None:
    r = _create(client, {"audio_url": DEAD_URL, "custom_tags": spec})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert "unknown tag list preset" in error and "presets are" in error
    assert "does not exist" not in error and "not a file" not in error  # no existence oracle
    assert "root:" not in error and "earmark" not in error.lower().replace(spec.lower(), "")


def test_custom_tags_yaml_file_elsewhere_on_disk_is_not_loaded(
    client: httpx.Client, tmp_path: Path
) -> None:
    tags = tmp_path / "tags.yaml"
    tags.write_text("Leaked: a tag list that only exists on the server's disk\n")
    for spec in (str(tags), {"tags": str(tags), "threshold": 0.5}):
        r = _create(client, {"audio_url": DEAD_URL, "custom_tags": spec})
        assert r.status_code == 400, r.text
        assert "Leaked" not in r.text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"audio_url": "http://127.0.0.1:1/a.mp3", "temperature": NaN}',
        b'{"audio_url": "http://127.0.0.1:1/a.mp3", "temperature": Infinity}',
        b'{"audio_url": "http://127.0.0.1:1/a.mp3", "custom_tags": {"A": "x", "tags": -Infinity}}',
    ],
)
def test_non_finite_numbers_are_refused(client: httpx.Client, raw: bytes) -> None:
    r = client.post("/v2/transcript", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "not a JSON number" in r.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "hello\u0000world"},
        {"custom_tags": {"Sports\u0000": "games"}},
        {"custom_tags": {"Sports": "games\u0000"}},
        {"webhook_url": "http://127.0.0.1:1/hook\u0000"},
        {"keyterms_prompt": ["a\u0000b"]},
        {"some_unknown_field": "x\u0000"},
    ],
)
def test_nul_characters_are_refused_at_create(client: httpx.Client, body: dict[str, Any]) -> None:
    r = _create(client, {"audio_url": DEAD_URL, **body})
    assert r.status_code == 400, r.text
    assert "NUL character" in r.json()["error"]


def test_deep_nesting_is_400_not_500(client: httpx.Client) -> None:
    deep = b'{"audio_url": "x", "custom_spelling": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = client.post("/v2/transcript", content=deep)
    assert r.status_code == 400, r.text
    shallow_but_too_deep = {"audio_url": DEAD_URL, "custom_tags": {"a": {}}}
    inner: dict[str, Any] = shallow_but_too_deep["custom_tags"]["a"]  # type: ignore[index]
    for _ in range(40):
        inner["x"] = {}
        inner = inner["x"]
    r = _create(client, shallow_but_too_deep)
    assert r.status_code == 400 and "nested" in r.json()["error"], r.text


def test_body_limit_413_declared_and_chunked(client: httpx.Client) -> None:
    big = json.dumps({"audio_url": DEAD_URL, "padding": "x" * 300_000}).encode()
    r = client.post("/v2/transcript", content=big)
    assert r.status_code == 413, r.text
    assert "EARMARK_MAX_REQUEST_KB" in r.json()["error"]

    def chunks() -> Iterator[bytes]:
        yield b'{"audio_url": "http://127.0.0.1:1/a.mp3", "padding": "'
        for _ in range(40):
            yield b"y" * 10_000
        yield b'"}'

    r = client.post("/v2/transcript", content=chunks())
    assert r.status_code == 413, r.text
    assert client.get("/v2/transcript").status_code == 200  # still serving


@pytest.mark.parametrize(
    "body, field",
    [
        ({"prompt": "p" * 4_001}, "prompt"),
        ({"keyterms_prompt": ["k" * 101]}, "keyterms_prompt"),
        ({"word_boost": ["w"] * 1_001}, "word_boost"),
        ({"webhook_url": "http://127.0.0.1:1/" + "h" * 2_100}, "webhook_url"),
        ({"audio_url": "http://127.0.0.1:1/" + "a" * 4_100}, "audio_url"),
        ({"speech_models": ["m" * 65]}, "speech_models"),
        ({"custom_tags": {"T": {"description": "d", "examples": ["e" * 501]}}}, "example"),
    ],
)
def test_free_text_fields_have_length_limits(
    client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    r = _create(client, {"audio_url": DEAD_URL, **body})
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]


def test_a_long_prompt_within_the_limit_is_not_echoed_forever(
    server: LiveServer, client: httpx.Client
) -> None:
    r = _create(client, {"audio_url": DEAD_URL, "prompt": "p" * 4_000})
    assert r.status_code == 200, r.text
    done = server.wait(r.json()["id"])
    assert done["status"] == "error" and len(json.dumps(done)) < 20_000


@pytest.mark.parametrize(
    "name, value",
    [
        ("X-Token\r\nX-Injected: 1", "v"),
        ("X-Token", "v\r\nX-Injected: 1"),
        ("Content-Length", "0"),
        ("Transfer-Encoding", "chunked"),
        ("Host", "evil.example"),
        ("Connection", "close"),
        ("X Token", "v"),
        ("", "v"),
        ("X-Token", "\u00e9t\u00e9"),
    ],
)
def test_webhook_auth_header_injection_is_refused(
    client: httpx.Client, name: str, value: str
) -> None:
    body = {
        "audio_url": DEAD_URL,
        "webhook_url": "http://127.0.0.1:1/hook",
        "webhook_auth_header_name": name,
        "webhook_auth_header_value": value,
    }
    r = _create(client, body)
    assert r.status_code == 400, r.text
    assert "webhook_auth_header" in r.json()["error"]


def test_webhook_auth_header_name_without_value_is_refused(client: httpx.Client) -> None:
    r = _create(client, {"audio_url": DEAD_URL, "webhook_auth_header_name": "X-Token"})
    assert r.status_code == 400 and "together" in r.json()["error"], r.text


@pytest.mark.parametrize(
    "body, words",
    [
        ({"redact_pii": True, "redact_pii_policies": ["blood_type"]}, ["blood_type"]),
        ({"redact_pii": True, "redact_pii_policies": ["no_such_policy"]}, ["no_such_policy"]),
        ({"redact_pii_audio": True}, ["redact_pii_audio", "redact_pii"]),
        ({"speaker_labels": True, "multichannel": True}, ["speaker_labels", "multichannel"]),
    ],
)
def test_features_earmark_cannot_do_are_refused_not_skipped(
    client: httpx.Client, body: dict[str, Any], words: list[str]
) -> None:
    r = _create(client, {"audio_url": DEAD_URL, **body})
    assert r.status_code == 400, r.text
    assert all(w in r.json()["error"] for w in words), r.text


def test_temperature_out_of_range_is_400(client: httpx.Client) -> None:
    for value in (-0.1, 1.5, "hot", True):
        r = _create(client, {"audio_url": DEAD_URL, "temperature": value})
        assert r.status_code == 400, (value, r.text)


def _json_values() -> Any:
    from hypothesis import strategies as st

    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats()
        | st.text(max_size=40)
        | st.sampled_from(["media", "support", "/etc/passwd", "\u0000", "x" * 5000, "en_us"])
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=12,
    )


def test_generated_create_bodies_never_500_and_never_stick(server: LiveServer) -> None:
    """Property test: any body gets a 4xx or an accepted job that ends (no 5xx, no stuck)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from earmark.server.schemas import CreateTranscript

    fields = sorted(CreateTranscript.model_fields)
    accepted: list[str] = []
    bodies = st.dictionaries(st.sampled_from(fields), _json_values(), max_size=6)

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=bodies, dead=st.booleans())
    def check(body: dict[str, Any], dead: bool) -> None:
        if dead or not isinstance(body.get("audio_url"), str):
            body["audio_url"] = DEAD_URL  # never a host but 127.0.0.1
        elif not body["audio_url"].startswith("http"):
            pass  # a non-URL string: must be a 400
        else:
            body["audio_url"] = DEAD_URL
        if isinstance(body.get("webhook_url"), str):
            body["webhook_url"] = "http://127.0.0.1:1/hook"
        with server.client() as c:
            r = _create(c, body)
            assert r.status_code < 500, (body, r.text)
            if r.status_code == 200:
                accepted.append(r.json()["id"])
                assert c.get(f"/v2/transcript/{r.json()['id']}").status_code == 200
            else:
                assert r.status_code in (400, 413), (body, r.text)
                assert isinstance(r.json()["error"], str) and r.json()["error"]

    check()
    assert accepted, "no generated body was accepted: the strategy is too narrow"
    for transcript_id in accepted:
        done = server.wait(transcript_id, timeout=60)
        assert done["status"] == "error" and done["error"], done


def test_limits_doc_lists_every_limit() -> None:
    from earmark.server.schemas import LIMITS, REFUSED_FIELDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()
    for name, text in {**LIMITS, **REFUSED_FIELDS}.items():
        assert f"| `{name}` | {text} |" in doc, name
