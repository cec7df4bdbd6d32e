"""MIDI to WAV through FluidSynth and a General MIDI SoundFont, when the machine has them.

Without FluidSynth (or a SoundFont) nothing fails: the caller gets one line saying how to get
it. The SoundFont is $RNNLAB_SOUNDFONT, else the usual Debian / Homebrew locations.
"""

from __future__ import annotations

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
