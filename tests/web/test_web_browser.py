"""The web app in a real browser: Debian's chromium driven by Playwright, against a real
server on 127.0.0.1 with Whisper tiny.en. Signs in, uploads jfk.flac through the page,
waits for the job, clicks a word and reads the player's time, steps words with the
keyboard, corrects a tag, searches, checks a hostile tag name fires no dialog, that
another key gets 404s, that no request leaves 127.0.0.1, and saves screenshots at 1440
and 390 px into tests/web/screenshots/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from webtools import BROWSER_ARGS, CHROMIUM, KEY, OTHER_KEY, LiveServer

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

SHOTS = Path(__file__).resolve().parent / "screenshots"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def live(web_server: Callable[..., LiveServer]) -> LiveServer:
    return web_server()  # tiny.en


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


class Watch:
    """Every request a page makes, and any dialog (there must be none)."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

    def check(self) -> None:
        hosts = {urlsplit(u).hostname for u in self.urls if not u.startswith(("data:", "blob:"))}
        assert hosts <= {"127.0.0.1"}, hosts
        assert self.dialogs == []


def sign_in(page: Any, url: str, key: str) -> None:
    page.goto(url + "/")
    assert page.url.endswith("/signin")
    page.fill("input[name=api_key]", key)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_the_whole_flow(live: LiveServer, browser: Any, jfk_flac: Path) -> None:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    watch = Watch(page)
    sign_in(page, live.url, KEY)

    # a hostile saved list, so the page must escape its names
    page.goto(live.url + "/tag-lists")
    page.fill("#list-name", "Desk")
    page.fill(
        "#list-body",
        f'"{HOSTILE}": Tags that try to run script.\n'
        "Politics: Government, presidents, countries, freedom and citizens.\n"
        "Sports: Games, teams and athletes.\n",
    )
    page.click("form[action='/tag-lists'] button[type=submit]")
    page.wait_for_url("**/tag-lists/Desk")
    assert HOSTILE in page.inner_text("dl.tags-dl")  # shown as text, not markup

    # upload through the page, with progress, and wait for the job
    page.goto(live.url + "/new")
    shoot(page, "new")
    page.set_input_files("#files", str(jfk_flac))
    page.select_option("#custom_tags", "Desk")
    page.select_option("#language", "en")
    page.click("#start")
    page.wait_for_selector("#jobs li[data-done]", timeout=180_000)
    assert page.get_attribute("#jobs li", "data-done") == "completed", page.inner_text("#jobs")
    assert page.eval_on_selector("#jobs progress", "p => p.value") == 1
    page.click("#jobs li a")
    page.wait_for_selector("#transcript[data-ready]")
    tid = page.url.rsplit("/", 1)[-1]
    assert "country" in page.inner_text("#transcript")

    # click a word: the player seeks to it
    word = page.locator("#transcript .w").nth(6)
    start_ms = int(word.get_attribute("data-start") or 0)
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    word.click()
    page.wait_for_function("document.querySelector('#transcript .w.now') !== null")
    now = page.evaluate("document.getElementById('player').currentTime")
    assert abs(now - start_ms / 1000) < 0.6, (now, start_ms)
    page.evaluate("document.getElementById('player').pause()")

    # keyboard: arrows step words in the transcript, space toggles playback
    page.focus("#transcript")
    before = page.get_attribute("#transcript .w.now", "data-idx")
    page.keyboard.press("ArrowRight")
    after = page.get_attribute("#transcript .w.now", "data-idx")
    assert int(after or 0) == int(before or 0) + 1
    page.keyboard.press("Space")
    page.wait_for_function("!document.getElementById('player').paused")
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('player').paused")

    # correct a tag: the best tag is wrong, none of these fits
    page.select_option("#correct-tag", "__none__")
    page.click("#correct-form button.primary")
    page.wait_for_selector("#corrections li")
    assert "none fits" in page.inner_text("#corrections")
    shoot(page, "transcript")

    # search, highlighted, linked to the moment
    page.goto(live.url + "/?q=country")
    assert page.inner_text(".results mark").lower() == "country"
    href = page.get_attribute(".results a.time", "href") or ""
    assert href.startswith(f"/transcripts/{tid}?t=")
    shoot(page, "list")
    page.click(".results a.time")
    page.wait_for_selector("#transcript[data-ready]")
    page.wait_for_function("document.getElementById('player').currentTime > 1")

    page.goto(live.url + "/tag-lists")
    shoot(page, "taglists")
    watch.check()

    # the response headers of a page
    response = page.goto(f"{live.url}/transcripts/{tid}")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"

    # another key sees nothing
    other = browser.new_context()
    op = other.new_page()
    sign_in(op, live.url, OTHER_KEY)
    assert op.goto(f"{live.url}/transcripts/{tid}").status == 404
    assert op.goto(f"{live.url}/media/{tid}").status == 404
    op.goto(live.url + "/")
    assert tid not in op.content()
    other.close()
    ctx.close()
    docs = Path(__file__).resolve().parents[2] / "docs" / "img"
    if os.environ.get("EARMARK_WEB_DOCS_SHOTS"):  # refresh the README's pictures
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / "transcript-1440.png", docs / "web-transcript-1440.png")
        shutil.copy(SHOTS / "list-390.png", docs / "web-list-390.png")
