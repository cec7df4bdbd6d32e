"""The p5.js page at / in headless Chromium (Debian's, through Playwright): what the server sent is drawn."""

from __future__ import annotations

import shutil

import pytest

from .live import live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser_page(runs):
    sync_api = pytest.importorskip("playwright.sync_api")
    with live_server([runs["chars"], runs["shapes"]]) as (_, http_port, _osc):
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"http://127.0.0.1:{http_port}/")
            page.wait_for_function("window.rnnlabPage && window.rnnlabPage.ready", timeout=20000)
            yield page, errors
            browser.close()


def pixel(page, x, y) -> list[int]:
    return page.evaluate(f"Array.from(get({x}, {y}))")


def test_streamed_text_is_drawn(browser_page):
    page, errors = browser_page
    assert page.evaluate("window.rnnlabPage.text.model") == "chars"
    page.evaluate("window.rnnlabPlay(40, 5)")
    page.wait_for_function("window.rnnlabPage.text.count >= 40", timeout=20000)
    page.wait_for_function("window.rnnlabPage.text.drawn === window.rnnlabPage.text.received", timeout=5000)
    received, count = page.evaluate("[window.rnnlabPage.text.received, window.rnnlabPage.text.count]")
    assert count == 40 and len(received) >= 40 and not errors       # 40 tokens ("<unk>" reads as 5 characters)
    # glyphs changed the pixels of the text area: something dark where it was all background
    dark = page.evaluate("""(() => { const d = drawingContext.getImageData(12, 12, 400, 200).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 120) n++; return n; })()""")
    assert dark > 20


def test_mouse_strokes_go_to_the_stroke_model_and_come_back_drawn(browser_page):
    page, errors = browser_page
    page.eval_on_selector("#temperature", "e => { e.value = '0.1'; e.dispatchEvent(new Event('input')); }")
    box = page.locator("canvas").bounding_box()
    x0, y0 = box["x"] + 620, box["y"] + 150
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(x0 + 6 * step, y0 + 3 * step)
    page.mouse.up()
    page.wait_for_function("window.rnnlabPage.strokes.received.length > 0", timeout=20000)
    page.wait_for_function("""(() => { const s = window.rnnlabPage.strokes;
        const r = s.received; return r.length && (r[r.length - 1].pen === 'end' || r.length >= 60); })()""",
                           timeout=20000)
    user = page.evaluate("window.rnnlabPage.strokes.user")
    assert len(user) == 1 and len(user[0]) >= 5                       # the drag became one stroke
    segments = page.evaluate("window.rnnlabPage.strokes.segments")
    received = page.evaluate("window.rnnlabPage.strokes.received")
    expected, (x, y), down = [], (user[0][-1]["x"], user[0][-1]["y"]), True
    for message in received:                 # stroke-3: the move after a pen-down point is drawn
        if message["pen"] == "end":
            break
        nx, ny = x + message["values"][0], y + message["values"][1]
        if down:
            expected.append((x, y, nx, ny))
        x, y, down = nx, ny, message["pen"] == "down"
    drawn = [(s["x1"], s["y1"], s["x2"], s["y2"]) for s in segments]
    assert len(drawn) == len(expected) >= 1 and all(abs(a - b) < 1e-6 for d, e in zip(drawn, expected)
                                                    for a, b in zip(d, e))
    page.wait_for_function(f"window.rnnlabPage.strokes.drawnSegments >= {len(segments)}", timeout=5000)
    on_canvas = [s for s in segments if 455 < (s["x1"] + s["x2"]) / 2 < 895 and 5 < (s["y1"] + s["y2"]) / 2 < 415
                 and abs(s["x2"] - s["x1"]) + abs(s["y2"] - s["y1"]) > 6]
    orange = [pixel(page, round((s["x1"] + s["x2"]) / 2), round((s["y1"] + s["y2"]) / 2)) for s in on_canvas]
    assert on_canvas and any(p[0] > 200 and 100 < p[1] < 180 and p[2] < 80 for p in orange)   # drawn orange
    assert not errors
