"""AssemblyAI's official JS SDK (npm assemblyai 4.41.5, run with node) against earmark.

Needs ``node`` and ``npm ci --prefix tests/js`` (``make install-test`` runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import KEY, LiveServer

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(NODE is None, reason="node is not installed (needed for the JS SDK test)"),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "assemblyai").is_dir(),
        reason="JS SDK not installed: run `npm ci --prefix tests/js`",
    ),
]


def test_js_sdk_upload_transcribe_get(launch: object, jfk_flac: Path) -> None:
    live: LiveServer = launch()  # type: ignore[operator]
    assert NODE is not None
    env = {**os.environ, "EARMARK_URL": live.url, "EARMARK_KEY": KEY, "AUDIO_PATH": str(jfk_flac)}
    proc = subprocess.run(
        [NODE, str(JS_DIR / "sdk_flow.mjs")],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["uploadUrl"].startswith(live.url + "/v2/upload/")
    t = out["transcribed"]
    assert t["status"] == "completed", t["error"]
    assert "ask not what your country can do for you" in t["text"].lower()
    assert t["speech_model"] is None
    assert t["speech_models"] == ["universal-3-pro"]
    assert t["speech_model_used"] == "tiny.en"
    assert t["audio_duration"] == 11
    assert isinstance(t["firstWord"]["start"], int)
    assert out["fetched"] == t
    assert out["direct"]["status"] == "completed"
    assert out["direct"]["text"] == t["text"]
    # list() then list(prev_url) verbatim: absolute URLs on this server
    assert out["page"] == [out["direct"]["id"]]
    assert out["prevUrl"].startswith(live.url + "/v2/transcript?")
    assert out["older"] == [t["id"]]
    assert out["badKeyError"] == "Authentication error, API token missing/invalid"
