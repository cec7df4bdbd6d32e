"""SentencePiece subwords for seq2seq runs, and the raw text around them.

Each side gets its own model, trained at `rnnlab train` time on the training split and saved in
the run directory (spm.source.model, spm.target.model). Piece ids are the model's ids: SentencePiece
is told to put <pad>, <unk> (and on the target side <s>, <eos>) where rnnlab's vocabularies put
them, so a piece id is a token id and nothing is remapped. The models are trained on the corpus's
tokenised text with no normalisation and byte fallback: decoding gives the tokenised text back
exactly, spaces included, so BLEU is scored on the corpus's own word tokens as before. A Japanese
source (ja-en) is the exception: its model learns it with the spaces between the words taken out
(`join_japanese`), and every source, raw or tokenised, is read that way, so `駅はどこですか。` is cut
into the same pieces as the corpus's `駅 は どこ で す か 。`.

`normalize_english` writes a raw English sentence the way small_parallel_enja is written
(lowercase, punctuation and clitics split off); `join_japanese` takes the spaces out from
between Japanese words for a reader.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.tokenize import EOS, UNK
from rnnlab.errors import RnnlabError

PAD, BOS = "<pad>", "<s>"
MODEL_FILES = {"source": "spm.source.model", "target": "spm.target.model"}


def _sentencepiece():
    try:
        import sentencepiece
    except ImportError:
        raise RnnlabError("--subword needs sentencepiece: pip install 'rnnlab[seq2seq]'") from None
    return sentencepiece


@dataclass
class SubwordModel:
    """One side's SentencePiece model: its serialised bytes (what the run directory keeps) and the processor."""

    proto: bytes
    processor: object

    @classmethod
    def from_bytes(cls, proto: bytes, origin: str = "") -> "SubwordModel":
        spm = _sentencepiece()
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(proto)
        except (RuntimeError, OSError, TypeError):
            raise RnnlabError(f"{origin or 'SentencePiece model'}: not a valid SentencePiece model") from None
        return cls(proto, processor)

    @classmethod
    def load(cls, path: Path) -> "SubwordModel":
        try:
            proto = path.read_bytes()
        except FileNotFoundError:
            raise RnnlabError(f"{path}: missing; this run uses SentencePiece (--subword) and needs its model") from None
        except OSError as err:
            raise RnnlabError(f"{path}: cannot read ({err.strerror})") from None
        return cls.from_bytes(proto, str(path))

    @property
    def pieces(self) -> list[str]:
        """Every piece, by id (the specials first): the run's vocabulary for this side."""
        p = self.processor
        return [p.IdToPiece(i) for i in range(p.GetPieceSize())]

    def encode(self, text: str) -> list[str]:
        return self.processor.EncodeAsPieces(text)

    def decode(self, pieces: list[str]) -> str:
        """Pieces back to text; specials (<pad>, <s>, <eos>) are dropped, <unk> kept as `<unk>`."""
        kept = [p for p in pieces if p not in (PAD, BOS, EOS)]
        out, run = [], []
        for piece in kept + [None]:
            if piece is None or piece == UNK:
                if run:
                    out.append(self.processor.DecodePieces(run))
                    run = []
                if piece == UNK:
                    out.append(f" {UNK} ")
            else:
                run.append(piece)
        return re.sub(r" +", " ", "".join(out)).strip()


def train_subword(lines: list[str], vocab_size: int, kind: str, side: str, name: str) -> SubwordModel:
    """A SentencePiece model of one side's training lines. The target side reserves <s> and <eos>."""
    spm = _sentencepiece()
    lines = [line for line in lines if line.strip()]
    specials = {"pad_id": 0, "unk_id": 1, "pad_piece": PAD, "unk_piece": UNK}
    if side == "target":
        specials.update(bos_id=2, eos_id=3, bos_piece=BOS, eos_piece=EOS)
    else:
        specials.update(bos_id=-1, eos_id=-1)
    writer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.Train(
            sentence_iterator=iter(lines), model_writer=writer, model_type=kind, vocab_size=vocab_size,
            normalization_rule_name="identity", byte_fallback=True, character_coverage=0.9995,
            hard_vocab_limit=False, input_sentence_size=0, shuffle_input_sentence=False,
            num_threads=1, minloglevel=2, **specials)
    except RuntimeError as err:
        message = str(err).strip().splitlines()[-1] if str(err).strip() else "failed"
        raise RnnlabError(f"{name}: SentencePiece could not learn the {side} side "
                          f"(--subword-vocab {vocab_size}): {message}") from None
    return SubwordModel.from_bytes(writer.getvalue())


# ---- raw text in, text out -----------------------------------------------------------------------
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_CLITIC = re.compile(r"(?<=\w)('(?:s|m|re|ve|ll|d|t))\b")       # can't -> can 't, i'm -> i 'm
_PUNCT = re.compile(r'([.,!?;:"()\[\]])')
_LEAD, _TRAIL = re.compile(r'^["(\[]+'), re.compile(r'[,!?;:")\]]+$')
_KEPT = re.compile(r"(?:[a-z]\.){2,}|(?:mr|mrs|ms|dr|st|jr|vs|etc|no)\.|\$?\d+(?:[.,]\d+)*")   # p.m., mr., 3.50


def _split_word(word: str) -> list[str]:
    lead = _LEAD.match(word)
    lead = lead.group() if lead else ""
    trail = _TRAIL.search(word[len(lead):])
    trail = trail.group() if trail else ""
    core = word[len(lead):len(word) - len(trail)]
    if _KEPT.fullmatch(core):
        middle = [core]
    elif core.endswith("..."):
        middle = _split_word(core[:-3]) + ["..."] if core[:-3] else ["..."]
    else:
        middle = _PUNCT.sub(r" \1 ", _CLITIC.sub(r" \1", core)).split()
    return list(lead) + middle + list(trail)


def normalize_english(text: str) -> str:
    """A raw English sentence written as small_parallel_enja writes its English side: lowercased,
    punctuation and clitics split off (`Where's the station?` -> `where 's the station ?`), the
    corpus's abbreviations (mr., p.m.) and numbers (3.50) kept whole. The corpus's own lines come
    back unchanged."""
    words = text.translate(_QUOTES).lower().split()
    return " ".join(token for word in words for token in _split_word(word))


_LATIN = re.compile(r"[A-Za-z0-9]")
_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def looks_unspaced(lines: list[str]) -> bool:
    """Whether a side is Japanese (most lines hold kana or kanji): a language written without spaces,
    whose corpus spaces are a tokeniser's and which raw input will not have."""
    lines = [line for line in lines if line.strip()]
    return bool(lines) and sum(bool(_KANA_KANJI.search(line)) for line in lines) > len(lines) / 2


def join_japanese(text: str) -> str:
    """Tokenised Japanese for a reader: the spaces between words taken out, except between two
    Latin letters or digits (`CD を 買 っ た` -> `CDを買った`, `new york` stays apart)."""
    words = text.split()
    if not words:
        return ""
    out = [words[0]]
    for word in words[1:]:
        if _LATIN.match(out[-1][-1]) and _LATIN.match(word[0]):
            out.append(" ")
        out.append(word)
    return "".join(out)
