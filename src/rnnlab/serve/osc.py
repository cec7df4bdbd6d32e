"""OSC over UDP for Processing (oscP5), Max/MSP, Pure Data, SuperCollider: python-osc packets on asyncio.

Each sender (host, port) is one session with its own state. Packets are taken from loopback and
the networks given with --osc-allow only; others are dropped unanswered (and counted). Addresses, and
what comes back (to the sender's port, or to the port set with /rnnlab/reply, always on the sender's
own host):

    /rnnlab/step ARGS...        -> /rnnlab/output ...   token models: text (s) or ids (i...);
                                                        series: numbers (f...) in the data's units,
                                                        one step or several back to back
    /rnnlab/generate [n] [ms]   -> n x /rnnlab/output, then /rnnlab/done n  (the model plays on its own;
                                                        one at a time per sender: a new one ends the
                                                        running one, which answers /rnnlab/done k)
    /rnnlab/stop                -> /rnnlab/ack "stop"  (a running generate of this sender ends: /rnnlab/done k)
    /rnnlab/reset               -> /rnnlab/ack "reset"
    /rnnlab/model NAME          -> /rnnlab/ack "model" NAME    (which model this sender talks to)
    /rnnlab/set KEY VALUE       -> /rnnlab/ack "set" KEY       (temperature, top_k, top_p, greedy, seed)
    /rnnlab/reply PORT          -> /rnnlab/ack "reply" PORT    (send replies to this port on the sender's host)
    /rnnlab/models              -> /rnnlab/models NAME...
    /rnnlab/session [NAME]      -> /rnnlab/ack "session" NAME   (this sender's state is the named session
                                                        NAME, shared by every sender that names it and
                                                        kept after it leaves until idle; no NAME: its own)
    /rnnlab/session/NAME/VERB ARGS...   VERB (step, generate, reset, ...) on the named session NAME, for
                                                        one-shot senders (same as a bundle of the two)
    /rnnlab/snapshot NAME       -> /rnnlab/ack "snapshot" NAME  (keep the state, prediction, settings)
    /rnnlab/restore NAME        -> /rnnlab/ack "restore" NAME   (go back to that moment)
    /rnnlab/candidates K        -> /rnnlab/ack "candidates" K   (each /rnnlab/output is then followed by
                                                        /rnnlab/candidates (i id, s token, f p) x K,
                                                        likeliest first; 0: off; token models)
    /rnnlab/state N             -> /rnnlab/ack "state" N        (each /rnnlab/output is then followed by
                                                        /rnnlab/state f x N, the top layer's first N
                                                        hidden units; 0: off)
    anything malformed          -> /rnnlab/error REASON

/rnnlab/output is (id i, token s, text s) for token models; the values (f...) for series, then the
pen state (s: down, up, end) for stroke models; the chord's pitches (i..., none for a rest) for
piano-roll models, whose /rnnlab/step takes a chord the same way. Where a whole number is expected
(n, a port, a token id, a pitch, an integer setting) a float that is a whole number does too, since
Pd and Max send floats; 1.5 is refused.
"""

from __future__ import annotations

import asyncio
import sys
from collections import OrderedDict

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from rnnlab.generate.sampling import LIVE_SETTINGS, SETTING_TYPES
from rnnlab.serve.hub import Hub
from rnnlab.serve.protocol import MAX_STATE, MAX_TOP, InputError
from rnnlab.serve.engine import EngineFailed
from rnnlab.serve.sessions import check_name

REPLY_PORTS_KEPT = 4096          # senders whose /rnnlab/reply port is remembered (least recently set go first)
NAMES_KEPT = 4096                # senders whose /rnnlab/session name is remembered (least recently set go first)
VERBS = ("step", "generate", "stop", "reset", "model", "set", "snapshot", "restore", "candidates", "state")

def message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def output_args(out: dict) -> list:
    if "token" in out:
        return [out["id"], out["token"], out["text"]]
    if "pitches" in out:
        return list(out["pitches"])
    return [float(v) for v in out["values"]] + ([out["pen"]] if "pen" in out else [])


