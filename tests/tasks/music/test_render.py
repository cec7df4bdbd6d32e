"""WAV through FluidSynth when present, one line saying how to get it when not; the piano-roll PNG."""

from __future__ import annotations

import shutil
import wave

import pytest

from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.tasks.music import audio
from rnnlab.tasks.music.drawing import draw_pianoroll


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


FAKE_FLUIDSYNTH = """#!{python}
import sys, time
out = sys.argv[sys.argv.index("-F") + 1]
mode = {mode!r}
with open(out, "wb") as wav:
    wav.write(b"RIFF" + bytes(40))
    if mode == "endless":                    # what FluidSynth did with 200 note-ons of one pitch at once
        while True:
            wav.write(bytes(1 << 16))
    if mode == "hang":
        wav.flush()
        time.sleep(600)
    if mode == "fail":
        wav.write(bytes(1000))
        wav.flush()
        sys.exit("fluidsynth: error: something broke")
    wav.write(bytes(4 * 44100))
"""


@pytest.fixture
def fake_fluidsynth(tmp_path, monkeypatch):
    """A stand-in `fluidsynth` that behaves as told: 'endless', 'hang', 'fail' or 'ok'."""
    import sys

    def install(mode: str):
        script = tmp_path / f"fluidsynth-{mode}"
        script.write_text(FAKE_FLUIDSYNTH.format(python=sys.executable, mode=mode))
        script.chmod(0o755)
        monkeypatch.setattr(audio.shutil, "which", lambda name: str(script))
        (tmp_path / "gm.sf2").write_bytes(b"sf2")
        monkeypatch.setenv("RNNLAB_SOUNDFONT", str(tmp_path / "gm.sf2"))
    return install


def test_render_limits_follow_the_song_length():
    short_timeout, short_bytes = audio.render_limits(2.0, 44100)
    long_timeout, long_bytes = audio.render_limits(600.0, 44100)
    assert short_timeout < long_timeout and short_bytes < long_bytes
    assert short_bytes < 10_000_000                              # 2 s of audio: never gigabytes
    assert long_bytes >= 600 * 44100 * 4                         # 10 minutes of 16-bit stereo fit


def test_endless_render_is_stopped_at_the_size_cap_and_leaves_no_wav(tmp_path, make_midi, scale, fake_fluidsynth):
    fake_fluidsynth("endless")
    midi = make_midi(tmp_path / "song.mid", scale(60, count=8))
    message = audio.render_wav(midi, tmp_path / "song.wav")
    assert message.startswith("song.wav skipped: FluidSynth failed (the WAV grew past") and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir() if "wav" in p.name) == []


def test_hanging_render_is_stopped_by_the_timeout(tmp_path, make_midi, scale, fake_fluidsynth, monkeypatch):
    fake_fluidsynth("hang")
    monkeypatch.setattr(audio, "TIMEOUT_BASE", 0.5)
    monkeypatch.setattr(audio, "TIMEOUT_PER_SECOND", 0.0)
    midi = make_midi(tmp_path / "song.mid", scale(60, count=8))
    message = audio.render_wav(midi, tmp_path / "song.wav")
    assert message.startswith("song.wav skipped: FluidSynth failed (still running after")
    assert not any("wav" in p.name for p in tmp_path.iterdir())


def test_failed_render_says_why_and_removes_the_partial_wav(tmp_path, make_midi, scale, fake_fluidsynth):
    fake_fluidsynth("fail")
    midi = make_midi(tmp_path / "song.mid", scale(60, count=8))
    assert audio.render_wav(midi, tmp_path / "song.wav") == "song.wav skipped: FluidSynth failed (fluidsynth: error: something broke)"
    assert not any("wav" in p.name for p in tmp_path.iterdir())


def test_good_render_is_moved_into_place(tmp_path, make_midi, scale, fake_fluidsynth):
    fake_fluidsynth("ok")
    midi = make_midi(tmp_path / "song.mid", scale(60, count=8))
    assert audio.render_wav(midi, tmp_path / "song.wav") is None
    assert [p.name for p in tmp_path.iterdir() if "wav" in p.name] == ["song.wav"]
    assert (tmp_path / "song.wav").stat().st_size == 44 + 4 * 44100
