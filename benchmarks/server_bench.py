"""Benchmark ``earmark serve``: API latency under load, and end-to-end job throughput.

Three parts, each against a real ``earmark serve`` subprocess on 127.0.0.1:

- ``get``: requests/s and p50/p99 latency of ``GET /v2/transcript/{id}`` (a completed
  transcript) under N concurrent connections, measured with ``wrk``, while the worker is
  kept busy transcribing (one transcription runs for the whole measurement);
- ``create``: the same for ``POST /v2/transcript``. Each created job points at an upload id
  that does not exist, so the worker fails it at once instead of queueing hours of ASR;
- ``e2e``: jobs per minute over the LibriSpeech subset (upload, create, wait until every job
  is completed) with 1 and 2 workers, beside the same model run directly in one process
  (decode + transcribe, same options) as the baseline for the server's overhead.

Usage::

    python benchmarks/server_bench.py                       # all parts, tiny.en
    python benchmarks/server_bench.py --parts e2e --model base --workers 1,2
    python benchmarks/server_bench.py --parts get,create --duration 20 --connections 50

Needs ``wrk`` (``apt-get install wrk``) for the ``get``/``create`` parts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-key"


def shared_dir() -> Path:
    env = os.environ.get("EARMARK_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


def utterances(limit: int) -> list[Path]:
    root = shared_dir() / "data" / "librispeech_test_other_subset"
    with open(root / "transcripts.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [root / r["audio_path"] for r in rows[:limit]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``earmark serve`` in a subprocess with its own data dir."""

    def __init__(
        self, model: str, workers: int, beam: int, access_log: bool, nice: int = 10
    ) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="earmark-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "EARMARK_API_KEYS": KEY,
            "EARMARK_ASR_MODEL": model,
            "EARMARK_ASR_BEAM_SIZE": str(beam),
            "EARMARK_WORKER_NICE": str(nice),
        }
        earmark = shutil.which("earmark", path=str(Path(sys.executable).parent)) or "earmark"
        cmd = [
            earmark,
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--data-dir",
            str(self.data),
            "--log-level",
            "warning" if not access_log else "info",
        ]
        self.log = open(self.data / "serve.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, headers={"authorization": KEY}, timeout=60)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.client.get("/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.data / "serve.log").read_text())
            time.sleep(0.1)

    def upload(self, path: Path) -> str:
        return str(self.client.post("/v2/upload", content=path.read_bytes()).json()["upload_url"])

    def create(self, audio_url: str) -> str:
        r = self.client.post("/v2/transcript", json={"audio_url": audio_url})
        r.raise_for_status()
        return str(r.json()["id"])

    def get(self, transcript_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get(f"/v2/transcript/{transcript_id}").json()
        return body

    def wait(self, ids: list[str], timeout: float = 3600) -> list[dict[str, Any]]:
        """Wait until every job is finished. Polls the list endpoint twice a second (one
        request for all jobs), so the benchmark's own polling costs the server almost nothing."""
        deadline = time.monotonic() + timeout
        wanted = set(ids)
        while True:
            page = self.client.get("/v2/transcript", params={"limit": 200}).json()
            status = {t["id"]: t["status"] for t in page["transcripts"] if t["id"] in wanted}
            if len(status) == len(wanted) and all(
                v in ("completed", "error") for v in status.values()
            ):
                return [self.get(i) for i in ids]
            if time.monotonic() > deadline:
                raise RuntimeError("jobs unfinished")
            time.sleep(0.5)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def run_wrk(url: str, lua: str, duration: int, connections: int, threads: int) -> dict[str, Any]:
    """Run wrk with a Lua script; returns rps, latency percentiles (ms) and error counts."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
        script = fh.name
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--latency",
        "-s",
        script,
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(script)

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": total,
        "rps": round(rps, 1),
        "p50_ms": round(ms(pct["50"]), 2),
        "p90_ms": round(ms(pct["90"]), 2),
        "p99_ms": round(ms(pct["99"]), 2),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def measured(
    server: Server, busy: list[str], lua: str, url: str, args: argparse.Namespace
) -> dict[str, Any]:
    """One wrk run, plus the server's CPU time per request and whether ASR ran throughout.

    With ``--rate``, each connection waits ``connections / rate`` seconds between requests
    (clients polling at a fixed pace); latency is measured without that wait.
    """
    if args.rate:
        lua += f"function delay() return {round(args.connections / args.rate * 1000)} end\n"
    cpu0 = server.cpu_seconds()
    out = run_wrk(url, lua, args.duration, args.connections, args.wrk_threads)
    cpu = server.cpu_seconds() - cpu0
    out["server_cpu_s"] = round(cpu, 2)
    if not busy:  # nothing else runs in the server: its CPU time is the API's own
        out["server_cpu_ms_per_request"] = round(cpu * 1000 / max(1, out["requests"]), 3)
    out["transcribing_throughout"] = busy_now(server, busy)
    return out


def keep_busy(server: Server, clips: list[Path], jobs: int) -> list[str]:
    """Queue enough transcriptions that one runs for the whole measurement."""
    urls = [server.upload(p) for p in clips]
    ids = [server.create(urls[i % len(urls)]) for i in range(jobs)]
    deadline = time.monotonic() + 60
    while not any(server.get(i)["status"] == "processing" for i in ids[:3]):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker never started transcribing")
        time.sleep(0.05)
    return ids


def busy_now(server: Server, ids: list[str]) -> bool:
    return any(server.get(i)["status"] == "processing" for i in ids)


def bench_api(args: argparse.Namespace) -> dict[str, Any]:
    clips = utterances(20)
    server = Server(args.model, 1, args.beam, args.access_log)
    try:
        target = server.create(server.upload(clips[0]))
        done = server.wait([target])[0]
        assert done["status"] == "completed", done
        results: dict[str, Any] = {"get_body_bytes": len(json.dumps(done))}
        busy = keep_busy(server, clips, args.busy_jobs) if args.busy_jobs else []
        if "get" in args.parts:
            lua = f'wrk.headers["authorization"] = "{KEY}"\n'
            results["get"] = measured(
                server, busy, lua, f"{server.url}/v2/transcript/{target}", args
            )
        if "create" in args.parts:
            body = json.dumps({"audio_url": f"{server.url}/v2/upload/{'0' * 32}"})
            lua = (
                'wrk.method = "POST"\n'
                f'wrk.headers["authorization"] = "{KEY}"\n'
                'wrk.headers["content-type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body)}\n"
            )
            results["create"] = measured(server, busy, lua, f"{server.url}/v2/transcript", args)
        return results
    finally:
        server.stop()


def bench_direct(model: str, beam: int, files: list[Path]) -> dict[str, Any]:
    """The baseline: the same decode + transcribe in one process, model loaded first."""
    code = f"""
import json, sys, time
from earmark.asr import get_engine
from earmark.asr.base import ASROptions
from earmark.audio.decode import decode_audio
files = json.loads(sys.argv[1])
engine = get_engine({model!r}, threads=0)
opts = ASROptions(model={model!r}, beam_size={beam}, language="en_us")
engine.transcribe(decode_audio(files[0]), opts)  # warm up, like the server's first job
import resource
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
for f in files:
    engine.transcribe(decode_audio(f), opts)
print(json.dumps({{"seconds": time.perf_counter() - t0, "cpu": cpu() - c0}}))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps([str(f) for f in files])],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    seconds = float(got["seconds"])
    return {
        "seconds": round(seconds, 2),
        "jobs_per_min": round(len(files) / seconds * 60, 1),
        "cpu_seconds": round(float(got["cpu"]), 2),
    }


