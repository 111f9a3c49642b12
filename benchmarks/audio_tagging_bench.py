"""Tags from the audio: the speech development set spoken by espeak-ng, transcribed, tagged.

    python benchmarks/audio_tagging_bench.py                       # every 3rd test item
    python benchmarks/audio_tagging_bench.py --every 2 --split test --work /tmp/audio

What it does: ``speech_dev/speak.py`` renders every ``--every``-th item of the chosen
split of each file (media + off-topic, support calls, both authors) with espeak-ng (7
voices, 5 rates, wav / mp3 / mp4 / mp4 with a video track); earmark transcribes each file
(the default Whisper base, int8, CPU, as ``earmark.transcribe``); the transcript and the
written text of the same items are tagged with the default tagger and with plain cosine
(``speech_tagging_bench.ChunkCosine``), in the same run. Audio and transcripts are kept in
``--work`` and reused when they are there (``--fresh`` renders and transcribes again).

Reports, per list (media with its off-topic items, support with its "none" calls) and
source (written text, audio): lenient accuracy, none-rate, keep-rate; then the word error
rate of the transcripts against the written text (lower case, punctuation dropped), and
the real-time factor of the transcription.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import speech_tagging_bench as sb  # noqa: E402

import earmark  # noqa: E402
from earmark.tagging import get_tagger, load_tags  # noqa: E402
from earmark.tagging.embedding import EmbeddingTagger  # noqa: E402

GROUPS = {
    "media": ("media.jsonl", "offtopic.jsonl", "media_more.jsonl", "offtopic_more.jsonl"),
    "support": ("support.jsonl", "support_na.jsonl"),
}


def render(work: Path, every: int, split: str, fresh: bool) -> list[dict[str, object]]:
    """The manifest rows of the rendered files (speak.py's), one folder per group."""
    rows: list[dict[str, object]] = []
    for group, files in GROUPS.items():
        out = work / group
        manifest = out / "manifest.jsonl"
        if fresh or not manifest.exists():
            cmd = [sys.executable, str(ROOT / "benchmarks/speech_dev/speak.py"), "--out", str(out)]
            cmd += ["--every", str(every), "--split", split, "--files", *files]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for line in manifest.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row["path"] = str(out / Path(str(row["file"])).name)
                rows.append(row)
    return rows


def transcripts(
    rows: list[dict[str, object]], work: Path, fresh: bool
) -> dict[str, dict[str, object]]:
    """id -> {text, seconds, audio_s}: earmark's transcript of each file (cached in work)."""
    cache = work / "transcripts.jsonl"
    done: dict[str, dict[str, object]] = {}
    if cache.exists() and not fresh:
        for line in cache.read_text("utf-8").splitlines():
            r = json.loads(line)
            done[str(r["id"])] = r
    with open(cache, "a", encoding="utf-8") as f:
        for k, row in enumerate(rows):
            if str(row["id"]) in done:
                continue
            t0 = time.perf_counter()
            tr = earmark.transcribe(str(row["path"]))
            r = {
                "id": row["id"],
                "text": tr.text,
                "seconds": time.perf_counter() - t0,
                "audio_s": tr.duration_ms / 1000,
                "language": tr.language,
            }
            done[str(row["id"])] = r
            f.write(json.dumps(r) + "\n")
            f.flush()
            print(
                f"  [{k + 1}/{len(rows)}] {row['id']}: {r['audio_s']:.0f} s audio in {r['seconds']:.1f} s",
                file=sys.stderr,
            )
    return done


def _norm(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(edits, reference words) of a word-level Levenshtein alignment."""
    r, h = _norm(ref), _norm(hyp)
    prev = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, hw in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rw != hw))
        prev = cur
    return prev[-1], len(r)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--work", type=Path, default=Path("/tmp/earmark-audio-tagging"))
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--split", choices=("tune", "test", "all"), default="test")
    ap.add_argument("--fresh", action="store_true", help="render and transcribe again")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = render(args.work, args.every, args.split, args.fresh)
    heard = transcripts(rows, args.work, args.fresh)
    texts = {str(r["id"]): r for f in (*GROUPS["media"], *GROUPS["support"]) for r in sb._jsonl(f)}
    earmark_tagger = get_tagger("embedding")
    assert isinstance(earmark_tagger, EmbeddingTagger)
    methods = (("plain cosine", sb.ChunkCosine(earmark_tagger)), ("earmark", earmark_tagger))
    print(
        f"{len(rows)} files, every {args.every}th {args.split} item; {platform.processor() or platform.machine()}"
    )
    print(
        "\n| list | items | source | method | lenient | none-rate | keep-rate |\n|---|---|---|---|---|---|---|"
    )
    for group in GROUPS:
        ids = [str(r["id"]) for r in rows if str(r["list"]) == group]
        for source in ("written text", "audio (espeak-ng, Whisper base)"):
            items = []
            for i in ids:
                ref = texts[i]
                text = str(ref["text"]) if source == "written text" else str(heard[i]["text"])
                items.append(
                    sb.Item(
                        text,
                        ref["gold"] if isinstance(ref["gold"], str) else None,
                        tuple(ref.get("also") or ()),
                    )
                )  # type: ignore[arg-type]
            for label, tagger in methods:
                s = sb.score(tagger, load_tags(group), items)
                print(
                    f"| {group} | {s.n} | {source} | {label} | {s.lenient:.3f} | {sb._pct(s.none_rate)} | {sb._pct(s.keep_rate)} |"
                )
    edits = words = 0
    audio = secs = 0.0
    for r in rows:
        e, n = wer(str(texts[str(r["id"])]["text"]), str(heard[str(r["id"])]["text"]))
        edits, words = edits + e, words + n
        audio += float(heard[str(r["id"])]["audio_s"])  # type: ignore[arg-type]
        secs += float(heard[str(r["id"])]["seconds"])  # type: ignore[arg-type]
    print(
        f"\nWER of the transcripts vs the written text: {edits / max(words, 1):.3f} ({words} words)"
    )
    print(
        f"audio {audio / 60:.1f} min transcribed in {secs / 60:.1f} min ({audio / max(secs, 1e-9):.1f}x real time)"
    )


if __name__ == "__main__":
    main()
