"""ASR benchmark: earmark vs raw faster-whisper on the same LibriSpeech utterances.

Each variant (implementation x model x beam) runs in its own subprocess, so model load
time and peak RSS are measured fairly. Both implementations start from the file path
(decoding included), use the same model directory, int8, the same thread count,
language "en" and word timestamps (earmark's default), and are interleaved (and, with
--repeats, alternated in order) so background load hits both alike.

    python benchmarks/asr_bench.py --models tiny.en base --beams 5 1 --threads 2
    python benchmarks/asr_bench.py --limit 10 --models tiny.en --beams 1   # a quick look

Prints a Markdown table; --json writes every raw number.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "librispeech_test_other_subset"


@dataclass(frozen=True)
class Variant:
    impl: str  # "earmark" or "raw"
    model: str
    beam: int
    words: bool


def _utterances(data_dir: Path, limit: int) -> list[dict[str, str]]:
    with (data_dir / "transcripts.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return rows[:limit]


def _long_file(paths: list[str], dest: Path) -> Path:
    """All utterances back to back in one FLAC (long-form speed, 30 s windows filled)."""
    import av
    import numpy as np
    from faster_whisper.audio import decode_audio

    if dest.is_file():
        return dest
    samples = np.concatenate([decode_audio(p) for p in paths])
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    tmp = dest.with_suffix(".tmp.flac")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("flac", rate=16_000, layout="mono")
        for i in range(0, len(pcm), 16_000):
            frame = av.AudioFrame.from_ndarray(
                pcm[None, i : i + 16_000], format="s16", layout="mono"
            )
            frame.sample_rate = 16_000
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    tmp.replace(dest)
    return dest


# --------------------------------------------------------------------------- child


def _child(args: argparse.Namespace) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    v = Variant(args.impl, args.model, args.beam, args.words)
    manifest = json.loads(Path(args.manifest).read_text())
    files = manifest["files"]
    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    import faster_whisper  # noqa: F401  (both need it; timed apart from the model load)

    import earmark.asr
    import earmark.audio  # noqa: F401

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = _earmark_runner(v, args) if v.impl == "earmark" else _raw_runner(v, args)
    load_s = time.perf_counter() - t0
    run(manifest["warmup"])  # not timed: the first call initialises CTranslate2 kernels
    hyps = []
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    for path in files:
        hyps.append(run(path))
    elapsed = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {
        **asdict(v),
        "import_s": import_s,
        "load_s": load_s,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "peak_rss_mb": peak_kb / 1024,
        "load_avg_1m": load_avg,
        "hyps": hyps,
    }
    print(json.dumps(out))


def _cpu_seconds() -> float:
    """User + system CPU time of this process (a fairer measure on a busy machine)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _earmark_runner(v: Variant, args: argparse.Namespace) -> Any:
    from earmark.asr import ASROptions, get_engine
    from earmark.audio import decode_audio

    engine = get_engine(
        v.model, device="cpu", compute_type="int8", threads=args.threads, cache_dir=args.cache_dir
    )
    opts = ASROptions(model=v.model, beam_size=v.beam, language="en", word_timestamps=v.words)

    def run(path: str) -> str:
        return engine.transcribe(decode_audio(path), opts).text

    return run


def _raw_runner(v: Variant, args: argparse.Namespace) -> Any:
    from faster_whisper import WhisperModel

    from earmark.asr.models import resolve_model

    path = resolve_model(v.model, Path(args.cache_dir))  # the same files (already joined)
    model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=args.threads)

    def run(audio_path: str) -> str:
        segments, _ = model.transcribe(
            audio_path,
            beam_size=v.beam,
            language="en",
            word_timestamps=v.words,
            temperature=0.0,  # earmark's default decoding (no sampling fallback): same work
        )
        return " ".join(s.text.strip() for s in segments if s.text.strip())

    return run


# --------------------------------------------------------------------------- parent


