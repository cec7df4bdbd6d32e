"""WAV through FluidSynth when present, one line saying how to get it when not; the piano-roll PNG."""

from __future__ import annotations

import shutil
import wave

import pytest

from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.render import audio
from rnnlab.render.pianoroll import draw_pianoroll


def test_no_fluidsynth_gives_one_line_with_the_install_command(tmp_path, make_midi, scale, monkeypatch):
    midi = make_midi(tmp_path / "song.mid", scale(60))
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    message = audio.render_wav(midi, tmp_path / "song.wav")
    assert message.startswith("song.wav skipped: FluidSynth not found")
    assert "apt-get install fluidsynth fluid-soundfont-gm" in message and "\n" not in message
    assert not (tmp_path / "song.wav").exists()


def test_no_soundfont_is_said_too(tmp_path, make_midi, scale, monkeypatch):
    midi = make_midi(tmp_path / "song.mid", scale(60))
    monkeypatch.setattr(audio.shutil, "which", lambda name: "/usr/bin/fluidsynth")
    monkeypatch.setattr(audio, "SOUNDFONTS", ())
    monkeypatch.delenv("RNNLAB_SOUNDFONT", raising=False)
    assert audio.render_wav(midi, tmp_path / "song.wav").startswith("song.wav skipped: no General MIDI SoundFont")


@pytest.mark.skipif(shutil.which("fluidsynth") is None or audio.find_soundfont() is None,
                    reason="FluidSynth or a GM SoundFont is not installed")
def test_wav_is_written_with_fluidsynth(tmp_path, make_midi, scale):
    midi = make_midi(tmp_path / "song.mid", scale(60, count=8))
    assert audio.render_wav(midi, tmp_path / "song.wav") is None
    with wave.open(str(tmp_path / "song.wav")) as wav:
        assert wav.getnframes() / wav.getframerate() >= 2.0          # 8 eighth notes at 120 bpm


def test_pianoroll_png(tmp_path, make_midi, scale):
    score = read_midi_file(make_midi(tmp_path / "song.mid", scale(60))).score
    draw_pianoroll(score, tmp_path / "song.png", "a scale", primer_seconds=1.0)
    assert (tmp_path / "song.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
