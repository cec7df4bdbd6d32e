"""The browser client /rnnlab.js in headless Chromium (Debian's, through Playwright): a page that uses it
generates, steps, resets, and answers again after its socket is cut and after the server restarts."""

from __future__ import annotations

import shutil

import pytest

from .live import live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><script src="/rnnlab.js"></script></head>
<body><script>
  window.events = [];
  window.ready = rnnlab.connect("ws://127.0.0.1:%d/ws", { minDelay: 100, maxDelay: 1000 }).then((model) => {
    window.model = model;
    for (const name of ["open", "close", "reconnecting"]) model.on(name, (e) => window.events.push(name));
    return model.modelNames;
  });
</script></body></html>"""


@pytest.fixture(scope="module")
def browser(runs):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def open_page(browser, port: int):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(30000)
    page.goto(f"http://127.0.0.1:{port}/rnnlab.js")             # a document of the server's own origin,
    page.set_content(PAGE % port)                                # then the test page in its place
    assert page.evaluate("window.ready") == ["chars"]
    return page, errors


def test_the_script_is_served_as_javascript(runs):
    import urllib.request

    with live_server([runs["chars"]]) as (_, port, _osc), \
            urllib.request.urlopen(f"http://127.0.0.1:{port}/rnnlab.js") as response:
        assert response.headers["content-type"].startswith("text/javascript")
        assert b"function connect(" in response.read()


def test_generate_predict_feed_reset_stream_and_errors(runs, browser):
    with live_server([runs["chars"]]) as (_, port, _osc):
        page, errors = open_page(browser, port)
        generated = page.evaluate("model.generate({ prime: 'the ', length: 12, seed: 4 })")
        again = page.evaluate("model.generate({ prime: 'the ', length: 12, seed: 4 })")
        assert generated["type"] == "generated" and len(generated["tokens"]) == 12 and generated == again
        page.evaluate("model.set({ greedy: true })")
        out = page.evaluate("model.predict('the c', { top: 3, state: 4 })")
        assert out["type"] == "output" and out["candidates"][0]["id"] == out["id"] and len(out["state"]) == 4
        fed = page.evaluate("model.feed([1, 2])")
        assert fed["type"] == "output"
        assert page.evaluate("model.reset()")["type"] == "reset"
        first = page.evaluate("model.predict('the c').then((o) => o.token)")
        assert first == out["token"]                                # reset: the same greedy answer again
        called = page.evaluate("""new Promise((resolve) =>
            model.predict('on the', (error, output) => resolve([error, output.type])))""")
        assert called == [None, "output"]
        streamed = page.evaluate("""(async () => { const seen = [];
            const outputs = await model.stream({ n: 7, interval: 1 }, (o) => seen.push(o.index));
            return [seen, outputs.length]; })()""")
        assert streamed == [list(range(7)), 7]
        refused = page.evaluate("model.predict(true).then(() => 'answered', (e) => e.name + ': ' + e.message)")
        assert refused.startswith("RnnlabError: input must be text")
        assert page.evaluate("model.predict('a').then((o) => o.type)") == "output"     # still connected
        assert not errors


def test_it_reconnects_when_the_socket_drops_and_when_the_server_restarts(runs, browser):
    with live_server([runs["chars"]]) as (_, port, _osc):
        page, errors = open_page(browser, port)
        page.evaluate("model.set({ greedy: true })")
        before = page.evaluate("model.predict('the c')")
        first_session = page.evaluate("model.sessionId")
        page.evaluate("model.socket.close()")                      # the socket drops under the client
        after = page.evaluate("model.reset().then(() => model.predict('the c'))")       # queued, then answered
        assert after["token"] == before["token"]                   # greedy setting restored on the new socket
        assert page.evaluate("model.sessionId") != first_session
        assert page.evaluate("window.events").count("reconnecting") >= 1
        page.evaluate("model.session('stage')")
        page.evaluate("model.predict('the')")
    # the server is gone: requests wait; a new server on the same port answers them
    page.wait_for_function("!model.connected && window.events.filter((e) => e === 'reconnecting').length >= 3",
                           timeout=20000)
    page.evaluate("() => { window.waiting = model.predict('the c').then((o) => o.token); }")    # not awaited
    assert page.evaluate("model.queue.length") == 1
    with live_server([runs["chars"]], port=port) as (app, _, _osc):
        # the restarted server had no session "stage": the client named it again and sent its settings
        assert page.evaluate("window.waiting") == before["token"]
        stage = app.state.hub.sessions.get("name:stage")
        assert stage is not None and stage.settings.greedy and "chars" in stage.tracks
        assert page.evaluate("model.connected") is True
        assert page.evaluate("model.generate({ prime: 'the ', length: 5 }).then((o) => o.tokens.length)") == 5
    assert not errors


def test_the_p5_example_shows_the_next_tokens(runs, browser):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "examples" / "p5" / "next_tokens"
    with live_server([runs["chars"]]) as (app, port, _osc):
        html = (folder / "index.html").read_text(encoding="utf-8").replace("http://127.0.0.1:8765",
                                                                          f"http://127.0.0.1:{port}")
        sketch = (folder / "sketch.js").read_text(encoding="utf-8")
        html = html.replace('<script src="sketch.js"></script>',
                            f'<script>window.RNNLAB_SERVER = "ws://127.0.0.1:{port}/ws";\n{sketch}</script>')
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_default_timeout(30000)
        page.goto(f"http://127.0.0.1:{port}/rnnlab.js")
        page.set_content(html)
        page.wait_for_function("typeof model !== 'undefined' && model && model.sessionName === 'next-tokens'")
        page.keyboard.type("the c")
        page.wait_for_function("window.nextTokens.outputs >= 5")
        assert app.state.hub.sessions.get("name:next-tokens").settings.temperature == 0.8
        page.wait_for_timeout(200)                                  # a frame or two drawn
        bar = page.evaluate("Array.from(get(125, 69))")             # the likeliest token's bar is blue
        assert bar[2] > 150 and bar[0] < 100, bar
        assert not errors
        page.close()
