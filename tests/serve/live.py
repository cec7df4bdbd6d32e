"""A real `rnnlab serve` (uvicorn + OSC) on free loopback ports, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn

from rnnlab.serve.access import Access
from rnnlab.serve.app import create_app
from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.network import server_config
from rnnlab.serve.sessions import ServeSettings


@contextmanager
def live_server(run_dirs, settings: ServeSettings | None = None, allow_origins: list[str] | None = None,
                port: int = 0, access: Access | None = None, host: str = "127.0.0.1"):
    """Yields (app, http_port, osc_port); `port` 0 picks a free one (give one to restart on the same).
    The server is set up as `rnnlab serve` sets it up (network.server_config), on `host`."""
    settings = settings or ServeSettings()
    hub = Hub(load_models([str(p) for p in run_dirs]), settings)
    app = create_app(hub, osc_port=0, host=host, allow_origins=allow_origins, access=access)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(server_config(app, host, port, settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield app, sock.getsockname()[1], app.state.osc_port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
