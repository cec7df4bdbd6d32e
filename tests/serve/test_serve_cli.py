"""`rnnlab serve` as a user starts it: a real process on 127.0.0.1, and one-line errors for bad runs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from rnnlab.cli import main


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_refuses_what_is_not_a_run(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "missing: no such run directory" in err and len(err.strip().splitlines()) == 1


def test_serve_refuses_a_taken_or_impossible_port(runs, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(runs["chars"]), "--port", str(port), "--osc-port", "0"]) == 2
        err = capsys.readouterr().err
        assert f"--port {port} on 127.0.0.1: cannot listen there" in err and len(err.strip().splitlines()) == 1
    assert main(["serve", str(runs["chars"]), "--port", "70000"]) == 2
    assert "--port must be 1..65535" in capsys.readouterr().err


def test_serve_process_binds_loopback_and_answers(runs):
    port, osc_port = free_port(), free_port(socket.SOCK_DGRAM)
    server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(runs["chars"]), str(runs["wave"]),
                               "--port", str(port), "--osc-port", str(osc_port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/models", timeout=2) as response:
                    listing = json.load(response)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.3)
        assert [m["name"] for m in listing["models"]] == ["chars", "wave"]
        listening = shutil.which("ss") and subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
        if listening:                                   # iproute2 present: the socket is on loopback only
            mine = [line for line in listening.splitlines() if f":{port} " in line]
            assert mine and all("127.0.0.1:" in line for line in mine)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"p5.min.js" in response.read()
    finally:
        server.terminate()
        server.wait(10)
    assert f"OSC udp 127.0.0.1:{osc_port}" in server.stderr.read()


def test_serve_pool_and_snapshot_flags_reach_the_settings(runs, monkeypatch):
    import uvicorn

    seen = []

    def run(server, *args, **kwargs):                     # the server as built, not started
        hub = server.config.app.state.hub
        seen.append(hub.settings)
        hub.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    base = ["serve", str(runs["chars"]), "--port", str(free_port()), "--osc-port", "0"]
    assert main(base + ["--max-sessions", "9", "--max-osc-sessions", "3", "--max-named-sessions", "5",
                        "--max-snapshots", "2"]) == 0
    assert main(base + ["--max-sessions", "9"]) == 0
    flagged, default = seen
    assert (flagged.max_sessions, flagged.max_osc_sessions, flagged.max_named_sessions, flagged.max_snapshots) == (
        9, 3, 5, 2)
    assert (default.max_osc_sessions, default.max_named_sessions, default.max_snapshots) == (None, None, 16)


@pytest.mark.parametrize("flag", ["--max-osc-sessions", "--max-named-sessions", "--max-snapshots"])
@pytest.mark.parametrize("value", ["0", "-3"])
def test_serve_refuses_a_pool_or_snapshot_limit_below_one(runs, capsys, flag, value):
    assert main(["serve", str(runs["chars"]), "--port", str(free_port()), "--osc-port", "0", flag, value]) == 2
    err = capsys.readouterr().err
    assert err == f"rnnlab: error: {flag} must be at least 1\n"
