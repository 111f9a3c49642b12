"""Benchmark the web app: how fast a 1-hour transcript's page opens in a real browser.

A synthetic 1-hour recording's transcript (two speakers, ~9,400 words in 2-second
sentences, tags per 30-s window against the 15 media tags) is stored directly through the
SQLite store of a fresh data dir, with jfk.flac as its "recording" (the page's player needs
a file; its length does not matter for the page). An open ``earmark serve`` app (no keys,
loopback) serves it, and headless chromium (Debian's, through Playwright) opens
``/transcripts/{id}`` N times in fresh contexts. Measured per load, from navigation start:

- ``html``: the server's time to the page's first byte (Navigation Timing ``responseStart``);
- ``fcp``: first contentful paint;
- ``ready``: the words fetched and the paragraphs on screen turned into clickable words
  (``#transcript[data-ready]``, set by player.js);
- ``nodes``: DOM elements once ready (the words of off-screen paragraphs are not built).

Usage::

    python benchmarks/web_bench.py            # 5 loads, prints JSON and a Markdown row
    python benchmarks/web_bench.py --runs 10 --minutes 120
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
JFK = ROOT.parent / "shared" / "data" / "asr_samples" / "audio" / "jfk.flac"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_SPEECH = (
    "the council voted on a new budget for schools and the mayor said teachers would get more "
    "support while parents asked about buses meals and the cost of repairs to old buildings "
    "then the match began and the striker scored twice before the coach praised his players"
)
VOCAB = _SPEECH.split(" ")


def synthetic(minutes: int) -> Any:
    """A transcript of ``minutes`` with words every 0.38 s, two speakers alternating by
    turns of 6 to 20 sentences, and its media-tags result per 30-s window."""
    from earmark.storage import JobResult, TopicsOutcome
    from earmark.tagging import load_tags
    from earmark.types import Segment, TagResult, TagScore, Transcript, WindowTags, Word

    total = minutes * 60_000
    words: list[Word] = []
    segments: list[Segment] = []
    t, n, speaker, turn_left = 0, 0, "A", 8
    while t < total - 2000:
        seg_words = []
        for k in range(5):
            text = VOCAB[(n * 7 + k) % len(VOCAB)]
            text = text.capitalize() if k == 0 else text
            text = text + "." if k == 4 else text
            seg_words.append(Word(text, t, t + 330, 0.9, speaker=speaker))
            t += 380
            n += 1
        segments.append(
            Segment(
                len(segments),
                seg_words[0].start_ms,
                seg_words[-1].end_ms,
                " ".join(w.text for w in seg_words),
                tuple(seg_words),
                0.9,
                speaker=speaker,
            )
        )
        words += seg_words
        turn_left -= 1
        if turn_left == 0:
            speaker = "B" if speaker == "A" else "A"
            turn_left = 6 + (len(segments) * 5) % 15
    text = " ".join(w.text for w in words)
    transcript = Transcript(text, tuple(segments), "en", 1.0, total, "synthetic")
    names = load_tags("media").names
    windows = []
    for i, start in enumerate(range(0, total, 30_000)):
        top = names[(i // 6) % len(names)]
        scores = tuple(
            TagScore(name, 0.9 if name == top else 0.1 / (1 + j)) for j, name in enumerate(names)
        )
        ranked = tuple(sorted(scores, key=lambda s: -s.relevance))
        windows.append(WindowTags(start, min(total, start + 30_000), "…", ranked, (top,)))
    overall = tuple(TagScore(nm, 0.5 / (1 + j)) for j, nm in enumerate(names))
    tags = TagResult(names[0], overall, names[:2], tuple(windows), 0.5, "embedding")
    return JobResult(transcript, "synthetic", custom_tags=TopicsOutcome(result=tags)), len(words)


def serve(data_dir: Path) -> tuple[str, Any]:
    import uvicorn

    from earmark.config import ServerSettings, Settings
    from earmark.server.app import create_app
    from earmark.server.services import build_services

    services = build_services(Settings(server=ServerSettings(data_dir=data_dir, api_keys="")))
    app = create_app(services)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def store_job(data_dir: Path, minutes: int) -> tuple[str, int]:
    from earmark.jobs.options import JobOptions, TopicsRequest, options_to_json
    from earmark.storage import JobRecord, UploadRecord, utc_now
    from earmark.storage.sqlite import SQLiteStore
    from earmark.tagging import load_tags

    result, n_words = synthetic(minutes)
    store = SQLiteStore(data_dir / "earmark.db")
    upload = data_dir / "bench-upload.flac"
    shutil.copy(JFK, upload)
    upload_id = uuid.uuid4().hex
    store.add_upload(UploadRecord(upload_id, "", str(upload), upload.stat().st_size, utc_now()))
    options = JobOptions(model="synthetic", custom_tags=TopicsRequest(tags=load_tags("media")))
    job_id = str(uuid.uuid4())
    store.create(
        JobRecord(
            id=job_id,
            owner="",
            status="queued",
            created=utc_now(),
            audio_url=f"http://127.0.0.1/v2/upload/{upload_id}",
            upload_id=upload_id,
            request={"custom_tags": "media"},
            options=options_to_json(options),
        )
    )
    store.claim(job_id)
    assert store.finish(job_id, result=result)
    store.close()
    return job_id, n_words


def measure(url: str, runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(runs + 1):  # the first load warms the server's caches and is dropped
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector("#transcript[data-ready]", timeout=60_000)
            out.append(
                page.evaluate(
                    """() => {
                      const nav = performance.getEntriesByType('navigation')[0];
                      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                      return {html: nav.responseStart, fcp: fcp ? fcp.startTime : -1,
                              ready: +document.getElementById('transcript').dataset.ready,
                              nodes: document.getElementsByTagName('*').length,
                              words: document.querySelectorAll('.w').length};
                    }"""
                )
            )
            ctx.close()
        browser.close()
    return out[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--minutes", type=int, default=60)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data_dir = Path(tempfile.mkdtemp(prefix="earmark-web-bench-"))
    try:
        job_id, n_words = store_job(data_dir, args.minutes)
        url, server = serve(data_dir)
        loads = measure(f"{url}/transcripts/{job_id}", args.runs)
        server.should_exit = True
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    summary = {
        k: round(statistics.median(x[k] for x in loads), 1)
        for k in ("html", "fcp", "ready", "nodes", "words")
    }
    report = {
        "minutes": args.minutes,
        "transcript_words": n_words,
        "runs": args.runs,
        "median_ms": summary,
        "max_ready_ms": max(x["ready"] for x in loads),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    print(
        f"| {args.minutes} min, {n_words} words | {summary['html']:.0f} ms | "
        f"{summary['fcp']:.0f} ms | {summary['ready']:.0f} ms | {summary['nodes']:.0f} |"
    )


if __name__ == "__main__":
    main()
