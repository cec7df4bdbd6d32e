"""Limits against a real uvicorn + OSC server: bounded request bodies, sessions per kind of client."""

from __future__ import annotations

import socket

import pytest

from .live import live_server
from rnnlab.serve.sessions import ServeSettings

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
