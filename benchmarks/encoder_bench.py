"""Compare MiniLM encoders: earmark's onnx and numpy backends vs sentence-transformers+torch.

Each encoder runs in its own fresh subprocess (clean peak RSS and import time):

    python benchmarks/encoder_bench.py                       # onnx + numpy
    python benchmarks/encoder_bench.py --torch-python /tmp/torchvenv/bin/python

The sentence-transformers run needs a separate venv with torch (``pip install
torch==2.13.0 sentence-transformers``); earmark itself never imports torch.
Reports ms/text on short texts (AG News rows, ~50 word pieces) and long texts (BBC
articles, truncated at 256 word pieces), batched and one at a time, peak RSS,
import+load time, and the max abs difference of the embeddings vs sentence-transformers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    env = os.environ.get("EARMARK_SHARED_DIR")
    return (Path(env) if env else ROOT.parent / "shared") / "data"


def load_texts(n_short: int, n_long: int) -> dict[str, list[str]]:
    data = shared_data()
    with open(data / "ag_news" / "test.csv", newline="", encoding="utf-8") as f:
        short = [f"{r['title']}. {r['description']}" for r in csv.DictReader(f)][:n_short]
    with open(data / "bbc_news" / "bbc_news.csv", newline="", encoding="utf-8") as f:
        long = [f"{r['title']}. {r['text']}" for r in csv.DictReader(f)][:n_long]
    return {"short": short, "long": long}


def _time_it(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def worker(kind: str, texts_file: str, out_file: str, threads: int) -> None:
    """Runs inside a fresh process: load one encoder, time it, save embeddings."""
    texts = json.loads(Path(texts_file).read_text())
    t0 = time.perf_counter()
    if kind == "st":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model_dir = texts["model_dir"]
        st = SentenceTransformer(model_dir, device="cpu")

        def encode(batch: list[str], bs: int = 32) -> np.ndarray:
            return st.encode(batch, batch_size=bs, normalize_embeddings=True)
    else:
        sys.path.insert(0, str(ROOT / "src"))
        from earmark.tagging.encoder import EncoderOptions, MiniLMEncoder

        enc = MiniLMEncoder(EncoderOptions(backend=kind, threads=threads))

        def encode(batch: list[str], bs: int = 32) -> np.ndarray:
            return enc.encode(batch)

    load_s = time.perf_counter() - t0
    encode(["warm up"])
    result: dict[str, object] = {"load_s": load_s}
    embeddings = {}
    for name in ("short", "long"):
        batch = texts[name]
        secs = _time_it(lambda b=batch: encode(b), 2)
        result[f"{name}_batched_ms"] = 1000 * secs / len(batch)
        one = batch[:16]
        secs1 = _time_it(lambda o=one: [encode([t]) for t in o], 2)
        result[f"{name}_single_ms"] = 1000 * secs1 / len(one)
        embeddings[name] = encode(batch)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.savez(out_file, **embeddings)
    Path(out_file + ".json").write_text(json.dumps(result))


def du_mb(paths: list[Path]) -> float:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        for f in p.rglob("*") if p.is_dir() else []:
            if f.is_file() and not f.is_symlink():
                total += f.stat().st_size
    return total / 1e6


def site_packages(python: str) -> Path:
    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--torch-python", help="python of a venv with torch + sentence-transformers")
    ap.add_argument("--backends", default="onnx,numpy", help="earmark backends to run")
    ap.add_argument("--short", type=int, default=256, help="number of short texts (AG News)")
    ap.add_argument("--long", type=int, default=64, help="number of long texts (BBC)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.texts, args.out, args.threads)
        return
    sys.path.insert(0, str(ROOT / "src"))
    from earmark.tagging.encoder import minilm_model_dir

    texts = load_texts(args.short, args.long)
    tmp = Path(tempfile.mkdtemp(prefix="encbench"))
    (tmp / "texts.json").write_text(json.dumps({**texts, "model_dir": str(minilm_model_dir())}))
    runs = [(b, sys.executable) for b in args.backends.split(",") if b]
    if args.torch_python:
        runs.append(("st", args.torch_python))
    results: dict[str, dict[str, float]] = {}
    embs: dict[str, dict[str, np.ndarray]] = {}
    for kind, python in runs:
        out = str(tmp / f"{kind}.npz")
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        subprocess.run(
            [
                python,
                __file__,
                "--worker",
                kind,
                "--texts",
                str(tmp / "texts.json"),
                "--out",
                out,
                "--threads",
                str(args.threads),
            ],
            check=True,
            env=env,
        )
        results[kind] = json.loads(Path(out + ".json").read_text())
        embs[kind] = dict(np.load(out))
    ref = "st" if "st" in embs else runs[0][0]
    print(
        f"texts: {args.short} short (AG News), {args.long} long (BBC, truncated at 256 word pieces); "
        f"{args.threads} threads; agreement vs {ref}"
    )
    print(
        "| encoder | load s | short ms/text batched | short ms single | long ms/text batched "
        "| long ms single | peak RSS MB | max abs diff short / long |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind, r in results.items():
        diff = " / ".join(
            f"{np.abs(embs[kind][n] - embs[ref][n]).max():.1e}" for n in ("short", "long")
        )
        print(
            f"| {kind} | {r['load_s']:.2f} | {r['short_batched_ms']:.2f} | {r['short_single_ms']:.2f} | "
            f"{r['long_batched_ms']:.2f} | {r['long_single_ms']:.2f} | {r['peak_rss_mb']:.0f} | {diff} |"
        )
    sp = site_packages(sys.executable)
    ours = ["onnxruntime", "tokenizers", "safetensors", "numpy", "numpy.libs"]
    print(
        f"install size (earmark onnx path, already needed by faster-whisper except safetensors): "
        f"{du_mb([sp / p for p in ours]):.0f} MB ({', '.join(ours)})"
    )
    if args.torch_python:
        tsp = site_packages(args.torch_python)
        theirs = [
            p
            for p in tsp.iterdir()
            if p.name.split("-")[0].split(".")[0] not in ("pip", "setuptools")
        ]
        print(f"install size (torch venv, everything): {du_mb(theirs):.0f} MB")


if __name__ == "__main__":
    main()
