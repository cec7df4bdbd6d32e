"""MIDI to audio: FluidSynth and a General MIDI SoundFont render a WAV (render_wav); render_audio makes
the file to share from it: cut to the song plus a release, loudness-normalised, Ogg/MP3/FLAC/WAV with tags.

Without FluidSynth (or a SoundFont) nothing fails: the caller gets one line saying how to get
it. The SoundFont is $RNNLAB_SOUNDFONT, else the usual Debian / Homebrew locations.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2",
              "/opt/homebrew/share/soundfonts/default.sf2", "/usr/local/share/soundfonts/default.sf2")
HOW_TO_GET = ("install FluidSynth and a General MIDI SoundFont (Debian/Ubuntu: sudo apt-get install "
              "fluidsynth fluid-soundfont-gm; macOS: brew install fluid-synth, then set "
              "RNNLAB_SOUNDFONT=/path/to/GM.sf2)")


def find_soundfont() -> Path | None:
    candidates = [os.environ.get("RNNLAB_SOUNDFONT", "")] + list(SOUNDFONTS)
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


BYTES_PER_SECOND = 4                  # FluidSynth's WAV: 16-bit stereo
TAIL_SECONDS = 10.0                   # room for the release of the last notes (reverb, long decays)
TIMEOUT_BASE, TIMEOUT_PER_SECOND = 60.0, 1.0   # rendering runs far faster than real time
POLL_SECONDS = 0.1


def midi_seconds(midi_path: Path) -> float | None:
    """How long the MIDI file plays, None when it cannot be read."""
    try:
        import symusic
        return float(symusic.Score.from_file(str(midi_path)).to("second").end())
    except Exception:                 # symusic raises several kinds on a bad file
        return None


def render_limits(seconds: float, sample_rate: int) -> tuple[float, int]:
    """(timeout in seconds, largest WAV in bytes) for a song of `seconds`: the song plus a tail, so a
    file that makes FluidSynth run on (e.g. hundreds of one note at one instant) cannot fill the disk."""
    seconds = max(seconds, 0.0)
    return (TIMEOUT_BASE + TIMEOUT_PER_SECOND * seconds,
            int(44 + (seconds + TAIL_SECONDS) * 1.5 * sample_rate * BYTES_PER_SECOND))


def render_wav(midi_path: Path, wav_path: Path, sample_rate: int = 44100, timeout: float | None = None,
               max_bytes: int | None = None) -> str | None:
    """Write wav_path from midi_path; None on success, else one line saying why it was skipped.

    The render is bounded by the song's length (render_limits); one that runs past either bound is
    stopped and no partial WAV is left behind."""
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        return f"{wav_path.name} skipped: FluidSynth not found; {HOW_TO_GET}"
    soundfont = find_soundfont()
    if soundfont is None:
        return f"{wav_path.name} skipped: no General MIDI SoundFont found; {HOW_TO_GET}"
    seconds = midi_seconds(midi_path)
    if seconds is None:
        return f"{wav_path.name} skipped: {midi_path.name} cannot be read as MIDI"
    default_timeout, default_bytes = render_limits(seconds, sample_rate)
    timeout = default_timeout if timeout is None else timeout
    max_bytes = default_bytes if max_bytes is None else max_bytes
    partial = wav_path.with_name(f".{wav_path.stem}.partial{wav_path.suffix}")   # FluidSynth picks the type by suffix
    command = [fluidsynth, "-ni", "-q", "-g", "0.7", "-r", str(sample_rate), "-F", str(partial),
               str(soundfont), str(midi_path)]
    problem = None
    try:
        problem = _run_bounded(command, partial, timeout, max_bytes)
        if problem is None and (not partial.is_file() or partial.stat().st_size <= 44):
            problem = "no audio written"
        if problem is None:
            os.replace(partial, wav_path)
    finally:
        partial.unlink(missing_ok=True)
    return None if problem is None else f"{wav_path.name} skipped: FluidSynth failed ({problem})"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _run_bounded(command: list[str], output: Path, timeout: float, max_bytes: int) -> str | None:
    """Run command until it exits, runs past `timeout` or writes `output` past `max_bytes`; None if it
    finished well, else the reason in a few words."""
    with tempfile.TemporaryFile("w+", errors="replace") as messages:
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=messages, stderr=messages)
        except OSError as err:
            return f"{type(err).__name__}: {err.strerror or err}"
        reason = _wait_bounded(process, output, timeout, max_bytes)
        messages.seek(0)
        lines = messages.read().strip().splitlines()
    if reason is not None or process.returncode == 0:
        return reason
    return lines[-1][:120] if lines else f"exit {process.returncode}"


def _wait_bounded(process, output: Path, timeout: float, max_bytes: int) -> str | None:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        reason = None
        if _size(output) > max_bytes:
            reason = f"the WAV grew past {max_bytes / 1e6:,.0f} MB, far longer than the song"
        elif time.monotonic() > deadline:
            reason = f"still running after {timeout:,.0f} s, far longer than the song needs"
        if reason:
            process.kill()
            process.wait()
            return reason
        time.sleep(POLL_SECONDS)
    if _size(output) >= max_bytes:
        return f"the WAV grew past {max_bytes / 1e6:,.0f} MB, far longer than the song"
    return None


# ---- audio to share ------------------------------------------------------------------------------
AUDIO_FORMATS = {"ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III"), "flac": ("FLAC", "PCM_16"),
                 "wav": ("WAV", "PCM_16")}          # suffix -> libsndfile's (format, subtype)
TARGET_LUFS = -16.0                   # integrated loudness (EBU R128 / ITU-R BS.1770), as streaming services play
PEAK_CEILING_DBFS = -1.0              # headroom for lossy codecs; a piece that would peak above stays quieter
RELEASE_SECONDS = 1.0                 # kept after the MIDI's end for the last notes' release, then faded out
FADE_SECONDS = 0.25


def audio_format(path: Path) -> str:
    """The audio format a file name asks for (its suffix), or one line listing those there are."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in AUDIO_FORMATS:
        from rnnlab.errors import RnnlabError
        raise RnnlabError(f"{path}: audio is written as {', '.join('.' + k for k in AUDIO_FORMATS)}; "
                          "name the file with one of these")
    return kind


