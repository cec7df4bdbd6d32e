"""The built site in headless Chromium: no page logs an error, and every audio player loads.

CI builds the site first (`mkdocs build --strict`, which runs the course); when it is not built,
this test builds it. It skips only when Chromium is absent.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=ROOT, check=True,
                       env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def pages() -> list[str]:
    return sorted(str(p.relative_to(SITE).parent).replace(".", "") for p in SITE.rglob("index.html"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                              args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def visit(browser, url: str) -> tuple[list[str], list[int]]:
    """Console errors and uncaught exceptions of one page, and its audio players' readyState."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = url.split("/", 3)[:3]
    # The site is checked offline: anything from another host (a CDN script) is answered empty.
    page.route(lambda target: target.split("/", 3)[:3] != base,
               lambda route: route.fulfill(status=200, body="", content_type="text/plain"))
    page.goto(url, wait_until="load")
    states = page.evaluate("""async () => {
        const players = [...document.querySelectorAll("audio")];
        const deadline = Date.now() + 10000;
        while (players.some(a => a.readyState === 0) && Date.now() < deadline)
            await new Promise(r => setTimeout(r, 100));
        return players.map(a => a.readyState);
    }""")
    page.close()
    return errors, states


def test_every_page_loads_without_errors_and_audio_plays(site_url, browser):
    found = pages()
    assert len(found) > 20, found
    players = 0
    problems = []
    for path in found:
        errors, states = visit(browser, site_url + (path + "/" if path else ""))
        problems += [f"/{path}: {error}" for error in errors]
        problems += [f"/{path}: an audio player that does not load" for state in states if state == 0]
        players += len(states)
    assert not problems, "\n".join(problems)
    assert players >= 1, "the course's audio player is missing"
