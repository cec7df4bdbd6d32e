"""Real OSC packets (python-osc) and real WebSocket clients against a running server."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from .live import live_server
from rnnlab.serve.sessions import ServeSettings


def packet(address, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class OscClient:
    """A UDP socket that sends OSC to the server and reads its replies (as oscP5 does, one socket)."""

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)

    def send(self, address, *args):
        self.sock.sendto(packet(address, *args), ("127.0.0.1", self.port))

    def send_raw(self, data: bytes):
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def receive(self) -> tuple[str, list]:
        message = OscMessage(self.sock.recv(65536))
        return message.address, list(message.params)

    def ask(self, address, *args):
        self.send(address, *args)
        return self.receive()


@pytest.fixture(scope="module")
def server(runs):
    with live_server([runs["chars"], runs["wave"], runs["shapes"]], ServeSettings(max_length=40)) as live:
        yield live


def test_osc_step_generate_reset_and_models(server):
    _, _, osc_port = server
    client = OscClient(osc_port)
    assert client.ask("/rnnlab/models") == ("/rnnlab/models", ["chars", "wave", "shapes"])
    address, args = client.ask("/rnnlab/step", "the c")
    assert address == "/rnnlab/output" and isinstance(args[0], int) and isinstance(args[1], str)
    address, args = client.ask("/rnnlab/step", 1, 2)                       # token ids
    assert address == "/rnnlab/output"
    client.send("/rnnlab/generate", 6)
    replies = [client.receive() for _ in range(7)]
    assert [a for a, _ in replies] == ["/rnnlab/output"] * 6 + ["/rnnlab/done"] and replies[-1][1] == [6]
    assert client.ask("/rnnlab/reset") == ("/rnnlab/ack", ["reset"])
    assert client.ask("/rnnlab/set", "temperature", 0.5) == ("/rnnlab/ack", ["set", "temperature"])
    assert client.ask("/rnnlab/model", "wave") == ("/rnnlab/ack", ["model", "wave"])
    address, args = client.ask("/rnnlab/step", 0.5, -0.25)
    assert address == "/rnnlab/output" and len(args) == 2 and all(isinstance(v, float) for v in args)
    assert client.ask("/rnnlab/model", "shapes")[0] == "/rnnlab/ack"
    address, args = client.ask("/rnnlab/step", 3.0, 4.0, 0)
    assert address == "/rnnlab/output" and args[2] in ("down", "up", "end")


def test_osc_errors_keep_the_server_alive(server):
    _, _, osc_port = server
    client = OscClient(osc_port)
    client.send_raw(b"\x00garbage that is not OSC")
    address, args = client.receive()
    assert address == "/rnnlab/error" and "malformed OSC packet" in args[0]
    assert client.ask("/rnnlab/fly")[0] == "/rnnlab/error"
    assert "series model takes numbers" in str(client.ask("/rnnlab/model", "wave") and client.ask("/rnnlab/step", "x"))
    assert "2 finite numbers" in client.ask("/rnnlab/step", 1.0)[1][0]
    assert "limit of 40" in client.ask("/rnnlab/generate", 41)[1][0]
    assert "no model named" in client.ask("/rnnlab/model", "nope")[1][0]
    assert client.ask("/rnnlab/step", 0.1, 0.2)[0] == "/rnnlab/output"     # still serving this client


def test_osc_clients_have_their_own_state(server):
    _, _, osc_port = server

    def play(client, prime):
        client.ask("/rnnlab/set", "seed", 5)
        client.ask("/rnnlab/step", prime)
        client.send("/rnnlab/generate", 8)
        return [client.receive()[1][1] for _ in range(8)] + [client.receive()[0]]

    one, two = OscClient(osc_port), OscClient(osc_port)
    first = play(one, "the cat")
    play(two, "on the log.\n")                     # another client moves its own state only
    one.ask("/rnnlab/reset")
    assert play(one, "the cat") == first and first[-1] == "/rnnlab/done"


def test_osc_reply_port_redirects(server):
    _, _, osc_port = server
    listener, sender = OscClient(osc_port), OscClient(osc_port)
    sender.send("/rnnlab/reply", listener.sock.getsockname()[1])
    assert listener.receive() == ("/rnnlab/ack", ["reply", listener.sock.getsockname()[1]])
    sender.send("/rnnlab/step", "a")
    assert listener.receive()[0] == "/rnnlab/output"


def test_websocket_clients_over_real_uvicorn_are_isolated(server):
    websockets = pytest.importorskip("websockets")
    _, http_port, _ = server

    async def play(seed: int, n: int) -> list[str]:
        async with websockets.connect(f"ws://127.0.0.1:{http_port}/ws") as ws:
            json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "set", "seed": seed}))
            await ws.recv()
            await ws.send("{broken")
            assert json.loads(await ws.recv())["type"] == "error"
            await ws.send(json.dumps({"type": "stream", "n": n}))
            tokens = []
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "done":
                    return tokens
                tokens.append(message["token"])

    async def together():
        return await asyncio.gather(*(play(seed, 12) for seed in (1, 2, 1, 2, 1)))

    results = asyncio.run(together())
    assert results[0] == results[2] == results[4] and results[1] == results[3]   # state per connection
    assert all(len(r) == 12 for r in results)
    assert results[0] != results[1]


def test_pd_and_max_floats_work_where_whole_numbers_are_expected(server):
    _, _, osc_port = server
    client = OscClient(osc_port)
    client.send("/rnnlab/generate", 3.0)
    replies = [client.receive() for _ in range(4)]
    assert [a for a, _ in replies] == ["/rnnlab/output"] * 3 + ["/rnnlab/done"] and replies[-1][1] == [3]
    address, args = client.ask("/rnnlab/step", 1.0, 2.0)                      # token ids as floats
    assert address == "/rnnlab/output" and isinstance(args[0], int)
    assert client.ask("/rnnlab/set", "seed", 2.0) == ("/rnnlab/ack", ["set", "seed"])
    assert client.ask("/rnnlab/set", "top_k", 5.0) == ("/rnnlab/ack", ["set", "top_k"])
    assert client.ask("/rnnlab/set", "greedy", 0.0) == ("/rnnlab/ack", ["set", "greedy"])
    for refused in (("/rnnlab/set", "seed", 1.5), ("/rnnlab/generate", 2.5), ("/rnnlab/step", 1.0, 2.5),
                    ("/rnnlab/reply", 57120.5), ("/rnnlab/reply", 70000.0)):
        address, args = client.ask(*refused)
        assert address == "/rnnlab/error", refused
    listener = OscClient(osc_port)
    port = listener.sock.getsockname()[1]
    client.send("/rnnlab/reply", float(port))
    assert listener.receive() == ("/rnnlab/ack", ["reply", port])
    client.send("/rnnlab/step", "a")
    assert listener.receive()[0] == "/rnnlab/output"


def test_osc_stop_ends_a_running_generate(server):
    _, _, osc_port = server
    client = OscClient(osc_port)
    client.send("/rnnlab/generate", 40, 1000)                       # 40 outputs a second apart
    assert client.receive()[0] == "/rnnlab/output"
    client.send("/rnnlab/stop")
    replies = [client.receive() for _ in range(2)]
    while replies[-1][0] == "/rnnlab/output" or replies[-2][0] == "/rnnlab/output":
        replies.append(client.receive())
    done = [args for address, args in replies if address == "/rnnlab/done"]
    assert ("/rnnlab/ack", ["stop"]) in replies and len(done) == 1 and 1 <= done[0][0] < 40
    assert client.ask("/rnnlab/step", "the")[0] == "/rnnlab/output"            # the sender goes on
    assert client.ask("/rnnlab/stop") == ("/rnnlab/ack", ["stop"])            # nothing running: fine too


def test_the_osc_socket_asks_for_a_large_receive_buffer(server):
    app, _, _ = server
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        default = plain.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert app.state.osc_receive_buffer > default


def test_a_burst_of_osc_messages_is_answered(server):
    """1,000 small messages from one socket as fast as it can send them (the default buffer kept ~256)."""
    app, _, osc_port = server
    if app.state.osc_receive_buffer < 2 << 20:
        pytest.skip(f"the OS grants only {app.state.osc_receive_buffer} bytes (net.core.rmem_max)")
    client = OscClient(osc_port)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < 2 << 20:
        pytest.skip("this client socket cannot hold 1,000 replies")
    data = packet("/rnnlab/models")
    for _ in range(1000):
        client.send_raw(data)
    client.sock.settimeout(3)
    answered = 0
    try:
        while answered < 1000:
            client.sock.recv(65536)
            answered += 1
    except socket.timeout:
        pass
    assert answered > 900
