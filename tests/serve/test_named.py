"""Named sessions, snapshots and restores, likeliest tokens and state vectors: WebSocket, HTTP and OSC."""

from __future__ import annotations

import pytest

from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process
from .live import live_server
from .test_osc import OscClient


@pytest.fixture
def hub(runs):
    settings = ServeSettings(max_sessions=4, max_length=50, max_request_bytes=4096, max_named_sessions=2,
                             max_snapshots=3, idle_grace_s=0)      # no grace: the pool's order alone decides
    return Hub(load_models([str(runs["chars"]), str(runs["wave"]), str(runs["shapes"])]), settings)


@pytest.fixture
def client(hub):
    with in_process(hub) as test_client:
        yield test_client


def ask(ws, message: dict) -> dict:
    ws.send_json(message)
    return ws.receive_json()


def stream(ws, n: int, **extra) -> list[dict]:
    ws.send_json({"type": "stream", "n": n, **extra})
    outputs = []
    while True:
        message = ws.receive_json()
        assert message["type"] in ("output", "done"), message
        if message["type"] == "done":
            return outputs
        outputs.append(message)


def test_a_named_session_outlives_its_connection(client, hub):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        reply = ask(ws, {"type": "session", "name": "sketch-1", "id": 1})
        assert reply["type"] == "session" and reply["created"] and reply["request_id"] == 1
        assert ask(ws, {"type": "set", "greedy": True})["greedy"] is True
        ask(ws, {"type": "step", "input": "the ca"})
        before = hub.sessions.get("name:sketch-1").tracks["chars"].state[0][0].clone()
    assert hub.sessions.count("ws") == 0 and hub.sessions.get("name:sketch-1") is not None
    with client.websocket_connect("/ws") as ws:                     # the sketch restarts: its state is back
        ws.receive_json()
        again = ask(ws, {"type": "session", "name": "sketch-1"})
        assert not again["created"] and again["models"] == ["chars"] and again["settings"]["greedy"] is True
        assert hub.sessions.get("name:sketch-1").tracks["chars"].state[0][0].equal(before)
        own = ask(ws, {"type": "session", "name": None})            # back to the connection's own session
        assert own["created"] is False and own["models"] == [] and own["settings"]["greedy"] is False


@pytest.mark.parametrize("name", ["", "x" * 65, "a b", "../x", "é", 5, ["a"], True])
def test_bad_names_get_an_error_frame(client, name):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for kind in ("session", "snapshot", "restore"):
            reply = ask(ws, {"type": kind, "name": name, "id": 9})
            assert reply["type"] == "error" and "1 to 64 characters" in reply["error"] and reply["request_id"] == 9
        assert ask(ws, {"type": "step", "input": "a"})["type"] == "output"          # still serving


def test_the_named_pool_is_bounded_and_forgets_the_least_recently_used(client, hub):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for name in ("a", "b", "a", "c"):                            # room for 2: "b" was used least recently
            assert ask(ws, {"type": "session", "name": name})["type"] == "session"
        assert hub.sessions.count("named") == 2
        assert hub.sessions.get("name:a") and hub.sessions.get("name:c") and not hub.sessions.get("name:b")
        assert ask(ws, {"type": "session", "name": "b"})["created"] is True


