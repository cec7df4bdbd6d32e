"""Measure what a burst of OSC costs: 1,000 small messages from one socket, as fast as it can send them,
against a real server (uvicorn + OSC in this process); prints how many the server answered.

    python -m tests.serve.osc_burst RUN [RUN...] [--count 1000] [--buffer BYTES]

--buffer asks the server's OSC socket for that receive buffer instead of the default (4 MiB), e.g.
212992 for what a stock Linux net.core.rmem_max allows.
"""

from __future__ import annotations

import argparse
import socket
import time

from rnnlab.serve import osc
from rnnlab.serve.sessions import ServeSettings

from .live import live_server
from .test_osc import packet


def burst(osc_port: int, address: str, args: list, count: int) -> tuple[int, float]:
    """(replies received, seconds spent sending) for `count` copies of one message."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)        # room for every reply
    sock.bind(("127.0.0.1", 0))
    data = packet(address, *args)
    start = time.perf_counter()
    for _ in range(count):
        sock.sendto(data, ("127.0.0.1", osc_port))
    sending = time.perf_counter() - start
    sock.settimeout(3)
    answered = 0
    try:
        while answered < count:
            sock.recv(65536)
            answered += 1
    except TimeoutError:
        pass
    sock.close()
    return answered, sending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--buffer", type=int, default=osc.RECEIVE_BUFFER)
    args = parser.parse_args()
    asked, original = args.buffer, osc.receive_buffer
    osc.receive_buffer = lambda sock, wanted=asked: original(sock, asked)
    with live_server(args.runs, ServeSettings()) as (app, _, osc_port):
        print(f"OSC receive buffer granted: {app.state.osc_receive_buffer} bytes (asked {asked})")
        for address, message_args in (("/rnnlab/models", []), ("/rnnlab/step", ["a"])):
            answered, sending = burst(osc_port, address, message_args, args.count)
            print(f"{address}: {answered} of {args.count} answered (sent in {sending * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
