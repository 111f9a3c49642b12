"""The statements shared by the SQL stores: dialect rendering and the deletion scrub."""

from __future__ import annotations

from earmark.storage.sql import DELETED_URL, POSTGRES, SCRUB, SQLITE, scrubbed


def test_dialects_render_placeholders_and_json_access() -> None:
    sql = "UPDATE t SET a = ? WHERE coalesce({webhook_url}, '') <> '' AND id = ?"
    assert SQLITE.sql(sql) == (
        "UPDATE t SET a = ? WHERE coalesce(json_extract(request, '$.webhook_url'), '') <> '' "
        "AND id = ?"
    )
    assert POSTGRES.sql(sql) == (
        "UPDATE t SET a = %s WHERE coalesce((request->>'webhook_url'), '') <> '' AND id = %s"
    )
    assert SQLITE.sql(SCRUB).count("?") == POSTGRES.sql(SCRUB).count("%s") == 4


def test_scrubbed_request_keeps_settings_and_drops_private_fields() -> None:
    request = {
        "audio_url": "https://example.com/a.mp3",
        "webhook_url": "https://hooks.example.com/x",
        "custom_tags": {"Sports": "games"},
        "prompt": "secret",
        "language_code": "en",
    }
    out = scrubbed(request)
    assert out == {
        "audio_url": DELETED_URL,
        "webhook_url": DELETED_URL,
        "language_code": "en",
    }
    assert request["prompt"] == "secret"  # the caller's dict is not changed
    assert "webhook_url" not in scrubbed({"audio_url": "x"})
