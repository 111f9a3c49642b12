"""Recovery of a transcription whose worker is SIGKILLed, with the procrastinate queue.

One ``earmark serve`` (``EARMARK_RUN_WORKERS=false``) and two ``earmark worker`` processes
on a throwaway PostgreSQL schema, each with its own data dir. A long clip (the JFK clip
repeated) is uploaded; worker A claims it, worker B idles; A is killed ``--kill-after-s``
into the job. Printed: the uninterrupted job time (measured first, on B alone), the time
from the kill until B re-claims the job, and until it completes.

    python benchmarks/scale_out_recovery.py --stalled-after-s 20
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _long_clip(repeat: int, out: Path) -> Path:
    from earmark.audio.decode import decode_audio

    shared = Path(os.environ.get("EARMARK_SHARED_DIR", ROOT.parent / "shared"))
    audio = decode_audio(shared / "data" / "asr_samples" / "audio" / "jfk.flac")
    samples = np.tile(audio.samples, repeat)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.sample_rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _row(url: str, schema: str, job_id: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        cur = conn.execute("SELECT status, attempts FROM transcripts WHERE id = %s", (job_id,))
        row = cur.fetchone()
    return {"status": row[0], "attempts": row[1]} if row else {}


def _live_workers(url: str, schema: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


def _until(what: str, check: Any, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--stalled-after-s", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=16, help="JFK clip repeats (11 s each)")
    parser.add_argument("--kill-after-s", type=float, default=3.0)
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    work = Path(tempfile.mkdtemp(prefix="earmark-recovery-"))
    clip = _long_clip(args.repeat, work / "long.wav")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "EARMARK_DATABASE_URL": args.database_url,
        "EARMARK_DATABASE_SCHEMA": schema,
        "EARMARK_RUN_WORKERS": "false",
        "EARMARK_STALLED_AFTER_S": str(args.stalled_after_s),
        "EARMARK_API_KEYS": KEY,
        "EARMARK_ASR_MODEL": args.model,
    }
    port = _free_port()
    cli = ["-c", "from earmark.cli.main import main; main()"]
    serve = [*cli, "serve", "--port", str(port)]
    procs = [_spawn([*serve, "--data-dir", str(work / "server")], env, work / "serve.log")]
    worker_args = [*cli, "worker", "--log-level", "warning", "--concurrency", "1"]
    base = f"http://127.0.0.1:{port}"
    try:
        _until("the server", lambda: _healthy(base), 60)
        client = httpx.Client(base_url=base, headers={"authorization": KEY}, timeout=60)
        upload = client.post("/v2/upload", content=clip.read_bytes()).json()["upload_url"]

        def create() -> str:
            job_id: str = client.post("/v2/transcript", json={"audio_url": upload}).json()["id"]
            return job_id

        b = _spawn([*worker_args, "--data-dir", str(work / "b")], env, work / "b.log")
        procs.append(b)
        warm = create()  # loads the model in B, so the timed runs compare like with like
        _until("warm-up", lambda: _row(args.database_url, schema, warm)["status"] == "completed")
        first = create()
        started = _until(
            "B to claim", lambda: _row(args.database_url, schema, first)["status"] == "processing"
        )
        done = _until(
            "B to finish", lambda: _row(args.database_url, schema, first)["status"] == "completed"
        )
        plain_s = done - started

        b.send_signal(signal.SIGSTOP)  # park B so that A takes the next job
        a = _spawn([*worker_args, "--data-dir", str(work / "a")], env, work / "a.log")
        procs.append(a)
        job = create()
        claimed = _until(
            "A to claim", lambda: _row(args.database_url, schema, job)["status"] == "processing"
        )
        b.send_signal(signal.SIGCONT)
        time.sleep(max(0.0, args.kill_after_s - (time.monotonic() - claimed)))
        a.send_signal(signal.SIGKILL)
        a.wait()
        killed = time.monotonic()
        reclaimed = _until(
            "B to re-claim", lambda: _row(args.database_url, schema, job)["attempts"] == 2
        )
        completed = _until(
            "completion", lambda: _row(args.database_url, schema, job)["status"] == "completed"
        )
        print(
            f"audio {args.repeat * 11} s, model {args.model}, stalled_after_s {args.stalled_after_s:g}"
        )
        print(f"uninterrupted job: {plain_s:.1f} s")
        print(f"kill -> re-claimed by the other worker: {reclaimed - killed:.1f} s")
        print(f"kill -> completed: {completed - killed:.1f} s (attempts 2, stored once)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
