"""Property-based fuzzing (hypothesis): whatever a client sends, the server answers with a clear error
or a result, keeps the connection, and still answers a normal step afterwards."""

from __future__ import annotations

import json
import math

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process
from .live import live_server
from .test_osc import OscClient

MODELS = ["chars", "wave", "shapes"]
TYPES = ["step", "stream", "stop", "reset", "set", "generate", "models"]
FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

any_text = st.text(st.characters(exclude_categories=()), max_size=8)        # lone surrogates included
edges = st.sampled_from([1e-300, 5e-324, 1e300, -0.0, 0.5, 2 ** 63, 2 ** 64, -2 ** 63 - 1, 10 ** 30])
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-3, 70) | st.floats() | edges | any_text
           | st.sampled_from(MODELS + ["the", "", "Pitch_60"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(any_text | st.sampled_from(["a", "b"]), inner, max_size=3), max_leaves=12)
fields = {"input": values, "model": st.sampled_from(MODELS) | values, "id": values, "n": values,
          "interval_ms": st.integers(0, 3) | values, "length": values, "prime": values, "temperature": values,
          "top_k": values, "top_p": values, "greedy": values, "seed": values}
messages = st.fixed_dictionaries({"type": st.sampled_from(TYPES) | any_text}, optional=fields)
raw_texts = st.one_of(messages.map(json.dumps), st.text(max_size=30), values.map(json.dumps),
                      st.sampled_from(['{"type": "step", "input": "\\ud800"}', "[" * 5000, "{", "NaN", '""']))


@pytest.fixture(scope="module")
def client(runs):
    hub = Hub(load_models([str(runs[name]) for name in MODELS]),
              ServeSettings(max_sessions=8, max_length=20, max_request_bytes=4096))
    with in_process(hub) as test_client:          # a server exception fails the test
        yield test_client


def no_internal_errors(reply: dict) -> None:
    assert isinstance(reply, dict) and isinstance(reply.get("type"), str)
    assert not str(reply.get("error", "")).startswith("internal error"), reply


@FUZZ
@given(texts=st.lists(raw_texts, min_size=1, max_size=4))
def test_websocket_survives_any_messages(client, texts):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for text in texts:                                    # one connection, its state carried along
            ws.send_text(text)
        ws.send_json({"type": "step", "input": "the", "model": "chars", "id": "check"})
        for _ in range(200):                                  # the fuzzed message's replies, then the check's
            reply = ws.receive_json()                         # a dropped connection raises here
            no_internal_errors(reply)
            if reply.get("request_id") == "check":
                break
        assert reply.get("request_id") == "check" and reply["type"] == "output", reply


names = st.sampled_from(["desk", "s1", "x" * 65, "a b", "", "name:desk"]) | values
http_fields = {**fields, "name": names, "snapshot": names, "session": names, "settings": values, "close": values}


@FUZZ
@given(body=st.fixed_dictionaries({}, optional=http_fields).map(json.dumps) | values.map(json.dumps),
       path=st.sampled_from(["/step", "/generate", "/reset", "/session", "/snapshot", "/restore"]))
def test_http_never_answers_5xx(client, body, path):
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["detail"]                      # a reason, in JSON


@FUZZ
@given(name=any_text | names.map(str))
def test_http_session_listing_never_answers_5xx(client, name):
    from urllib.parse import quote

    response = client.get("/sessions/" + quote(name.encode("utf-8", "surrogatepass"), safe=""))
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 404, 422) or name in ("", ".", ".."), (name, response.status_code)


osc_args = st.lists(st.integers(-2 ** 31, 2 ** 31 - 1) | st.integers(-3, 70)
                    | st.floats(width=32).filter(lambda f: not math.isnan(f)) | st.floats(-5, 70)
                    | st.sampled_from([1e-30, 1e30, 2.5, 16.0, 0.0, -1.0])
                    | st.text(st.characters(min_codepoint=1, exclude_categories=("Cs",)), max_size=8)
                    | st.sampled_from(MODELS + ["seed", "temperature", "top_k", "greedy", "the"])
                    | st.booleans() | st.binary(min_size=1, max_size=6) | st.none(), max_size=5)
osc_addresses = st.sampled_from(["/rnnlab/step", "/rnnlab/generate", "/rnnlab/stop", "/rnnlab/reset",
                                 "/rnnlab/model", "/rnnlab/set", "/rnnlab/models", "/rnnlab/fly", "/x"])


@pytest.fixture(scope="module")
def osc_server(runs):
    with live_server([runs[name] for name in MODELS], ServeSettings(max_length=20)) as live:
        yield live


@FUZZ
@given(address=osc_addresses, args=osc_args)
def test_osc_survives_any_arguments(osc_server, address, args):
    _, _, osc_port = osc_server
    client = OscClient(osc_port)
    try:
        client.send(address, *args)
        first = client.receive()                              # every message gets an answer
        assert not (first[0] == "/rnnlab/error" and str(first[1][0]).startswith("internal error")), first
        client.send("/rnnlab/stop")                          # a fuzzed generate may still be playing
        client.send("/rnnlab/model", "chars")
        while client.receive() != ("/rnnlab/ack", ["model", "chars"]):
            pass
        client.send("/rnnlab/step", "the")
        for _ in range(100):
            address_back, back = client.receive()
            if address_back == "/rnnlab/output" and len(back) == 3 and isinstance(back[1], str):
                break
        assert address_back == "/rnnlab/output" and isinstance(back[0], int)
    finally:
        client.sock.close()
