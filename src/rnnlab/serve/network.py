"""The server's connections: uvicorn's settings, and the guard uvicorn lacks against clients that open
connections and never finish a request (slowloris).

uvicorn closes a kept-alive connection idle for timeout_keep_alive, but a connection still sending a
request's head has no deadline, and its limit_concurrency counts such connections too, so a crowd of
them would have it refuse every real client. Here a client has `request_timeout_s` to send each
request's head (and BoundedBody gives the same to its body); past `max_connections`, the connection
waiting longest for a first request is closed to make room, and only when none has waited a second
(a real client's head comes in milliseconds) is the new one answered 503. The open-files limit is raised toward the hard limit and the bound kept below it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

FILES_KEPT = 64              # open files kept for the models, the OSC socket, logs: never for connections
PATIENCE_S = 1.0             # a connection waits this long for its head before it may be closed for room


def raise_open_files(wanted: int = 65536) -> int:
    """Raise this process's soft limit on open files toward the hard one (macOS starts at 256); the soft
    limit now."""
    try:
        import resource
    except ImportError:                                   # Windows: no such limit to raise
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):                     # macOS may refuse over kern.maxfilesperproc
            pass
    return wanted if soft == resource.RLIM_INFINITY else soft


@dataclass
class ConnectionGuard:
    """Connections waiting for a request's head, and what was done about them (counts for the soak)."""

    max_connections: int
    request_timeout_s: float
    waiting: dict = field(default_factory=dict)        # protocol -> (served a request before, since when)
    timed_out: int = 0
    made_room: int = 0
    refused: int = 0

    def make_room(self, newcomer) -> bool:
        """Close the connection that has waited longest for its head, never-served ones first; False if none
        has waited PATIENCE_S (on a busy server, a new client's head may not have been read yet)."""
        patience = min(PATIENCE_S, self.request_timeout_s / 2)
        cutoff = time.monotonic() - patience
        waiting = [(served, since, p) for p, (served, since) in self.waiting.items()
                   if p is not newcomer and since < cutoff]
        if not waiting:
            return False
        _, _, oldest = min(waiting, key=lambda w: w[:2])
        self.waiting.pop(oldest, None)
        oldest.transport.close()
        self.made_room += 1
        return True


REFUSAL = json.dumps({"detail": "the server holds its limit of connections; try again shortly"}).encode()


def guarded(base: type, guard: ConnectionGuard) -> type:
    """uvicorn's HTTP protocol class `base`, with a deadline for each request's head and a bound on
    connections (see the module's docstring)."""

    class Guarded(base):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self.head_timer, self.head_cycle = None, None
            if len(self.connections) > guard.max_connections and not guard.make_room(self):
                guard.refused += 1
                transport.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                                b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(REFUSAL), REFUSAL))
                transport.close()
                return
            self.wait_for_head(served=False)

        def wait_for_head(self, served: bool) -> None:
            self.head_cycle = self.cycle
            guard.waiting[self] = (served, time.monotonic())
            self.head_timer = asyncio.get_running_loop().call_later(guard.request_timeout_s, self.head_late)

        def head_came(self) -> None:
            guard.waiting.pop(self, None)
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def head_late(self) -> None:
            guard.waiting.pop(self, None)
            self.head_timer = None
            idle = self.cycle is None or self.cycle.response_complete
            if self.cycle is self.head_cycle and idle and not self.transport.is_closing():
                guard.timed_out += 1
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.head_timer is not None and self.cycle is not self.head_cycle:
                self.head_came()                          # a request's head is complete

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.cycle.response_complete and self.head_timer is None:
                self.wait_for_head(served=True)           # kept alive: the next head has the same deadline

        def handle_websocket_upgrade(self, *args) -> None:
            self.head_came()
            super().handle_websocket_upgrade(*args)

        def connection_lost(self, exc) -> None:
            self.head_came()
            super().connection_lost(exc)

    Guarded.__name__ = Guarded.__qualname__ = "Guarded" + base.__name__
    return Guarded


def http_protocol() -> type:
    """The HTTP protocol class uvicorn's "auto" picks: httptools when installed, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        return HttpToolsProtocol
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol
        return H11Protocol


def server_config(app, host: str, port: int, settings):
    """uvicorn's Config for `app` with the bounds in `settings` (ServeSettings); the guard is app.state.connections."""
    import uvicorn

    bound = max(16, min(settings.max_connections, raise_open_files() - FILES_KEPT))
    guard = ConnectionGuard(bound, settings.request_timeout_s)
    app.state.connections = guard
    # No permessage-deflate: replies are a few dozen bytes, and compressing each one costs both ends
    # more time than it saves on the wire.
    return uvicorn.Config(app, host=host, port=port, log_level="warning", http=guarded(http_protocol(), guard),
                          ws_max_size=4 * settings.max_request_bytes, ws_per_message_deflate=False,
                          timeout_keep_alive=5, timeout_graceful_shutdown=5)
