"""Flood soak of `rnnlab serve`: a performer keeps stepping its named session while others try to lock
it out; is it ever refused, how slow does it get, and does the server give back what the flood took?

    python benchmarks/serve_flood.py                     # 2x650 LSTM, 10k vocabulary; 5 s, 20 s flood, 10 s
    python benchmarks/serve_flood.py --slowloris 1000 --flood-seconds 30

Builds an untrained run (as serve_latency.py does) and starts `rnnlab serve` as its own process on
127.0.0.1 with OSC on. The performer POSTs /step to the named session "stage" every --interval ms on
one kept-alive connection, throughout. After a quiet phase, all at once: --idle-ws WebSocket clients
that connect and never send; --slowloris connections that send part of a request's head and trickle
a byte every few seconds, reopened when the server closes them; an OSC flood of /rnnlab/generate from
another loopback sender (100/s) and of /rnnlab/step from this machine's network address (2,000/s; not allowed: dropped);
and --anonymous POST /session with new names. Then the flood ends and the server settles.

Prints the performer's p50/p99 per phase and its refusals (any answer but 200), what the flood got
(sessions made or refused, connections closed by the server), the server's RSS and open descriptors
(/proc/PID/fd) before, during and after, and the load average. Exit status 1 when the performer was
refused, its flood p99 is over --p99-ms, or RSS or descriptors did not come back.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_latency import free_port, make_run, percentile, wait_for_server

HALF_HEAD = b"GET /models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "


class Performer(threading.Thread):
    """Steps the named session "stage" on one kept-alive connection; latencies and statuses per phase."""

    def __init__(self, port: int, interval: float):
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.phase, self.stop = "quiet", False
        self.times: dict[str, list[float]] = {}
        self.refusals: dict[str, list[str]] = {}

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = json.dumps({"name": "stage", "input": "w1"})
        while not self.stop:
            phase, start = self.phase, time.perf_counter()
            try:
                connection.request("POST", "/step", body, {"content-type": "application/json"})
                answer = connection.getresponse()
                answer.read()
                if answer.status != 200:
                    self.refusals.setdefault(phase, []).append(str(answer.status))
            except (OSError, http.client.HTTPException) as err:
                self.refusals.setdefault(phase, []).append(type(err).__name__)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.times.setdefault(phase, []).append(time.perf_counter() - start)
            time.sleep(max(0.0, self.interval - (time.perf_counter() - start)))


def usage(pid: int) -> tuple[float, int]:
    """The server's RSS (MiB) and open descriptors."""
    with open(f"/proc/{pid}/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def network_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


class Flood:
    def __init__(self, args, port: int, osc_port: int):
        self.args, self.port, self.osc_port = args, port, osc_port
        self.stop = asyncio.Event()
        self.errors: set[str] = set()                       # what went wrong for the flood's own clients
        self.counts = {"ws connected": 0, "ws refused": 0, "slowloris opened": 0, "slowloris closed by server": 0,
                       "anonymous 200": 0, "anonymous 503": 0, "anonymous other": 0}

    async def idle_websocket(self) -> None:
        import websockets

        try:
            async with websockets.connect(f"ws://127.0.0.1:{self.port}/ws") as ws:
                hello = json.loads(await ws.recv())
                self.counts["ws connected" if hello["type"] == "hello" else "ws refused"] += 1
                await self.stop.wait()                      # never sends; the library answers pings
        except Exception as err:
            self.counts["ws refused"] += 1
            self.errors.add(f"{type(err).__name__}: {str(err)[:120]}")

    async def slowloris(self) -> None:
        while not self.stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.5)
                continue
            self.counts["slowloris opened"] += 1
            writer.write(HALF_HEAD)
            try:
                while not self.stop.is_set():
                    writer.write(b"x")
                    await writer.drain()
                    try:
                        if await asyncio.wait_for(reader.read(1024), 3) == b"":
                            self.counts["slowloris closed by server"] += 1
                            break
                    except asyncio.TimeoutError:
                        pass
            except OSError:
                self.counts["slowloris closed by server"] += 1
            writer.close()

    async def osc_flood(self, address: str, packet: bytes, per_second: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, 0))
        sock.setblocking(False)
        name = "osc packets from " + ("loopback" if address.startswith("127.") else address)
        self.counts[name] = 0
        while not self.stop.is_set():
            for _ in range(max(1, per_second // 100)):
                try:
                    sock.sendto(packet, ("127.0.0.1", self.osc_port))
                    self.counts[name] += 1
                except OSError:
                    pass
            await asyncio.sleep(0.01)
        sock.close()

    async def anonymous_session(self, index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        body = json.dumps({"name": f"crowd{index}"}).encode()
        writer.write(b"POST /session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        status = (await reader.read(64)).split(b" ")[1:2]
        key = {b"200": "anonymous 200", b"503": "anonymous 503"}.get(status[0] if status else b"", "anonymous other")
        self.counts[key] += 1
        writer.close()

    async def run(self, seconds: float) -> None:
        from pythonosc.osc_message_builder import OscMessageBuilder

        def packet(address, *args):
            builder = OscMessageBuilder(address)
            for arg in args:
                builder.add_arg(arg)
            return builder.build().dgram

        tasks = [asyncio.create_task(self.idle_websocket()) for _ in range(self.args.idle_ws)]
        tasks += [asyncio.create_task(self.slowloris()) for _ in range(self.args.slowloris)]
        generate = packet("/rnnlab/generate", 2000)          # each one ends the sender's running one
        tasks.append(asyncio.create_task(self.osc_flood("127.0.0.1", generate, self.args.osc_allowed_rate)))
        outside = network_address()
        if outside:                                           # not in --osc-allow: dropped unread
            tasks.append(asyncio.create_task(self.osc_flood(outside, packet("/rnnlab/step", "w1"),
                                                            self.args.osc_rate)))
        await asyncio.gather(*(self.anonymous_session(i) for i in range(self.args.anonymous)))
        await asyncio.sleep(seconds)
        self.stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=650)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--quiet-seconds", type=float, default=5)
    parser.add_argument("--flood-seconds", type=float, default=20)
    parser.add_argument("--settle-seconds", type=float, default=10)
    parser.add_argument("--interval", type=float, default=20, help="ms between the performer's steps")
    parser.add_argument("--idle-ws", type=int, default=64)
    parser.add_argument("--slowloris", type=int, default=1000)
    parser.add_argument("--anonymous", type=int, default=64)
    parser.add_argument("--osc-rate", type=int, default=2000, help="packets/s from a sender not allowed")
    parser.add_argument("--osc-allowed-rate", type=int, default=100,
                        help="/rnnlab/generate packets/s from another loopback sender")
    parser.add_argument("--p99-ms", type=float, default=50)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.slowloris)), hard))

    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "run", args.hidden, args.layers, args.vocab)
        port, osc_port = free_port(), free_port()
        server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(run), "--port", str(port),
                                   "--osc-port", str(osc_port)], stderr=subprocess.DEVNULL)
        try:
            if not wait_for_server(server, port):
                print("the server did not start")
                return 1
            return soak(args, server.pid, port, osc_port)
        finally:
            server.terminate()
            server.wait(20)