def render_audio(midi_path: Path, audio_path: Path, title: str = "", artist: str = "rnnlab") -> str | None:
    """Write audio_path (its suffix picks Ogg Vorbis, MP3, FLAC or WAV) from midi_path: FluidSynth's render,
    cut to the MIDI's length plus RELEASE_SECONDS, at TARGET_LUFS with peaks under PEAK_CEILING_DBFS, tagged
    with `title`, `artist` and rnnlab as the software where the format keeps them. None on success, else one
    line saying why it was skipped."""
    kind = audio_format(audio_path)
    try:
        import pyloudnorm  # noqa: F401  (used in loudness_normalised)
        import soundfile
    except ImportError:
        return f"{audio_path.name} skipped: audio needs soundfile and pyloudnorm: pip install 'rnnlab[music]'"
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / f"{audio_path.stem}.wav"
        problem = render_wav(midi_path, wav)
        if problem:
            return problem.replace(f"{wav.name} skipped", f"{audio_path.name} skipped", 1)
        samples, rate = soundfile.read(wav, dtype="float64", always_2d=True)     # (frames, channels)
    seconds = midi_seconds(midi_path) or 0.0
    samples = loudness_normalised(with_release(samples, rate, seconds + RELEASE_SECONDS), rate)
    partial = audio_path.with_name(f".{audio_path.stem}.partial{audio_path.suffix}")
    file_format, subtype = AUDIO_FORMATS[kind]
    try:
        with soundfile.SoundFile(partial, "w", rate, samples.shape[1], subtype, format=file_format) as out:
            out.title, out.artist = title or audio_path.stem, artist     # before the samples: Vorbis needs it so
            out.software = f"rnnlab {rnnlab_version()}"
            out.write(samples)
        os.replace(partial, audio_path)
    except (OSError, RuntimeError) as err:          # soundfile reports libsndfile's errors as RuntimeError
        return f"{audio_path.name} skipped: could not write it ({str(err)[:120]})"
    finally:
        partial.unlink(missing_ok=True)
    return None


def with_release(samples, rate: int, seconds: float):
    """The render cut (or padded with silence) to `seconds`, its last FADE_SECONDS faded out; FluidSynth runs
    on past the song's end for its reverb and releases."""
    import numpy as np

    frames = max(int(round(seconds * rate)), 1)
    if len(samples) < frames:
        samples = np.concatenate([samples, np.zeros((frames - len(samples), samples.shape[1]))])
    samples = samples[:frames].copy()
    fade = min(int(FADE_SECONDS * rate), frames)
    samples[frames - fade:] *= np.linspace(1.0, 0.0, fade)[:, None]
    return samples


def loudness_normalised(samples, rate: int):
    """Samples at TARGET_LUFS integrated loudness, turned down further if that would peak above
    PEAK_CEILING_DBFS; silence (or a clip too short to measure) is only kept under the ceiling."""
    import numpy as np
    import pyloudnorm

    try:
        loudness = pyloudnorm.Meter(rate).integrated_loudness(samples)
    except ValueError:                              # shorter than the meter's 400 ms block
        loudness = -math.inf
    gain = 10 ** ((TARGET_LUFS - loudness) / 20) if math.isfinite(loudness) else 1.0
    peak = float(np.abs(samples).max(initial=0.0)) * gain
    ceiling = 10 ** (PEAK_CEILING_DBFS / 20)
    if peak > ceiling:
        gain *= ceiling / peak
    return samples * gain


def rnnlab_version() -> str:
    from rnnlab import __version__

    return __version__
