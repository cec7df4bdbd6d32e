"""Limits against a real uvicorn + OSC server: bounded request bodies, sessions per kind of client."""

from __future__ import annotations

import socket

import pytest

from rnnlab.serve.sessions import ServeSettings

from .live import live_server

LIMIT = 2048


@pytest.fixture(scope="module")
def server(runs):
    settings = ServeSettings(max_length=40, max_request_bytes=LIMIT, max_sessions=4)
    with live_server([runs["chars"], runs["wave"]], settings) as live:
        yield live


def raw_http(port: int, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request's head and body pieces (never finishing a chunked body); read what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:                     # the server answered and closed: that is the point
                break
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            piece = sock.recv(65536)             # a server still waiting for the body times out here
            if not piece:
                break
            reply += piece
        return reply


@pytest.mark.parametrize("path", ["/step", "/generate", "/reset"])
def test_a_chunked_body_is_cut_off_past_the_limit(server, path):
    _, http_port, _ = server
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    piece = b"x" * 1000
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 4          # 4,000 bytes and no final chunk: never ends
    reply = raw_http(http_port, head, chunks)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"over the limit of 2048" in reply


def test_a_small_chunked_body_is_served(server):
    _, http_port, _ = server
    body = b'{"input": "the", "settings": {"seed": 1}}'
    head = (b"POST /step HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    reply = raw_http(http_port, head, [b"%x\r\n%s\r\n" % (len(body[:10]), body[:10]),
                                       b"%x\r\n%s\r\n0\r\n\r\n" % (len(body[10:]), body[10:])])
    assert reply.startswith(b"HTTP/1.1 200") and b'"type":"output"' in reply


def test_a_declared_length_over_the_limit_is_refused_unread(server):
    _, http_port, _ = server
    head = (b"POST /step HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200000000\r\n\r\n")
    reply = raw_http(http_port, head, [b"{"])
    assert reply.startswith(b"HTTP/1.1 413") and b"200000000 bytes is over the limit" in reply


def test_one_shot_osc_senders_do_not_lock_out_websocket_and_http(server, runs):
    """Many OSC senders (each address:port a session) fill only OSC's own pool, which forgets the
    least recently used sender; HTTP and WebSocket clients still get sessions."""
    import json
    import urllib.request

    websockets = pytest.importorskip("websockets.sync.client")
    from .test_osc import OscClient

    app, http_port, osc_port = server
    hub = app.state.hub
    senders = [OscClient(osc_port) for _ in range(10)]                 # more than max_sessions=4
    try:
        for sender in senders:
            address, _ = sender.ask("/rnnlab/step", "the c")
            assert address == "/rnnlab/output"
        assert hub.sessions.count("osc") == 4
        keys = {f"osc:127.0.0.1:{s.sock.getsockname()[1]}" for s in senders[-4:]}
        assert set(k for k in hub.sessions.sessions if k.startswith("osc:")) == keys   # the last four stay
        with websockets.connect(f"ws://127.0.0.1:{http_port}/ws") as ws:
            assert json.loads(ws.recv())["type"] == "hello"
            ws.send(json.dumps({"type": "step", "input": "a"}))
            assert json.loads(ws.recv())["type"] == "output"
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}/step", json.dumps({"input": "a"}).encode(),
                                         {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            session = json.load(response)["session"]
        hub.sessions.drop(session)
        assert senders[0].ask("/rnnlab/step", "the c")[0] == "/rnnlab/output"       # a forgotten sender starts anew
    finally:
        for sender in senders:
            sender.sock.close()


def test_http_cannot_reach_another_kind_of_session(server):
    import json
    import urllib.error
    import urllib.request

    from .test_osc import OscClient

    app, http_port, osc_port = server
    sender = OscClient(osc_port)
    assert sender.ask("/rnnlab/step", "the")[0] == "/rnnlab/output"
    key = f"osc:127.0.0.1:{sender.sock.getsockname()[1]}"
    for path, body in (("/step", {"session": key, "input": "a"}), ("/reset", {"session": key, "close": True})):
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}", json.dumps(body).encode(),
                                         {"content-type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=20)
        assert refused.value.code == 404
    assert key in app.state.hub.sessions.sessions
    sender.sock.close()