def bench_e2e(args: argparse.Namespace) -> dict[str, Any]:
    files = utterances(args.utterances)
    audio_s = sum(_duration(f) for f in files)
    results: dict[str, Any] = {"files": len(files), "audio_minutes": round(audio_s / 60, 2)}
    results["direct"] = bench_direct(args.model, args.beam, files)
    for workers in args.workers:
        server = Server(args.model, workers, args.beam, args.access_log, args.worker_nice)
        try:
            server.wait([server.create(server.upload(files[0]))])  # load the model first
            t0 = time.perf_counter()
            urls = [server.upload(f) for f in files]
            uploaded = time.perf_counter() - t0
            t1, cpu1 = time.perf_counter(), server.cpu_seconds()
            ids = [server.create(u) for u in urls]
            bodies = server.wait(ids)
            seconds = time.perf_counter() - t1
            cpu = server.cpu_seconds() - cpu1
            failed = [b["error"] for b in bodies if b["status"] != "completed"]
            results[f"workers_{workers}"] = {
                "upload_seconds": round(uploaded, 2),
                "seconds": round(seconds, 2),
                "jobs_per_min": round(len(files) / seconds * 60, 1),
                "overhead_vs_direct_pct": round(
                    (seconds / results["direct"]["seconds"] - 1) * 100, 1
                ),
                "cpu_seconds": round(cpu, 2),
                "cpu_overhead_vs_direct_pct": round(
                    (cpu / results["direct"]["cpu_seconds"] - 1) * 100, 1
                ),
                "failed": failed[:3],
            }
        finally:
            server.stop()
    return results


def _duration(path: Path) -> float:
    from earmark.audio.decode import decode_audio

    return decode_audio(path).duration_ms / 1000


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", default="get,create,e2e", help="comma-separated: get,create,e2e")
    p.add_argument("--model", default="tiny.en", help="ASR model (default tiny.en)")
    p.add_argument("--beam", type=int, default=5, help="beam size (server default 5)")
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=50, help="concurrent clients")
    p.add_argument(
        "--rate",
        type=float,
        default=0,
        help="paced load: total requests/s (0 = as fast as possible)",
    )
    p.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (1 leaves CPU to the server)"
    )
    p.add_argument(
        "--busy-jobs",
        type=int,
        default=60,
        help="transcriptions queued to keep the worker busy (0: measure an idle server)",
    )
    p.add_argument("--utterances", type=int, default=100, help="LibriSpeech files for e2e")
    p.add_argument("--workers", default="1,2", help="worker counts for e2e")
    p.add_argument("--access-log", action="store_true", help="run the server with its access log")
    p.add_argument(
        "--worker-nice", type=int, default=10, help="EARMARK_WORKER_NICE for the e2e servers"
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    args.parts = set(args.parts.split(","))
    args.workers = [int(w) for w in args.workers.split(",")]
    results: dict[str, Any] = {
        "machine": machine(),
        "args": {
            k: (sorted(v) if isinstance(v, set) else v)
            for k, v in vars(args).items()
            if k != "json"
        },
    }
    if args.parts & {"get", "create"}:
        if shutil.which("wrk") is None:
            sys.exit("wrk is not installed (apt-get install wrk)")
        results["api"] = bench_api(args)
    if "e2e" in args.parts:
        results["e2e"] = bench_e2e(args)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
