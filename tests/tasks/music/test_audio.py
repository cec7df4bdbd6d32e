"""Audio to share: FluidSynth's render as Ogg, MP3, FLAC or WAV, cut to the song plus its release,
loudness-normalised and titled; decoded back with soundfile to check each."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pyloudnorm
import pytest
import soundfile

from rnnlab.errors import RnnlabError
from rnnlab.tasks.music import audio
from rnnlab.tasks.music.compose import Song

PLAYS = pytest.mark.skipif(shutil.which("fluidsynth") is None or audio.find_soundfont() is None,
                           reason="FluidSynth or a GM SoundFont is not installed")


@pytest.fixture
def song_midi(tmp_path, make_midi):
    """Ten seconds: 40 eighth notes at 120 bpm, up and down a C major scale, to the last moment."""
    degrees = [0, 2, 4, 5, 7, 9, 11, 12, 11, 9, 7, 5, 4, 2]
    return make_midi(tmp_path / "song.mid", [(i * 240, 240, 60 + degrees[i % 14], 80) for i in range(40)])


@PLAYS
@pytest.mark.parametrize("kind", ["ogg", "mp3", "flac", "wav"])
def test_each_format_decodes_to_the_songs_length_at_the_target_loudness_with_its_title(tmp_path, song_midi, kind):
    out = tmp_path / f"song.{kind}"
    song = Song(song_midi.read_bytes(), None, 0.0, 10.0, 41)
    assert song.render(out, title="A scale") == out
    samples, rate = soundfile.read(out, dtype="float64", always_2d=True)
    midi_seconds = audio.midi_seconds(song_midi)
    assert midi_seconds == pytest.approx(10.0, abs=0.01)
    # the file is the song plus RELEASE_SECONDS for the last notes to ring out (FluidSynth's own render runs on
    # for its reverb): that much is taken off before comparing with the MIDI's length
    assert len(samples) / rate - audio.RELEASE_SECONDS == pytest.approx(midi_seconds, rel=0.01)
    audible = np.flatnonzero(np.abs(samples).max(axis=1) > 10 ** (-60 / 20))
    assert audible[-1] / rate > midi_seconds - 0.25                   # sound to the end, not padding
    assert pyloudnorm.Meter(rate).integrated_loudness(samples) == pytest.approx(audio.TARGET_LUFS, abs=1.0)
    assert 20 * np.log10(np.abs(samples).max()) < 0.0                 # lossy decoders may overshoot -1 dBFS a little
    with soundfile.SoundFile(out) as decoded:
        tags = decoded.copy_metadata()
        assert decoded.format == audio.AUDIO_FORMATS[kind][0]
    assert tags["title"] == "A scale" and tags["artist"] == "rnnlab"
    if kind != "mp3":                                                  # libsndfile's MP3 tags have no software field
        assert tags["software"].startswith("rnnlab ")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no partial file left


@PLAYS
def test_the_title_defaults_to_the_files_name(tmp_path, song_midi):
    assert audio.render_audio(song_midi, tmp_path / "my tune.flac") is None
    with soundfile.SoundFile(tmp_path / "my tune.flac") as decoded:
        assert decoded.title == "my tune"


def test_an_unknown_suffix_is_one_line_listing_the_formats(tmp_path, song_midi):
    song = Song(song_midi.read_bytes(), None, 0.0, 10.0, 41)
    with pytest.raises(RnnlabError, match=r"song.aiff: audio is written as .ogg, .mp3, .flac, .wav"):
        song.render(tmp_path / "song.aiff")
    assert not (tmp_path / "song.aiff").exists()


def test_without_soundfile_the_audio_is_skipped_in_one_line_naming_the_extra(tmp_path, song_midi, monkeypatch):
    monkeypatch.setitem(sys.modules, "soundfile", None)
    message = audio.render_audio(song_midi, tmp_path / "song.ogg")
    assert message == "song.ogg skipped: audio needs soundfile and pyloudnorm: pip install 'rnnlab[music]'"


def test_without_fluidsynth_the_skip_names_the_audio_file(tmp_path, song_midi, monkeypatch):
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    message = audio.render_audio(song_midi, tmp_path / "song.mp3")
    assert message.startswith("song.mp3 skipped: FluidSynth not found") and not (tmp_path / "song.mp3").exists()


def test_loudness_is_the_target_unless_the_peaks_would_pass_the_ceiling():
    rate = 44100
    time = np.arange(rate * 3) / rate
    tone = 0.01 * np.sin(2 * np.pi * 440 * time)[:, None].repeat(2, axis=1)       # quiet and even
    meter = pyloudnorm.Meter(rate)
    assert meter.integrated_loudness(audio.loudness_normalised(tone, rate)) == pytest.approx(audio.TARGET_LUFS, abs=0.1)
    clicks = tone.copy()
    clicks[:: rate // 4] = 0.5                                  # the quiet tone with clicks: turned up, they would clip
    louder = audio.loudness_normalised(clicks, rate)
    assert np.abs(louder).max() == pytest.approx(10 ** (audio.PEAK_CEILING_DBFS / 20))
    assert meter.integrated_loudness(louder) < audio.TARGET_LUFS
    silence = np.zeros((rate, 2))
    assert not audio.loudness_normalised(silence, rate).any()


def test_the_render_is_cut_or_padded_to_the_length_and_faded():
    rate = 1000
    loud = np.ones((5000, 2))
    cut = audio.with_release(loud, rate, 3.0)
    assert cut.shape == (3000, 2) and cut[0, 0] == 1.0 and cut[-1, 0] == 0.0
    padded = audio.with_release(np.ones((1000, 2)), rate, 2.0)
    assert padded.shape == (2000, 2) and not padded[1000:].any()