def is_whole(value) -> bool:
    """An integer, or a float that is a whole number (Pd and Max send numbers as floats)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def whole(value, what: str) -> int:
    if not is_whole(value):
        raise InputError(f"{what} must be a whole number, got {value!r}")
    return int(value)


class OscProtocol(asyncio.DatagramProtocol):
    def __init__(self, hub: Hub, allowed=lambda address: True):
        self.hub, self.allowed = hub, allowed
        self.dropped = 0                                           # packets from senders not allowed
        self.reply_ports: OrderedDict[str, int] = OrderedDict()
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task] = set()
        self.generating: dict[str, asyncio.Future] = {}          # each sender's running /rnnlab/generate
        self.names: OrderedDict[str, str] = OrderedDict()          # sender -> the session it named

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, sender) -> None:
        if not self.allowed(sender[0]):
            self.dropped += 1
            return
        task = asyncio.get_running_loop().create_task(self.handle(data, sender))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def send(self, sender, key: str, address: str, *args) -> None:
        target = (sender[0], self.reply_ports.get(key, sender[1]))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(message(address, *args), target)

    async def handle(self, data: bytes, sender) -> None:
        key = f"osc:{sender[0]}:{sender[1]}"
        limit = self.hub.settings.max_request_bytes
        if len(data) > limit:
            return self.send(sender, key, "/rnnlab/error", f"packet over the limit of {limit} bytes")
        try:
            messages = [timed.message for timed in OscPacket(data).messages]
        except (ParseError, ValueError, IndexError, TypeError) as err:
            return self.send(sender, key, "/rnnlab/error", f"malformed OSC packet: {err}"[:200])
        for msg in messages:
            try:
                await self.dispatch(msg.address, list(msg.params), sender, key)
            except InputError as err:
                self.send(sender, key, "/rnnlab/error", str(err))
            except EngineFailed:
                raise
            except Exception as err:               # a bug of ours: say so to the sender, go on serving
                print(f"rnnlab serve: an OSC message failed: {err!r}", file=sys.stderr)
                self.send(sender, key, "/rnnlab/error", f"internal error: {type(err).__name__}")

    def session(self, key: str, name: str | None = None):
        name = name or self.names.get(key)
        if name is not None:
            return self.hub.sessions.named(name)[0]
        return self.hub.sessions.get(key) or self.hub.sessions.create(key)

    def send_output(self, sender, key: str, out: dict) -> None:
        self.send(sender, key, "/rnnlab/output", *output_args(out))
        if "candidates" in out:
            self.send(sender, key, "/rnnlab/candidates",
                      *[v for c in out["candidates"] for v in (c["id"], c["token"], c["p"])])
        if "state" in out:
            self.send(sender, key, "/rnnlab/state", *out["state"])

    @staticmethod
    def output_extras(session, model) -> dict:
        top = session.extras.get("top") if model.kind == "tokens" else None
        return {"top": top, "state": session.extras.get("state")}

    async def dispatch(self, address: str, args: list, sender, key: str) -> None:
        hub, name = self.hub, None
        if address.startswith("/rnnlab/session/"):         # /rnnlab/session/NAME/VERB
            parts = address.split("/")
            if len(parts) != 5 or parts[4] not in VERBS:
                raise InputError(f"{address[:80]}: write /rnnlab/session/NAME/VERB, VERB one of {', '.join(VERBS)}")
            name, address = check_name(parts[3]), "/rnnlab/" + parts[4]
        if address == "/rnnlab/step":
            session = self.session(key, name)
            model = hub.model(session.default_model)
            out = await hub.step(session, None, self.step_input(model, args), **self.output_extras(session, model))
            self.send_output(sender, key, out)
        elif address == "/rnnlab/generate":
            n = whole(args[0], "n") if args else 16
            interval = args[1] if len(args) > 1 else 0
            session = self.session(key, name)
            hub.check_length(n)
            if key in self.generating:                    # one at a time per sender: the new one replaces it
                self.generating[key].cancel()
            playing = self.generating[key] = asyncio.ensure_future(self.play(session, n, interval, sender, key))
            try:
                count = await playing
            except asyncio.CancelledError:
                if not playing.cancelled():
                    raise
                count = 0                                 # ended before it had begun
            finally:
                if self.generating.get(key) is playing:
                    del self.generating[key]
            self.send(sender, key, "/rnnlab/done", count)
        elif address == "/rnnlab/stop":
            if key in self.generating:
                self.generating[key].cancel()
            self.send(sender, key, "/rnnlab/ack", "stop")
        elif address == "/rnnlab/reset":
            hub.reset(self.session(key, name))
            self.send(sender, key, "/rnnlab/ack", "reset")
        elif address == "/rnnlab/model":
            wanted = args[0] if args else None
            model = hub.model(wanted if isinstance(wanted, str) else "")
            self.session(key, name).default_model = model.name
            self.send(sender, key, "/rnnlab/ack", "model", model.name)
        elif address == "/rnnlab/set":
            if len(args) != 2 or args[0] not in LIVE_SETTINGS:
                raise InputError(f"/rnnlab/set takes a name ({', '.join(LIVE_SETTINGS)}) and a value")
            value = args[1]
            if SETTING_TYPES[args[0]] is bool and value in (0, 1):      # OSC senders often have no booleans
                value = bool(value)
            self.session(key, name).configure({args[0]: value})
            self.send(sender, key, "/rnnlab/ack", "set", args[0])
        elif address == "/rnnlab/session":
            if len(args) > 1 or (args and not isinstance(args[0], str)):
                raise InputError("/rnnlab/session takes one name (s), or nothing to go back to this sender's own")
            if args:
                hub.sessions.named(args[0])              # checks the name, makes the session
                self.names[key] = args[0]
                self.names.move_to_end(key)
                while len(self.names) > NAMES_KEPT:
                    self.names.popitem(last=False)
            else:
                self.names.pop(key, None)
            self.send(sender, key, "/rnnlab/ack", "session", *args)
        elif address in ("/rnnlab/snapshot", "/rnnlab/restore"):
            verb = address.rsplit("/", 1)[1]
            if len(args) != 1 or not isinstance(args[0], str):
                raise InputError(f"{address} takes one name (s)")
            session = self.session(key, name)
            if verb == "snapshot":
                session.snapshot(args[0], hub.settings.max_snapshots)
            else:
                async with session.lock:
                    session.restore(args[0])
            self.send(sender, key, "/rnnlab/ack", verb, args[0])
        elif address in ("/rnnlab/candidates", "/rnnlab/state"):
            verb = address.rsplit("/", 1)[1]
            most = MAX_TOP if verb == "candidates" else MAX_STATE
            count = whole(args[0], verb) if len(args) == 1 else -1
            if not 0 <= count <= most:
                raise InputError(f"{address} takes one number from 0 (off) to {most}")
            session = self.session(key, name)
            if verb == "candidates" and count and hub.model(session.default_model).kind != "tokens":
                raise InputError("/rnnlab/candidates is for token models")
            extras_key = "top" if verb == "candidates" else "state"
            if count:
                session.extras[extras_key] = count
            else:
                session.extras.pop(extras_key, None)
            self.send(sender, key, "/rnnlab/ack", verb, count)
        elif address == "/rnnlab/reply":
            port = whole(args[0], "the port") if len(args) == 1 else None
            if port is None or not 0 < port < 65536:
                raise InputError("/rnnlab/reply takes one port number (i, or a whole f), 1 to 65535")
            self.reply_ports[key] = port
            self.reply_ports.move_to_end(key)
            while len(self.reply_ports) > REPLY_PORTS_KEPT:
                self.reply_ports.popitem(last=False)
            self.send(sender, key, "/rnnlab/ack", "reply", port)
        elif address == "/rnnlab/models":
            self.send(sender, key, "/rnnlab/models", *hub.models)
        else:
            raise InputError(f"unknown address {address[:80]}; see /rnnlab/step, /rnnlab/generate, /rnnlab/stop, "
                             "/rnnlab/reset, /rnnlab/model, /rnnlab/set, /rnnlab/reply, /rnnlab/models, "
                             "/rnnlab/session, /rnnlab/snapshot, /rnnlab/restore, /rnnlab/candidates, /rnnlab/state")

    async def play(self, session, n, interval, sender, key: str) -> int:
        """Send n outputs of the model playing on its own; /rnnlab/stop cuts it short. Answers how many."""
        count = 0
        try:
            extras = self.output_extras(session, self.hub.model(session.default_model))
            async for out in self.hub.stream(session, None, n, interval, **extras):
                count += 1
                self.send_output(sender, key, out)
        except asyncio.CancelledError:          # /rnnlab/stop from this sender
            pass
        return count

    @staticmethod
    def step_input(model, args: list):
        """OSC arguments as a step input: a string or ints for token models, numbers for series."""
        if model.kind == "frames":           # a chord: its pitches (i..., or whole f...); no arguments is a rest
            if not all(is_whole(a) for a in args):
                raise InputError("/rnnlab/step for a piano-roll model takes MIDI pitches (i, or whole numbers as f), "
                                 "none for a rest")
            return [int(a) for a in args]
        if not args:
            raise InputError("/rnnlab/step needs arguments: text or token ids, or a vector of numbers")
        if model.kind == "tokens":
            if len(args) == 1 and isinstance(args[0], str):
                return args[0]
            if all(is_whole(a) for a in args):
                return [int(a) for a in args]
            raise InputError("/rnnlab/step for a token model takes one string or token ids (i, or whole numbers "
                             "as f)")
        if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            raise InputError("/rnnlab/step for a series model takes numbers (f or i)")
        width = len(model.spec.columns) + (1 if model.spec.pen else 0)
        if len(args) > width and len(args) % width == 0:     # several steps in one message, row after row
            return [[float(a) for a in args[i:i + width]] for i in range(0, len(args), width)]
        return [float(a) for a in args]


async def start_osc(hub: Hub, host: str, port: int, allowed=lambda address: True) -> asyncio.DatagramTransport:
    """Listen for OSC on (host, port) in the running event loop, taking packets from the addresses
    `allowed` answers True for; port 0 picks a free one."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: OscProtocol(hub, allowed), local_addr=(host, port))
    receive_buffer(transport.get_extra_info("socket"))
    return transport


RECEIVE_BUFFER = 4 << 20       # bytes asked for the OSC socket's receive buffer: room for a burst of packets


def receive_buffer(sock, wanted: int = RECEIVE_BUFFER) -> int:
    """Ask for a large receive buffer (the default of ~200 KiB holds only ~250 small packets, so a burst
    from one sender was mostly dropped); the OS may cap it (Linux: net.core.rmem_max). Returns what
    it granted (Linux reports twice the size it accounts for)."""
    import socket

    size = wanted
    while size >= 1 << 16:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            break
        except OSError:                  # e.g. macOS refuses more than kern.ipc.maxsockbuf allows
            size //= 2
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
