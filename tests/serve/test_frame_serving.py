"""A piano-roll run served live: chords in, chords out, over WebSocket, HTTP and real OSC packets."""

from __future__ import annotations

import pytest

from .live import live_server
from .test_osc import OscClient
from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings

from .inprocess import in_process


@pytest.fixture(scope="module")
def roll_run(tmp_path_factory):
    mido = pytest.importorskip("mido")
    pytest.importorskip("symusic")
    from rnnlab.cli import main

    root = tmp_path_factory.mktemp("roll")
    (root / "tunes").mkdir()
    for index in range(4):
        track = mido.MidiTrack()
        for step in range(16):
            chord = [48 + index, 60 + (step * 5) % 12, 67]
            for pitch in chord:
                track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
            for k, pitch in enumerate(chord):
                track.append(mido.Message("note_off", note=pitch, velocity=0, time=480 if k == 0 else 0))
        song = mido.MidiFile(ticks_per_beat=480)
        song.tracks.append(track)
        song.save(root / "tunes" / f"tune{index}.mid")
    run = root / "run"
    assert main(["train", str(root / "tunes"), "--preset", "poly-nade", "--nade-hidden", "8", "--out", str(run),
                 "--hidden", "16", "--layers", "1", "--epochs", "1", "--batch-size", "2", "--bptt", "8",
                 "--threads", "1"]) == 0
    return run


def test_chords_in_chords_out_over_websocket_and_http(roll_run):
    hub = Hub(load_models([str(roll_run)]), ServeSettings(max_length=50))
    with in_process(hub) as client:
        (info,) = client.get("/models").json()["models"]
        assert info["kind"] == "frames" and info["modality"] == "midi" and info["keys"] == "21..108"
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            for chord in ([60, 64, 67], [], 48):
                ws.send_json({"type": "step", "input": chord})
                out = ws.receive_json()
                assert out["type"] == "output" and all(21 <= p <= 108 for p in out["pitches"])
                assert len(out["names"]) == len(out["pitches"])
            ws.send_json({"type": "step", "input": [60, 200]})
            error = ws.receive_json()
            assert error["type"] == "error" and "MIDI pitches from 21 to 108" in error["error"]
            ws.send_json({"type": "step", "input": "C major"})
            assert ws.receive_json()["type"] == "error"
            ws.send_json({"type": "stream", "n": 5})
            outputs = [ws.receive_json() for _ in range(5)]
            assert [o["index"] for o in outputs] == list(range(5)) and all("pitches" in o for o in outputs)
        body = {"prime": [[60, 64, 67], [62, 65, 69]], "length": 12, "seed": 3}
        first = client.post("/generate", json=body).json()
        assert len(first["chords"]) == 12 and client.post("/generate", json=body).json() == first
        greedy = client.post("/generate", json={"length": 6, "greedy": True}).json()["chords"]
        assert client.post("/generate", json={"length": 6, "greedy": True}).json()["chords"] == greedy
        bad = client.post("/generate", json={"prime": [[60, 1000]], "length": 4})
        assert bad.status_code == 422 and "MIDI pitches" in bad.json()["detail"]


def test_a_chord_over_real_osc_packets(roll_run):
    with live_server([roll_run]) as (_, _, osc_port):
        client = OscClient(osc_port)
        address, args = client.ask("/rnnlab/step", 60, 64, 67)
        assert address == "/rnnlab/output" and all(isinstance(p, int) and 21 <= p <= 108 for p in args)
        address, args = client.ask("/rnnlab/step")                         # a rest
        assert address == "/rnnlab/output"
        assert client.ask("/rnnlab/step", "C")[0] == "/rnnlab/error"
        client.send("/rnnlab/generate", 4)
        replies = [client.receive() for _ in range(5)]
        assert [a for a, _ in replies] == ["/rnnlab/output"] * 4 + ["/rnnlab/done"]