def _run_variant(v: Variant, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--impl", v.impl,
        "--model", v.model,
        "--beam", str(v.beam),
        "--threads", str(args.threads),
        "--manifest", str(args.manifest),
        "--cache-dir", str(args.cache_dir),
    ]  # fmt: skip
    if not v.words:
        cmd.append("--no-words")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"variant {v} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _prepare_models(args: argparse.Namespace) -> dict[str, float]:
    """Join the embedded base model once (timed) so no variant pays for it."""
    code = (
        "import sys, time; from pathlib import Path; from earmark.asr import resolve_model; "
        "t = time.perf_counter(); resolve_model(sys.argv[1], Path(sys.argv[2])); "
        "print(time.perf_counter() - t)"
    )
    times = {}
    for model in args.models:
        out = subprocess.run(
            [sys.executable, "-c", code, model, str(args.cache_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        times[model] = float(out.stdout.strip())
    return times


def _summarise(
    results: list[dict[str, Any]], refs: list[str], audio_s: float, threads: int
) -> list[str]:
    """Markdown table. Best run per variant; CPU x realtime = audio / (CPU s / threads)."""
    from earmark.asr.wer import corpus_wer

    groups: dict[tuple[str, int, bool], dict[str, list[dict[str, Any]]]] = {}
    for r in results:
        key = (r["model"], r["beam"], r["words"])
        groups.setdefault(key, {}).setdefault(r["impl"], []).append(r)
    lines = [
        "| model | beam | words | impl | x realtime (wall) | wall s (runs) | CPU s (runs) "
        "| x realtime (CPU) | load s | peak RSS MB | WER | earmark vs raw (wall / CPU) "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, beam, words), by_impl in groups.items():
        wall = {i: min(r["elapsed_s"] for r in runs) for i, runs in by_impl.items()}
        cpu = {i: min(r.get("cpu_s", float("nan")) for r in runs) for i, runs in by_impl.items()}
        for impl in ("raw", "earmark"):
            runs = by_impl.get(impl)
            if not runs:
                continue
            wall_runs = ", ".join(f"{r['elapsed_s']:.1f}" for r in runs)
            cpu_runs = ", ".join(f"{r.get('cpu_s', float('nan')):.1f}" for r in runs)
            wer = corpus_wer(zip(refs, runs[0]["hyps"], strict=True))
            overhead = ""
            if impl == "earmark" and "raw" in wall:
                overhead = (
                    f"{(wall[impl] / wall['raw'] - 1) * 100:+.1f}% / "
                    f"{(cpu[impl] / cpu['raw'] - 1) * 100:+.1f}%"
                )
            loads = ", ".join(f"{r['load_avg_1m']:.1f}" for r in runs)
            lines.append(
                f"| {model} | {beam} | {'yes' if words else 'no'} | {impl} "
                f"| {audio_s / wall[impl]:.1f}x | {wall[impl]:.1f} ({wall_runs}) "
                f"| {cpu[impl]:.1f} ({cpu_runs}) | {audio_s / (cpu[impl] / threads):.1f}x "
                f"| {min(r['load_s'] for r in runs):.2f} "
                f"| {max(r['peak_rss_mb'] for r in runs):.0f} | {wer * 100:.1f}% | {overhead} "
                f"| {loads} |"
            )
    return lines


def _best_of(n: int, fn: Any) -> float:
    times = []
    for _ in range(n):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def _micro(args: argparse.Namespace) -> None:
    """What earmark does differently from raw faster-whisper, timed part by part (CPU s).

    Decoding (earmark's decoder vs faster-whisper's), log-Mel features (block-wise vs
    whole-file) and segment conversion (faster-whisper objects -> earmark types) on the
    long file; the model calls themselves are the same code in both.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio as fw_decode
    from faster_whisper.feature_extractor import FeatureExtractor

    from earmark.asr._features import BlockedFeatureExtractor
    from earmark.asr.faster_whisper import convert_segments
    from earmark.asr.models import resolve_model
    from earmark.audio import decode_audio

    rows = _utterances(Path(args.data), args.limit)
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    files = [str(Path(args.data) / r["audio_path"]) for r in rows]
    path = str(_long_file(files, Path(args.cache_dir) / f"librispeech-{len(rows)}.flac"))
    samples = decode_audio(path).samples
    n = 5
    parts = {
        "decode: earmark": _best_of(n, lambda: decode_audio(path)),
        "decode: faster-whisper": _best_of(n, lambda: fw_decode(path)),
        "features: earmark (blocks)": _best_of(n, lambda: BlockedFeatureExtractor()(samples)),
        "features: faster-whisper": _best_of(n, lambda: FeatureExtractor()(samples)),
    }
    model = WhisperModel(
        resolve_model("tiny.en", Path(args.cache_dir)), device="cpu", compute_type="int8",
        cpu_threads=args.threads,
    )  # fmt: skip
    segments = list(model.transcribe(samples, beam_size=1, word_timestamps=True)[0])
    words = sum(len(s.words or ()) for s in segments)
    parts[f"convert {len(segments)} segments / {words} words"] = _best_of(
        5, lambda: list(convert_segments(segments, 0, 10**9))
    )
    print(f"machine: {_machine()}; {sum(float(r['duration_s']) for r in rows):.1f} s of audio")
    print("| part | CPU ms (best of 5; convert: 5) |\n|---|---|")
    for name, sec in parts.items():
        print(f"| {name} | {sec * 1000:.1f} |")


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"


def _parent(args: argparse.Namespace) -> None:
    rows = _utterances(Path(args.data), args.limit)
    refs = [r["transcript"] for r in rows]
    files = [str(Path(args.data) / r["audio_path"]) for r in rows]
    audio_s = sum(float(r["duration_s"]) for r in rows)
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    if args.long:
        files = [str(_long_file(files, Path(args.cache_dir) / f"librispeech-{len(rows)}.flac"))]
        refs = [" ".join(refs)]
    args.manifest = Path(args.cache_dir) / "manifest.json"
    args.manifest.write_text(
        json.dumps({"warmup": str(Path(args.data) / rows[0]["audio_path"]), "files": files})
    )
    print(f"machine: {_machine()}; load average at start: {os.getloadavg()}", flush=True)
    mode = "one long file" if args.long else "one file each"
    print(f"{len(rows)} utterances ({mode}), {audio_s:.1f} s of audio", flush=True)
    join = _prepare_models(args)
    print(f"model preparation (first-use join + verify, or lookup): {join}", flush=True)
    results = []
    for model in args.models:
        for beam in args.beams:
            for rep in range(args.repeats):
                impls = ("raw", "earmark") if rep % 2 == 0 else ("earmark", "raw")
                for impl in impls:
                    v = Variant(impl, model, beam, not args.no_words)
                    r = _run_variant(v, args)
                    results.append(r)
                    print(
                        f"  {impl:8s} {model:8s} beam {beam}: {r['elapsed_s']:.1f} s, "
                        f"load {r['load_s']:.2f} s, {r['peak_rss_mb']:.0f} MB, "
                        f"load avg {r['load_avg_1m']:.1f}",
                        flush=True,
                    )
    print(f"load average at end: {os.getloadavg()}")
    print("\n".join(_summarise(results, refs, audio_s, args.threads)))
    if args.json:
        Path(args.json).write_text(json.dumps({"join_s": join, "results": results}, indent=1))


def main() -> None:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    p.add_argument("--beams", nargs="+", type=int, default=[5, 1])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=100, help="number of utterances (max 100)")
    p.add_argument("--repeats", type=int, default=1, help="runs per variant (best is reported)")
    p.add_argument("--no-words", action="store_true", help="without word timestamps")
    p.add_argument(
        "--long", action="store_true", help="join the utterances into one long file (long-form)"
    )
    p.add_argument("--data", default=str(DEFAULT_DATA), help="LibriSpeech subset folder")
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "earmark-bench-cache"))
    p.add_argument("--json", help="write every number to this file")
    p.add_argument(
        "--micro", action="store_true", help="time only what earmark adds or replaces, part by part"
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--manifest", help=argparse.SUPPRESS)
    p.add_argument("--impl", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--beam", type=int, help=argparse.SUPPRESS)
    p.add_argument("--words", action="store_true", default=True, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.micro:
        _micro(args)
    elif args.child:
        args.words = not args.no_words
        _child(args)
    else:
        _parent(args)


if __name__ == "__main__":
    main()
