"""MIDI data: pieces per split, and for the midi-events task tokens -> one training stream.

Event tokenisers give one id stream: every piece's tokens followed by `<eos>`. A folder's files
are split by file (a fixed shuffle); fewer than three pieces are cut contiguously, as a single
text is. The vocabulary and the tokeniser's settings go into the run's vocab.json. What is read
here (splits, training statistics, a run's assets) serves the piano-roll task too, through the
interface its codec shares with the tokenisers (encode, give_back, settings, save_files).
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from rnnlab.config import DataConfig, parse_split
from rnnlab.data import corpora
from rnnlab.tasks.music import corpora as music_corpora
from rnnlab.tasks.music.midi import Piece, read_midi_source, transposed
from rnnlab.tasks.music.tokenizers import make_tokenizer
from rnnlab.tasks.music.stats import (STATS_FILE, corpus_stats, load_training_stats, save_training_stats,
                                      training_scores)
from rnnlab.data.tokenize import EOS, UNK, TokenizerConfig, Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError

SPLITS = ("train", "valid", "test")


def stderr_line(line: str) -> None:
    logging.getLogger("rnnlab").warning(line)


@dataclass
class MusicSplits:
    pieces: dict[str, list[Piece]]     # split -> pieces; empty dict values when cut contiguously
    skipped: list[str]                 # one reason per unusable file
    source: str
    contiguous: bool = False           # too few pieces: split the joined stream instead
    encoded: dict = field(default_factory=dict)     # id(piece) -> its tokens or frames, when known

    def used(self) -> int:
        return sum(len(p) for p in self.pieces.values())


def encode_one(tokenizer, piece: Piece):
    """A piece's tokens (or a codec's frames); RnnlabError naming the file when it gives nothing to
    learn from."""
    tokens = tokenizer.encode(piece)
    if not len(tokens):
        raise RnnlabError(f"{piece.label}: gives no {tokenizer.name} tokens")
    return tokens


def usable(tokenizer, pieces: list[Piece], warn: Callable[[str], None]) -> tuple[list[Piece], list[str], dict]:
    """The pieces the tokeniser can use, one reason per piece it cannot, and what each usable one encoded to."""
    kept, skipped, encoded = [], [], {}
    for piece in pieces:
        try:
            encoded[id(piece)] = encode_one(tokenizer, piece)
        except RnnlabError as err:
            skipped.append(str(err))
            warn(f"warning: {err}; skipped")
            continue
        kept.append(piece)
    return kept, skipped, encoded


def read_music_splits(config: DataConfig, warn: Callable[[str], None] = stderr_line, tokenizer=None) -> MusicSplits:
    """Pieces per split: a benchmark set's own split, else files shuffled once and cut by --split.
    With a tokeniser, files it can make nothing of are skipped before the split, so that no split
    draws only unusable files."""
    name = config.corpus
    if music_corpora.is_frame_corpus(name):
        return MusicSplits(music_corpora.frame_splits(name), [], name)
    if name == "bach-chorales":
        pieces, skipped = music_corpora.chorale_pieces(warn)
    elif name in corpora.CORPORA:
        raise RnnlabError(f"{name}: a text corpus; drop --modality midi")
    else:
        report = read_midi_source(Path(os.path.expandvars(name)), warn)    # a shipped model's `$RNNLAB_DATA/...`
        pieces, skipped = report.pieces, report.skipped
    encoded = {}
    if tokenizer is not None:
        pieces, unusable, encoded = usable(tokenizer, pieces, warn)
        skipped = skipped + unusable
        if not pieces:
            raise RnnlabError(f"{name}: none of its {len(skipped)} MIDI file(s) could be used")
    fractions = parse_split(config.split)
    if len(pieces) < 3:
        return MusicSplits({"train": pieces, "valid": [], "test": []}, skipped, name, contiguous=True, encoded=encoded)
    order = sorted(pieces, key=lambda p: p.name)
    random.Random(0).shuffle(order)
    n = len(order)
    n_valid = max(1, round(n * fractions[1])) if fractions[1] > 0 else 0
    n_test = max(1, round(n * fractions[2])) if fractions[2] > 0 else 0
    n_train = n - n_valid - n_test
    return MusicSplits({"train": order[:n_train], "valid": order[n_train:n_train + n_valid],
                        "test": order[n_train + n_valid:]}, skipped, name, encoded=encoded)


def tokenizer_settings(config: DataConfig) -> dict:
    """The tokeniser named by --tokenizer (auto: performance)."""
    return {"name": "performance" if config.tokenizer == "auto" else config.tokenizer}


def augmented(pieces: list[Piece], semitones: int) -> list[Piece]:
    """The pieces plus their copies transposed by -N..+N semitones (copies that fit the range)."""
    if not semitones:
        return pieces
    copies = [transposed(p, s) for p in pieces for s in range(-semitones, semitones + 1) if s]
    return pieces + [c for c in copies if c is not None]


def encode_pieces(tokenizer, pieces: list[Piece], warn: Callable[[str], None] = stderr_line,
                  encoded: dict | None = None) -> list[list[str]]:
    """Each piece's tokens; a piece the tokeniser cannot read is warned about and left out."""
    out = []
    for piece in pieces:
        try:
            tokens = (encoded or {}).get(id(piece)) or tokenizer.encode(piece)
        except RnnlabError as err:
            warn(f"warning: {err}; skipped")
            continue
        if tokens:
            out.append(tokens)
    return out


