"""LLM benchmark: local provider speed, gateway overhead, and LLM-tagger accuracy.

    python benchmarks/llm_bench.py                       # everything, 100 rows per dataset
    python benchmarks/llm_bench.py --rows 200 --only speed,gateway,tagging

- speed: tokens/s of the local provider (bundled SmolLM2-135M Q4_1, llama.cpp via cyllama),
  prompt processing and generation measured separately, threads = cores.
- gateway: latency of ``POST /v1/chat/completions`` on a real earmark server (uvicorn on
  127.0.0.1) against calling the same provider directly: once with an instant provider
  (pure HTTP + routing + JSON overhead) and once with the local model.
- tagging: accuracy of the LLM tagger (local, calibrated log-likelihood scoring) beside the
  embedding tagger on the same rows: AG News (4 tags), BBC (5 media tags), HuffPost (15
  media tags), BANKING77 -> the support preset (5 tags). Threshold 0 (always a tag).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from earmark.config import LLMSettings  # noqa: E402
from earmark.llm import (  # noqa: E402
    ChatRequest,
    Message,
    Provider,
    ProviderConfig,
    Route,
    Router,
)
from earmark.llm.local import LocalProvider  # noqa: E402
from earmark.llm.openai import OpenAIProvider  # noqa: E402
from earmark.tagging.base import TagOptions  # noqa: E402

KEY = "bench-key"
LONG_PROMPT = (
    "Here is a meeting transcript. The team discussed the quarterly budget, hiring plans for "
    "the support group, the migration of the billing system to the new provider, and customer "
    "complaints about login problems after the last release. "
) * 12


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def bench_speed(reps: int) -> list[str]:
    """Prompt-processing and generation tokens/s of the local provider."""
    provider = LocalProvider(ProviderConfig(threads=LLMSettings().llm_threads))
    model = provider._model()
    prompt = ChatRequest("bench", (Message("user", LONG_PROMPT + "Summarise it."),), max_tokens=1)
    gen = ChatRequest(
        "bench",
        (Message("user", "Write a long story about a lighthouse keeper and the sea."),),
        max_tokens=128,
        temperature=0.0,
    )
    provider.chat(gen)  # warm up
    pp, tg = [], []
    for _ in range(reps):
        model.cached = []
        t0 = time.perf_counter()
        r = provider.chat(prompt)
        pp.append(r.usage.prompt_tokens / (time.perf_counter() - t0))
        model.cached = []
        t0 = time.perf_counter()
        provider.chat(ChatRequest(gen.model, gen.messages, max_tokens=1))
        t_prefill = time.perf_counter() - t0
        model.cached = []
        t0 = time.perf_counter()
        r = provider.chat(gen)
        t_total = time.perf_counter() - t0
        tg.append((r.usage.completion_tokens - 1) / max(1e-6, t_total - t_prefill))
    n_prompt = provider.count_tokens(LONG_PROMPT)
    return [
        f"| measure | tokens/s (median of {reps}) |",
        "|---|---|",
        f"| prompt processing (~{n_prompt}-token prompt, cold cache) | {_median(pp):.0f} |",
        f"| generation (128 tokens, greedy) | {_median(tg):.1f} |",
        f"| threads | {provider.threads} |",
    ]


STUB_UPSTREAM = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
BODY = json.dumps({"id": "x", "object": "chat.completion", "model": "stub", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}).encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_gateway(reps: int) -> list[str]:
    """Gateway latency against calling the same provider directly.

    earmark runs as its own ``earmark serve`` process (a server in a thread of the client's
    process adds ~44 ms per request on this box, for any FastAPI app). The "stub upstream"
    row routes to a separate OpenAI-compatible stub that answers at once, so its overhead is
    earmark's own (auth, routing, validation, JSON, one extra HTTP hop).
    """
    import httpx

    rows = ["| provider | direct call (median) | through the gateway (median) | overhead |",
            "|---|---|---|---|"]  # fmt: skip
    stub_port, port = _free_port(), _free_port()
    stub_url = f"http://127.0.0.1:{stub_port}/v1"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EARMARK_")}
        env.update(EARMARK_API_KEYS=KEY, EARMARK_DATA_DIR=tmp, HF_HUB_OFFLINE="1",
                   EARMARK_LLM_ROUTES="stub=openai,*=local", EARMARK_OPENAI_BASE_URL=stub_url)  # fmt: skip
        procs = [_spawn([sys.executable, "-c", STUB_UPSTREAM, str(stub_port)], env)]
        earmark = str(Path(sys.executable).with_name("earmark"))
        procs.append(_spawn([earmark, "serve", "--port", str(port), "--log-level", "warning"], env))
        try:
            url = f"http://127.0.0.1:{port}"
            _wait(url + "/health")
            with httpx.Client(base_url=url, headers={"authorization": KEY}, timeout=120) as c:
                cases: list[tuple[str, Provider, str, int]] = [
                    ("stub upstream (openai provider)",
                     OpenAIProvider(ProviderConfig(base_url=stub_url, retries=0)), "stub", 1),
                    ("local SmolLM2, 8 tokens", LocalProvider(ProviderConfig()), "local", 8),
                    ("local SmolLM2, 64 tokens", LocalProvider(ProviderConfig()), "local", 64),
                ]  # fmt: skip
                for label, provider, model, max_tokens in cases:
                    body = {
                        "model": model,
                        "messages": [{"role": "user", "content": "Name a colour."}],
                        "max_tokens": max_tokens,
                        "temperature": 0,
                    }
                    request = ChatRequest(
                        model, (Message("user", "Name a colour."),), max_tokens, 0.0
                    )
                    for _ in range(3):  # warm up both paths
                        provider.chat(request)
                        c.post("/v1/chat/completions", json=body).raise_for_status()
                    # Not interleaved: llama.cpp threads keep spinning for a moment after
                    # a call and would slow the other process down.
                    direct, gateway = [], []
                    for _ in range(reps):
                        t0 = time.perf_counter()
                        provider.chat(request)
                        direct.append(time.perf_counter() - t0)
                    time.sleep(0.5)
                    for _ in range(reps):
                        t0 = time.perf_counter()
                        c.post("/v1/chat/completions", json=body).raise_for_status()
                        gateway.append(time.perf_counter() - t0)
                    d, g = _median(direct) * 1000, _median(gateway) * 1000
                    rows.append(f"| {label} | {d:.2f} ms | {g:.2f} ms | {g - d:+.2f} ms |")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(20)
    return rows


TEXT_FIRST_PROMPT = (
    "{text}\n\nWhich one of these topics is the text above about?\n{tag_lines}\n\n"
    "Answer with the topic name only."
)


def bench_tagging(rows_per_set: int, variants: bool, only_sets: set[str]) -> list[str]:
    """LLM tagger (local) beside the embedding tagger on the tagging benchmark sets."""
    from tagging_bench import AG_MAP, AG_TAGS, BANK_MAP, BBC_MAP, _balanced, _csv, data_dir

    from earmark.tagging import load_tags
    from earmark.tagging.embedding import EmbeddingTagger
    from earmark.tagging.evaluate import evaluate
    from earmark.tagging.llm import LLMTagger, LLMTaggerOptions

    d = data_dir()
    media = load_tags("media")
    sets: list[tuple[str, Any, list[tuple[str, str]]]] = []
    ag = [
        (f"{r['title']}. {r['description']}", AG_MAP[r["label"]])
        for r in _csv(d / "ag_news/test.csv")
    ]
    sets.append(("AG News", load_tags(AG_TAGS), _balanced(ag, rows_per_set // 4)))
    bbc = [
        (f"{r['title']}. {r['text']}", BBC_MAP[r["category"]])
        for r in _csv(d / "bbc_news/bbc_news.csv")
    ]
    bbc_tags = load_tags({n: media.as_dict()[n] for n in BBC_MAP.values()})
    sets.append(("BBC News (full articles)", bbc_tags, _balanced(bbc, rows_per_set // 5)))
    hp = _csv(d / "huffpost_news_category/huffpost_2018-2022_subset.csv")[:rows_per_set]
    sets.append(("HuffPost -> media (first rows)", media,
                 [(f"{r['headline']}. {r['short_description']}".strip(), r["mapped_tag"]) for r in hp]))  # fmt: skip
    coarse = {r["banking77_intent"]: r["coarse_callcentre_category"]
              for r in _csv(d / "banking77/intent_to_coarse_category.csv")}  # fmt: skip
    bank = [(r["text"], BANK_MAP[coarse[r["category"]]]) for r in _csv(d / "banking77/test.csv")]
    sets.append(
        ("BANKING77 -> support (odd rows)", load_tags("support"), bank[1::2][::6][:rows_per_set])
    )
    router = Router([Route("*", "local")])
    llm = LLMTagger(router=router)
    llm_text_first = LLMTagger(LLMTaggerOptions(prompt=TEXT_FIRST_PROMPT), router)
    emb = EmbeddingTagger()
    opts = TagOptions(threshold=0.0, per_window=False)
    taggers: list[tuple[str, Any]] = [
        ("embedding (MiniLM)", emb),
        ("LLM, local SmolLM2-135M, guide prompt (default)", llm),
    ]
    if variants:
        taggers.append(("LLM, local SmolLM2-135M, text-first prompt", llm_text_first))
    out = [
        "| dataset | rows | tags | tagger | accuracy | macro-F1 | ms/text |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(out), flush=True)
    for name, tags, items in sets:
        if only_sets and not any(name.lower().startswith(k) for k in only_sets):
            continue
        for label, tagger in taggers:
            r = evaluate(tagger, tags, items, opts)
            out.append(f"| {name} | {r.n} | {len(tags.tags)} | {label} | {r.accuracy:.1%} | "
                       f"{r.macro_f1:.3f} | {r.ms_per_item:.0f} |")  # fmt: skip
            print(out[-1], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=100, help="rows per tagging dataset")
    ap.add_argument("--reps", type=int, default=20, help="repetitions for latency and speed")
    ap.add_argument("--sets", default="", help="tagging sets to run: ag,bbc,huffpost,banking77")
    ap.add_argument("--variants", action="store_true", help="also try a text-first prompt")
    ap.add_argument("--only", default="", help="comma-separated subset of: speed,gateway,tagging")
    args = ap.parse_args()
    only = set(args.only.split(",")) - {""}
    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python "
          f"{platform.python_version()}, load average at start {load[0]:.2f}\n")  # fmt: skip
    if not only or "speed" in only:
        print(
            "## Local provider speed\n\n" + "\n".join(bench_speed(max(3, args.reps // 4))) + "\n",
            flush=True,
        )
    if not only or "gateway" in only:
        print("## Gateway overhead\n\n" + "\n".join(bench_gateway(args.reps)) + "\n", flush=True)
    if not only or "tagging" in only:
        print("## LLM tagger accuracy\n")
        bench_tagging(args.rows, args.variants, set(args.sets.split(",")) - {""})


if __name__ == "__main__":
    main()
