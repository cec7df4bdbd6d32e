"""Who may use the server: the token on HTTP, WebSocket and the page; the Host check against DNS
rebinding; how `rnnlab serve` chooses and prints its token."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from starlette.websockets import WebSocketDisconnect

from rnnlab.errors import RnnlabError
from rnnlab.serve.access import Access, choose_token, networks
from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process
from .test_serve_cli import free_port

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def models(runs):
    return load_models([str(runs["chars"])])


def client_with(models, **access):
    return in_process(Hub(models, ServeSettings(max_length=20)), Access(**access))


def test_http_needs_the_token_as_a_header_or_in_the_url(models):
    with client_with(models, token=TOKEN, allow_hosts=["testserver"]) as client:
        body = {"prime": "the ", "length": 3}
        for headers, url in (({}, "/generate"), ({"authorization": "Bearer wrong-token-of-16chars"}, "/generate"),
                             ({}, "/generate?token=" + TOKEN[:-1])):
            refused = client.post(url, json=body, headers=headers)
            assert refused.status_code == 401 and "token" in refused.json()["detail"]
            assert refused.headers["www-authenticate"] == "Bearer"
        assert client.post("/generate", json=body, headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert client.post(f"/generate?token={TOKEN}", json=body).status_code == 200
        assert client.get("/models").status_code == 401
        assert client.get("/").status_code == 401                       # the page too
        page = client.get(f"/?token={TOKEN}")
        assert page.status_code == 200 and "<html" in page.text
        for public in ("/rnnlab.js", "/static/sketch.js", "/docs", "/openapi.json"):   # the same on every server
            assert client.get(public).status_code == 200, public


def test_the_websocket_needs_the_token_in_its_url(models):
    with client_with(models, token=TOKEN, allow_hosts=["testserver"]) as client:
        for url in ("/ws", "/ws?token=nope"):
            with client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1008 and "token" in closed.value.reason
        with client.websocket_connect(f"/ws?token={TOKEN}") as ws:
            assert ws.receive_json()["type"] == "hello"


@pytest.mark.parametrize("host, allowed", [
    ("evil.example:8765", False), ("evil.example", False), ("127.0.0.1:8765", True), ("localhost:8765", True),
    ("[::1]:8765", True), ("192.168.1.20:8765", True), ("stage.local:8765", True), ("bad host:x", False),
])
def test_http_answers_only_hosts_that_cannot_be_a_rebinding_page(models, host, allowed):
    with client_with(models, allow_hosts=["stage.local"]) as client:
        answer = client.post("/generate", json={"prime": "the ", "length": 3}, headers={"host": host})
        assert answer.status_code == (200 if allowed else 400), answer.text
        if not allowed:
            assert "--allow-host" in answer.json()["detail"]
        websocket = client.websocket_connect("ws://localhost/ws", headers={"host": host})
        if allowed:
            with websocket as ws:
                assert ws.receive_json()["type"] == "hello"
        else:
            with pytest.raises(WebSocketDisconnect):
                with websocket as ws:
                    ws.receive_json()


def test_with_a_token_any_host_is_answered(models):
    with client_with(models, token=TOKEN, bind_host="0.0.0.0") as client:
        headers = {"host": "stage-mac.local:8765", "authorization": f"Bearer {TOKEN}"}
        assert client.get("/models", headers=headers).status_code == 200
        assert client.get("/models", headers={"host": "stage-mac.local:8765"}).status_code == 401


def test_how_the_token_is_chosen():
    assert choose_token(None, False, "127.0.0.1") is None and choose_token(None, False, "localhost") is None
    made = choose_token(None, False, "0.0.0.0")
    assert len(made) >= 32 and made != choose_token(None, False, "0.0.0.0")
    assert len(choose_token("auto", False, "127.0.0.1")) >= 32
    assert choose_token(TOKEN, False, "0.0.0.0") == TOKEN
    assert choose_token(None, True, "0.0.0.0") is None
    for bad in ("short", "has space in it, sixteen+", "é" * 20):
        with pytest.raises(RnnlabError, match="--token"):
            choose_token(bad, False, "127.0.0.1")
    with pytest.raises(RnnlabError, match="contradict"):
        choose_token(TOKEN, True, "0.0.0.0")


def test_osc_senders_are_allowed_by_address():
    access = Access(osc_allow=networks(["192.168.1.0/24", "10.0.0.7"]))
    assert access.osc_sender_allowed("127.0.0.1") and access.osc_sender_allowed("127.0.0.2")
    assert access.osc_sender_allowed("::1") and access.osc_sender_allowed("::ffff:127.0.0.1")
    assert access.osc_sender_allowed("192.168.1.44") and access.osc_sender_allowed("10.0.0.7")
    assert not access.osc_sender_allowed("10.0.0.8") and not access.osc_sender_allowed("192.0.2.2")
    assert not Access().osc_sender_allowed("192.168.1.44")
    with pytest.raises(RnnlabError, match="--osc-allow"):
        networks(["stage.local"])


def test_serve_prints_a_url_with_its_token_and_refuses_calls_without_it(runs):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(runs["chars"]), "--port", str(port),
                               "--osc-port", "0", "--token", "auto"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        match = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([A-Za-z0-9_-]+)", line)
        assert match, line
        token, deadline = match.group(1), time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/models", timeout=2)
                raise AssertionError("answered without the token")
            except urllib.error.HTTPError as refused:
                assert refused.code == 401
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/models", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        server.wait(20)
