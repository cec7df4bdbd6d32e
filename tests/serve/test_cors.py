"""Cross-origin access: pages on localhost always, others (the p5.js web editor) only when allowed."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from rnnlab.cli import main
from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process

EDITOR = "https://editor.p5js.org"


@pytest.fixture(scope="module")
def models(runs):
    return load_models([str(runs["chars"])])


def app_client(models, allow=None):
    return in_process(Hub(models, ServeSettings(max_request_bytes=2048)), allow_origins=allow)


def preflight(client, origin: str):
    return client.options("/step", headers={"origin": origin, "access-control-request-method": "POST",
                                            "access-control-request-headers": "content-type"})


def test_default_allows_only_local_pages(models):
    with app_client(models) as client:
        for origin in ("http://localhost:3000", "http://127.0.0.1:5500"):
            response = preflight(client, origin)
            assert response.status_code == 200 and response.headers["access-control-allow-origin"] == origin
        refused = preflight(client, EDITOR)
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        simple = client.post("/step", json={"input": "a"}, headers={"origin": EDITOR})
        assert "access-control-allow-origin" not in simple.headers           # the browser keeps it from the page


def test_allowed_origin_can_call_the_server(models):
    with app_client(models, [EDITOR + "/"]) as client:
        response = preflight(client, EDITOR)
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == EDITOR
        assert "POST" in response.headers["access-control-allow-methods"]
        step = client.post("/step", json={"input": "the"}, headers={"origin": EDITOR})
        assert step.status_code == 200 and step.headers["access-control-allow-origin"] == EDITOR
        big = client.post("/step", content=b"x" * 3000, headers={"origin": EDITOR, "content-type": "application/json"})
        assert big.status_code == 413 and big.headers["access-control-allow-origin"] == EDITOR
        assert preflight(client, "https://elsewhere.example").status_code == 400
    with app_client(models, ["*"]) as client:
        assert preflight(client, "https://elsewhere.example").headers["access-control-allow-origin"] == "*"


def test_websocket_origin_is_checked(models):
    with app_client(models, [EDITOR]) as client:
        for headers in ({}, {"origin": EDITOR}, {"origin": "http://localhost:8000"}):   # no Origin: not a browser
            with client.websocket_connect("/ws", headers=headers) as ws:
                assert ws.receive_json()["type"] == "hello"
        own = {"origin": "http://192.168.1.5:8765", "host": "192.168.1.5:8765"}      # served on a LAN address
        with client.websocket_connect("/ws", headers=own) as ws:
            assert ws.receive_json()["type"] == "hello"                    # the server's own page
        for headers in ({"origin": "https://evil.example"}, {"origin": "null"},
                        {"origin": "http://localhost.evil.example"},
                        {"origin": "http://rebind.example:8765", "host": "rebind.example:8765"}):   # DNS rebinding
            with pytest.raises(WebSocketDisconnect) as refused:
                with client.websocket_connect("/ws", headers=headers) as ws:
                    ws.receive_json()
            assert refused.value.code == 1008
    with app_client(models) as client:
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws", headers={"origin": EDITOR}) as ws:
                ws.receive_json()


def test_a_malformed_allow_origin_is_one_line(runs, capsys):
    assert main(["serve", str(runs["chars"]), "--allow-origin", "editor.p5js.org", "--port", "1", "--osc-port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--allow-origin 'editor.p5js.org'" in err and len(err.strip().splitlines()) == 1


def test_a_page_from_another_origin_in_a_real_browser(runs):
    """Chromium on a page served from http://127.0.0.2: refused by default, served once allowed."""
    import http.server
    import shutil
    import threading

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from .live import live_server

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>sketch</title>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    try:
        pages = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Page)
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here")
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.2:{pages.server_address[1]}"
    script = """async (port) => {
        const result = {};
        try {
            const r = await fetch(`http://127.0.0.1:${port}/step`, {method: "POST",
                headers: {"content-type": "application/json"}, body: JSON.stringify({input: "the"})});
            result.fetch = (await r.json()).type;
        } catch (e) { result.fetch = "blocked"; }
        result.ws = await new Promise((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
            ws.onmessage = (event) => { resolve(JSON.parse(event.data).type); ws.close(); };
            ws.onerror = () => resolve("refused");
        });
        return result;
    }"""
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(origin + "/")
            for allow, expected in ((None, {"fetch": "blocked", "ws": "refused"}),
                                    ([origin], {"fetch": "output", "ws": "hello"})):
                with live_server([runs["chars"]], allow_origins=allow) as (_, http_port, _osc):
                    assert page.evaluate(script, http_port) == expected, allow
            browser.close()
    finally:
        pages.shutdown()
