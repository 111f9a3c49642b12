"""Server-side requests (address guard, downloads), request options and text formatting."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from earmark.config import ASRSettings, Settings
from earmark.errors import DownloadError, InputError, TagListError
from earmark.jobs.fetch import FetchOptions, download, resolve_target
from earmark.jobs.iab import iab_tags, taxonomy
from earmark.jobs.options import JobOptions
from earmark.jobs.pipeline import PipelineConfig, parse_model_map
from earmark.jobs.textform import plain_text
from earmark.jobs.topics import default_tags_spec, parse_custom_tags
from earmark.server.job_request import accept
from earmark.storage.files import FileStore
from earmark.types import Segment, Transcript, Word

PRIVATE = [
    "http://127.0.0.1/a.mp3",
    "http://localhost:8000/a.mp3",
    "http://10.1.2.3/a.mp3",
    "http://192.168.0.10/a.mp3",
    "http://172.16.5.5/a.mp3",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/a.mp3",
    "http://[::ffff:127.0.0.1]/a.mp3",
    "http://[fe80::1]/a.mp3",
    "http://0.0.0.0/a.mp3",
    "http://100.64.0.1/a.mp3",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_targets_are_refused(url: str) -> None:
    with pytest.raises(DownloadError, match="EARMARK_ALLOW_PRIVATE_URLS=1"):
        resolve_target(url, allow_private=False)
    assert resolve_target(url, allow_private=True).url.host  # allowed when configured


def test_public_literal_is_pinned_with_host_header() -> None:
    target = resolve_target("https://93.184.215.14:8443/a.mp3?x=1", allow_private=False)
    assert target.url.host == "93.184.215.14" and target.url.query == b"x=1"
    assert target.headers == {"Host": "93.184.215.14:8443"}
    assert target.extensions == {"sni_hostname": "93.184.215.14"}


@pytest.mark.parametrize("url", ["ftp://example.com/a", "file:///etc/passwd", "http:///nohost"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(DownloadError):
        resolve_target(url, allow_private=True)


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"nope"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    _Handler.routes = {
        "/a.bin": (200, {}, b"x" * 5000),
        "/moved": (302, {"Location": "/a.bin"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/empty": (200, {}, b""),
    }
    yield url
    server.shutdown()
    server.server_close()


def _fetch(url: str, tmp_path: Path, **opts: Any) -> bytes:
    files = FileStore(tmp_path)
    options = FetchOptions(max_bytes=opts.pop("max_bytes", 10_000), allow_private=True, **opts)
    with files.download_writer("d", options.max_bytes) as w:
        download(url, w, options)
        return w.commit().read_bytes()


def test_download_follows_redirects(origin: str, tmp_path: Path) -> None:
    assert _fetch(origin + "/moved", tmp_path) == b"x" * 5000


@pytest.mark.parametrize(
    ("path", "opts", "reason"),
    [
        ("/missing", {}, "the server answered HTTP 404"),
        ("/loop", {"max_redirects": 2}, "more than 2 redirects"),
        ("/empty", {}, "empty file"),
        ("/a.bin", {"max_bytes": 1000}, "over the limit"),
    ],
)
def test_download_errors_say_why(
    origin: str, tmp_path: Path, path: str, opts: dict[str, Any], reason: str
) -> None:
    with pytest.raises(DownloadError) as info:
        _fetch(origin + path, tmp_path, **opts)
    assert info.value.message.startswith(f"Download error, unable to download {origin}{path}: ")
    assert reason in info.value.message
    assert list((tmp_path / "tmp").iterdir()) == []  # partial files are removed


def _config(**kw: Any) -> PipelineConfig:
    settings = Settings(asr=ASRSettings(asr_model="base"))
    return PipelineConfig(settings=settings, fetch=FetchOptions(max_bytes=1), **kw)


def job_options(body: dict[str, Any], config: PipelineConfig) -> JobOptions:
    return accept(body, config).options


def test_job_options_resolve_models_and_language() -> None:
    config = _config(model_map=parse_model_map("universal-3-pro=tiny.en, best=base"))
    opts = job_options({"speech_models": ["nope", "universal-3-pro"]}, config)
    assert opts.model == "tiny.en" and opts.language == "en_us"
    assert job_options({"speech_models": ["other"]}, config).model == "base"
    assert job_options({"language_detection": True, "language_code": "de"}, config).language is None
    assert job_options(
        {"keyterms_prompt": ["earmark"], "word_boost": ["SQLite"]}, config
    ).prompt == ("earmark, SQLite")
    with pytest.raises(InputError, match="audio_end_at"):
        job_options({"audio_start_from": 500, "audio_end_at": 100}, config)
    with pytest.raises(InputError):
        parse_model_map("no-equals-sign")


def test_custom_tags_forms() -> None:
    by_preset = parse_custom_tags("media")
    assert len(by_preset.tags.tags) >= 10 and by_preset.threshold is None
    inline = parse_custom_tags({"Billing": "Invoices and payments", "Outage": "Service down"})
    assert inline.tags.names == ("Billing", "Outage")
    settings = parse_custom_tags({"tags": {"A": "about a", "B": "about b"}, "threshold": 0.4})
    assert settings.tags.names == ("A", "B") and settings.threshold == 0.4
    one_tag_named_tags = parse_custom_tags({"tags": "labels and tags"})
    assert one_tag_named_tags.tags.names == ("tags",)
    with pytest.raises(InputError, match="threshold"):
        parse_custom_tags({"tags": {"A": "a"}, "threshold": 3})
    with pytest.raises(InputError, match="engine"):
        parse_custom_tags({"tags": {"A": "a"}, "engine": "magic"})
    with pytest.raises(TagListError):
        parse_custom_tags("no-such-preset")
    assert default_tags_spec('{"A": "about a"}') == {"A": "about a"}
    assert default_tags_spec(None) is None
    with pytest.raises(InputError, match="EARMARK_CUSTOM_TAGS"):
        default_tags_spec("{not json")


def test_custom_tags_from_a_client_never_name_a_file(tmp_path: Path) -> None:
    tags = tmp_path / "tags.yaml"
    tags.write_text("Secret Tag: a tag only the server's disk knows about\n")
    for spec in (str(tags), "/etc/shadow", "/root/.bash_history", "../../etc/passwd", "tags.yaml"):
        with pytest.raises(TagListError) as info:
            parse_custom_tags(spec)
        message = info.value.message
        assert "unknown tag list preset" in message and "does not exist" not in message
        assert "Secret Tag" not in message and "root:" not in message
    # the server operator's EARMARK_CUSTOM_TAGS may name a file: read once, inlined
    spec = default_tags_spec(str(tags))
    assert isinstance(spec, dict) and parse_custom_tags(spec).tags.names == ("Secret Tag",)
    assert default_tags_spec("media") == "media"


def test_job_options_round_trip_through_their_stored_form() -> None:
    from earmark.jobs.options import options_from_json, options_to_json

    config = _config()
    body = {
        "audio_url": "http://x/a.mp3",
        "language_code": "de",
        "audio_start_from": 10,
        "audio_end_at": 900,
        "punctuate": False,
        "prompt": "earmark",
        "iab_categories": True,
        "custom_tags": {
            "tags": {"A": {"description": "about a", "examples": ["ex"]}},
            "threshold": 0.4,
        },
    }
    opts = job_options(body, config)
    stored = json.loads(json.dumps(options_to_json(opts), allow_nan=False))
    assert options_from_json(stored) == opts
    assert opts.language == "de" and opts.custom_tags is not None
    assert opts.custom_tags.tags.tags[0].examples == ("ex",)


def test_iab_labels() -> None:
    labels = [t.label for t in taxonomy()]
    assert len(labels) == len(set(labels)) == 698
    assert "Technology&Computing>Computing>ComputerNetworking" in labels
    assert "NewsAndPolitics>Politics>Elections" in labels
    assert all(" " not in lb and lb[0].isupper() for lb in labels)
    names = {t.name for t in iab_tags().tags}  # the tagger sees the path in plain words
    assert "Technology & Computing: Computing: Computer Networking" in names


def test_plain_text() -> None:
    words = (
        Word("Hello,", 0, 1, 0.9),
        Word("World!", 2, 3, 0.9),
        Word("—", 4, 5, 0.9),
        Word("don't", 6, 7, 1.0),
    )
    t = Transcript(
        "Hello, World! — don't", (Segment(0, 0, 7, "Hello, World! — don't", words),), "en", 1.0, 7
    )
    assert plain_text(t, punctuate=True, format_text=True) is t
    p = plain_text(t, punctuate=False, format_text=True)
    assert p.text == "Hello World don't" and [w.text for w in p.words] == [
        "Hello",
        "World",
        "don't",
    ]
    assert plain_text(t, punctuate=True, format_text=False).text == "hello, world! — don't"


def test_custom_tags_per_speaker_and_for_one_speaker() -> None:
    from earmark.config import Settings
    from earmark.jobs.topics import run_topics
    from earmark.tagging import TaggerPool

    agent = "thank you for calling how can I help you today"
    caller = "my card payment failed and I was charged twice on my invoice this month"

    def words(text: str, speaker: str, start: int) -> list[Word]:
        return [
            Word(w, start + i * 300, start + i * 300 + 250, 0.9, speaker=speaker)
            for i, w in enumerate(text.split())
        ]

    ws = words(agent, "A", 0) + words(caller, "B", 5_000)
    t = Transcript(
        f"{agent} {caller}",
        (Segment(0, 0, ws[-1].end_ms, f"{agent} {caller}", tuple(ws)),),
        "en",
        1.0,
        12_000,
    )
    request = parse_custom_tags({"tags": "support", "speaker": "B", "per_speaker": True})
    assert request.party == "B" and request.per_party
    outcome = run_topics(t, request, TaggerPool(Settings()))
    assert outcome.result is not None and outcome.result.best_tag == "Billing and Payments"
    assert [p for p, _ in outcome.per_party] == ["A", "B"]
    assert dict(outcome.per_party)["B"].best_tag == "Billing and Payments"
    missing = run_topics(
        t, parse_custom_tags({"tags": "support", "speaker": "C"}), TaggerPool(Settings())
    )
    assert missing.result is None and "from 'C'" in (missing.error or "")
    with pytest.raises(InputError, match="speaker"):
        parse_custom_tags({"tags": "support", "speaker": "A B"})
    with pytest.raises(InputError, match="not both"):
        parse_custom_tags({"tags": "support", "speaker": "A", "channel": "1"})
