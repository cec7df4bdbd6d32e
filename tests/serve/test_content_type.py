"""A JSON body is taken only when it says it is JSON. Any web page can POST to the server without a CORS
preflight when the body's Content-Type is one the browser counts as simple, or is missing altogether:
`fetch(url, {method: "POST", body: new Blob([json])})` sends no Content-Type, a string body sends
text/plain. Such a request must change nothing: it is refused (422), while application/json works."""

from __future__ import annotations

import json

import pytest

from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process

# what a page can send without a preflight: no Content-Type (a Blob without a type) and the simple types
SIMPLE = [None, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x"]
JSON_TYPES = ["application/json", "application/json; charset=utf-8"]


@pytest.fixture
def client(runs):
    hub = Hub(load_models([str(runs["chars"])]), ServeSettings(max_sessions=8, max_length=20))
    with in_process(hub) as test_client:
        yield test_client


def post(client, path: str, body: dict, content_type: str | None):
    headers = {} if content_type is None else {"content-type": content_type}
    request = client.build_request("POST", path, content=json.dumps(body).encode(), headers=headers)
    assert request.headers.get("content-type") == content_type        # the client added none of its own
    return client.send(request)


def refused(response) -> bool:
    return response.status_code in (415, 422)


@pytest.mark.parametrize("content_type", SIMPLE)
def test_generate_refuses_a_body_not_marked_json(client, content_type):
    response = post(client, "/generate", {"prime": "the ", "length": 5, "seed": 1}, content_type)
    assert refused(response), (response.status_code, response.text)


@pytest.mark.parametrize("content_type", SIMPLE)
def test_step_refuses_a_body_not_marked_json_and_makes_no_session(client, content_type):
    sessions = client.app.state.hub.sessions
    response = post(client, "/step", {"name": "stage", "input": "the cat"}, content_type)
    assert refused(response), (response.status_code, response.text)
    assert client.get("/sessions/stage").status_code == 404
    response = post(client, "/step", {"input": "the cat"}, content_type)          # would make a new session
    assert refused(response), (response.status_code, response.text)
    assert sessions.count("http") == 0 and sessions.count("named") == 0


@pytest.mark.parametrize("content_type", SIMPLE)
def test_reset_refuses_a_body_not_marked_json_and_the_session_stays(client, content_type):
    session = post(client, "/step", {"input": "the"}, "application/json").json()["session"]
    response = post(client, "/reset", {"session": session, "close": True}, content_type)
    assert refused(response), (response.status_code, response.text)
    still = post(client, "/step", {"session": session, "input": "c"}, "application/json")
    assert still.status_code == 200 and still.json()["session"] == session


@pytest.mark.parametrize("content_type", SIMPLE)
def test_session_refuses_a_body_not_marked_json_and_makes_none(client, content_type):
    response = post(client, "/session", {"name": "blob", "settings": {"temperature": 2.0}}, content_type)
    assert refused(response), (response.status_code, response.text)
    assert client.get("/sessions/blob").status_code == 404


@pytest.mark.parametrize("content_type", SIMPLE)
def test_snapshot_and_restore_refuse_a_body_not_marked_json(client, content_type):
    post(client, "/session", {"name": "kept"}, "application/json")
    response = post(client, "/snapshot", {"name": "kept", "snapshot": "a"}, content_type)
    assert refused(response), (response.status_code, response.text)
    assert client.get("/sessions/kept").json()["snapshots"] == []
    assert post(client, "/snapshot", {"name": "kept", "snapshot": "a"}, "application/json").status_code == 200
    response = post(client, "/restore", {"name": "kept", "snapshot": "a"}, content_type)
    assert refused(response), (response.status_code, response.text)


@pytest.mark.parametrize("content_type", JSON_TYPES)
def test_json_bodies_still_work(client, content_type):
    generated = post(client, "/generate", {"prime": "the ", "length": 5, "seed": 1}, content_type)
    assert generated.status_code == 200 and len(generated.json()["tokens"]) == 5
    stepped = post(client, "/step", {"input": "the"}, content_type)
    assert stepped.status_code == 200
    session = stepped.json()["session"]
    reset = post(client, "/reset", {"session": session, "close": True}, content_type)
    assert reset.status_code == 200 and reset.json()["closed"] is True
    named = post(client, "/session", {"name": "json", "settings": {"temperature": 0.5}}, content_type)
    assert named.status_code == 200 and named.json()["created"] is True
    assert client.get("/sessions/json").json()["settings"]["temperature"] == 0.5
    assert post(client, "/snapshot", {"name": "json", "snapshot": "s"}, content_type).status_code == 200
    assert post(client, "/restore", {"name": "json", "snapshot": "s"}, content_type).status_code == 200
