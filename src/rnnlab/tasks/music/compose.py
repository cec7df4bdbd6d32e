"""New music from a midi-events run: a primer, then sampled events until the length is reached; and
the `Song` every music task gives back.

The primer is a MIDI file, seed events (tokens of the run's vocabulary), or nothing (the start
of a piece). Length is in seconds or bars of new music after the primer. Event models are
sampled with the text sampler's `choose` (temperature, top-k, top-p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.tasks.music.midi import (Piece, read_midi_file, score_quarters, score_seconds,
                                     score_to_midi, set_notes)
from rnnlab.data.tokenize import EOS, UNK
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.generate.sampling import SamplingConfig, choose, prime

CHECK_EVERY = 32            # tokens between length checks
TOKENS_PER_SECOND_CAP = 200  # give up when a model does not move time forward


@dataclass
class Length:
    seconds: float = 0.0
    bars: float = 0.0

    def reached(self, score, start_seconds: float, start_quarters: float, beats_per_bar: float) -> bool:
        if self.bars:
            return score_quarters(score) - start_quarters >= self.bars * beats_per_bar
        return score_seconds(score) - start_seconds >= self.seconds


@dataclass
class Song:
    """New music: the MIDI file's bytes and its symusic Score (primer included), with its lengths."""

    midi: bytes
    score: object                 # symusic.Score of primer + continuation
    primer_seconds: float
    generated_seconds: float
    notes: int
    note: str = ""                # one line about an ignored setting, or ""

    def save(self, path: str | Path) -> Path:
        """Write the song as a Standard MIDI File (`.mid` added when the name has no MIDI suffix)."""
        path = Path(path)
        if path.suffix.lower() not in (".mid", ".midi"):
            path = path.with_name(path.name + ".mid")
        if not path.parent.is_dir():
            raise RnnlabError(f"{path.parent}: no such folder to write {path.name} in")
        write_atomic(path, self.midi)
        return path

    def render(self, path: str | Path, title: str = "") -> Path:
        """Render the song to audio through FluidSynth and a General MIDI SoundFont; the suffix picks the
        format (.ogg, .mp3, .flac, .wav), loudness-normalised to -16 LUFS and titled `title` (default: the
        file's name)."""
        import tempfile

        from rnnlab.tasks.music.audio import audio_format, render_audio

        path = Path(path)
        audio_format(path)
        if not path.parent.is_dir():
            raise RnnlabError(f"{path.parent}: no such folder to write {path.name} in")
        with tempfile.TemporaryDirectory() as folder:
            midi = self.save(Path(folder) / "song.mid")
            problem = render_audio(midi, path, title)
        if problem:
            raise RnnlabError(problem)
        return path

    def plot(self, title: str = ""):
        """The song as a piano roll (a matplotlib Figure), the primer shaded."""
        from rnnlab.tasks.music.drawing import pianoroll_figure

        return pianoroll_figure(self.score, title, self.primer_seconds)


MAX_SECONDS, MAX_BARS = 3600.0, 1000.0          # an hour of music, or a thousand bars, at most


def music_length(seconds: float | None, bars: float | None) -> Length:
    """How much new music `generate` writes: --seconds (default 30) or --bars, each within bounds."""
    if seconds is not None and bars is not None:
        raise RnnlabError("give the length as --seconds or --bars, not both")
    if seconds is not None and not 0 < seconds <= MAX_SECONDS:       # NaN fails this too
        raise RnnlabError(f"--seconds must be more than 0 and at most {MAX_SECONDS:g}, not {seconds:g}")
    if bars is not None and not 0 < bars <= MAX_BARS:
        raise RnnlabError(f"--bars must be more than 0 and at most {MAX_BARS:g}, not {bars:g}")
    return Length(seconds=seconds if seconds is not None else (0.0 if bars is not None else 30.0), bars=bars or 0.0)


def beats_per_bar(score) -> float:
    """Quarter notes in a bar of the score's first time signature (4 when it has none)."""
    signatures = list(score.time_signatures) if score is not None else []
    if not signatures:
        return 4.0
    return signatures[0].numerator * 4 / signatures[0].denominator


def read_primer(primer: str) -> Piece | None:
    path = Path(primer)
    if primer and path.suffix.lower() in (".mid", ".midi", ".kar", ".smf"):
        if not path.is_file():
            raise RnnlabError(f"{path}: no such MIDI file for the primer")
        return read_midi_file(path)
    return None


