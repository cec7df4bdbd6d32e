"""No crowd of idle clients locks the others out: a full pool ends its session idle longest (past a
short grace), and never one in use, such as a performer's named session."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
import urllib.error
import urllib.request

import pytest

from rnnlab.serve.sessions import ServeSettings

from .live import live_server

websockets = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import ConnectionClosed  # noqa: E402

GRACE = 1.0


@pytest.fixture
def sockets():
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def server(runs):
    settings = ServeSettings(max_sessions=2, max_named_sessions=2, max_length=20, idle_grace_s=GRACE)
    with live_server([runs["chars"]], settings) as live:
        yield live


def post(port: int, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(),
                                     {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def hello(sockets: ExitStack, port: int):
    ws = sockets.enter_context(websockets.connect(f"ws://127.0.0.1:{port}/ws"))
    return ws, json.loads(ws.recv())


def test_idle_websockets_make_room_and_are_told(server, sockets):
    _, port, _ = server
    idle, _ = hello(sockets, port)
    busy, _ = hello(sockets, port)
    time.sleep(GRACE + 0.3)
    busy.send(json.dumps({"type": "step", "input": "a"}))
    assert json.loads(busy.recv())["type"] == "output"
    newcomer, greeting = hello(sockets, port)                      # the pool is full: the idle one makes room
    assert greeting["type"] == "hello"
    told = json.loads(idle.recv(timeout=10))
    assert told["type"] == "error" and "idle" in told["error"]
    with pytest.raises(ConnectionClosed) as closed:
        idle.recv(timeout=10)
    assert closed.value.rcvd.code == 1013
    late, refused = hello(sockets, port)                           # both in use within the grace: refused, not evicted
    assert refused["type"] == "error" and "in use" in refused["error"]
    for ws in (busy, newcomer):
        ws.send(json.dumps({"type": "step", "input": "a"}))
        assert json.loads(ws.recv())["type"] == "output"


def test_a_burst_of_http_sessions_does_not_hold_the_pool(server):
    _, port, _ = server
    first = post(port, "/step", {"input": "a"})[1]["session"]
    post(port, "/step", {"input": "a"})
    status, refused = post(port, "/step", {"input": "a"})
    assert status == 503 and "in use" in refused["detail"]
    time.sleep(GRACE + 0.3)
    status, reply = post(port, "/step", {"input": "a"})       # the least recently used idle one made room
    assert status == 200 and reply["session"] != first
    assert post(port, "/step", {"session": first, "input": "a"})[0] == 404


def test_anonymous_named_sessions_never_push_out_a_performer(server):
    _, port, _ = server
    assert post(port, "/step", {"name": "stage", "input": "the"})[0] == 200
    answers = [post(port, "/session", {"name": f"crowd{i}"})[0] for i in range(64)]
    assert answers[0] == 200 and set(answers[1:]) == {503}
    assert post(port, "/step", {"name": "stage", "input": "a"})[0] == 200


def test_a_named_session_held_by_an_open_websocket_is_never_ended(server, sockets):
    app, port, _ = server
    performer, _ = hello(sockets, port)
    performer.send(json.dumps({"type": "session", "name": "stage"}))
    assert json.loads(performer.recv())["created"] is True
    assert post(port, "/session", {"name": "crowd0"})[0] == 200
    time.sleep(GRACE + 0.3)                                # both idle now; "stage" is held by its socket
    assert post(port, "/session", {"name": "crowd1"})[0] == 200
    assert post(port, "/session", {"name": "crowd2"})[0] == 503
    assert set(app.state.hub.sessions.sessions) >= {"name:stage", "name:crowd1"}
