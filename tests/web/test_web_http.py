"""The web app over plain HTTP (httpx): sign-in and sessions, CSRF, security headers,
escaping of hostile names, Range requests, isolation between keys, saved tag lists used by
name through the API, and search on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fake_asr
import httpx
import pytest
from webtools import KEY, OTHER_KEY, LiveServer, signed_in, upload_and_create, wait_done

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def live(web_server: Callable[..., LiveServer]) -> LiveServer:
    return web_server(asr={"asr_engine": "fake"})


@pytest.fixture(scope="module")
def alpha(live: LiveServer) -> tuple[httpx.Client, str]:
    return signed_in(live.url, KEY)


@pytest.fixture(scope="module")
def done(alpha: tuple[httpx.Client, str], jfk_flac: Path) -> str:
    c, csrf = alpha
    tid = upload_and_create(c, csrf, jfk_flac, custom_tags="media")
    assert wait_done(c, tid)["status"] == "completed"
    return tid


def test_pages_need_sign_in_and_the_cookie_is_strict(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as c:
        r = c.get("/")
        assert r.status_code == 303 and r.headers["location"] == "/signin"
        assert c.get("/media/whatever").status_code == 303
    with httpx.Client(base_url=live.url) as raw:
        form = raw.get("/signin")
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        bad = raw.post("/signin", data={"api_key": "nope", "csrf": token})
        assert bad.status_code == 401 and "not valid" in bad.text
        form = raw.get("/signin")
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        ok = raw.post("/signin", data={"api_key": KEY, "csrf": token})
        assert ok.status_code == 303
        set_cookie = ok.headers["set-cookie"].lower()
        assert "earmark_session=" in set_cookie
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie
        assert "secure" not in set_cookie  # plain http on loopback


def test_sign_in_form_needs_its_token(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as c:
        r = c.post("/signin", data={"api_key": KEY})
        assert r.status_code == 403


def test_security_headers(alpha: tuple[httpx.Client, str]) -> None:
    c, _ = alpha
    for path in ("/", "/new", "/tag-lists", "/static/app.js", "/signin"):
        r = c.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in c.get("/").text  # no inline script anywhere


def test_csrf_on_forms_and_script_calls(alpha: tuple[httpx.Client, str], jfk_flac: Path) -> None:
    c, csrf = alpha
    r = c.post("/tag-lists", data={"name": "x", "body": "A: a"})
    assert r.status_code == 403
    r = c.post("/tag-lists", data={"name": "x", "body": "A: a", "csrf": "wrong"})
    assert r.status_code == 403
    r = c.post("/v2/upload", content=b"abc")
    assert r.status_code == 403 and "expired" in r.json()["error"]
    r = c.post("/v2/upload", content=b"abc", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    # an API key still works without any cookie or token
    with httpx.Client(base_url=str(c.base_url), headers={"authorization": KEY}) as api:
        assert api.post("/v2/upload", content=b"abc").status_code == 200


def test_hostile_names_are_escaped(alpha: tuple[httpx.Client, str], done: str) -> None:
    c, csrf = alpha
    body = f'"{HOSTILE}": "<script>alert(2)</script> & more"\nPlain: "a <b>bold</b> one"\n'
    r = c.post("/tag-lists", data={"name": "Hostile", "body": body, "csrf": csrf})
    assert r.status_code == 303, r.text
    for path in ("/tag-lists", "/tag-lists/Hostile"):
        text = c.get(path).text
        assert HOSTILE not in text and "<script>alert(2)" not in text
    text = c.get("/tag-lists/Hostile").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    r = c.post(
        f"/transcripts/{done}/retag",
        data={"list": "saved:Hostile", "engine": "embedding", "csrf": csrf},
    )
    assert r.status_code == 303, r.text
    page = c.get(f"/transcripts/{done}").text
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    r = c.post(
        f"/transcripts/{done}/title", data={"title": "<b>x</b><script>y</script>", "csrf": csrf}
    )
    assert "<script>y" not in c.get(f"/transcripts/{done}").text
    assert "<script>y" not in c.get("/").text
    # back to the media list for the other tests
    c.post(f"/transcripts/{done}/retag", data={"list": "preset:media", "csrf": csrf})


def test_range_requests(alpha: tuple[httpx.Client, str], done: str, jfk_flac: Path) -> None:
    c, _ = alpha
    data = jfk_flac.read_bytes()
    size = len(data)
    whole = c.get(f"/media/{done}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/flac"
    r = c.get(f"/media/{done}", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{size}"
    r = c.get(f"/media/{done}", headers={"Range": f"bytes={size - 10}-"})
    assert r.status_code == 206 and r.content == data[-10:]
    r = c.get(f"/media/{done}", headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = c.get(f"/media/{done}", headers={"Range": f"bytes=0-{size + 999}"})
    assert r.status_code == 206 and r.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    for bad in (f"bytes={size}-", "bytes=5-2", "bytes=abc", "items=0-1", "bytes=-0"):
        r = c.get(f"/media/{done}", headers={"Range": bad})
        assert r.status_code == 416, bad
        assert r.headers["content-range"] == f"bytes */{size}"


def test_another_key_sees_nothing(
    live: LiveServer, alpha: tuple[httpx.Client, str], done: str
) -> None:
    c, csrf = alpha
    c.post("/tag-lists/copy", data={"preset": "support", "name": "Private", "csrf": csrf})
    other, other_csrf = signed_in(live.url, OTHER_KEY)
    for path in (
        f"/transcripts/{done}",
        f"/media/{done}",
        f"/transcripts/{done}/words.json",
        f"/transcripts/{done}/export.txt",
        f"/web/api/transcripts/{done}",
        "/tag-lists/Private",
        "/tag-lists/Private/export",
    ):
        assert other.get(path).status_code == 404, path
    assert done not in other.get("/").text
    assert done not in other.get("/?q=senate").text
    assert "Private" not in other.get("/tag-lists").text
    r = other.post(
        f"/transcripts/{done}/corrections",
        data={"scope": "all", "correct": "Sports", "csrf": other_csrf},
    )
    assert r.status_code == 404
    with httpx.Client(base_url=live.url, headers={"authorization": OTHER_KEY}) as api:
        assert api.get("/earmark/v1/tag-lists/Private").status_code == 404
        assert api.get("/earmark/v1/tag-lists").json() == {"tag_lists": []}


def test_saved_list_by_name_through_the_api(
    live: LiveServer, alpha: tuple[httpx.Client, str], jfk_flac: Path
) -> None:
    c, csrf = alpha
    body = "Politics: Elections, governments, laws and the senate.\nCooking: Recipes and food.\n"
    assert (
        c.post("/tag-lists", data={"name": "Desk", "body": body, "csrf": csrf}).status_code == 303
    )
    with httpx.Client(base_url=live.url, headers={"authorization": KEY}, timeout=60) as api:
        got = api.get("/earmark/v1/tag-lists/Desk").json()
        assert got["yaml"] == body and [t["name"] for t in got["tags"]] == ["Politics", "Cooking"]
        url = api.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
        r = api.post("/v2/transcript", json={"audio_url": url, "custom_tags": "Desk"})
        assert r.status_code == 200, r.text
        result = live.wait(r.json()["id"])
        assert result["status"] == "completed"
        assert set(result["custom_tags_result"]["summary"]) == {"Politics", "Cooking"}
        assert result["custom_tags_result"]["best_tag"] == "Politics"  # the fake ASR's senate text
    with httpx.Client(base_url=live.url, headers={"authorization": OTHER_KEY}) as api:
        r = api.post("/v2/transcript", json={"audio_url": url, "custom_tags": "Desk"})
        assert r.status_code == 400 and "unknown tag list preset" in r.json()["error"]


def test_search_highlights_and_links_to_the_moment(
    alpha: tuple[httpx.Client, str], done: str
) -> None:
    c, _ = alpha
    text = c.get("/?q=BUDGET+bill").text
    assert "<mark>budget</mark>" in text and "<mark>bill</mark>" in text
    assert f"/transcripts/{done}?t=" in text
    assert "No transcript says that" in c.get("/?q=zebra").text
    hostile = c.get("/?q=" + httpx.QueryParams({"x": HOSTILE})["x"]).text
    assert HOSTILE not in hostile


def test_corrections_teach_and_accuracy(alpha: tuple[httpx.Client, str], done: str) -> None:
    c, csrf = alpha
    c.post("/tag-lists/copy", data={"preset": "media", "name": "Taught", "csrf": csrf})
    r = c.post(
        f"/transcripts/{done}/corrections", data={"scope": "all", "verdict": "right", "csrf": csrf}
    )
    assert r.status_code == 303
    r = c.post(
        f"/transcripts/{done}/corrections", data={"scope": "all", "correct": "Sports", "csrf": csrf}
    )
    assert r.status_code == 303
    bad = c.post(
        f"/transcripts/{done}/corrections", data={"scope": "all", "correct": "Nope", "csrf": csrf}
    )
    assert bad.status_code == 400
    page = c.get(f"/transcripts/{done}").text
    assert "confirmed" in page and "<strong>Sports</strong>" in page
    assert "50%" in c.get("/").text  # one right of two this week
    edit = c.get("/tag-lists/Taught").text
    assert "not yet taught" in edit
    r = c.post("/tag-lists/Taught/teach", data={"csrf": csrf})
    assert r.status_code == 303
    yaml_text = c.get("/tag-lists/Taught/export").text
    assert "senate" in yaml_text.split("Sports:")[1].split("\n\n")[0]
    assert "not yet taught" not in c.get("/tag-lists/Taught").text


def test_sign_out_ends_the_session(live: LiveServer) -> None:
    c, csrf = signed_in(live.url, KEY)
    assert c.get("/").status_code == 200
    assert c.post("/signout", data={"csrf": csrf}).status_code == 303
    assert c.get("/").status_code == 303


def test_open_server_needs_no_sign_in(web_server: Callable[..., LiveServer]) -> None:
    live = web_server(asr={"asr_engine": "fake"}, api_keys="")
    with httpx.Client(base_url=live.url) as c:
        r = c.get("/")
        assert r.status_code == 200 and "Sign out" not in r.text
        assert "earmark_session=" in r.headers["set-cookie"]
        assert c.get("/signin").status_code == 303
        assert fake_asr.FAKE_TEXT


def test_cli_pulls_a_saved_list(live: LiveServer, alpha: tuple[httpx.Client, str]) -> None:
    from click.testing import CliRunner

    from earmark.cli.main import cli

    c, csrf = alpha
    body = "Weather: Rain, storms and forecasts.\n"
    c.post("/tag-lists", data={"name": "Pulled", "body": body, "csrf": csrf})
    run = CliRunner().invoke(cli, ["tags", "pull", "Pulled", "--server", live.url, "--key", KEY])
    assert run.exit_code == 0, run.output
    assert run.output == body
    run = CliRunner().invoke(
        cli, ["tags", "pull", "Pulled", "--server", live.url, "--key", OTHER_KEY]
    )
    assert run.exit_code == 1 and "404" in run.output