def cut_contiguous(stream, fractions) -> dict:
    """A joined stream (list or array) cut into train/valid/test by fractions."""
    n = len(stream)
    a, b = int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))
    return {"train": stream[:a], "valid": stream[a:b], "test": stream[b:]}


def event_streams(tokenizer, splits: MusicSplits, fractions: str, transpose: int = 0) -> dict[str, list[str]]:
    """split -> one token list: each piece's tokens followed by <eos>."""
    streams = {}
    for split in SPLITS:
        pieces = splits.pieces[split]
        if split == "train":
            pieces = augmented(pieces, transpose)
        streams[split] = [t for tokens in encode_pieces(tokenizer, pieces, encoded=splits.encoded)
                          for t in tokens + [EOS]]
    if splits.contiguous:
        streams = cut_contiguous(streams["train"], parse_split(fractions))
    return streams


def check_settings(settings: dict, transpose: int) -> None:
    if transpose and settings["name"] == "smf-events":
        raise RnnlabError("--transpose does not apply to --tokenizer smf-events (it keeps the file's own bytes)")


def prepare_midi_run(config: DataConfig, run_folder: Path, resume: bool, transpose: int = 0):
    """A midi-events run's training data; vocab.json holds the tokeniser's settings. `transpose`:
    also train on copies moved by up to +-N semitones."""
    from rnnlab.tasks.stream import StreamData

    settings = load_vocabulary(run_folder / "vocab.json")[1]["tokenizer"] if resume else tokenizer_settings(config)
    check_settings(settings, transpose)
    tokenizer = make_tokenizer(settings, run_folder if resume else None)
    splits = read_music_splits(config, tokenizer=tokenizer)
    streams = event_streams(tokenizer, splits, config.split, transpose)
    if not streams["train"]:
        raise RnnlabError(f"{splits.source}: no training tokens after tokenising")
    fixed = tokenizer.fixed_vocabulary()
    built = (Vocabulary([UNK, EOS] + [t for t in fixed if t not in (UNK, EOS)]) if fixed
             else Vocabulary.build(streams["train"], [UNK, EOS], config.min_freq, config.max_vocab))
    vocab = built
    if resume:
        vocab = load_vocabulary(run_folder / "vocab.json")[0]
        if fixed is None and vocab.tokens != built.tokens:
            raise RnnlabError(f"{splits.source}: its vocabulary ({len(built)} types) differs from the run's "
                              f"({len(vocab)} types); the data changed since the run began")
    ids = {s: torch.tensor(vocab.encode(tokens), dtype=torch.long) for s, tokens in streams.items()}
    summary = (f"{files_used(config, splits)}; {ids['train'].numel():,} training tokens ({settings['name']}), "
               f"vocabulary {len(vocab):,}")
    facts = {"training_programs": sorted({t for t in streams["train"] if tokenizer.is_program(t) and t in vocab.index})}
    return StreamData(ids, len(vocab), "perplexity", summary,
                      lambda folder: save_music_vocabulary(folder, vocab, tokenizer, facts, splits))


