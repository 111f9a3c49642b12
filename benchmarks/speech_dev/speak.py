#!/usr/bin/env python3
"""Render a deterministic subset of the speech_dev transcripts to audio with espeak-ng.

For "tag from the audio" benchmarks: the audio goes through earmark's ASR and the
tagger, and the result is compared with `gold` / `also` in the manifest.

    python benchmarks/speech_dev/speak.py --out /tmp/speech_audio            # every 3rd item
    python benchmarks/speech_dev/speak.py --out DIR --every 1 --split test
    python benchmarks/speech_dev/speak.py --out DIR --limit 8                # a quick trial

Which items: the items of the chosen files (default media.jsonl and offtopic.jsonl),
in file order, filtered by --split, then every --every-th one (positions 0, N, 2N...).
For the k-th chosen item the voice, the speaking rate and the container cycle with
co-prime periods (7 voices, 5 rates, 4 containers), so the same arguments always
give the same files and the combinations are spread out:

  voices      en-us, en-gb-x-rp+m3, en-us+f3, en-gb-scotland+f2, en+klatt, en-029+m5,
              en-us-nyc+f4   (items with a non-English `language` use that language's
              espeak-ng voice)
  rates       150, 158, 165, 172, 180 words per minute
  containers  wav (16-bit PCM), mp3 (libmp3lame), mp4 (AAC audio only),
              mp4 with a black 320x240 H.264 video track plus AAC audio ("mp4v")

Writes DIR/<id>.<ext> and DIR/manifest.jsonl (one line per file: id, file, voice,
speed_wpm, container, video, gold, also, hard, split, list, language, words,
duration_s). Needs espeak-ng and, for mp3/mp4, ffmpeg (ffprobe for durations):

    apt-get install espeak-ng ffmpeg

Stdlib only (plus those programs, run through subprocess).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILES = ["media.jsonl", "offtopic.jsonl"]
VOICES = [
    "en-us",
    "en-gb-x-rp+m3",
    "en-us+f3",
    "en-gb-scotland+f2",
    "en+klatt",
    "en-029+m5",
    "en-us-nyc+f4",
]
SPEEDS = [150, 158, 165, 172, 180]
CONTAINERS = ["wav", "mp3", "mp4", "mp4v"]
LANG_VOICE = {"de": "de", "fr": "fr-fr", "es": "es", "it": "it", "pt": "pt", "nl": "nl"}
INSTALL = "apt-get install espeak-ng ffmpeg"


def fail(msg: str) -> None:
    print(f"speak.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load(files: list[str]) -> list[dict]:
    items = []
    for name in files:
        p = Path(name) if Path(name).exists() else HERE / name
        if not p.exists():
            fail(f"no such file: {name}")
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                items.append(json.loads(line))
    return items


def choose(items: list[dict], split: str, every: int) -> list[dict]:
    pool = [d for d in items if split == "all" or d["split"] == split]
    return pool[::every]


def plan(k: int, item: dict) -> dict:
    lang = item.get("language", "en")
    voice = VOICES[k % len(VOICES)] if lang == "en" else LANG_VOICE.get(lang, lang)
    return {
        "voice": voice,
        "speed_wpm": SPEEDS[k % len(SPEEDS)],
        "container": CONTAINERS[k % len(CONTAINERS)],
    }


def run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()[-2000:]}")


def duration(path: Path) -> float | None:
    if path.suffix == ".wav":
        with wave.open(str(path)) as w:
            return round(w.getnframes() / w.getframerate(), 2)
    if shutil.which("ffprobe"):
        r = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "default=nw=1:nk=1",
                str(path),
            ],
            capture_output=True,
            text=True,
        )
        try:
            return round(float(r.stdout.strip()), 2)
        except ValueError:
            return None
    return None


def render(item: dict, p: dict, out: Path, tmp: Path) -> Path:
    txt = tmp / "text.txt"
    txt.write_text(item["text"], encoding="utf-8")
    wav = tmp / "speech.wav"
    run(["espeak-ng", "-v", p["voice"], "-s", str(p["speed_wpm"]), "-f", str(txt), "-w", str(wav)])
    c = p["container"]
    if c == "wav":
        dest = out / f"{item['id']}.wav"
        shutil.copyfile(wav, dest)
        return dest
    ff = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    if c == "mp3":
        dest = out / f"{item['id']}.mp3"
        run([*ff, "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "64k", str(dest)])
    elif c == "mp4":
        dest = out / f"{item['id']}.mp4"
        run(
            [
                *ff,
                "-i",
                str(wav),
                "-c:a",
                "aac",
                "-b:a",
                "96k",
                "-movflags",
                "+faststart",
                str(dest),
            ]
        )
    else:  # mp4v: black video track plus the audio
        dest = out / f"{item['id']}.mp4"
        run(
            [
                *ff,
                "-f",
                "lavfi",
                "-i",
                "color=black:s=320x240:r=5",
                "-i",
                str(wav),
                "-shortest",
                "-c:v",
                "libx264",
                "-tune",
                "stillimage",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "96k",
                "-movflags",
                "+faststart",
                str(dest),
            ]
        )
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--every", type=int, default=3, help="take every N-th item (default 3)")
    ap.add_argument("--split", choices=["tune", "test", "all"], default="all")
    ap.add_argument(
        "--files",
        nargs="+",
        default=DEFAULT_FILES,
        help="JSONL files (names in this folder or paths); default: %(default)s",
    )
    ap.add_argument("--limit", type=int, default=0, help="stop after this many items (0: all)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan, render nothing")
    a = ap.parse_args(argv)
    if a.every < 1:
        fail("--every must be >= 1")

    chosen = choose(load(a.files), a.split, a.every)
    if a.limit:
        chosen = chosen[: a.limit]
    plans = [plan(k, d) for k, d in enumerate(chosen)]
    if a.dry_run:
        for d, p in zip(chosen, plans, strict=False):
            print(d["id"], p["voice"], p["speed_wpm"], p["container"], d["gold"])
        return 0

    if not shutil.which("espeak-ng"):
        fail(f"espeak-ng is not installed (it speaks the transcripts). Install it with: {INSTALL}")
    if any(p["container"] != "wav" for p in plans) and not shutil.which("ffmpeg"):
        fail(
            f"ffmpeg is not installed (it writes the mp3 and mp4 files). Install it with: {INSTALL}"
        )

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as t:
        for n, (d, p) in enumerate(zip(chosen, plans, strict=False), 1):
            dest = render(d, p, out, Path(t))
            row = {
                "id": d["id"],
                "file": dest.name,
                **p,
                "video": p["container"] == "mp4v",
                "gold": d["gold"],
                "also": d["also"],
                "hard": bool(d.get("hard")),
                "split": d["split"],
                "list": d["list"],
                "language": d.get("language", "en"),
                "words": len(d["text"].split()),
                "duration_s": duration(dest),
            }
            rows.append(row)
            print(
                f"[{n}/{len(chosen)}] {dest.name}  {p['voice']}  {p['speed_wpm']} wpm  "
                f"{p['container']}  {row['duration_s']} s",
                flush=True,
            )
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} files and {out / 'manifest.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
