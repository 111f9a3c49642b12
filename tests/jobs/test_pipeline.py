"""The pipeline ends every job it claims: completed, or error with a message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fake_asr
import pytest

from earmark.config import ASRSettings, Settings
from earmark.jobs.fetch import FetchOptions
from earmark.jobs.options import JobOptions, options_to_json
from earmark.jobs.pipeline import Pipeline, PipelineConfig
from earmark.runtime import Runtime
from earmark.storage import JobRecord, UploadRecord, utc_now
from earmark.storage.files import FileStore
from earmark.storage.sqlite import SQLiteStore


class RefusingStore(SQLiteStore):
    """A real SQLite store that cannot keep results (as a store refusing a value would)."""

    def finish(self, job_id: str, **kw: Any) -> Any:
        if kw.get("result") is not None:
            raise ValueError("malformed JSON")
        return super().finish(job_id, **kw)


def _pipeline(tmp_path: Path, store: SQLiteStore) -> Pipeline:
    settings = Settings(asr=ASRSettings(asr_engine="fake", asr_model="tiny.en"))
    config = PipelineConfig(settings=settings, fetch=FetchOptions(max_bytes=10_000_000))
    return Pipeline(store, FileStore(tmp_path), config, Runtime(settings))


def _job(store: SQLiteStore, audio: Path, options: JobOptions | None) -> str:
    store.add_upload(UploadRecord("u1", "", str(audio), audio.stat().st_size, utc_now()))
    job = JobRecord(
        id="j1",
        owner="",
        status="queued",
        created=utc_now(),
        audio_url="http://127.0.0.1/v2/upload/u1",
        options=None if options is None else options_to_json(options),
        upload_id="u1",
    )
    return store.create(job).id


def test_a_result_the_store_refuses_still_ends_the_job(tmp_path: Path, jfk_flac: Path) -> None:
    store = RefusingStore(tmp_path / "db.sqlite")
    job_id = _job(store, jfk_flac, JobOptions(model="tiny.en"))
    _pipeline(tmp_path, store).run(job_id)
    done = store.get(job_id)
    assert done is not None and done.status == "error"
    assert done.error and "could not be stored" in done.error
    store.close()


def test_jobs_without_stored_options_end_in_error(tmp_path: Path, jfk_flac: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    job_id = _job(store, jfk_flac, None)
    _pipeline(tmp_path, store).run(job_id)
    done = store.get(job_id)
    assert done is not None and done.status == "error" and "submit it again" in (done.error or "")
    store.close()


def test_the_pipeline_reads_the_stored_options(tmp_path: Path, jfk_flac: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    job_id = _job(store, jfk_flac, JobOptions(model="tiny.en", punctuate=False, format_text=False))
    _pipeline(tmp_path, store).run(job_id)
    done = store.get(job_id)
    assert done is not None and done.status == "completed", done.error
    assert done.result is not None
    assert done.result.transcript.text == fake_asr.FAKE_TEXT.lower().rstrip(".")
    store.close()


@pytest.mark.parametrize("start, end", [(500, 100), (100, 100)])
def test_job_options_refuse_an_empty_stretch(start: int, end: int) -> None:
    with pytest.raises(Exception, match="audio_end_at"):
        JobOptions(model="base", start_ms=start, end_ms=end)
