"""New music from a piano-roll run: a primer (a MIDI file, the pitches of one chord "60,64,67", or
nothing: the start of a piece), then a frame at a time until the length is reached."""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import SamplingConfig
from rnnlab.tasks.music.compose import Length, Song, read_primer
from rnnlab.tasks.music.midi import KEYS, LOWEST_KEY, score_to_midi

OPENING_TRIES = 20          # draws of the opening frame before taking its likeliest key
OPENING_KEYS = 4            # keys of the first frame without a primer, when the run did not record it


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
    """A Song from a trained piano-roll run: the primer's frames, then one sampled frame a step
    (no more keys than a training frame held) until `length` is reached."""
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


