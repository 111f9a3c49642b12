"""The custom-topic-tags guide's two quickstart samples, run unchanged against earmark.

The samples are read from ``shared/seed/custom-topic-tags-guide.md`` at run time (they are
not copied into the repository). Only the two base URLs, the API key and the audio URL are
substituted; everything else, including the guide's model name
(``claude-sonnet-4-5-20250929``), its prompt, ``max_tokens: 500`` and its 3-second polling,
is the guide's own. The server is a real ``earmark serve`` process on 127.0.0.1 with no LLM
routes configured, so the model goes to the bundled local SmolLM2 (the offline default).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from polling import healthy, wait_until

pytestmark = pytest.mark.slow

KEY = "guide-test-key"
API = "https://api.assemblyai.com"
GATEWAY = "https://llm-gateway.assemblyai.com"
AUDIO = "https://storage.googleapis.com/aai-web-samples/meeting.mp4"
KEY_PLACEHOLDER = "<YOUR_API_KEY>"


def quickstart(guide: Path, language: str) -> str:
    """The first ``language`` code block of the guide (the Quickstart tab), dedented."""
    text = guide.read_text(encoding="utf-8")
    match = re.search(r"```" + language + r"[^\n]*\n(.*?)\n\s*```", text, re.S)
    assert match, f"no {language} block in {guide}"
    return textwrap.dedent(match.group(1))


def substitute(code: str, server: str, audio_url: str) -> str:
    """Replace exactly the base URLs, the key and the audio URL; nothing else changes."""
    for old in (API, GATEWAY, AUDIO, KEY_PLACEHOLDER):
        assert old in code, f"the guide sample no longer contains {old!r}"
    code = code.replace(GATEWAY, server).replace(API, server)
    code = code.replace(AUDIO, audio_url).replace(KEY_PLACEHOLDER, KEY)
    assert "assemblyai.com" not in code and "googleapis" not in code
    return code


@dataclass
class Earmark:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def earmark_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Earmark]:
    data = tmp_path_factory.mktemp("guide-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARMARK_LLM")}
    env.update(
        EARMARK_API_KEYS=KEY,
        EARMARK_DATA_DIR=str(data),
        EARMARK_ALLOW_PRIVATE_URLS="true",
        EARMARK_ASR_MODEL="tiny.en",
        EARMARK_ASR_BEAM_SIZE="1",
        EARMARK_SPEECH_MODEL_MAP="universal-3-pro=tiny.en",
        HF_HUB_OFFLINE="1",
    )
    port = _free_port()
    log = data / "server.log"
    earmark = Path(sys.executable).with_name("earmark")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(earmark), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if healthy(url, timeout=2):
            return True
        if process.poll() is not None:
            raise RuntimeError("earmark serve exited")
        return False

    try:
        wait_until("earmark serve start", up, timeout=60, interval=0.2)
    except (AssertionError, RuntimeError):
        process.kill()
        pytest.fail("earmark serve did not start:\n" + log.read_text(errors="replace"))
    try:
        yield Earmark(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def audio_url(jfk_flac: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(jfk_flac.parent))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{jfk_flac.name}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run(cmd: list[str], cwd: Path, server: Earmark) -> str:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=240)
    if result.returncode != 0:
        pytest.fail(
            f"{cmd[0]} sample failed ({result.returncode}):\n{result.stderr}\n"
            f"server log:\n{server.log.read_text(errors='replace')[-3000:]}"
        )
    return result.stdout


def test_python_quickstart(
    shared: Path, earmark_server: Earmark, audio_url: str, tmp_path: Path
) -> None:
    code = quickstart(shared / "seed" / "custom-topic-tags-guide.md", "python")
    script = tmp_path / "guide_quickstart.py"
    script.write_text(substitute(code, earmark_server.url, audio_url), encoding="utf-8")
    out = _run([sys.executable, str(script)], tmp_path, earmark_server)
    assert out.strip(), "the sample printed no answer"


@pytest.mark.node
def test_javascript_quickstart(
    shared: Path, earmark_server: Earmark, audio_url: str, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    code = quickstart(shared / "seed" / "custom-topic-tags-guide.md", "javascript")
    script = tmp_path / "guide_quickstart.mjs"
    script.write_text(substitute(code, earmark_server.url, audio_url), encoding="utf-8")
    out = _run([node, str(script)], tmp_path, earmark_server)
    assert out.strip(), "the sample printed no answer"