def test_restore_then_greedy_steps_repeat_what_followed_the_snapshot(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ask(ws, {"type": "session", "name": "performer"})
        ask(ws, {"type": "set", "greedy": True})
        ask(ws, {"type": "step", "input": "the d"})
        assert ask(ws, {"type": "snapshot", "name": "verse", "id": 3}) == {
            "type": "snapshot", "name": "verse", "dropped": None, "request_id": 3, "id": 3}
        followed = stream(ws, 12)
        after = [o["token"] for o in followed]
        ask(ws, {"type": "set", "greedy": False, "temperature": 1.5})           # the performer moves on
        stream(ws, 7)
        restored = ask(ws, {"type": "restore", "name": "verse"})
        assert restored["type"] == "restored" and restored["settings"]["greedy"] is True
        assert [o["token"] for o in stream(ws, 12)] == after
        ask(ws, {"type": "restore", "name": "verse"})                # again, feeding the tokens one by one
        steps = [ask(ws, {"type": "step", "input": o["id"]})["token"] for o in followed[:-1]]
        assert steps == after[1:]
        missing = ask(ws, {"type": "restore", "name": "chorus"})
        assert missing["type"] == "error" and "no snapshot 'chorus'" in missing["error"] and "verse" in missing["error"]


def test_restore_repeats_seeded_sampling_too_and_snapshots_are_bounded(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ask(ws, {"type": "set", "seed": 11, "temperature": 1.2})
        ask(ws, {"type": "step", "input": "on the"})
        ask(ws, {"type": "snapshot", "name": "s0"})
        first = [o["token"] for o in stream(ws, 15)]
        ask(ws, {"type": "restore", "name": "s0"})
        assert [o["token"] for o in stream(ws, 15)] == first            # the random stream was kept too
        dropped = [ask(ws, {"type": "snapshot", "name": f"s{i}"})["dropped"] for i in range(1, 4)]
        assert dropped == [None, None, "s0"]                            # 3 per session: the oldest goes
        assert ask(ws, {"type": "restore", "name": "s0"})["type"] == "error"
        assert ask(ws, {"type": "restore", "name": "s1"})["type"] == "restored"


def test_top_candidates_are_sorted_and_greedy_samples_the_first(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ask(ws, {"type": "set", "greedy": True})
        out = ask(ws, {"type": "step", "input": "the c", "top": 5, "state": 8})
        candidates = out["candidates"]
        assert len(candidates) == 5 and {"id", "token", "text", "p"} <= candidates[0].keys()
        probs = [c["p"] for c in candidates]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert candidates[0]["id"] == out["id"] and candidates[0]["token"] == out["token"]
        assert len(out["state"]) == 8 and all(-1 <= v <= 1 for v in out["state"])       # tanh-bounded h
        streamed = stream(ws, 6, top=3, state=4)
        assert all(o["candidates"][0]["id"] == o["id"] and len(o["state"]) == 4 for o in streamed)
        assert len({tuple(o["state"]) for o in streamed}) > 1                  # the state moves
        everything = ask(ws, {"type": "step", "input": "a", "top": 50})
        vocabulary = ask(ws, {"type": "models"})["models"][0]["vocabulary"]
        assert len(everything["candidates"]) == min(50, vocabulary)
        assert abs(sum(c["p"] for c in everything["candidates"]) - 1) < 1e-4 or vocabulary > 50
        for bad in ({"top": 0}, {"top": 51}, {"top": 2.5}, {"top": True}, {"state": 65}, {"state": "8"}):
            reply = ask(ws, {"type": "step", "input": "a", **bad})
            assert reply["type"] == "error" and "must be an integer from 1 to" in reply["error"]
        series = ask(ws, {"type": "step", "model": "wave", "input": [0.1, 0.2], "top": 3})
        assert series["type"] == "error" and "for token models" in series["error"]
        series = ask(ws, {"type": "step", "model": "wave", "input": [0.1, 0.2], "state": 3})
        assert series["type"] == "output" and len(series["state"]) == 3
        assert ask(ws, {"type": "stream", "model": "shapes", "n": 3, "top": 2})["type"] == "error"


def test_top_and_state_over_http(client):
    out = client.post("/step", json={"input": "the", "top": 4, "state": 2, "settings": {"greedy": True}}).json()
    assert out["candidates"][0]["id"] == out["id"] and len(out["candidates"]) == 4 and len(out["state"]) == 2
    bad = client.post("/step", json={"input": "the", "top": 99})
    assert bad.status_code == 422 and "from 1 to 50" in bad.json()["detail"]
    for wrong in ({"top": 2.5}, {"state": "x"}, {"state": 0}, {"top": [1]}, {"model": "wave", "input": [1, 2],
                                                                              "top": 2}):
        response = client.post("/step", json={"input": "the", **wrong})
        assert response.status_code == 422 and response.json()["detail"], (wrong, response.text)


@pytest.fixture(scope="module")
def server(runs):
    with live_server([runs["chars"], runs["wave"]], ServeSettings(max_length=40)) as live:
        yield live


def test_osc_senders_share_a_named_session_and_restore_snapshots(server):
    _, _, osc_port = server
    first, second = OscClient(osc_port), OscClient(osc_port)
    assert first.ask("/rnnlab/session", "stage") == ("/rnnlab/ack", ["session", "stage"])
    assert first.ask("/rnnlab/set", "greedy", 1)[0] == "/rnnlab/ack"
    first.ask("/rnnlab/step", "the c")
    assert first.ask("/rnnlab/snapshot", "here") == ("/rnnlab/ack", ["snapshot", "here"])
    first.send("/rnnlab/generate", 8)
    after = [first.receive() for _ in range(9)]
    tokens = [args[1] for address, args in after[:-1]]
    assert after[-1] == ("/rnnlab/done", [8])
    # a one-shot sender, another port: the same session by its address, the snapshot is there
    assert second.ask("/rnnlab/session/stage/restore", "here") == ("/rnnlab/ack", ["restore", "here"])
    second.send("/rnnlab/session/stage/generate", 8)
    assert [second.receive()[1][1] for _ in range(8)] == tokens and second.receive()[0] == "/rnnlab/done"
    assert second.ask("/rnnlab/session/stage/candidates", 3) == ("/rnnlab/ack", ["candidates", 3])
    assert second.ask("/rnnlab/session/stage/state", 4) == ("/rnnlab/ack", ["state", 4])
    first.send("/rnnlab/step", "a")                              # first still talks to "stage"
    (address, out), (caddress, cands), (saddress, state) = first.receive(), first.receive(), first.receive()
    assert (address, caddress, saddress) == ("/rnnlab/output", "/rnnlab/candidates", "/rnnlab/state")
    assert len(cands) == 9 and cands[0] == out[0] and cands[1] == out[1]
    probs = cands[2::3]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-5
    assert len(state) == 4 and all(isinstance(v, float) for v in state)
    assert first.ask("/rnnlab/session") == ("/rnnlab/ack", ["session"])      # back to its own state
    assert first.ask("/rnnlab/step", "a")[0] == "/rnnlab/output"
    first.sock.settimeout(0.5)
    with pytest.raises(TimeoutError):
        first.receive()                                          # its own session asked for no extras


@pytest.mark.parametrize("address, args, reason", [
    ("/rnnlab/session", ["bad name"], "1 to 64 characters"),
    ("/rnnlab/session", [3], "takes one name"),
    ("/rnnlab/session/x y/step", ["a"], "1 to 64 characters"),
    ("/rnnlab/session/ok/fly", [], "VERB one of"),
    ("/rnnlab/session/ok", [], "VERB one of"),
    ("/rnnlab/snapshot", [], "takes one name"),
    ("/rnnlab/restore", ["never"], "no snapshot 'never'"),
    ("/rnnlab/candidates", [51], "from 0 (off) to 50"),
    ("/rnnlab/candidates", ["3"], "whole number"),
    ("/rnnlab/state", [65], "from 0 (off) to 64"),
])
def test_osc_bad_session_messages_get_errors(server, address, args, reason):
    client = OscClient(server[2])
    reply = client.ask(address, *args)
    assert reply[0] == "/rnnlab/error" and reason in reply[1][0], reply
    assert client.ask("/rnnlab/step", "a")[0] == "/rnnlab/output"


def test_one_shot_osc_senders_share_a_session_through_bundles(server):
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    def bundle(*messages) -> bytes:
        builder = OscBundleBuilder(IMMEDIATELY)
        for address, *args in messages:
            message = OscMessageBuilder(address)
            for arg in args:
                message.add_arg(arg)
            builder.add_content(message.build())
        return builder.build().dgram

    port = server[2]
    setup = OscClient(port)
    setup.send_raw(bundle(("/rnnlab/session", "shared"), ("/rnnlab/set", "greedy", 1), ("/rnnlab/step", "the c"),
                          ("/rnnlab/snapshot", "start")))
    replies = [setup.receive() for _ in range(4)]
    assert [a for a, _ in replies] == ["/rnnlab/ack", "/rnnlab/ack", "/rnnlab/output", "/rnnlab/ack"]
    answers = []
    for _ in range(2):                                  # two one-shot senders, each from a new port
        once = OscClient(port)
        once.send_raw(bundle(("/rnnlab/session", "shared"), ("/rnnlab/restore", "start"), ("/rnnlab/step", "a")))
        answers.append([once.receive() for _ in range(3)][-1])
    assert answers[0] == answers[1] and answers[0][0] == "/rnnlab/output"


# ---- named sessions and snapshots over HTTP ------------------------------------------------------------
def greedy_run(client, target: dict, first, n: int) -> list[str]:
    """n greedy steps over HTTP, each feeding back the token the one before sampled."""
    tokens, token = [], first
    for _ in range(n):
        out = client.post("/step", json={**target, "input": token})
        assert out.status_code == 200, out.text
        token = out.json()["id"]
        tokens.append(out.json()["token"])
    return tokens


def test_http_snapshot_then_restore_repeats_the_greedy_continuation(client, hub):
    made = client.post("/session", json={"name": "desk", "settings": {"greedy": True}}).json()
    assert made == {"name": "desk", "created": True, "models": [], "snapshots": [],
                    "settings": {**made["settings"], "greedy": True}}
    first = client.post("/step", json={"name": "desk", "input": "the d"}).json()
    assert first["name"] == "desk" and "session" not in first and first["type"] == "output"
    taken = client.post("/snapshot", json={"name": "desk", "snapshot": "verse"})
    assert taken.status_code == 200 and taken.json() == {"name": "desk", "snapshot": "verse", "dropped": None,
                                                         "snapshots": ["verse"]}
    after = greedy_run(client, {"name": "desk"}, first["id"], 10)
    client.post("/step", json={"name": "desk", "input": "zzz", "settings": {"greedy": False, "temperature": 2.0}})
    restored = client.post("/restore", json={"name": "desk", "snapshot": "verse"}).json()
    assert restored == {"name": "desk", "restored": "verse", "settings": {**restored["settings"], "greedy": True}}
    assert greedy_run(client, {"name": "desk"}, first["id"], 10) == after
    listing = client.get("/sessions/desk").json()
    assert listing == {"name": "desk", "models": ["chars"], "snapshots": ["verse"], "settings": restored["settings"]}
    # an anonymous HTTP session has snapshots of its own too, addressed by its id
    own = client.post("/step", json={"input": "the c", "settings": {"greedy": True}}).json()
    target = {"session": own["session"]}
    assert client.post("/snapshot", json={**target, "snapshot": "a"}).json()["session"] == own["session"]
    mine = greedy_run(client, target, own["id"], 6)
    assert client.post("/restore", json={**target, "snapshot": "a"}).status_code == 200
    assert greedy_run(client, target, own["id"], 6) == mine
    assert client.post("/restore", json={"name": "desk", "snapshot": "a"}).status_code == 404   # not desk's


def test_a_websocket_snapshot_restores_over_http_and_back(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ask(ws, {"type": "session", "name": "stage"})
        ask(ws, {"type": "set", "seed": 5, "temperature": 1.3})
        ask(ws, {"type": "step", "input": "on the"})
        assert ask(ws, {"type": "snapshot", "name": "ws-made"})["type"] == "snapshot"
        inputs = list("the cat sat")
        after = [ask(ws, {"type": "step", "input": x})["token"] for x in inputs]
    assert client.get("/sessions/stage").json()["snapshots"] == ["ws-made"]
    assert client.post("/restore", json={"name": "stage", "snapshot": "ws-made"}).json()["settings"]["seed"] == 5
    # the seeded random stream came back too: the same inputs over HTTP sample the same tokens
    assert [client.post("/step", json={"name": "stage", "input": x}).json()["token"] for x in inputs] == after
    client.post("/step", json={"name": "stage", "input": "x"})
    assert client.post("/snapshot", json={"name": "stage", "snapshot": "http-made"}).status_code == 200
    later = [client.post("/step", json={"name": "stage", "input": "a"}).json()["token"] for _ in range(5)]
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        joined = ask(ws, {"type": "session", "name": "stage"})
        assert not joined["created"] and joined["snapshots"] == ["ws-made", "http-made"]
        assert ask(ws, {"type": "restore", "name": "http-made"})["type"] == "restored"
        assert [ask(ws, {"type": "step", "input": "a"})["token"] for _ in range(5)] == later


def test_http_named_pool_and_snapshots_evict_as_documented(client, hub):
    for name in ("a", "b", "a", "c"):                                # room for 2: "b" was used least recently
        assert client.post("/session", json={"name": name}).status_code == 200
    assert client.get("/sessions/a").status_code == 200 and client.get("/sessions/c").status_code == 200
    gone = client.get("/sessions/b")
    assert gone.status_code == 404 and "no session named 'b'" in gone.json()["detail"]
    assert client.post("/step", json={"name": "b", "input": "a"}).status_code == 200    # made again by a step
    assert hub.sessions.count("named") == 2 and client.get("/sessions/a").status_code == 404
    client.post("/step", json={"name": "c", "input": "the"})
    dropped = [client.post("/snapshot", json={"name": "c", "snapshot": f"s{i}"}).json()["dropped"] for i in range(4)]
    assert dropped == [None, None, None, "s0"]                       # 3 per session: the oldest goes
    assert client.get("/sessions/c").json()["snapshots"] == ["s1", "s2", "s3"]
    again = client.post("/snapshot", json={"name": "c", "snapshot": "s1"}).json()     # a name again replaces it
    assert again["dropped"] is None and again["snapshots"] == ["s2", "s3", "s1"]
    missing = client.post("/restore", json={"name": "c", "snapshot": "s0"})
    assert missing.status_code == 404 and "no snapshot 's0'" in missing.json()["detail"] and "s2" in missing.text
    closed = client.post("/reset", json={"name": "c", "close": True}).json()
    assert closed == {"name": "c", "reset": True, "closed": True} and client.get("/sessions/c").status_code == 404


@pytest.mark.parametrize("method, path, body", [
    ("post", "/session", {"name": ""}),
    ("post", "/session", {"name": "a b"}),
    ("post", "/session", {"name": "x" * 65}),
    ("post", "/session", {"name": 5}),
    ("post", "/session", {}),
    ("post", "/session", {"name": "ok", "settings": {"temperature": -1}}),
    ("post", "/step", {"name": "../x", "input": "a"}),
    ("post", "/step", {"name": "ok", "session": "abc", "input": "a"}),
    ("post", "/snapshot", {"name": "ok", "snapshot": "é"}),
    ("post", "/snapshot", {"snapshot": "s"}),
    ("post", "/restore", {"name": "ok", "snapshot": ["s"]}),
    ("post", "/reset", {}),
    ("get", "/sessions/a%20b", None),
    ("get", "/sessions/" + "x" * 65, None),
])
def test_bad_names_over_http_are_422_with_a_reason(client, method, path, body):
    response = getattr(client, method)(path, **({} if body is None else {"json": body}))
    assert response.status_code == 422 and response.json()["detail"], response.text
    assert client.get("/sessions/ok").status_code == 404                 # nothing was made by a refused request


@pytest.mark.parametrize("path, body, reason", [
    ("/snapshot", {"name": "nobody", "snapshot": "s"}, "no session named 'nobody'"),
    ("/restore", {"name": "nobody", "snapshot": "s"}, "no session named 'nobody'"),
    ("/restore", {"session": "not-a-session", "snapshot": "s"}, "no session 'not-a-session'"),
    ("/reset", {"name": "nobody"}, "no session named 'nobody'"),
    ("/step", {"session": "name:nobody", "input": "a"}, "no session 'name:nobody'"),
])
def test_unknown_sessions_over_http_are_404(client, path, body, reason):
    response = client.post(path, json=body)
    assert response.status_code == 404 and reason in response.json()["detail"]


def test_named_session_routes_are_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()
    assert {"/session", "/sessions/{name}", "/snapshot", "/restore"} <= schema["paths"].keys()
    bodies = schema["components"]["schemas"]
    assert {"SessionRequest", "SnapshotRequest"} <= bodies.keys()
    assert bodies["SnapshotRequest"]["properties"]["snapshot"]["pattern"] == "^[A-Za-z0-9_.~-]{1,64}$"
