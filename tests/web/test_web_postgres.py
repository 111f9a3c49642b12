"""The web app on PostgreSQL: upload and transcribe through the session, the list, search,
and the recording served with Range requests from the store's upload cache (the database
holds the bytes; the spooled upload file is gone)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import fake_asr
import pytest
from pg_helpers import drop_schema, new_schema, require_pg
from webtools import KEY, OTHER_KEY, LiveServer, signed_in, upload_and_create, wait_done

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def live(web_server: Callable[..., LiveServer]) -> Iterator[LiveServer]:
    url = require_pg()
    schema = new_schema("web")
    # the procrastinate queue (the default on PostgreSQL) copies uploads to its workers
    server = web_server(asr={"asr_engine": "fake"}, database_url=url, database_schema=schema)
    yield server
    server.stop()
    drop_schema(url, schema)


def test_media_search_and_isolation_on_postgres(live: LiveServer, jfk_flac: Path) -> None:
    c, csrf = signed_in(live.url, KEY)
    tid = upload_and_create(c, csrf, jfk_flac, custom_tags="media")
    assert wait_done(c, tid)["status"] == "completed"
    data = jfk_flac.read_bytes()
    r = c.get(f"/media/{tid}", headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == data[1000:2000]
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert c.get(f"/media/{tid}", headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    page = c.get("/?q=" + fake_asr.FAKE_TEXT.split()[1]).text
    assert "<mark>senate</mark>" in page and f"/transcripts/{tid}?t=" in page
    assert c.get(f"/transcripts/{tid}").status_code == 200
    other, _ = signed_in(live.url, OTHER_KEY)
    assert other.get(f"/media/{tid}").status_code == 404
    assert tid not in other.get("/?q=senate").text
