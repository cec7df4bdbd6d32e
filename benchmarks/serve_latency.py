"""Step latency of `rnnlab serve` over WebSocket: p50 / p99 with 1 and with N concurrent clients.

    python benchmarks/serve_latency.py                      # 2x650 LSTM, 10k vocabulary, 1 and 20 clients
    python benchmarks/serve_latency.py --clients 1 20 --steps 200 --max-batch 1   # batching off
    python benchmarks/serve_latency.py --quantize                                  # int8 weights
    python benchmarks/serve_latency.py --busy 1                                    # one other busy process

Builds a run directory with untrained weights of the given size (latency does not depend on
what the weights say), starts `rnnlab serve` as its own process, and times round trips of
{"type": "step", "input": [id]} -> output from each client, every client stepping as fast as
its replies come back. Prints the machine's load too: other work on the CPU shows in the tail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from contention import busy


def make_run(folder: Path, hidden: int, layers: int, vocab: int) -> Path:
    from rnnlab.config import build_config
    from rnnlab.data.tokenize import TokenizerConfig, Vocabulary, save_vocabulary
    from rnnlab.tasks.language_model.model import build_language_model
    from rnnlab.runs import RunDir
    from rnnlab.train.checkpoint import save_checkpoint

    config = build_config("", {"data": {"corpus": "synthetic", "level": "word"},
                               "model": {"hidden": hidden, "layers": layers, "cell": "lstm"}})
    run = RunDir(folder)
    run.create(config)
    words = Vocabulary(["<unk>", "<eos>"] + [f"w{i}" for i in range(vocab - 2)])
    save_vocabulary(run.vocab_path, words, TokenizerConfig(level="word"))
    save_checkpoint(run.best_checkpoint, {"model": build_language_model(config, vocab).state_dict()})
    return folder


def wait_for_server(server: subprocess.Popen, port: int, seconds: float = 120) -> bool:
    """True once the server listens on `port`; False if it exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                return False
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def client(port: int, steps: int, vocab: int, seed: int) -> list[float]:
    import websockets

    times = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        json.loads(await ws.recv())
        token = seed % vocab
        for _ in range(steps + 10):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "step", "input": [token]}))
            reply = json.loads(await ws.recv())
            times.append(time.perf_counter() - started)
            token = reply["id"]
    return times[10:]                                     # the first steps warm up


async def measure(port: int, clients: int, steps: int, vocab: int) -> list[float]:
    results = await asyncio.gather(*(client(port, steps, vocab, seed) for seed in range(clients)))
    return [t for r in results for t in r]


def run_async(coroutine):
    """Run the clients on uvloop where it is installed (the serve extra brings it): the clients' own
    overhead then weighs less in the round trips."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=650)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--steps", type=int, default=200, help="timed steps per client")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="server's torch threads (0: default)")
    parser.add_argument("--quantize", action="store_true", help="serve with int8 weights")
    parser.add_argument("--busy", type=int, default=0,
                        help="other busy processes (Python loops that never sleep) running while it measures")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "lm", args.hidden, args.layers, args.vocab)
        port = free_port()
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(run), "--port", str(port),
                                   "--osc-port", "0", "--max-batch", str(args.max_batch),
                                   "--max-sessions", str(max(args.clients) + 4)]
                                  + (["--quantize"] if args.quantize else []), env=env,
                                  stderr=subprocess.DEVNULL)
        others = busy(args.busy)
        try:
            if not wait_for_server(server, port):
                raise SystemExit("the server did not start")
            print(f"{args.layers}x{args.hidden} LSTM, vocabulary {args.vocab:,}, {os.cpu_count()} CPUs, "
                  f"max batch {args.max_batch}{', int8' if args.quantize else ''}, {args.busy} other busy process(es); load average before: {os.getloadavg()[0]:.2f}")
            for clients in args.clients:
                started = time.perf_counter()
                times = run_async(measure(port, clients, args.steps, args.vocab))
                wall = time.perf_counter() - started
                print(f"{clients:3d} client(s): p50 {1000 * statistics.median(times):6.2f} ms, "
                      f"p99 {1000 * percentile(times, 99):6.2f} ms, mean {1000 * statistics.fmean(times):6.2f} ms, "
                      f"{len(times) / wall:7.1f} steps/s in all; load average {os.getloadavg()[0]:.2f}")
        finally:
            for process in others:
                process.kill()
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
