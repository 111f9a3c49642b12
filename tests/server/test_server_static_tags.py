"""custom_tags with the static (fast) tagging engine, end to end through a live server."""

from __future__ import annotations

from pathlib import Path

from conftest import LiveServer

from earmark.tagging import load_tags


def test_custom_tags_with_the_static_engine(
    launch: object, jfk_flac: Path, static_cache_dir: Path
) -> None:
    # the static table is read from the server's cache folder (its settings, not the
    # environment) when the job first tags: a small one
    live: LiveServer = launch(asr={"cache_dir": static_cache_dir})  # type: ignore[operator]
    with live.client() as c:
        upload_url = c.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
        created = c.post(
            "/v2/transcript",
            json={"audio_url": upload_url, "custom_tags": {"tags": "media", "engine": "static"}},
        )
        assert created.status_code == 200, created.text
        bad = c.post(
            "/v2/transcript",
            json={"audio_url": upload_url, "custom_tags": {"tags": "media", "engine": "fast"}},
        )
    assert bad.status_code == 400 and "static" in bad.json()["error"]
    body = live.wait(created.json()["id"])
    assert body["status"] == "completed", body["error"]
    result = body["custom_tags_result"]
    names = set(load_tags("media").names)
    assert result["status"] == "success", result
    assert set(result["summary"]) == names
    assert result["best_tag"] is None or result["best_tag"] in names
    window = result["results"][0]
    assert window["text"] and {lb["label"] for lb in window["labels"]} == names
