"""`remi` and `tsd`: bar/position and time-shift schemes through MidiTok, not a copy of them.

MidiTok's own config is saved in the run as miditok.json and reloaded from there, so a trained
model decodes exactly as it encoded. Its vocabulary is read as token strings into rnnlab's one
Vocabulary format; MidiTok's ids are never stored.
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.tasks.music.midi import MidiTokenizer, Piece, canonical_score, pedalled_score, score_to_midi
from rnnlab.errors import RnnlabError

CONFIG_FILE = "miditok.json"
# All tracks in one stream with Program tokens; tempo tokens so generated music keeps a tempo.
DEFAULTS = {"use_programs": True, "one_token_stream_for_programs": True, "use_tempos": True}


def _miditok():
    try:
        import miditok
    except ImportError:
        raise RnnlabError("--tokenizer remi/tsd needs MidiTok: pip install 'rnnlab[music]'") from None
    return miditok


class MidiTokScheme(MidiTokenizer):
    scheme = ""                            # MidiTok class name

    def __init__(self, settings: dict | None = None, run_folder: Path | None = None):
        miditok = _miditok()
        cls = getattr(miditok, self.scheme)
        saved = run_folder / CONFIG_FILE if run_folder is not None else None
        if saved is not None and saved.exists():
            self.tok = cls(params=saved)
        elif saved is not None:
            raise RnnlabError(f"{saved}: missing; the run's MidiTok config is needed to decode its tokens")
        else:
            self.tok = cls(miditok.TokenizerConfig(**DEFAULTS))

    def fixed_vocabulary(self) -> list[str]:
        return sorted(self.tok.vocab, key=self.tok.vocab.get)

    def encode(self, piece: Piece) -> list[str]:
        """MidiTok's tokens of the piece, its notes first put on MidiTok's grid (preprocess_score),
        settled as decoding settles them (a pitch struck again while it sounds ends there), put on
        the grid again (a shortened note's length may not be one of MidiTok's) and then in canonical
        order (canonical_score): simultaneous notes by instrument, then pitch, as the decoded MIDI
        holds them, so tokens -> MIDI -> tokens gives the same tokens."""
        settled = canonical_score(self.tok.preprocess_score(pedalled_score(piece)))
        score = canonical_score(self.tok.preprocess_score(settled), settle=False)
        sequence = self.tok.encode(score, no_preprocess_score=True)
        if isinstance(sequence, list):       # one stream per track when programs are off
            sequence = sequence[0]
        return list(sequence.tokens)

    def is_program(self, token: str) -> bool:
        return token.startswith("Program_")

    def note_pitch(self, token: str) -> int | None:
        return int(token[6:]) if token.startswith("Pitch_") and token[6:].isdigit() else None

    def decode(self, tokens: list[str]):
        miditok = _miditok()
        known = [t for t in tokens if t in self.tok.vocab]
        try:
            score = self.tok.decode(miditok.TokSequence(tokens=known))
        except (ValueError, KeyError, IndexError) as err:
            raise RnnlabError(f"MidiTok could not decode the {self.name} tokens ({err})") from None
        return canonical_score(score)           # one track per instrument, no stacked pitches, canonical order

    def decode_midi(self, tokens: list[str]) -> bytes:
        return score_to_midi(self.decode(tokens))

    def save_files(self, folder: Path) -> None:
        self.tok.save(folder / CONFIG_FILE)


class RemiTokenizer(MidiTokScheme):
    name, scheme = "remi", "REMI"


class TsdTokenizer(MidiTokScheme):
    name, scheme = "tsd", "TSD"
