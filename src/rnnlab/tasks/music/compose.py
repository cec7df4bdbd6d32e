"""`rnnlab generate` for midi runs: a primer, then sampled events or frames until the length is reached.

The primer is a MIDI file, seed events (tokens of the run's vocabulary, or for a piano-roll
run the pitches of one chord, "60,64,67"), or nothing (the start of a piece). Length is in
seconds or bars of new music after the primer. Event models are sampled with the text
sampler's `choose` (temperature, top-k, top-p); piano-roll models draw a frame at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.tasks.music.midi import (KEYS, LOWEST_KEY, Piece, read_midi_file, score_quarters, score_seconds,
                                     score_to_midi, set_notes)
from rnnlab.data.tokenize import EOS, UNK
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.generate.sampling import SamplingConfig, choose, prime

CHECK_EVERY = 32            # tokens between length checks
TOKENS_PER_SECOND_CAP = 200  # give up when a model does not move time forward
OPENING_TRIES = 20          # draws of a piano roll's opening frame before taking its likeliest key
OPENING_KEYS = 4            # keys of a piano roll's first frame without a primer, when the run did not record it


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

        from rnnlab.render.audio import audio_format, render_audio

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
        from rnnlab.render.pianoroll import pianoroll_figure

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


def primer_frames(codec, primer: str, corpus_qpm: float | None = None) -> tuple[np.ndarray, float]:
    """(steps, 88) frames to start from, and the tempo (qpm) to write the result at: the MIDI
    primer's, else the training music's when it has one, else 120."""
    piece = read_primer(primer)
    default_qpm = corpus_qpm or 120.0
    if piece is not None:
        tempos = piece.to_score().tempos
        return codec.frames(piece), (float(tempos[0].qpm) if len(tempos) else default_qpm)
    frame = np.zeros((1, KEYS), dtype=bool)
    if primer:
        try:
            pitches = [int(p) for p in primer.replace(",", " ").split()]
        except ValueError:
            raise RnnlabError(f"primer {primer!r}: a piano-roll run takes a MIDI file or the pitches of "
                              "one chord, e.g. \"60,64,67\"") from None
        bad = [p for p in pitches if not LOWEST_KEY <= p < LOWEST_KEY + KEYS]
        if bad:
            raise RnnlabError(f"primer pitches {bad} are outside the piano's 21..108")
        frame[0, [p - LOWEST_KEY for p in pitches]] = True
    return frame, default_qpm


@torch.no_grad()
def compose_frames(trained, primer: str, length: Length, config: SamplingConfig) -> Song:
    codec, model, device = trained.tokenizer, trained.model, trained.device
    assets = trained.assets
    frames, qpm = primer_frames(codec, primer, assets.qpm)
    silent_start = not frames.any()
    steps_per_bar = 4 * codec.steps_per_beat
    wanted = int(round(length.bars * steps_per_bar if length.bars
                       else length.seconds * qpm / 60 * codec.steps_per_beat))
    inputs = torch.zeros(len(frames), 1, KEYS + 1, device=device)          # (time, batch=1, keys + 1)
    inputs[:, 0, :KEYS] = torch.as_tensor(frames, dtype=torch.float32)
    inputs[0, 0, KEYS] = 1.0                                                # a piece starts here
    generator = torch.Generator(device=device).manual_seed(config.seed) if config.seed is not None else None
    state = model.initial_state(1)
    out = []
    most = assets.most_keys          # no frame holds more keys than a training frame
    top_k = min(config.top_k, most) if config.top_k and most else (config.top_k or most or 0)
    if silent_start:
        # No primer: the opening frame is drawn after a silent piece-start frame (which the model never
        # saw in training, so its guess can be a cluster of dozens of keys), not silent and with no more
        # keys than a training piece opens with; then the piece starts afresh from that frame, flagged
        # as its first, as the training pieces are.
        opening = assets.opening_keys or OPENING_KEYS
        cap = min(top_k, opening) if top_k else opening
        for _ in range(OPENING_TRIES):                      # a piece opens with a sound
            frame, _ = model.step_frame(inputs, state, config.temperature, cap, generator)
            if frame.any():
                break
        else:
            logits, _ = model.step_logits(inputs, state)
            frame = torch.zeros_like(logits)
            frame[0, int(logits[0].argmax())] = 1.0
        out.append(frame[0].cpu().numpy().astype(bool))
        inputs = torch.cat([frame, frame.new_ones(1, 1)], dim=1).view(1, 1, KEYS + 1)
    for _ in range(max(wanted, 1) - len(out)):
        frame, state = model.step_frame(inputs, state, config.temperature, top_k, generator)
        out.append(frame[0].cpu().numpy().astype(bool))
        inputs = torch.cat([frame, frame.new_zeros(1, 1)], dim=1).view(1, 1, KEYS + 1)
    primer_part = frames[1:] if silent_start else frames
    score = codec.decode(np.vstack([primer_part, np.array(out)]), qpm)
    primer_seconds = len(primer_part) / codec.steps_per_beat * 60 / qpm
    note = "--top-p has no meaning for piano-roll frames; ignored" if config.top_p < 1 else ""
    return Song(score_to_midi(score), score, primer_seconds,
                       len(out) / codec.steps_per_beat * 60 / qpm, score.note_num(), note)


def compose(trained, primer: str, length: Length, config: SamplingConfig) -> Song:
    """New music from a trained midi run."""
    config.validate()
    if not (math.isfinite(length.seconds) and math.isfinite(length.bars)) or (length.seconds <= 0 and length.bars <= 0):
        raise RnnlabError("give the length as --seconds N or --bars N (more than 0)")
    if trained.tokenizer.name == "pianoroll":
        return compose_frames(trained, primer, length, config)
    return compose_events(trained, primer, length, config)
