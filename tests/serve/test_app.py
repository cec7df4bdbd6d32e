"""HTTP and WebSocket through FastAPI's TestClient: endpoints, errors, limits, session isolation."""

from __future__ import annotations

import pytest

from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process


@pytest.fixture
def client(runs):
    settings = ServeSettings(max_sessions=4, max_length=50, max_request_bytes=2048)
    hub = Hub(load_models([str(runs["chars"]), str(runs["wave"]), str(runs["shapes"])]), settings)
    with in_process(hub) as test_client:
        yield test_client


def test_models_and_openapi(client):
    listing = client.get("/models").json()
    assert listing["default"] == "chars"
    kinds = {m["name"]: m["kind"] for m in listing["models"]}
    assert kinds == {"chars": "tokens", "wave": "series", "shapes": "strokes"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/models", "/generate", "/step", "/reset"} <= paths.keys()
    assert client.get("/docs").status_code == 200


def test_generate_text_and_series(client):
    one = client.post("/generate", json={"prime": "the ", "length": 12, "seed": 3}).json()
    two = client.post("/generate", json={"prime": "the ", "length": 12, "seed": 3}).json()
    assert one == two and len(one["tokens"]) == 12 and one["text"] == "".join(one["tokens"])
    series = client.post("/generate", json={"model": "wave", "prime": [[0.0, 1.0], [0.2, 0.98]],
                                            "length": 5, "greedy": True}).json()
    assert series["columns"] == ["a", "b"] and len(series["values"]) == 5 and len(series["values"][0]) == 2


@pytest.mark.parametrize("body, status, reason", [
    (b"{not json", 422, ""),
    (b'{"length": 5, "colour": 1}', 422, "colour"),
    (b'{"length": 51}', 422, "limit of 50"),
    (b'{"model": "../../etc", "length": 3}', 422, "no model named"),
    (b'{"length": 3, "temperature": 0}', 422, "temperature must be a positive number"),
    (b'{"prime": "x", "length": 3, "pad": "' + b"y" * 3000 + b'"}', 413, "over the limit"),
])
def test_bad_generate_requests_get_4xx_with_reason(client, body, status, reason):
    response = client.post("/generate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert reason in str(response.json()["detail"])


def test_step_sessions_are_isolated_and_bounded(client):
    first = client.post("/step", json={"input": "the cat", "settings": {"seed": 1}}).json()
    session = first["session"]
    again = client.post("/step", json={"input": "the cat", "settings": {"seed": 1}}).json()
    assert again["session"] != session and again["token"] == first["token"]   # same input, own state
    follow = client.post("/step", json={"session": session, "input": [first["id"]]}).json()
    assert follow["session"] == session
    bad = client.post("/step", json={"session": session, "model": "wave", "input": [1, "x"]})
    assert bad.status_code == 422 and "finite numbers" in bad.json()["detail"]
    assert client.post("/step", json={"session": "nope", "input": "a"}).status_code == 404
    client.post("/step", json={"input": "a"})
    client.post("/step", json={"input": "a"})                                  # 4 sessions now
    full = client.post("/step", json={"input": "a"})
    assert full.status_code == 503 and "limit of 4 HTTP sessions" in full.json()["detail"]
    assert client.post("/reset", json={"session": session, "close": True}).json()["closed"]
    assert client.post("/step", json={"input": "a"}).status_code == 200        # a slot was freed


def test_websocket_protocol(client):
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["models"] == ["chars", "wave", "shapes"]
        ws.send_text("{oops")
        assert ws.receive_json()["error"].startswith("invalid JSON")
        ws.send_json({"type": "fly"})
        assert "unknown message type" in ws.receive_json()["error"]
        ws.send_json({"type": "step", "id": 7})
        assert ws.receive_json() == {"type": "error", "error": 'a step message needs an "input"', "id": 7,
                                     "request_id": 7}
        ws.send_json({"type": "set", "temperature": 0.5, "seed": 2})
        assert ws.receive_json()["temperature"] == 0.5
        ws.send_json({"type": "step", "input": "the d", "id": 1})
        reply = ws.receive_json()
        assert reply["type"] == "output" and reply["request_id"] == 1 and reply["model"] == "chars"
        ws.send_json({"type": "stream", "n": 5})
        outputs = [ws.receive_json() for _ in range(5)]
        assert [o["index"] for o in outputs] == list(range(5)) and ws.receive_json() == {"type": "done", "n": 5}
        ws.send_json({"type": "stream", "n": 51})
        assert "limit of 50" in ws.receive_json()["error"]
        ws.send_json({"type": "step", "model": "wave", "input": {"a": 0.1, "b": 0.9}})
        assert len(ws.receive_json()["values"]) == 2
        ws.send_json({"type": "step", "model": "shapes", "input": [[3, 4, 0], [1, 1, 1]]})
        assert ws.receive_json()["pen"] in ("down", "up", "end")
        ws.send_text("x" * 3000)
        assert "over the limit" in ws.receive_json()["error"]
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["type"] == "reset"           # still open after every error


def test_websocket_disconnect_frees_session(client):
    hub = client.app.state.hub
    before = len(hub.sessions.sessions)
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "step", "input": "a"})
        ws.receive_json()
        assert len(hub.sessions.sessions) == before + 1
    ws_sessions = [k for k in hub.sessions.sessions if k.startswith("ws:")]
    assert not ws_sessions