def files_used(config: DataConfig, splits: MusicSplits) -> str:
    """How many pieces (a benchmark set's) or files the run learns from, and how many were skipped."""
    unit = "pieces" if music_corpora.is_frame_corpus(config.corpus) else "files"
    return f"{splits.used():,} {unit} used, {len(splits.skipped):,} skipped"


def corpus_qpm(pieces: list[Piece]) -> float | None:
    """The tempo (quarter notes a minute) most of the training music is played at, weighted by length;
    None when no piece names a tempo (piano-roll benchmark sets, files without a set_tempo)."""
    weights: dict[float, float] = {}
    for piece in pieces:
        if piece.frames is not None and piece.score is None and piece.midi is None:
            continue
        score = piece.to_score()
        tempos, end = list(score.tempos), max(score.end(), 1)
        for i, tempo in enumerate(tempos):
            until = tempos[i + 1].time if i + 1 < len(tempos) else end
            qpm = round(float(tempo.qpm), 1)
            weights[qpm] = weights.get(qpm, 0.0) + max(until - tempo.time, 0) / score.tpq
    return max(weights, key=weights.get) if weights else None


@dataclass
class MusicAssets:
    """What a midi run saved beside its vocabulary, for generate."""

    settings: dict                              # the tokeniser's
    training_programs: list[str] | None = None  # PROGRAM tokens the training split holds (None: not saved)
    qpm: float | None = None                    # the corpus's tempo, when it has one
    opening_keys: int | None = None             # piano rolls: most keys a training piece opens with
    most_keys: int | None = None                # piano rolls: most keys of any training frame


def save_music_vocabulary(folder: Path, vocab: Vocabulary, tokenizer, facts: dict | None = None,
                          splits: MusicSplits | None = None, qpm: float | None = None) -> None:
    """vocab.json and the tokeniser's files; with the splits, the training pieces' musical
    statistics too (music_stats.json, what `generate` sets a new song beside)."""
    save_vocabulary(folder / "vocab.json", vocab, TokenizerConfig(),
                    extra={"tokenizer": tokenizer.settings(), "modality": "midi", **(facts or {})})
    tokenizer.save_files(folder)
    if splits is not None:
        save_training_stats(folder, training_stats(tokenizer, splits, qpm))


def run_training_stats(trained, note: Callable[[str], None] = stderr_line) -> dict | None:
    """A run's training-set statistics: its music_stats.json, else (a run trained before they were
    saved) computed now from its training split, read as the run read it, and saved in the run for
    next time; None when the training music cannot be read any more (`note` hears why)."""
    folder = trained.run.path
    stats = load_training_stats(folder)
    if stats is not None:
        return stats
    note(f"note: {folder}: no {STATS_FILE} (trained before it was saved); reading the training music once for it")
    try:
        splits = read_music_splits(trained.config.data, lambda line: None, trained.tokenizer)
        stats = training_stats(trained.tokenizer, splits, trained.assets.qpm)
    except (RnnlabError, OSError) as err:
        note(f"note: the training set's statistics are absent: {err}")
        return None
    try:
        save_training_stats(folder, stats)
    except OSError:
        pass                                           # a read-only run: computed again next time
    return stats


def training_stats(tokenizer, splits: MusicSplits, qpm: float | None = None) -> dict:
    """The musical statistics (stats.corpus_stats) of the training pieces as the tokeniser gives them
    back; for a contiguous cut (fewer than three pieces), of all the pieces."""
    stats = corpus_stats(training_scores(tokenizer, splits.pieces["train"], splits.encoded, qpm))
    return {"split": "train", "tokenizer": tokenizer.name, **stats}


def load_midi_run_assets(run, make=make_tokenizer):
    """For opening a music run: (tokeniser, vocabulary, output size, MusicAssets); `make` builds the
    tokeniser (or codec) from its saved settings."""
    vocab, payload = load_vocabulary(run.vocab_path)
    tokenizer = make(payload.get("tokenizer", {}), run.path)
    programs = payload.get("training_programs")
    qpm = payload.get("qpm")
    assets = MusicAssets(payload.get("tokenizer", {}),
                         [t for t in programs if isinstance(t, str)] if isinstance(programs, list) else None,
                         float(qpm) if isinstance(qpm, (int, float)) and 0 < qpm < 1000 else None,
                         *(count if isinstance(count := payload.get(name), int) and count > 0 else None
                           for name in ("opening_keys", "most_keys")))
    return tokenizer, vocab, len(vocab), assets