def soak(args, pid: int, port: int, osc_port: int) -> int:
    performer = Performer(port, args.interval / 1000)
    performer.start()
    time.sleep(args.quiet_seconds)
    before = usage(pid)
    performer.phase = "flood"
    flood = Flood(args, port, osc_port)
    peak = [before]

    def sample():
        while performer.phase == "flood":
            peak.append(usage(pid))
            time.sleep(1)

    threading.Thread(target=sample, daemon=True).start()
    asyncio.run(flood.run(args.flood_seconds))
    performer.phase = "after"
    time.sleep(args.settle_seconds)
    after = usage(pid)
    performer.stop = True
    performer.join(15)

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for phase in ("quiet", "flood", "after"):
        times = [t * 1000 for t in performer.times.get(phase, [])]
        refused = performer.refusals.get(phase, [])
        if times:
            print(f"performer {phase:6} {len(times):5} steps  p50 {percentile(times, 50):6.1f} ms  "
                  f"p99 {percentile(times, 99):6.1f} ms  max {max(times):6.1f} ms  refused {len(refused)} "
                  f"{sorted(set(refused))}")
    for name, count in flood.counts.items():
        print(f"  {name:28} {count}")
    for error in sorted(flood.errors)[:5]:
        print(f"  flood client error: {error}")
    print(f"server RSS {before[0]:.0f} MiB -> peak {max(p[0] for p in peak):.0f} -> after {after[0]:.0f}; "
          f"open descriptors {before[1]} -> peak {max(p[1] for p in peak)} -> after {after[1]}")
    flood_times = [t * 1000 for t in performer.times.get("flood", [])]
    failed = [what for what, bad in (
        ("the performer was refused", any(performer.refusals.values())),
        (f"flood p99 over {args.p99_ms} ms", not flood_times or percentile(flood_times, 99) > args.p99_ms),
        ("RSS did not come back (over 10% above before)", after[0] > before[0] * 1.10),
        ("descriptors did not come back", after[1] > before[1] + 8)) if bad]
    for what in failed:
        print("FAILED:", what)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