def test_same_seed_same_stream_in_two_connections(client):
    def play():
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.send_json({"type": "set", "seed": 11})
            ws.receive_json()
            ws.send_json({"type": "stream", "n": 8})
            return [ws.receive_json()["token"] for _ in range(8)]
    assert play() == play()


def test_cut_streams_never_stall_the_server(runs):
    """Stop, a new stream or a closed socket cut a running stream; every client is still answered."""
    hub = Hub(load_models([str(runs["chars"])]), ServeSettings(max_length=2000))
    with in_process(hub) as client:
        for cut in ("stop", "stream", "close"):
            with client.websocket_connect("/ws") as ws:
                ws.receive_json()
                ws.send_json({"type": "stream", "n": 2000})
                assert all(ws.receive_json()["type"] == "output" for _ in range(10))
                if cut == "stop":
                    ws.send_json({"type": "stop", "id": "s"})
                    while ws.receive_json().get("id") != "s":
                        pass
                elif cut == "stream":
                    ws.send_json({"type": "stream", "n": 3, "id": "again"})
                    replies = [ws.receive_json() for _ in range(4)]
                    while replies[-1] != {"type": "done", "n": 3, "id": "again", "request_id": "again"}:
                        replies.append(ws.receive_json())
            assert hub.engine.failure is None
            reply = client.post("/step", json={"input": "the"})
            assert reply.status_code == 200 and reply.json()["type"] == "output"
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.send_json({"type": "step", "input": "a"})
            assert ws.receive_json()["type"] == "output"


LONE_SURROGATE = '{"type": "step", "input": "\\ud800", "id": 3}'      # JSON can spell it; UTF-8 cannot


