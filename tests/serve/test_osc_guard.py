"""OSC cannot carry a token: senders are allowed by address (loopback, --osc-allow), and one sender
runs one generation at a time, answered on its own host, so a few packets cannot make a flood."""

from __future__ import annotations

import socket
import time

import pytest
from pythonosc.osc_message import OscMessage

from rnnlab.serve.access import Access, networks
from rnnlab.serve.sessions import ServeSettings

from .live import live_server
from .test_osc import OscClient, packet


def local_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))                     # no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def ask_from(address: str, osc_port: int) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.bind((address, 0))
        sender.settimeout(1.5)
        sender.sendto(packet("/rnnlab/models"), ("127.0.0.1", osc_port))
        try:
            return sender.recv(65536)
        except TimeoutError:
            return None


@pytest.mark.parametrize("allow", [False, True])
def test_osc_from_other_hosts_is_dropped_unless_allowed(runs, allow):
    address = local_address()
    if address is None:
        pytest.skip("no network address on this machine to send from")
    access = Access(osc_allow=networks([address]) if allow else [])
    with live_server([runs["chars"]], access=access) as (app, _, osc_port):
        assert OscClient(osc_port).ask("/rnnlab/models")[0] == "/rnnlab/models"      # loopback always
        answered = ask_from(address, osc_port)
        assert (answered is not None) == allow
        assert app.state.osc.dropped == (0 if allow else 1)


def test_a_sender_runs_one_generate_at_a_time(runs):
    """Three /rnnlab/generate packets, replies sent to another port: the later ones end the earlier."""
    with live_server([runs["chars"]], ServeSettings(max_length=40)) as (app, _, osc_port):
        sender, replies = OscClient(osc_port), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        replies.bind(("127.0.0.1", 0))
        replies.settimeout(5)
        sender.send("/rnnlab/reply", replies.getsockname()[1])
        assert OscMessage(replies.recv(65536)).address == "/rnnlab/ack"          # the ack goes there too
        for _ in range(3):
            sender.send("/rnnlab/generate", 40)
        outputs, done = 0, []
        while len(done) < 3:
            data, source = replies.recvfrom(65536)
            assert source == ("127.0.0.1", osc_port)
            message = OscMessage(data)
            outputs += message.address == "/rnnlab/output"
            if message.address == "/rnnlab/done":
                done.append(message.params[0])
        assert done[-1] == 40 and sum(done) == outputs < 80           # without the bound: 3 x 40
        time.sleep(0.3)
        assert not app.state.osc.generating
        replies.close()


def test_reply_names_a_port_never_a_host(runs):
    with live_server([runs["chars"]]) as (_, _, osc_port):
        sender = OscClient(osc_port)
        address, args = sender.ask("/rnnlab/reply", "10.0.0.9:9000")
        assert address == "/rnnlab/error" and "port" in args[0]
