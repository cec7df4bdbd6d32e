"""A MIDI event-token run (REMI through miditok) served like a text run; note tokens carry their pitch."""

from __future__ import annotations

import pytest

from rnnlab.serve.hub import Hub
from rnnlab.serve.loading import load_models

from .inprocess import in_process


def write_tunes(folder, count=4):
    mido = pytest.importorskip("mido")
    folder.mkdir()
    for index in range(count):
        track = mido.MidiTrack()
        for step in range(24):
            pitch = 60 + (step * (index + 2)) % 12
            track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
            track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
        song = mido.MidiFile(ticks_per_beat=480)
        song.tracks.append(track)
        song.save(folder / f"tune{index}.mid")


def test_midi_event_run_streams_notes(tmp_path):
    pytest.importorskip("miditok")
    from rnnlab.cli import main

    write_tunes(tmp_path / "tunes")
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "tunes"), "--modality", "midi", "--tokenizer", "remi", "--out", str(run),
                 "--hidden", "16", "--layers", "1", "--epochs", "1", "--batch-size", "2", "--bptt", "8"]) == 0
    hub = Hub(load_models([str(run)]))
    with in_process(hub) as client:
        (info,) = client.get("/models").json()["models"]
        assert info["kind"] == "tokens" and info["modality"] == "midi"
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.send_json({"type": "step", "input": "Pitch_60"})
            assert ws.receive_json()["type"] == "output"
            ws.send_json({"type": "set", "seed": 3})
            ws.receive_json()
            ws.send_json({"type": "stream", "n": 60})
            outputs = [ws.receive_json() for _ in range(60)]
        notes = [o for o in outputs if o["token"].startswith("Pitch_")]
        assert notes and all(o["pitch"] == int(o["token"].split("_")[1]) for o in notes)
        assert all("pitch" not in o for o in outputs if not o["token"].startswith("Pitch_"))
        generated = client.post("/generate", json={"prime": "Pitch_60 Velocity_79", "length": 10, "seed": 1}).json()
        assert len(generated["tokens"]) == 10 and generated["text"] == " ".join(generated["tokens"])
