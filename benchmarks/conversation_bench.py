"""Conversation benchmark: repetition loops, same-audio-same-text, never stopping mid-audio,
code-switching, and tagging across languages, with Whisper base on CPU.

Two decodings are compared on the same decoded samples:

* ``old``: faster-whisper's own defaults, run straight through ``engine._model.transcribe``
  (temperature fallback ``[0.0, 0.2, ..., 1.0]``, condition on previous text, no loop
  collapse, no repeated-segment drop), with earmark's beam 2 and word timestamps so that
  only the decoding policy differs;
* ``new``: earmark's defaults, ``Runtime.transcribe(audio, ASROptions(model="base"))``
  (temperature 0, loops collapsed, repeated segments dropped).

Sections (``--sections``, default all):

1. ``loops``: LibriSpeech test-other (100 utterances), a MInDS-14 sample (8 kHz phone audio,
   stratified over the 14 intents), ``asr_samples/audio/*`` and long files made by
   concatenating the LibriSpeech utterances (~6.4 min each). Loops (``count_loops``),
   WER (``corpus_wer``), x realtime. The same run feeds sections 2 and 3.
2. ``determinism``: a fixed subset (plus every file where ``old`` fell back to sampling)
   transcribed twice more in this process and once in a fresh process.
3. gaps (computed with ``loops``): tail gap after the last word and the longest stretch of
   Silero-VAD speech that got no words.
4. ``codeswitch``: ``multilingual.mp3`` and 10 recordings built with espeak-ng (blocks and
   sentence-by-sentence switching), old vs new single-language vs ``multilingual=True``.
5. ``tagging``: the 45 items of ``speech_dev/multilingual.jsonl`` spoken with espeak-ng
   (``speak.py``), tagged with the ``media`` preset from the transcript, from Whisper's
   English translation (``Runtime.english_for_tagging``), and by plain MiniLM cosine.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/conversation_bench.py            # ~25 min
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/conversation_bench.py --quick    # ~5 min
    ... --sections codeswitch tagging --json /tmp/conv.json

Prints Markdown tables; ``--json`` keeps every per-file number and text.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import subprocess
import sys
import time
import wave
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LIBRI = DATA / "librispeech_test_other_subset"
MINDS = DATA / "minds14_en"
SAMPLES = DATA / "asr_samples"
SPEECH_DEV = REPO / "benchmarks" / "speech_dev"
SR = 16_000
OLD_TEMPERATURES = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
BEAM = 2  # earmark's default beam, used by both decodings


# --------------------------------------------------------------------------- data


@dataclass
class Item:
    name: str
    set: str
    path: Path
    ref: str | None = None
    samples: Any = None  # float32 16 kHz, decoded once

    @property
    def seconds(self) -> float:
        return len(self.samples) / SR


def libri_rows() -> list[dict[str, str]]:
    with (LIBRI / "transcripts.tsv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def minds_rows(n: int) -> list[dict[str, str]]:
    """``n`` clips with audio, spread evenly over intents (then varieties) in a fixed order."""
    with (MINDS / "metadata_all_1809.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["audio_included"] == "1"]
    by_intent: dict[str, list[dict[str, str]]] = {}
    for r in sorted(rows, key=lambda r: (r["intent"], r["language_variety"], r["file_name"])):
        by_intent.setdefault(r["intent"], []).append(r)
    per = max(1, -(-n // len(by_intent)))
    out: list[dict[str, str]] = []
    for group in by_intent.values():
        step = max(1, len(group) // per)
        out.extend(group[::step][:per])
    return out[:n]


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def decode(path: Path) -> np.ndarray:
    from earmark.audio.decode import decode_audio

    return decode_audio(path).samples


def long_files(work: Path, count: int) -> list[Item]:
    """The LibriSpeech utterances back to back, split into ``count`` recordings."""
    rows = libri_rows()
    out: list[Item] = []
    if count < 1:
        return out
    per = -(-len(rows) // count)
    for k in range(count):
        part = rows[k * per : (k + 1) * per]
        dest = work / f"long_libri_{k}.wav"
        if not dest.is_file():
            write_wav(dest, np.concatenate([decode(LIBRI / r["audio_path"]) for r in part]))
        ref = " ".join(r["transcript"] for r in part)
        out.append(Item(f"long_libri_{k}", "long", dest, ref))
    return out


def asr_items(args: argparse.Namespace, work: Path) -> list[Item]:
    items: list[Item] = []
    for r in libri_rows()[: args.libri]:
        items.append(Item(r["utt_id"], "librispeech", LIBRI / r["audio_path"], r["transcript"]))
    for r in minds_rows(args.minds):
        name = r["file_name"]
        items.append(Item(name, "minds14", MINDS / "audio" / name, r["transcript"]))
    refs = {}
    with (SAMPLES / "transcripts.tsv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            refs.setdefault(r["audio_path"], r["reference_transcript"])
    for p in sorted((SAMPLES / "audio").iterdir()):
        ref = refs.get(f"audio/{p.name}") if p.name == "jfk.flac" else None
        items.append(Item(p.stem, "samples", p, ref))
    items.extend(long_files(work, args.long))
    for it in items:
        it.samples = decode(it.path)
    return items


# --------------------------------------------------------------------------- decoding


@dataclass
class Run:
    text: str
    segments: list[dict[str, Any]]  # start, end, text, language, temperature
    words: list[tuple[float, float]]  # word (start, end) in seconds
    language: str
    seconds: float
    fallback_segments: int = 0


class Decoder:
    def __init__(self) -> None:
        from earmark.api import runtime
        from earmark.asr.base import ASROptions

        self.rt = runtime()
        self.ASROptions = ASROptions
        self.engine = self.rt.engine(ASROptions(model="base"))

    def old(self, samples: np.ndarray, language: str | None = None) -> Run:
        """faster-whisper defaults (fallback, condition on previous text, no collapse)."""
        t0 = time.perf_counter()
        segs, info = self.engine._model.transcribe(  # type: ignore[attr-defined]
            samples,
            language=language,
            beam_size=BEAM,
            word_timestamps=True,
            temperature=OLD_TEMPERATURES,
            condition_on_previous_text=True,
        )
        out, words, fallback = [], [], 0
        for s in segs:
            out.append(
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text.strip(),
                    "language": info.language,
                    "temperature": s.temperature,
                }
            )
            fallback += bool(s.temperature and s.temperature > 0)
            words.extend((w.start, w.end) for w in (s.words or []))
        text = " ".join(s["text"] for s in out if s["text"])
        return Run(text, out, words, info.language, time.perf_counter() - t0, fallback)

    def new(self, samples: np.ndarray, **options: Any) -> Run:
        from earmark.types import AudioData

        t0 = time.perf_counter()
        tr = self.rt.transcribe(
            AudioData(samples=samples), self.ASROptions(model="base", **options)
        )
        segs = [
            {
                "start": s.start_ms / 1000,
                "end": s.end_ms / 1000,
                "text": s.text,
                "language": s.language or tr.language,
                "temperature": 0.0,
            }
            for s in tr.segments
        ]
        words = [(w.start_ms / 1000, w.end_ms / 1000) for s in tr.segments for w in s.words]
        return Run(tr.text, segs, words, tr.language, time.perf_counter() - t0)


# --------------------------------------------------------------------------- metrics


def loop_stats(run: Run) -> dict[str, int]:
    from earmark.asr.loops import count_loops, normalize_for_loops

    seg_loops = [count_loops(s["text"]) for s in run.segments]
    keys = [normalize_for_loops(s["text"]) for s in run.segments]
    repeated = sum(1 for a, b in itertools.pairwise(keys) if a and a == b)
    return {
        "segments": len(run.segments),
        "segments_with_loops": sum(1 for n in seg_loops if n),
        "loops": count_loops(run.text),  # over the whole text: catches cross-segment loops
        "repeated_segments": repeated,
    }


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(min_silence_duration_ms=300, speech_pad_ms=0)
    return [(c["start"] / SR, c["end"] / SR) for c in get_speech_timestamps(samples, opts)]


def _overlap(a: float, b: float, regions: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in regions)


def gap_stats(run: Run, duration: float, speech: list[tuple[float, float]]) -> dict[str, float]:
    """Tail gap (audio end - last word end) and the most VAD speech inside any word gap."""
    words = sorted(run.words)
    edges = [0.0] + [x for w in words for x in w] + [duration]
    gaps = [(edges[i], edges[i + 1]) for i in range(0, len(edges) - 1, 2)]
    speech_in = [_overlap(a, b, speech) for a, b in gaps if b > a]
    last_end = words[-1][1] if words else 0.0
    return {
        "tail_gap_s": round(max(0.0, duration - last_end), 2),
        "tail_speech_s": round(_overlap(last_end, duration, speech), 2),
        "max_gap_speech_s": round(max(speech_in, default=0.0), 2),
        "speech_s": round(sum(e - s for s, e in speech), 2),
    }


def wer(pairs: list[tuple[str, str]]) -> float | None:
    from earmark.asr.wer import corpus_wer

    return corpus_wer(pairs) if pairs else None


# --------------------------------------------------------------------------- sections 1-3


def run_asr_sections(args: argparse.Namespace, dec: Decoder, work: Path) -> dict[str, Any]:
    items = asr_items(args, work)
    print(f"# {len(items)} files, {sum(i.seconds for i in items) / 60:.1f} min", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    for n, it in enumerate(items):
        speech = speech_regions(it.samples)
        order = ("old", "new") if n % 2 == 0 else ("new", "old")  # background load hits both
        runs: dict[str, Run] = {}
        for mode in order:
            runs[mode] = dec.old(it.samples) if mode == "old" else dec.new(it.samples)
        results[it.name] = {
            "set": it.set,
            "seconds": it.seconds,
            "ref": it.ref,
            **{
                mode: {
                    "text": r.text,
                    "language": r.language,
                    "wall_s": r.seconds,
                    "fallback_segments": r.fallback_segments,
                    "segment_list": r.segments,
                    **loop_stats(r),
                    **gap_stats(r, it.seconds, speech),
                }
                for mode, r in runs.items()
            },
        }
        print(
            f"[{n + 1}/{len(items)}] {it.name} {it.seconds:.0f}s "
            f"old {runs['old'].seconds:.1f}s new {runs['new'].seconds:.1f}s",
            file=sys.stderr,
            flush=True,
        )
    out: dict[str, Any] = {"files": results}
    if "determinism" in args.sections:
        out["determinism"] = determinism(args, dec, items, results)
    return out


def determinism(
    args: argparse.Namespace, dec: Decoder, items: list[Item], results: dict[str, Any]
) -> dict[str, Any]:
    by_set: dict[str, list[Item]] = {}
    for it in items:
        by_set.setdefault(it.set, []).append(it)
    fixed: list[Item] = []
    for s, k in (("librispeech", args.det_short), ("minds14", args.det_short)):
        group = by_set.get(s, [])
        step = max(1, len(group) // max(1, k))
        fixed.extend(group[::step][:k])
    fixed += [i for i in by_set.get("samples", []) if i.name in ("jfk", "multilingual")]
    fixed += by_set.get("long", [])[:1]
    fell = [it for it in items if results[it.name]["old"]["fallback_segments"] and it not in fixed][
        : args.det_fallback
    ]
    texts: dict[str, dict[str, list[str]]] = {}
    for it in fixed + fell:
        texts[it.name] = {}
        for mode in ("old", "new"):
            got = [results[it.name][mode]["text"]]
            for _ in range(2):
                got.append((dec.old if mode == "old" else dec.new)(it.samples).text)
            texts[it.name][mode] = got
        print(f"[determinism] {it.name}", file=sys.stderr, flush=True)
    fresh_names = [i.name for i in fixed if i.set != "long"][: args.det_fresh]
    fresh_names += [i.name for i in fell if i.set != "long"][:2]
    fresh = {}
    if fresh_names:
        paths = {i.name: str(i.path) for i in items}
        spec = work_file(args, "fresh.json")
        spec.write_text(json.dumps({n: paths[n] for n in fresh_names}))
        for mode in ("old", "new"):
            r = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(spec)],
                capture_output=True,
                text=True,
                check=True,
            )
            fresh[mode] = json.loads(r.stdout.strip().splitlines()[-1])
    return {
        "fixed": [i.name for i in fixed],
        "fallback_files": [i.name for i in fell],
        "texts": texts,
        "fresh": fresh,
    }


def work_file(args: argparse.Namespace, name: str) -> Path:
    return Path(args.work) / name


def child(mode: str, spec: str) -> None:
    dec = Decoder()
    out = {}
    for name, path in json.loads(Path(spec).read_text()).items():
        s = decode(Path(path))
        out[name] = (dec.old if mode == "old" else dec.new)(s).text
    print(json.dumps(out))


def report_asr(data: dict[str, Any]) -> list[str]:
    files = data["files"]
    sets = ["librispeech", "minds14", "samples", "long"]
    lines = [
        "### 1. Repetition loops, before/after",
        "",
        "| set | files | audio min | decoding | files with loops | segments with loops "
        "| loops | repeated segments | segments with fallback | WER | x realtime |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in [*sets, "all"]:
        fs = {k: v for k, v in files.items() if s == "all" or v["set"] == s}
        if not fs:
            continue
        secs = sum(v["seconds"] for v in fs.values())
        for mode in ("old", "new"):
            rs = [v[mode] for v in fs.values()]
            pairs = [(v["ref"], v[mode]["text"]) for v in fs.values() if v["ref"]]
            w = wer(pairs)
            lines.append(
                f"| {s} | {len(fs)} | {secs / 60:.1f} | {mode} "
                f"| {sum(1 for r in rs if r['loops'] or r['segments_with_loops'])} "
                f"| {sum(r['segments_with_loops'] for r in rs)} / {sum(r['segments'] for r in rs)} "
                f"| {sum(r['loops'] for r in rs)} | {sum(r['repeated_segments'] for r in rs)} "
                f"| {sum(r['fallback_segments'] for r in rs) if mode == 'old' else '-'} "
                f"| {'-' if w is None else f'{100 * w:.1f}%'} "
                f"| {secs / sum(r['wall_s'] for r in rs):.1f}x |"
            )
    looped = [(k, v) for k, v in files.items() if v["old"]["loops"] or v["new"]["loops"]]
    if looped:
        lines += ["", "Files with a loop (old / new loops):", ""]
        for k, v in looped:
            lines.append(f"- `{k}`: {v['old']['loops']} / {v['new']['loops']}")
    lines += [
        "",
        "### 3. Never stops mid-audio",
        "",
        "| set | decoding | files with > 5 s speech without words | max speech without words (s) "
        "| files with tail gap > 5 s | max tail gap (s) | mean tail gap (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in [*sets, "all"]:
        fs = {k: v for k, v in files.items() if s == "all" or v["set"] == s}
        if not fs:
            continue
        for mode in ("old", "new"):
            rs = [v[mode] for v in fs.values()]
            lines.append(
                f"| {s} | {mode} | {sum(1 for r in rs if r['max_gap_speech_s'] > 5)} "
                f"| {max(r['max_gap_speech_s'] for r in rs):.1f} "
                f"| {sum(1 for r in rs if r['tail_gap_s'] > 5)} "
                f"| {max(r['tail_gap_s'] for r in rs):.1f} "
                f"| {np.mean([r['tail_gap_s'] for r in rs]):.2f} |"
            )
    gapped = [
        (k, v)
        for k, v in files.items()
        if v["old"]["max_gap_speech_s"] > 5 or v["new"]["max_gap_speech_s"] > 5
    ]
    if gapped:
        lines += ["", "Files with > 5 s of speech without words (old / new, seconds):", ""]
        for k, v in gapped:
            lines.append(
                f"- `{k}` ({v['seconds']:.0f} s): {v['old']['max_gap_speech_s']} / "
                f"{v['new']['max_gap_speech_s']}"
            )
    det = data.get("determinism")
    if det:
        lines += [
            "",
            "### 2. Same audio, same text",
            "",
            "| files | decoding | files whose 3 in-process texts differ "
            "| files whose fresh-process text differs from run 1 |",
            "|---|---|---|---|",
        ]
        for label, names in (
            ("fixed sample", det["fixed"]),
            ("old fell back", det["fallback_files"]),
        ):
            if not names:
                continue
            for mode in ("old", "new"):
                differ = [n for n in names if len(set(det["texts"][n][mode])) > 1]
                fresh = det["fresh"].get(mode, {})
                fresh_names = [n for n in names if n in fresh]
                fdiff = [n for n in fresh_names if fresh[n] != det["texts"][n][mode][0]]
                lines.append(
                    f"| {label} ({len(names)}) | {mode} | {len(differ)}/{len(names)} "
                    f"{'(' + ', '.join(differ) + ')' if differ else ''} "
                    f"| {len(fdiff)}/{len(fresh_names)} |"
                )
        total_fb = sum(1 for v in files.values() if v["old"]["fallback_segments"])
        lines.append("")
        lines.append(
            f"Files where `old` fell back to sampling (temperature > 0) at least once: "
            f"{total_fb}/{len(files)}."
        )
    return lines


# --------------------------------------------------------------------------- section 4

TEXTS = {
    "en_a": "Good morning everyone, and thank you for joining the weekly planning call. Before "
    "we start, I want to go over the schedule for the next two weeks. The new warehouse opens "
    "on Monday, and the delivery trucks will arrive early in the morning. We still need three "
    "more people for the night shift, so please ask your teams if anyone wants extra hours. "
    "The safety training is on Thursday afternoon in the main hall.",
    "en_b": "Last summer my family drove along the coast for almost a month. We stopped in "
    "small fishing villages, ate far too much bread, and slept in a tent that leaked every "
    "time it rained. My brother insisted on reading the map himself, which meant we were lost "
    "at least once a day. Still, the beaches were beautiful, the water was warm, and nobody "
    "wanted to go home when it was over.",
    "de_a": "Guten Tag und herzlich willkommen zu unserer Sendung. Heute sprechen wir über das "
    "Wetter in den Bergen, denn am Wochenende soll es dort zum ersten Mal in diesem Jahr "
    "richtig schneien. Die Straßen über die Pässe werden wahrscheinlich gesperrt, und wer mit "
    "dem Auto unterwegs ist, sollte unbedingt Winterreifen haben. Die Bahn fährt nach Plan, "
    "aber es kann zu kleinen Verspätungen kommen. Bleiben Sie also vorsichtig.",
    "de_b": "Meine Großmutter hat jeden Sonntag einen Kuchen gebacken, meistens mit Äpfeln aus "
    "dem eigenen Garten. Wir Kinder durften den Teig probieren und mussten danach die Küche "
    "aufräumen. Das Rezept hat sie nie aufgeschrieben, sie hatte alles im Kopf. Nach ihrem "
    "Tod haben meine Mutter und ich monatelang versucht, den Geschmack wiederzufinden, aber "
    "es ist uns bis heute nicht ganz gelungen.",
    "es_a": "Buenas tardes a todos. Hoy vamos a hablar de la nueva biblioteca del barrio, que "
    "abrirá sus puertas el próximo mes. Tendrá una sala para niños, ordenadores gratuitos y "
    "un pequeño café en la planta baja. El ayuntamiento dice que las obras han costado menos "
    "de lo previsto, pero los vecinos se quejan de que el aparcamiento es demasiado pequeño. "
    "Mañana habrá una reunión abierta en la plaza para resolver dudas.",
    "es_b": "Cuando era pequeño, mi padre me llevaba a pescar al río todos los sábados. Salíamos "
    "de casa antes del amanecer, con un termo de chocolate caliente y unos bocadillos "
    "envueltos en papel. Casi nunca pescábamos nada, pero a él no le importaba. Decía que lo "
    "importante era escuchar el agua y hablar sin prisa. Ahora que tengo hijos, intento hacer "
    "lo mismo con ellos.",
    "fr_a": "Bonjour à tous et bienvenue dans notre émission du matin. Aujourd'hui, nous parlons "
    "des transports en commun dans la ville. Les nouveaux tramways arriveront au printemps, "
    "et la mairie promet un passage toutes les cinq minutes aux heures de pointe. Certains "
    "habitants sont contents, d'autres craignent le bruit et les travaux. Nous avons posé la "
    "question aux commerçants du centre, qui attendent surtout plus de clients.",
    "fr_b": "Chaque été, nous passions nos vacances chez mon oncle, dans une vieille maison au "
    "bord d'un lac. Il se levait très tôt pour aller chercher le pain au village, et nous "
    "l'attendions sur la terrasse en regardant les bateaux. Le soir, on jouait aux cartes "
    "jusqu'à minuit, et ma tante racontait des histoires de fantômes pour nous faire peur. Ce "
    "sont mes plus beaux souvenirs d'enfance.",
}
ALTERNATING = {
    "fr": [
        (
            "Bonjour, je m'appelle Claire et je travaille à Lyon.",
            "I moved here from London about five years ago.",
        ),
        (
            "Le matin, je prends toujours le métro pour aller au bureau.",
            "The trains are usually on time, which surprised me at first.",
        ),
        (
            "Mon équipe développe des logiciels pour les hôpitaux.",
            "Most of my colleagues speak both languages at work.",
        ),
        (
            "Le vendredi, nous déjeunons ensemble dans un petit restaurant.",
            "The owner always asks us about our weekend plans.",
        ),
        (
            "Je pense rester en France encore quelques années.",
            "But I do miss the parks and the rain back home.",
        ),
    ],
    "es": [
        (
            "Mi hermana vive en Madrid y trabaja en un hospital.",
            "She calls me every Sunday evening after dinner.",
        ),
        (
            "El año pasado fuimos juntas a la playa en agosto.",
            "It was so hot that we stayed inside most afternoons.",
        ),
        (
            "Ella quiere comprar un piso cerca del centro.",
            "Prices in the city have gone up a lot recently.",
        ),
        (
            "Yo prefiero vivir en el campo con mis perros.",
            "I like the quiet and the long walks in the hills.",
        ),
    ],
    "de": [
        (
            "Wir treffen uns morgen um neun Uhr im Büro.",
            "Please bring the printed reports for the meeting.",
        ),
        (
            "Der Kunde möchte den Vertrag noch einmal prüfen.",
            "He has a few questions about the delivery dates.",
        ),
        (
            "Danach gehen wir zusammen zum Mittagessen.",
            "The new Italian place on the corner is very good.",
        ),
        (
            "Am Nachmittag habe ich leider einen Arzttermin.",
            "So I will leave a little earlier than usual.",
        ),
    ],
}
VOICE = {"en": "en-us", "de": "de", "es": "es", "fr": "fr-fr"}


def _alternate(lang: str, voice: str, en_voice: str) -> list[tuple[str, str, str]]:
    return [p for a, b in ALTERNATING[lang] for p in ((lang, voice, a), ("en", en_voice, b))]


CODESWITCH: dict[str, list[tuple[str, str, str]]] = {
    "cs01_en_de": [("en", "en-us", TEXTS["en_a"]), ("de", "de", TEXTS["de_a"])],
    "cs02_de_en": [("de", "de+m3", TEXTS["de_b"]), ("en", "en-gb", TEXTS["en_b"])],
    "cs03_es_en": [("es", "es", TEXTS["es_a"]), ("en", "en-us+f3", TEXTS["en_a"])],
    "cs04_en_es": [("en", "en-us", TEXTS["en_b"]), ("es", "es+f2", TEXTS["es_b"])],
    "cs05_fr_en_alternating": _alternate("fr", "fr-fr", "en-gb"),
    "cs06_en_fr": [("en", "en-gb-scotland", TEXTS["en_a"]), ("fr", "fr-fr", TEXTS["fr_a"])],
    "cs07_fr_en": [("fr", "fr-fr+m3", TEXTS["fr_b"]), ("en", "en-us+m3", TEXTS["en_b"])],
    "cs08_es_en_alternating": _alternate("es", "es", "en-us"),
    "cs09_de_en_alternating": _alternate("de", "de", "en-us+f3"),
    "cs10_en_de_en": [
        ("en", "en-us", TEXTS["en_a"]),
        ("de", "de", TEXTS["de_b"]),
        ("en", "en-us", TEXTS["en_b"]),
    ],
}
QUICK_CODESWITCH = ["cs01_en_de", "cs05_fr_en_alternating", "cs03_es_en"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = {
    "en": _words(
        "the and of to a in is that it was for on with you we i my this are at be have but not they so there what he she our from about"
    ),
    "de": _words(
        "der die das und ist nicht ich wir sie es zu den mit ein eine auf für dem im auch sich von haben hat war uns aber nach"
    ),
    "es": _words(
        "el la los las de que y en un una es por con para no se su al lo del muy pero mi como mañana"
    ),
    "fr": _words(
        "le la les de des et est un une que qui pour dans nous vous je ne pas sur au aux du en avec mon ce sont"
    ),
}


def guess_language(text: str) -> str | None:
    from earmark.asr.wer import normalize_text

    words = normalize_text(text)
    hits = {lang: sum(w in sw for w in words) for lang, sw in STOPWORDS.items()}
    best = max(hits, key=lambda k: hits[k])
    return best if hits[best] else None


def espeak(text: str, voice: str, tmp: Path) -> np.ndarray:
    wav = tmp / "piece.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "165", "-w", str(wav), text],
        check=True,
        capture_output=True,
    )
    return decode(wav)


def build_codeswitch(work: Path, names: list[str]) -> list[dict[str, Any]]:
    out = []
    gap = np.zeros(int(0.4 * SR), np.float32)
    for name in names:
        dest = work / f"{name}.wav"
        meta_path = work / f"{name}.json"
        if not (dest.is_file() and meta_path.is_file()):
            pieces, chunks, t = [], [], 0.0
            for lang, voice, text in CODESWITCH[name]:
                s = espeak(text, voice, work)
                pieces.append(
                    {"lang": lang, "voice": voice, "text": text, "start": t, "end": t + len(s) / SR}
                )
                chunks += [s, gap]
                t += (len(s) + len(gap)) / SR
            write_wav(dest, np.concatenate(chunks))
            meta_path.write_text(json.dumps(pieces, ensure_ascii=False))
        out.append({"name": name, "path": dest, "pieces": json.loads(meta_path.read_text())})
    return out


def codeswitch_scores(run: Run, pieces: list[dict[str, Any]]) -> dict[str, Any]:
    from earmark.asr.wer import normalize_text

    ref_words: dict[str, Counter[str]] = {}
    for p in pieces:
        ref_words.setdefault(p["lang"], Counter()).update(normalize_text(p["text"]))
    hyp = Counter(normalize_text(run.text))
    kept = {}
    for lang, words in ref_words.items():
        others = set().union(*(set(w) for k, w in ref_words.items() if k != lang))
        own = Counter({w: c for w, c in words.items() if w not in others})
        total = sum(own.values())
        kept[lang] = (sum(min(c, hyp[w]) for w, c in own.items()), total)
    tag_ok = text_ok = n = 0
    for s in run.segments:
        ov = {}
        for p in pieces:
            ov[p["lang"]] = ov.get(p["lang"], 0.0) + max(
                0.0, min(s["end"], p["end"]) - max(s["start"], p["start"])
            )
        if not any(ov.values()):
            continue
        ref = max(ov, key=lambda k: ov[k])
        n += 1
        tag_ok += s["language"] == ref
        text_ok += guess_language(s["text"]) == ref
    spoken: dict[str, float] = {}
    for p in pieces:
        spoken[p["lang"]] = spoken.get(p["lang"], 0.0) + p["end"] - p["start"]
    return {
        "kept": kept,
        "segments": n,
        "segment_language_ok": tag_ok,
        "segment_text_ok": text_ok,
        "main_ref": max(spoken, key=lambda k: spoken[k]),
        "main_hyp": run.language,
        "languages_tagged": sorted({s["language"] for s in run.segments}),
    }


CS_MODES = {
    "old (fw defaults, one language)": lambda d, s: d.old(s),
    "new, one language": lambda d, s: d.new(s),
    "new, multilingual=True": lambda d, s: d.new(s, language=None, multilingual=True),
}


def run_codeswitch(args: argparse.Namespace, dec: Decoder, work: Path) -> dict[str, Any]:
    names = QUICK_CODESWITCH if args.quick else list(CODESWITCH)
    recs = build_codeswitch(work, names)
    res: dict[str, Any] = {}
    for r in recs:
        s = decode(r["path"])
        res[r["name"]] = {"seconds": len(s) / SR, "pieces": r["pieces"]}
        for mode, fn in CS_MODES.items():
            run = fn(dec, s)
            res[r["name"]][mode] = {
                "text": run.text,
                "segment_list": run.segments,
                "wall_s": run.seconds,
                **codeswitch_scores(run, r["pieces"]),
            }
        print(f"[codeswitch] {r['name']}", file=sys.stderr, flush=True)
    # multilingual.mp3: no timed reference; English then German (the MIT licence)
    s = decode(SAMPLES / "audio" / "multilingual.mp3")
    mp3 = {}
    for mode, fn in CS_MODES.items():
        run = fn(dec, s)
        mp3[mode] = {
            "segments": run.segments,
            "main": run.language,
            "text_languages": Counter(guess_language(x["text"]) for x in run.segments),
            "tagged_languages": Counter(x["language"] for x in run.segments),
            "text": run.text,
        }
    return {"recordings": res, "multilingual_mp3": mp3}


def report_codeswitch(data: dict[str, Any]) -> list[str]:
    rec = data["recordings"]
    lines = [
        "### 4. Code-switching",
        "",
        "Words kept: the language's reference words that no other language of the recording "
        "uses, found in the transcript (bag of words). Segment language: the segment's "
        "`language` (one language per transcript outside multilingual mode) against the "
        "reference language it overlaps most; segment text: a stop-word guess of the language "
        "the segment's words are in.",
        "",
        "| decoding | en words kept | de words kept | es words kept | fr words kept "
        "| segment language right | segment text in the spoken language | main language right "
        "| x realtime |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in CS_MODES:
        kept: dict[str, list[int]] = {}
        seg = lang_ok = text_ok = main_ok = 0
        secs = wall = 0.0
        for r in rec.values():
            m = r[mode]
            for lang, (k, t) in m["kept"].items():
                kept.setdefault(lang, [0, 0])
                kept[lang][0] += k
                kept[lang][1] += t
            seg += m["segments"]
            lang_ok += m["segment_language_ok"]
            text_ok += m["segment_text_ok"]
            main_ok += m["main_ref"] == m["main_hyp"]
            secs += r["seconds"]
            wall += m["wall_s"]
        cells = []
        for lang in ("en", "de", "es", "fr"):
            k, t = kept.get(lang, (0, 0))
            cells.append(f"{100 * k / t:.0f}% ({k}/{t})" if t else "-")
        lines.append(
            f"| {mode} | {' | '.join(cells)} | {lang_ok}/{seg} | {text_ok}/{seg} "
            f"| {main_ok}/{len(rec)} | {secs / wall:.1f}x |"
        )
    lines += ["", "Per recording (words kept per language; languages on the segments):", ""]
    lines += [
        "| recording | s | " + " | ".join(CS_MODES) + " |",
        "|---|---|" + "---|" * len(CS_MODES),
    ]
    for name, r in rec.items():
        cells = []
        for mode in CS_MODES:
            m = r[mode]
            kept = " ".join(f"{lang} {100 * k / t:.0f}%" for lang, (k, t) in m["kept"].items())
            cells.append(f"{kept}; seg {','.join(m['languages_tagged'])}")
        lines.append(f"| {name} | {r['seconds']:.0f} | {' | '.join(cells)} |")
    mp3 = data["multilingual_mp3"]
    lines += ["", "`multilingual.mp3` (MIT licence read in English, then German):", ""]
    lines += [
        "| decoding | segments | `language` on segments | stop-word language of the text | main |",
        "|---|---|---|---|---|",
    ]
    for mode, m in mp3.items():
        lines.append(
            f"| {mode} | {len(m['segments'])} | {dict(m['tagged_languages'])} "
            f"| {dict(m['text_languages'])} | {m['main']} |"
        )
    return lines


# --------------------------------------------------------------------------- section 5


def run_tagging(args: argparse.Namespace, dec: Decoder, work: Path) -> dict[str, Any]:
    import earmark
    from earmark.audio.decode import decode_audio
    from earmark.tagging import load_tags
    from earmark.types import AudioData

    audio_dir = work / "ml_audio"
    if not (audio_dir / "manifest.jsonl").is_file():
        subprocess.run(
            [
                sys.executable,
                str(SPEECH_DEV / "speak.py"),
                "--files",
                "multilingual.jsonl",
                "--every",
                "1",
                "--out",
                str(audio_dir),
            ],
            check=True,
            capture_output=True,
        )
    manifest = [json.loads(x) for x in (audio_dir / "manifest.jsonl").read_text().splitlines()]
    if args.quick:
        manifest = [m for i, m in enumerate(manifest) if i % 5 == 0]
    taglist = load_tags("media")
    tagger = dec.rt.taggers.get("embedding", None)
    enc = tagger.encoder  # type: ignore[attr-defined]
    topic = enc.encode([f"Topic: {t.name}. {t.description}" for t in taglist.tags])
    opts = dec.ASROptions(model="base")
    rows = []
    for m in manifest:
        path = audio_dir / m["file"]
        audio = decode_audio(path)
        t0 = time.perf_counter()
        tr = dec.rt.transcribe(audio, opts)
        t1 = time.perf_counter()
        english = dec.rt.english_for_tagging(AudioData(samples=audio.samples), tr, opts)
        t2 = time.perf_counter()
        native = earmark.tag(tr, "media").best_tag
        translated = earmark.tag(english, "media").best_tag
        words = tr.text.split() or [""]
        chunks = [" ".join(words[a : a + 150]) for a in range(0, len(words), 150)]
        v = enc.encode(chunks).sum(axis=0)
        v /= max(float(np.linalg.norm(v)), 1e-12)
        cosine = taglist.names[int(np.argmax(topic @ v))]
        rows.append(
            {
                "id": m["id"],
                "language": m["language"],
                "detected": tr.language,
                "gold": m["gold"],
                "also": m["also"],
                "seconds": len(audio.samples) / SR,
                "transcribe_s": t1 - t0,
                "translate_s": t2 - t1,
                "translated": english is not tr,
                "native": native,
                "translation": translated,
                "cosine": cosine,
                "text": tr.text,
                "english": english.text,
            }
        )
        print(
            f"[tagging] {m['id']} {tr.language} {native} {translated} {cosine}",
            file=sys.stderr,
            flush=True,
        )
    return {"items": rows}


def report_tagging(data: dict[str, Any]) -> list[str]:
    rows = data["items"]
    ways = [
        ("native", "(i) transcript in its language"),
        ("translation", "(ii) Whisper's English translation"),
        ("cosine", "(iii) plain MiniLM cosine on (i)"),
    ]
    lines = [
        "### 5. Tagging across languages (`media` preset)",
        "",
        "Accuracy: best tag == gold (strict) / in gold + also (lenient).",
        "",
        "| language | items | language detected right | "
        + " | ".join(w[1] for w in ways)
        + " | transcribe s | translate s (extra) |",
        "|---|---|---|" + "---|" * len(ways) + "---|---|",
    ]
    for lang in ["es", "de", "fr", "all"]:
        rs = [r for r in rows if lang == "all" or r["language"] == lang]
        if not rs:
            continue
        cells = []
        for key, _ in ways:
            strict = sum(r[key] == r["gold"] for r in rs)
            lenient = sum(r[key] in [r["gold"], *r["also"]] for r in rs)
            cells.append(f"{strict}/{len(rs)} / {lenient}/{len(rs)}")
        lines.append(
            f"| {lang} | {len(rs)} | {sum(r['detected'] == r['language'] for r in rs)}/{len(rs)} "
            f"| {' | '.join(cells)} | {sum(r['transcribe_s'] for r in rs):.0f} "
            f"| {sum(r['translate_s'] for r in rs):.0f} |"
        )
    audio = sum(r["seconds"] for r in rows)
    lines += [
        "",
        f"Audio: {len(rows)} files, {audio / 60:.1f} min; translated: "
        f"{sum(r['translated'] for r in rows)}/{len(rows)}.",
    ]
    return lines


# --------------------------------------------------------------------------- main


def machine() -> str:
    r = subprocess.run("lscpu | head -20", shell=True, capture_output=True, text=True)
    return f"{platform.platform()}, Python {platform.python_version()}\n{r.stdout}"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small subset of every section")
    ap.add_argument(
        "--sections",
        nargs="+",
        default=["loops", "determinism", "codeswitch", "tagging"],
        choices=["loops", "determinism", "codeswitch", "tagging"],
    )
    ap.add_argument("--libri", type=int, default=None, help="LibriSpeech utterances (100)")
    ap.add_argument("--minds", type=int, default=None, help="MInDS-14 clips (42, 3 per intent)")
    ap.add_argument("--long", type=int, default=None, help="long LibriSpeech files (2)")
    ap.add_argument("--work", default="/tmp/earmark_conversation_bench", help="audio cache")
    ap.add_argument("--json", help="write every raw number and text here")
    args = ap.parse_args()
    q = args.quick
    args.libri = args.libri if args.libri is not None else (12 if q else 100)
    args.minds = args.minds if args.minds is not None else (14 if q else 42)
    args.long = args.long if args.long is not None else (2 if not q else 1)
    args.det_short = 2 if q else 5
    args.det_fallback = 2 if q else 6
    args.det_fresh = 3
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    dec = Decoder()
    out: dict[str, Any] = {"machine": machine(), "argv": sys.argv}
    lines: list[str] = []
    if "loops" in args.sections or "determinism" in args.sections:
        if "loops" not in args.sections:
            args.sections.append("loops")
        out["asr"] = run_asr_sections(args, dec, work)
        lines += [*report_asr(out["asr"]), ""]
    if "codeswitch" in args.sections:
        out["codeswitch"] = run_codeswitch(args, dec, work)
        lines += [*report_codeswitch(out["codeswitch"]), ""]
    if "tagging" in args.sections:
        out["tagging"] = run_tagging(args, dec, work)
        lines += [*report_tagging(out["tagging"]), ""]
    out["wall_s"] = time.perf_counter() - started
    lines.append(f"Total wall time: {out['wall_s'] / 60:.1f} min.")
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
