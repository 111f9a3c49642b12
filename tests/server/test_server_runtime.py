"""The server's engines come from its own settings: the ASR engine kind, and the LLM routes
that ``custom_tags`` with ``engine: llm`` uses (not the process environment's)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fake_asr
from conftest import LiveServer, LocalHTTP

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))
from wire_servers import Reply, WireServer

TAGS = {
    "Politics": "Government activities, policies, and political events.",
    "Sports": "Athletic events, teams, and sports personalities.",
}


def _chat(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "tagger-x",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }


def test_fake_engine_through_the_registered_seam(
    launch: Callable[..., LiveServer], local_http: LocalHTTP, jfk_flac: Path
) -> None:
    live = launch(asr={"asr_engine": "fake"})
    url = local_http.serve_file("/runtime-jfk.flac", jfk_flac)
    with live.client() as c:
        created = c.post("/v2/transcript", json={"audio_url": url}).json()
    done = live.wait(created["id"])
    assert done["status"] == "completed", done
    assert done["text"] == fake_asr.FAKE_TEXT
    assert done["words"][-1]["end"] <= 11_100  # spread over the decoded 11 s clip


def test_llm_custom_tags_use_the_apps_routes(
    launch: Callable[..., LiveServer], local_http: LocalHTTP, jfk_flac: Path
) -> None:
    reply = Reply(body=_chat('{"tag": "Politics"}'))
    with WireServer([reply]).running() as wire:
        live = launch(
            asr={"asr_engine": "fake"},
            llm={
                "llm_routes": "tagger-*=openai",
                "openai_base_url": f"{wire.url}/v1",
                "llm_tag_model": "tagger-x",
            },
        )
        url = local_http.serve_file("/runtime-llm.flac", jfk_flac)
        with live.client() as c:
            created = c.post(
                "/v2/transcript",
                json={"audio_url": url, "custom_tags": {"tags": TAGS, "engine": "llm"}},
            ).json()
        done = live.wait(created["id"])
    result = done["custom_tags_result"]
    assert result["status"] == "success", result
    assert result["engine"] == "llm" and result["best_tag"] == "Politics"
    assert wire.requests, "the tagger did not use the app's configured route"
    assert wire.requests[0].body["model"] == "tagger-x"


def test_postgres_with_the_local_queue_reads_uploads_from_the_database(
    launch: Callable[..., LiveServer], jfk_flac: Path, tmp_path: Path
) -> None:
    """A job on a PostgreSQL store finds its upload's bytes wherever it runs (here: the
    in-process queue, whose worker never copied the upload in advance)."""
    from pg_helpers import drop_schema, new_schema, require_pg

    url = require_pg()
    schema = new_schema("localq")
    live = launch(
        asr={"asr_engine": "fake"}, database_url=url, database_schema=schema, queue="local"
    )
    try:
        with live.client() as c:
            upload = c.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
            # the original file is gone from this machine: only the database has the bytes
            for f in (live.services.settings.server.data_dir / "uploads").iterdir():
                f.unlink()
            created = c.post("/v2/transcript", json={"audio_url": upload}).json()
        done = live.wait(created["id"])
        assert done["status"] == "completed", done.get("error")
        assert done["text"] == fake_asr.FAKE_TEXT
    finally:
        live.stop()
        drop_schema(url, schema)


def test_tag_engine_setting_is_the_default_for_custom_tags(
    launch: Callable[..., LiveServer], local_http: LocalHTTP, jfk_flac: Path
) -> None:
    """EARMARK_TAG_ENGINE picks the engine of a custom_tags that names none; a request's own wins."""
    live = launch(asr={"asr_engine": "fake"}, tag_engine="accurate")
    url = local_http.serve_file("/engine-jfk.flac", jfk_flac)
    with live.client() as c:
        plain = c.post("/v2/transcript", json={"audio_url": url, "custom_tags": TAGS}).json()
        own = c.post(
            "/v2/transcript",
            json={"audio_url": url, "custom_tags": {"tags": TAGS, "engine": "embedding"}},
        ).json()
    first, second = live.wait(plain["id"]), live.wait(own["id"])
    assert first["status"] == second["status"] == "completed", (first, second)
    assert first["custom_tags_result"]["engine"] == "accurate"
    assert second["custom_tags_result"]["engine"] == "embedding"


def test_unknown_tag_engine_setting_stops_the_server_at_start(tmp_path: Path) -> None:
    import pytest
    from conftest import make_settings

    from earmark.errors import InputError
    from earmark.server.services import build_services

    with pytest.raises(InputError, match=r"EARMARK_TAG_ENGINE must be one of .*accurate"):
        build_services(make_settings(tmp_path, None, None, tag_engine="mpnet-large"))
