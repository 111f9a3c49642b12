"""The report folder: metrics.json, errors.csv and the four PNG pictures."""

from __future__ import annotations

import csv
import json
import struct
import sys
from pathlib import Path

import pytest
from tagging_fakes import KeywordEncoder

from earmark.tagging import load_tags
from earmark.tagging.embedding import EmbeddingTagger
from earmark.tagging.evaluate import EvalReport, LabelledItem, evaluate
from earmark.tagging.report import ERRORS_COLUMNS, MISSING_MATPLOTLIB, PICTURES, write_report
from earmark.tagging.teach import load_corrections

TAGS = load_tags({"Sports": "sport team goal", "Politics": "vote election senate"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _report() -> EvalReport:
    items = [
        LabelledItem("Sports", "goal team sport"),
        LabelledItem("Politics", "senate vote"),
        LabelledItem("Sports", "election vote", id="r3"),  # wrong: Politics
        LabelledItem("Sports", "election senate", also=("Politics",)),  # lenient right
        LabelledItem(None, "okay hello"),
        LabelledItem("none", "the team scored a goal"),  # wrong: Sports
    ]
    return evaluate(EmbeddingTagger(KeywordEncoder()), TAGS, items)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_report_files_pictures_and_errors(tmp_path: Path) -> None:
    report = _report()
    out = tmp_path / "rep"
    written = write_report(report, out)
    assert written.skipped is None
    names = {p.name for p in written.paths}
    assert names == {"metrics.json", "errors.csv", *PICTURES}
    for name in PICTURES:
        width, height = _png_size(out / name)
        assert 400 <= width <= 2500 and 300 <= height <= 2500, (name, width, height)
        assert (out / name).stat().st_size > 5_000
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "n",
        "accuracy",
        "lenient_accuracy",
        "macro_f1",
        "lenient_macro_f1",
        "per_tag",
        "confusion",
        "none_right_rate",
        "wrongly_none_rate",
        "calibration",
        "ece",
        "errors",
        "tags",
    ):
        assert key in metrics, key
    assert metrics["n"] == 6 and len(metrics["calibration"]) == 10
    assert set(metrics["per_tag"]["Sports"]) == {"precision", "recall", "f1", "support"}
    with (out / "errors.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == ERRORS_COLUMNS
    assert [(r["text"], r["gold"], r["predicted"]) for r in rows] == [
        ("election vote", "Sports", "Politics"),
        ("the team scored a goal", "none", "Sports"),
    ]
    assert rows[0]["id"] == "r3" and 0.0 <= float(rows[0]["relevance"]) <= 1.0
    # errors.csv is what teach reads: the none row teaches nothing
    corrections = load_corrections(out / "errors.csv")
    assert [(c.correct, c.wrong) for c in corrections] == [("Sports", "Politics"), (None, "Sports")]


def test_report_without_matplotlib_still_writes_json_and_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    written = write_report(_report(), tmp_path)
    assert written.skipped == MISSING_MATPLOTLIB
    assert {p.name for p in written.paths} == {"metrics.json", "errors.csv"}
    assert not (tmp_path / "confusion.png").exists()
