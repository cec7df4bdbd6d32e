"""Connections that never finish a request (slowloris) are closed after --request-timeout, and past
--max-connections make room for real clients, who are never refused while such connections wait."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from rnnlab.serve.sessions import ServeSettings

from .live import live_server

HALF_HEAD = b"GET /models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "


def half_open(port: int, count: int) -> list[socket.socket]:
    """`count` connections that send part of a request's head and then nothing."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(HALF_HEAD)
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (after a 503 or without a word)."""
    sock.settimeout(0.05)
    try:
        while sock.recv(1024):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:                                 # reset: closed too
        return True


def models(port: int, connection: http.client.HTTPConnection | None = None) -> int:
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/models")
    answer = connection.getresponse()
    answer.read()
    return answer.status


def test_unfinished_heads_are_closed_after_the_request_timeout(runs):
    with live_server([runs["chars"]], ServeSettings(request_timeout_s=1.0)) as (app, port, _):
        waiting = half_open(port, 50)
        assert models(port) == 200                           # served meanwhile
        deadline = time.monotonic() + 10
        while not all(closed_by_server(s) for s in waiting):
            assert time.monotonic() < deadline, "half-open connections still open"
            time.sleep(0.2)
        assert app.state.connections.timed_out >= 50
        for sock in waiting:
            sock.close()


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_head(runs):
    with live_server([runs["chars"]], ServeSettings(request_timeout_s=1.0)) as (_, port, _):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(HALF_HEAD)                              # uvicorn's keep-alive timer stops at new data
        time.sleep(2.5)
        assert closed_by_server(sock)
        sock.close()


def test_past_the_connection_bound_waiting_connections_make_room(runs):
    settings = ServeSettings(max_connections=20, request_timeout_s=30.0)
    with live_server([runs["chars"]], settings) as (app, port, _):
        performer = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert models(port, performer) == 200
        waiting = half_open(port, 50)
        assert models(port, performer) == 200
        time.sleep(1.2)                                      # a connection may wait a second for its head
        for _ in range(5):
            assert models(port, performer) == 200            # a client in use is never the one closed
            assert models(port) == 200                       # a newcomer is served too
        guard = app.state.connections                        # refused (503) at once, or closed later for room
        assert guard.made_room >= 1 and guard.made_room + guard.refused >= 30
        assert sum(closed_by_server(s) for s in waiting) >= 30
        for sock in waiting:
            sock.close()


def test_a_body_that_never_comes_is_answered_408(runs):
    with live_server([runs["chars"]], ServeSettings(request_timeout_s=1.0)) as (_, port, _):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"prime\":")
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:100]
        assert "did not come" in json.loads(reply.split(b"\r\n\r\n", 1)[1])["detail"]
        sock.close()


def test_the_open_files_limit_is_raised_and_connections_kept_below_it():
    resource = pytest.importorskip("resource")
    from rnnlab.serve.network import FILES_KEPT, raise_open_files

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))            # macOS's default
        raised = raise_open_files()
        assert raised == (65536 if hard == resource.RLIM_INFINITY else min(65536, hard)) and raised > 256
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == raised
        assert FILES_KEPT < 256
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
