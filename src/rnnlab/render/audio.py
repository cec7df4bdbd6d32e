"""MIDI to WAV through FluidSynth and a General MIDI SoundFont, when the machine has them.

Without FluidSynth (or a SoundFont) nothing fails: the caller gets one line saying how to get
it. The SoundFont is $RNNLAB_SOUNDFONT, else the usual Debian / Homebrew locations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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


def render_wav(midi_path: Path, wav_path: Path, sample_rate: int = 44100, timeout: float = 300.0) -> str | None:
    """Write wav_path from midi_path; None on success, else one line saying why it was skipped."""
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        return f"{wav_path.name} skipped: FluidSynth not found; {HOW_TO_GET}"
    soundfont = find_soundfont()
    if soundfont is None:
        return f"{wav_path.name} skipped: no General MIDI SoundFont found; {HOW_TO_GET}"
    command = [fluidsynth, "-ni", "-q", "-g", "0.7", "-r", str(sample_rate), "-F", str(wav_path),
               str(soundfont), str(midi_path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{wav_path.name} skipped: FluidSynth failed ({type(err).__name__})"
    if done.returncode != 0 or not wav_path.is_file() or wav_path.stat().st_size <= 44:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return f"{wav_path.name} skipped: FluidSynth failed ({reason[0][:120]})"
    return None