def test_lone_surrogate_gets_an_error_frame_and_the_connection_stays(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for text in (LONE_SURROGATE, '{"type": "step", "input": "a", "model": "\\udfff"}',
                     '{"type": "step", "input": "a", "\\ud800": 1}', '{"type": "step", "input": "a", "id": NaN}',
                     "[" * 1500 + "]" * 1500):
            ws.send_text(text)
            reply = ws.receive_json()
            assert reply["type"] == "error", text
        ws.send_text(LONE_SURROGATE)
        assert "lone surrogate (U+D800)" in ws.receive_json()["error"]
        ws.send_json({"type": "step", "input": "the", "id": 4})
        assert ws.receive_json()["type"] == "output"              # the same connection goes on


@pytest.mark.parametrize("path, body", [
    ("/step", b'{"input": "\\ud800"}'),
    ("/step", b'{"input": "a", "settings": {"\\ud800": 1}}'),
    ("/step", b'{"input": "a", "\\udc00": 1}'),
    ("/generate", b'{"prime": "\\ud800", "length": 3}'),
    ("/generate", b'{"length": "\\ud800"}'),
    ("/reset", b'{"session": "\\ud800"}'),
])
def test_lone_surrogate_over_http_is_a_4xx(client, path, body):
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "lone surrogate" in response.text


def test_out_of_range_seed_is_refused(client):
    response = client.post("/step", json={"input": "a", "settings": {"seed": 10 ** 30}})
    assert response.status_code == 422 and "seed must be an integer" in response.json()["detail"]
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "set", "seed": 2 ** 64})
        assert "seed must be an integer" in ws.receive_json()["error"]
        ws.send_json({"type": "generate", "length": 3, "seed": -2 ** 70})
        assert "seed must be an integer" in ws.receive_json()["error"]


def test_a_request_id_never_hides_the_token_id(client):
    """Step and stream outputs keep the token's "id" and repeat the request's as "request_id"; replies
    without a token id carry the request's id under both names."""
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "set", "seed": 4, "id": "s"})
        assert ws.receive_json()["request_id"] == "s"
        ws.send_json({"type": "step", "input": "the c", "id": "ask-1"})
        tagged = ws.receive_json()
        ws.send_json({"type": "reset", "id": 9})
        assert ws.receive_json() == {"type": "reset", "id": 9, "request_id": 9}
        ws.send_json({"type": "step", "input": "the c"})
        plain = ws.receive_json()
        assert "request_id" not in plain
        assert tagged["request_id"] == "ask-1" and isinstance(tagged["id"], int)
        assert tagged["id"] == plain["id"] and tagged["token"] == plain["token"]   # the same seeded sample
        assert client.app.state.hub.models["chars"].vocab.tokens[tagged["id"]] == tagged["token"]
        ws.send_json({"type": "stream", "n": 3, "id": "st"})
        outputs = [ws.receive_json() for _ in range(3)]
        assert all(o["request_id"] == "st" and isinstance(o["id"], int) for o in outputs)
        assert ws.receive_json() == {"type": "done", "n": 3, "id": "st", "request_id": "st"}
        for message, kind in (({"type": "models", "id": 5}, "models"), ({"type": "stop", "id": 6}, "stopped"),
                              ({"type": "generate", "length": 2, "id": 7}, "generated"),
                              ({"type": "fly", "id": 8}, "error")):
            reply = ws.receive_json() if ws.send_json(message) is None else None
            assert reply["type"] == kind and reply["id"] == reply["request_id"] == message["id"]
        ws.send_json({"type": "step", "model": "wave", "input": [0.1, 0.2], "id": "w"})
        series = ws.receive_json()
        assert series["request_id"] == "w" and series["id"] == "w" and len(series["values"]) == 2


@pytest.mark.parametrize("settings", [{"temperature": 1e-300}, {"top_p": 1e-300}])
def test_settings_that_lose_every_probability_are_refused(client, settings):
    step = client.post("/step", json={"input": "a", "settings": settings})
    generate = client.post("/generate", json={"prime": "a", "length": 3, **settings})
    for response in (step, generate):
        assert response.status_code == 422 and "at least 1e-06" in response.json()["detail"]
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "set", **settings})
        assert "at least 1e-06" in ws.receive_json()["error"]
        ws.send_json({"type": "stream", "n": 2})
        assert [ws.receive_json()["type"] for _ in range(3)] == ["output", "output", "done"]


def test_non_finite_json_bodies_get_422(client):
    for body in (b"Infinity", b'{"input": NaN}', b'{"length": -Infinity}'):
        response = client.post("/generate" if b"length" in body else "/step", content=body,
                               headers={"content-type": "application/json"})
        assert response.status_code == 422, body
