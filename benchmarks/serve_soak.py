"""Soak test of `rnnlab serve`: 50 mixed clients (WebSocket, OSC, HTTP) for a minute; errors, stalls, RSS.

    python benchmarks/serve_soak.py                      # 2x650 LSTM, 10k vocabulary, 50 clients, 60 s
    python benchmarks/serve_soak.py --quantize           # int8 weights
    python benchmarks/serve_soak.py --seconds 600 --clients 50

Builds a run directory with untrained weights (as serve_latency.py does), starts `rnnlab serve` as its
own process on free ports of 127.0.0.1 with OSC on, and runs, all at once and each as fast as its
replies come back:

- WebSocket steppers: `step` with an id, the reply must repeat it; now and then a message that must be
  refused (a step without input, invalid JSON: provoked errors, not counted as errors); now and then
  they close the socket and connect again.
- WebSocket streamers: `{"type": "stream", "n": ...}` then either read it to `done` (whose n must be
  the n asked), or cut it after a few outputs with `stop` (answered `stopped`), with a new stream, or
  by closing the socket and connecting again. An output of a cut stream that arrives after the reply
  to what cut it is counted as late.
- OSC senders (python-osc's UDP client; replies to a port of their own set with /rnnlab/reply):
  /rnnlab/step, /rnnlab/generate (read to /rnnlab/done, or cut with /rnnlab/stop), a provoked
  /rnnlab/error now and then.
- HTTP clients (one kept-alive connection each): POST /step with a session, POST /generate, now and
  then POST /reset with close (a new session next), a provoked 422.

An error is an HTTP status other than 2xx (or than the provoked 422), a WebSocket or OSC error reply
nobody provoked, or a reply not there within --timeout (5 s). At the end: every client must have had
an answer, a fresh WebSocket client must still get a step, the server must still run. The server's
RSS (VmRSS) is sampled every second: first, after warm-up, peak and last. Prints the load average:
other work on the machine shows in the latencies. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_latency import free_port, make_run, percentile, wait_for_server

KINDS = ("ws-step", "ws-stream", "osc", "http")


@dataclass
class Tally:
    clients: int = 0
    requests: int = 0
    replies: int = 0
    errors: int = 0
    timeouts: int = 0
    provoked: int = 0
    reconnects: int = 0
    late: int = 0                                 # outputs of a cut stream after the reply to the cut
    step_times: list = field(default_factory=list)
    examples: list = field(default_factory=list)  # the first few errors, as text

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.examples) < 5:
            self.examples.append(what[:300])


@dataclass
class Streams:
    started: int = 0
    done: int = 0
    short: int = 0                                # `done` with fewer outputs than asked
    stop: int = 0
    restream: int = 0
    close: int = 0


class Stall(Exception):
    """No reply within the timeout."""


def udp_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Soak:
    def __init__(self, args, port: int, osc_port: int):
        self.args, self.port, self.osc_port = args, port, osc_port
        self.tally = {kind: Tally() for kind in KINDS}
        self.streams = Streams()
        self.answered: dict[str, int] = {}           # client name -> answers received
        self.deadline = 0.0

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def answer(self, name: str, kind: str, count: int = 1) -> None:
        self.answered[name] = self.answered.get(name, 0) + count
        self.tally[kind].replies += count

    # ---- WebSocket ---------------------------------------------------------------------------
    async def ws_recv(self, ws) -> dict:
        try:
            return json.loads(await asyncio.wait_for(ws.recv(), self.args.timeout))
        except TimeoutError:
            raise Stall from None

    async def ws_connect(self, name: str, kind: str):
        import websockets

        ws = await asyncio.wait_for(websockets.connect(f"ws://127.0.0.1:{self.port}/ws", max_size=None),
                                    self.args.timeout)
        hello = await self.ws_recv(ws)
        if hello.get("type") != "hello":
            self.tally[kind].error(f"{name}: first frame {hello}")
        return ws

    async def ws_reconnect(self, name: str, kind: str):
        """A connection for a client's next round, or None (counted, after a pause) if none came."""
        try:
            return await self.ws_connect(name, kind)
        except (TimeoutError, Stall, OSError) as err:
            self.tally[kind].error(f"{name}: connect: {err!r}")
            await asyncio.sleep(0.5)
            return None

    async def ws_stepper(self, name: str, rng: random.Random) -> None:
        tally, kind = self.tally["ws-step"], "ws-step"
        token, request = rng.randrange(self.args.vocab), 0
        while self.running():
            ws = await self.ws_reconnect(name, kind)
            if ws is None:
                continue
            try:
                for _ in range(rng.randint(50, 300)):
                    if not self.running():
                        break
                    request += 1
                    provoke = rng.random() < 0.02
                    if provoke and rng.random() < 0.5:
                        message = json.dumps({"type": "step", "id": request})          # no input: refused
                    elif provoke:
                        message = '{"type": "step", "input": [1], "id": ' + str(request)  # invalid JSON
                    else:
                        message = json.dumps({"type": "step", "input": [token], "id": request})
                    started = time.perf_counter()
                    await ws.send(message)
                    tally.requests += 1
                    reply = await self.ws_recv(ws)
                    self.answer(name, kind)
                    if provoke:
                        if reply.get("type") == "error":
                            tally.provoked += 1
                        else:
                            tally.error(f"{name}: a malformed step was answered {reply}")
                        continue
                    tally.step_times.append(time.perf_counter() - started)
                    if reply.get("type") != "output" or reply.get("request_id") != request:
                        tally.error(f"{name}: step {request} answered {reply}")
                        continue
                    token = reply["id"]
            except Stall:
                tally.timeouts += 1
            except Exception as err:  # noqa: BLE001 -- a dropped connection, whatever the library calls it
                tally.error(f"{name}: {err!r}")
            finally:
                await ws.close()
            tally.reconnects += 1
        tally.reconnects -= 1                          # the last close is the end, not a reconnect

    async def ws_streamer(self, name: str, rng: random.Random) -> None:
        tally, kind, streams = self.tally["ws-stream"], "ws-stream", self.streams
        serial = 0
        while self.running():
            ws = await self.ws_reconnect(name, kind)
            if ws is None:
                continue
            cut: set[str] = set()                       # streams cut and answered for: no more outputs
            superseded: set[str] = set()                # streams cut by a new one not yet answering
            try:
                while self.running():
                    serial += 1
                    sid, n = f"s{serial}", rng.randint(10, 120)
                    mode = rng.choices(["done", "stop", "restream", "close"], [3, 3, 2, 2])[0]
                    await ws.send(json.dumps({"type": "stream", "n": n, "interval_ms": rng.choice([0, 0, 5, 10]),
                                              "id": sid}))
                    tally.requests += 1
                    streams.started += 1
                    wanted = n if mode == "done" else rng.randint(1, min(n, 30))
                    got, finished = 0, False
                    while got < wanted and not finished:
                        reply = await self.ws_recv(ws)
                        self.answer(name, kind)
                        rid = reply.get("request_id")
                        if rid != sid:
                            if rid in cut and reply.get("type") in ("output", "done"):
                                tally.late += 1
                            elif reply.get("type") not in ("output", "done"):
                                tally.error(f"{name}: while streaming {sid}: {reply}")
                            continue
                        cut |= superseded                  # the new stream answers: the old one must be over
                        superseded.clear()
                        if reply.get("type") == "output":
                            got += 1
                        elif reply.get("type") == "done":
                            finished = True
                            if reply.get("n") != n:
                                streams.short += 1
                                tally.error(f"{name}: stream {sid} of {n} ended after {reply.get('n')}")
                        else:
                            tally.error(f"{name}: stream {sid}: {reply}")
                            finished = True
                    if mode == "done":
                        if not finished:                    # n outputs seen: `done` comes next
                            reply = await self.ws_recv(ws)
                            self.answer(name, kind)
                            if reply.get("type") != "done" or reply.get("n") != n:
                                tally.error(f"{name}: after {n} outputs of {sid}: {reply}")
                        streams.done += 1
                    elif mode == "stop":
                        streams.stop += 1
                        await ws.send(json.dumps({"type": "stop", "id": "x" + sid}))
                        tally.requests += 1
                        while True:
                            reply = await self.ws_recv(ws)
                            self.answer(name, kind)
                            if reply.get("request_id") == "x" + sid:
                                if reply.get("type") != "stopped":
                                    tally.error(f"{name}: stop answered {reply}")
                                break
                            if reply.get("type") not in ("output", "done"):
                                tally.error(f"{name}: before stopped: {reply}")
                        cut.add(sid)                        # from here on an output of sid is late
                    elif mode == "restream":
                        streams.restream += 1
                        superseded.add(sid)                 # late once the next stream has answered
                    else:
                        streams.close += 1
                        break
            except Stall:
                tally.timeouts += 1
            except Exception as err:  # noqa: BLE001 -- a dropped connection, whatever the library calls it
                tally.error(f"{name}: {err!r}")
            finally:
                await ws.close()
            tally.reconnects += 1
        tally.reconnects -= 1

    # ---- OSC ---------------------------------------------------------------------------------
    async def osc_sender(self, name: str, rng: random.Random) -> None:
        from pythonosc.osc_packet import OscPacket
        from pythonosc.udp_client import SimpleUDPClient

        tally, kind = self.tally["osc"], "osc"
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()

        class Listener(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                try:
                    for timed in OscPacket(data).messages:
                        inbox.put_nowait((timed.message.address, list(timed.message.params)))
                except Exception as err:  # noqa: BLE001 -- a reply we cannot parse
                    inbox.put_nowait(("?", [repr(err)]))

        listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        listen.bind(("127.0.0.1", 0))
        transport, _ = await loop.create_datagram_endpoint(Listener, sock=listen)
        client = SimpleUDPClient("127.0.0.1", self.osc_port)

        def send(address: str, *args) -> None:
            client.send_message(address, list(args))
            tally.requests += 1

        async def receive() -> tuple[str, list]:
            try:
                message = await asyncio.wait_for(inbox.get(), self.args.timeout)
            except TimeoutError:
                raise Stall from None
            self.answer(name, kind)
            return message

        def drain() -> None:
            while not inbox.empty():
                inbox.get_nowait()

        try:
            token = rng.randrange(self.args.vocab)
            replying = False
            while self.running():
                try:
                    if not replying:
                        send("/rnnlab/reply", listen.getsockname()[1])
                        address, params = await receive()
                        if address != "/rnnlab/ack" or params[:1] != ["reply"]:
                            tally.error(f"{name}: /rnnlab/reply answered {address} {params}")
                            continue
                        replying = True
                    r = rng.random()
                    if r < 0.75:
                        started = time.perf_counter()
                        send("/rnnlab/step", token)
                        address, params = await receive()
                        if address == "/rnnlab/output" and params and isinstance(params[0], int):
                            tally.step_times.append(time.perf_counter() - started)
                            token = params[0]
                        else:
                            tally.error(f"{name}: /rnnlab/step answered {address} {params[:3]}")
                    elif r < 0.97:
                        n = rng.randint(5, 60)
                        cut = rng.randint(1, n) if rng.random() < 0.4 else None
                        send("/rnnlab/generate", n, rng.choice([0, 0, 5]))
                        outputs, stopped, done = 0, cut is None, None
                        while done is None or not stopped:
                            address, params = await receive()
                            if address == "/rnnlab/output":
                                if done is not None:
                                    tally.late += 1
                                outputs += 1
                                if cut is not None and outputs == cut:
                                    send("/rnnlab/stop")
                            elif address == "/rnnlab/done":
                                done = params[0] if params else -1
                            elif address == "/rnnlab/ack" and params[:1] == ["stop"]:
                                stopped = True
                            else:
                                tally.error(f"{name}: /rnnlab/generate {n}: {address} {params[:3]}")
                                break
                            if cut is not None and outputs < cut and done is not None:
                                stopped = True          # it ended before the cut was sent
                        if done is not None and cut is None and done != n:
                            tally.error(f"{name}: /rnnlab/generate {n} done after {done}")
                    else:
                        send("/rnnlab/step", 1.5)       # refused: a token id must be whole
                        address, params = await receive()
                        if address == "/rnnlab/error":
                            tally.provoked += 1
                        else:
                            tally.error(f"{name}: /rnnlab/step 1.5 answered {address} {params[:3]}")
                except Stall:
                    tally.timeouts += 1
                    await asyncio.sleep(0.2)
                    drain()
        finally:
            transport.close()
            client._sock.close()

    # ---- HTTP --------------------------------------------------------------------------------
    async def http_client(self, name: str, rng: random.Random) -> None:
        tally, kind = self.tally["http"], "http"
        reader = writer = None

        async def post(path: str, body: dict) -> tuple[int, dict]:
            nonlocal reader, writer
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            data = json.dumps(body).encode()
            writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
            await writer.drain()
            tally.requests += 1
            status = int((await reader.readline()).split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode("latin-1").partition(":")
                headers[key.strip().lower()] = value.strip()
            if headers.get("transfer-encoding") == "chunked":
                payload = b""
                while (size := int((await reader.readline()).strip(), 16)):
                    payload += await reader.readexactly(size)
                    await reader.readline()
                await reader.readline()
            else:
                payload = await reader.readexactly(int(headers.get("content-length", 0)))
            if headers.get("connection") == "close":
                writer.close()
                reader = writer = None
            self.answer(name, kind)
            return status, json.loads(payload or b"{}")

        async def timed_post(path: str, body: dict) -> tuple[int, dict]:
            nonlocal reader, writer
            try:
                return await asyncio.wait_for(post(path, body), self.args.timeout)
            except TimeoutError:
                if writer is not None:
                    writer.close()
                reader = writer = None
                raise Stall from None

        token, session = rng.randrange(self.args.vocab), None
        while self.running():
            r = rng.random()
            try:
                if r < 0.8 or session is None:
                    started = time.perf_counter()
                    status, out = await timed_post("/step", {"input": [token], "session": session})
                    if status == 200:
                        tally.step_times.append(time.perf_counter() - started)
                        session, token = out["session"], out["id"]
                    else:
                        tally.error(f"{name}: POST /step {status} {out}")
                elif r < 0.9:
                    status, out = await timed_post("/generate", {"length": rng.randint(5, 30), "prime": [token]})
                    if status != 200 or len(out.get("ids", out.get("tokens", [None]))) == 0:
                        tally.error(f"{name}: POST /generate {status} {str(out)[:200]}")
                elif r < 0.95:
                    status, out = await timed_post("/reset", {"session": session, "close": True})
                    if status != 200:
                        tally.error(f"{name}: POST /reset {status} {out}")
                    session = None
                else:
                    status, out = await timed_post("/step", {"input": [token], "session": session,
                                                             "settings": {"temperature": -1}})
                    if status == 422:
                        tally.provoked += 1
                    else:
                        tally.error(f"{name}: POST /step with temperature -1: {status} {out}")
            except Stall:
                tally.timeouts += 1
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as err:
                tally.error(f"{name}: {err!r}")
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.2)
        if writer is not None:
            writer.close()

    # ---- all of them -------------------------------------------------------------------------
    def split(self) -> dict[str, int]:
        total = self.args.clients
        counts = {"ws-step": round(total * 0.28), "ws-stream": round(total * 0.24), "osc": round(total * 0.24)}
        counts["http"] = max(0, total - sum(counts.values()))
        return counts

    async def run(self) -> None:
        rng = random.Random(self.args.seed)
        runners = {"ws-step": self.ws_stepper, "ws-stream": self.ws_streamer, "osc": self.osc_sender,
                   "http": self.http_client}
        kinds, tasks = [], []
        self.deadline = time.monotonic() + self.args.seconds
        for kind, count in self.split().items():
            self.tally[kind].clients = count
            for i in range(count):
                name = f"{kind}-{i}"
                self.answered[name] = 0
                kinds.append(kind)
                tasks.append(runners[kind](name, random.Random(rng.random())))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for kind, result in zip(kinds, results):
            if isinstance(result, BaseException):           # a client that gave up altogether
                self.tally[kind].error(f"a client failed: {result!r}")

    async def fresh_step(self) -> float | None:
        """Seconds for a new WebSocket client's first step, None if it got none."""
        try:
            ws = await self.ws_connect("fresh", "ws-step")
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "step", "input": [1], "id": "fresh"}))
            reply = await self.ws_recv(ws)
            await ws.close()
            return time.perf_counter() - started if reply.get("type") == "output" else None
        except Exception:  # noqa: BLE001 -- no step, for whatever reason: the check fails
            return None