def clip_to(score, seconds: float, quarters: float, length: Length):
    """The score cut at the requested end (notes running past it are shortened)."""
    end = (quarters + length.bars * beats_per_bar(score)) * score.tpq if length.bars else None
    if end is None:
        ticks_per_second = score.tpq * (score.tempos[0].qpm / 60 if len(score.tempos) else 2.0)
        end = (seconds + length.seconds) * ticks_per_second
    cut = int(round(end))
    score = score.clip(0, cut, clip_end=False)          # symusic's clip_end=True drops such notes
    for track in score.tracks:
        set_notes(track, [(n.start, min(n.end, cut), n.pitch, n.velocity) for n in track.notes if n.start < cut])
    return score


def unseen_programs(tokenizer, vocab, training_programs: list[str] | None) -> list[int]:
    """Ids of the instrument tokens the training split never holds (a fixed vocabulary has them all):
    the model has learnt nothing of what follows them, so they are never sampled. None (a run that
    did not record its programs) bans nothing."""
    if training_programs is None:
        return []
    seen = set(training_programs)
    return [i for i, token in enumerate(vocab.tokens) if tokenizer.is_program(token) and token not in seen]


def compose_events(trained, primer: str, length: Length, config: SamplingConfig) -> Song:
    tokenizer, vocab, device = trained.tokenizer, trained.vocab, trained.device
    piece = read_primer(primer)
    if piece is not None:
        primer_tokens = [t for t in tokenizer.encode(piece) if t in vocab.index]
    else:
        primer_tokens = primer.split()
        unknown = [t for t in primer_tokens if t not in vocab.index or not tokenizer.is_event(t)]
        if unknown:
            examples = " ".join(t for t in vocab.tokens[2:6])
            raise RnnlabError(f"primer events not in this run's vocabulary: {' '.join(unknown[:5])} "
                              f"(a MIDI file, or events such as: {examples})")
    start = tokenizer.decode(primer_tokens) if primer_tokens else None
    start_seconds = score_seconds(start) if start is not None and start.note_num() else 0.0
    start_quarters = score_quarters(start) if start is not None and start.note_num() else 0.0
    bar = beats_per_bar(piece.to_score() if piece is not None else start)
    banned = torch.tensor([vocab.index[t] for t in (EOS, UNK) if t in vocab.index]
                          + unseen_programs(tokenizer, vocab, trained.assets.training_programs),
                          dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(config.seed) if config.seed is not None else None
    logits, state = prime(trained.model, vocab.encode([EOS] + primer_tokens), device)
    cap = int(TOKENS_PER_SECOND_CAP * max(length.seconds, length.bars * bar) + 1000)
    generated: list[str] = []
    note = f"stopped after {cap} tokens before reaching the length: the model moves time too slowly"
    for count in range(1, cap + 1):
        logits = logits.float()
        logits[:, banned] = float("-inf")     # the piece goes on until the length is reached
        token = choose(logits, config, generator)
        generated.append(vocab.tokens[int(token)])
        if count % CHECK_EVERY == 0 and length.reached(tokenizer.decode(primer_tokens + generated),
                                                       start_seconds, start_quarters, bar):
            note = ""
            break
        logits, state = trained.model.step_logits(token.view(1, 1), state)
    return finish(tokenizer.decode(primer_tokens + generated), start_seconds, start_quarters, length, note)


def finish(score, start_seconds: float, start_quarters: float, length: Length, note: str = "") -> Song:
    score = clip_to(score, start_seconds, start_quarters, length)
    lines = [note] if note else []
    midi = score_to_midi(score, lines.append)
    note = "; ".join(line.removeprefix("warning: ") for line in lines)
    total = score_seconds(score)
    return Song(midi, score, start_seconds, max(total - start_seconds, 0.0), score.note_num(), note)


def check_request(length: Length, config: SamplingConfig) -> None:
    """The sampling settings and the length asked of any music task, checked before composing."""
    config.validate()
    if not (math.isfinite(length.seconds) and math.isfinite(length.bars)) or (length.seconds <= 0 and length.bars <= 0):
        raise RnnlabError("give the length as --seconds N or --bars N (more than 0)")