class Sampler(threading.Thread):
    """The server's VmRSS (KiB) and the load average, once a second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop, self.rss, self.loads = pid, threading.Event(), [], []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.rss.append((time.monotonic(), int(line.split()[1])))
            except OSError:
                return
            self.loads.append(os.getloadavg()[0])
            self.stop.wait(1.0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=650)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds a reply may take before it counts as an error")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before the RSS reference value (default: a quarter of the run, at least 10)")
    parser.add_argument("--rss-tolerance", type=float, default=5.0, help="percent the last RSS may exceed the reference")
    parser.add_argument("--quantize", action="store_true", help="serve with int8 weights")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = max(10.0, args.seconds / 4)
    if not 1 <= args.seconds <= 3600 or not 1 <= args.clients <= 60:
        parser.error("--seconds 1..3600, --clients 1..60 (the server holds 64 sessions per kind)")

    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "server.log", "w+") as log:
        run = make_run(Path(tmp) / "lm", args.hidden, args.layers, args.vocab)
        port, osc_port = free_port(), udp_free_port()
        server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(run), "--port", str(port),
                                   "--osc-port", str(osc_port)] + (["--quantize"] if args.quantize else []),
                                  stdout=log, stderr=subprocess.STDOUT)
        sampler = Sampler(server.pid)
        try:
            if not wait_for_server(server, port):
                log.seek(0)
                raise SystemExit("the server did not start:\n" + log.read()[-2000:])
            soak = Soak(args, port, osc_port)
            load_before = os.getloadavg()
            print(f"{args.layers}x{args.hidden} LSTM, vocabulary {args.vocab:,}{', int8' if args.quantize else ''}; "
                  f"{args.clients} clients {soak.split()} for {args.seconds:g} s; {os.cpu_count()} CPUs, "
                  f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
            cpu_before, started, mine = cpu_seconds(server.pid), time.monotonic(), time.process_time()
            sampler.start()
            asyncio.run(soak.run())
            wall = time.monotonic() - started
            server_cpu, client_cpu = cpu_seconds(server.pid) - cpu_before, time.process_time() - mine
            fresh = asyncio.run(soak.fresh_step())
            alive = server.poll() is None
            sampler.stop.set()
            sampler.join(5)
        finally:
            sampler.stop.set()
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
        log.seek(0)
        server_lines = [line.rstrip() for line in log if line.strip() and not line.startswith("rnnlab serve: lm on ")]

    return report(args, soak, sampler, wall, (server_cpu, client_cpu), fresh, alive, server_lines)


def report(args, soak: Soak, sampler: Sampler, wall: float, cpu: tuple[float, float], fresh, alive: bool,
           server_lines: list[str]) -> int:
    print(f"\n{'kind':<10} {'clients':>7} {'requests':>9} {'replies':>9} {'errors':>6} {'timeouts':>8} "
          f"{'provoked':>8} {'reconnects':>10} {'late':>5}   step p50 / p99 ms")
    for kind, t in soak.tally.items():
        times = t.step_times
        latency = (f"{1000 * percentile(times, 50):7.1f} / {1000 * percentile(times, 99):7.1f}" if times else "-")
        print(f"{kind:<10} {t.clients:>7} {t.requests:>9,} {t.replies:>9,} {t.errors:>6} {t.timeouts:>8} "
              f"{t.provoked:>8} {max(t.reconnects, 0):>10} {t.late:>5}   {latency}")
    total = {key: sum(getattr(t, key) for t in soak.tally.values()) for key in ("requests", "replies", "errors", "timeouts")}
    print(f"{'all':<10} {args.clients:>7} {total['requests']:>9,} {total['replies']:>9,} {total['errors']:>6} "
          f"{total['timeouts']:>8}")
    s = soak.streams
    print(f"\nWebSocket streams: {s.started:,} started; {s.done:,} read to done ({s.short} short), cut by stop "
          f"{s.stop:,}, by a new stream {s.restream:,}, by closing the socket {s.close:,}")
    print(f"{wall:.1f} s, {total['replies'] / wall:,.0f} replies/s; CPU time: server {cpu[0]:.1f} s "
          f"({100 * cpu[0] / wall:.0f}% of one core), these clients {cpu[1]:.1f} s ({100 * cpu[1] / wall:.0f}%)")

    rss = sampler.rss
    if rss:
        start = rss[0][0]
        after_at, after = next(((at, kib) for at, kib in rss if at - start >= args.warmup), rss[-1])
        peak, last = max(kib for _, kib in rss), rss[-1][1]
        drift = 100 * (last - after) / after
        print(f"server RSS (MiB): first {rss[0][1] / 1024:.1f}, after {after_at - start:.0f} s {after / 1024:.1f}, "
              f"peak {peak / 1024:.1f}, last {last / 1024:.1f} ({drift:+.1f}% from after warm-up; "
              f"{len(rss)} samples)")
        settled = [(at - start, kib / 1024) for at, kib in rss if at - start >= args.warmup]
        if len(settled) >= 3:                              # least-squares slope after warm-up
            mt = sum(t for t, _ in settled) / len(settled)
            mv = sum(v for _, v in settled) / len(settled)
            slope = sum((t - mt) * (v - mv) for t, v in settled) / sum((t - mt) ** 2 for t, _ in settled)
            marks = [settled[round(i * (len(settled) - 1) / 4)] for i in range(5)]
            print(f"  after warm-up: {60 * slope:+.2f} MiB/min; at " +
                  ", ".join(f"{t:.0f} s {v:.1f}" for t, v in marks))
    else:
        drift = float("nan")
        print("server RSS: no samples")
    loads = sampler.loads or [os.getloadavg()[0]]
    print(f"load average (1 min) during: mean {sum(loads) / len(loads):.2f}, max {max(loads):.2f}; "
          f"after {os.getloadavg()[0]:.2f}")

    silent = [name for name, count in soak.answered.items() if count == 0]
    checks = [
        ("no errors", total["errors"] == 0, f"{total['errors']} errors"),
        ("no timeouts", total["timeouts"] == 0, f"{total['timeouts']} replies over {args.timeout:g} s"),
        ("every client answered", not silent, f"never answered: {', '.join(silent)}"),
        ("a fresh WebSocket client gets a step", fresh is not None,
         f"{1000 * fresh:.1f} ms" if fresh is not None else "no step"),
        ("server still running", alive, ""),
        ("RSS flat", rss and drift <= args.rss_tolerance, f"{drift:+.1f}% (tolerance {args.rss_tolerance:g}%)"),
    ]
    print()
    for what, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and (not ok or "ms" in detail or "%" in detail)
                                                      else ""))
    examples = [f"  {kind}: {e}" for kind, t in soak.tally.items() for e in t.examples]
    if examples:
        print("first errors:\n" + "\n".join(examples))
    if server_lines:
        print(f"server output ({len(server_lines)} lines), first 20:\n" + "\n".join("  " + l[:300] for l in server_lines[:20]))
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
