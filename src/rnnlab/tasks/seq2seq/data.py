"""Source -> target pairs for sequence-to-sequence training.

Reads a TSV file (SOURCE<TAB>TARGET), the book's fixed-width `16+75  _91  ` lines (the answer
starts at `_`), two parallel files (`a.en,a.ja`), a folder of `{train,dev,test}.{xx,yy}` files,
or a named corpus (addition, date, small-parallel-enja). Both sides go through the core
tokeniser; batches are padded and time-major: (time, batch).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from rnnlab.config import DataConfig, parse_split
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.data import corpora
from rnnlab.data.text import decode
from rnnlab.data.tokenize import EOS, UNK, TextTokenizer, TokenizerConfig, Vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.tasks.seq2seq.subword import SubwordModel, join_japanese, looks_unspaced, train_subword

PAD, BOS = "<pad>", "<s>"
SOURCE_SPECIALS = [PAD, UNK]
TARGET_SPECIALS = [PAD, UNK, BOS, EOS]     # PAD is id 0 on both sides
BOOK_SEED, BOOK_TEST_SHARE = 1984, 10     # dataset/sequence.py: seed 1984, last N // 10 rows are test
PAIR_CORPORA = {"addition": "book", "date": "book", "small-parallel-enja": "folder"}
DEV_NAMES = ("dev", "valid")


@dataclass
class PairSplits:
    """Raw string pairs per split, plus how they were read."""

    pairs: dict[str, list[tuple[str, str]]]
    source: str                        # what the user named, for messages
    book_format: bool = False          # the book's question_answer lines
    source_width: int = 0              # fixed question width when the padding is kept (0: none)


# ---- reading --------------------------------------------------------------------------------
def _lines(path: Path, encoding: str) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RnnlabError(f"{path}: cannot read ({err.strerror})") from None
    text = decode(raw, path, encoding).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise RnnlabError(f"{path}: is empty (no pairs to learn from)")
    return lines


def read_book_file(path: Path, encoding: str = "auto", keep_padding: bool = True) -> list[tuple[str, str]]:
    """The book's format: question, then `_` and the answer. The book pads both to a fixed width
    because its NumPy code needs rectangular arrays; `keep_padding=False` strips those spaces."""
    pairs = []
    for number, line in enumerate(_lines(path, encoding), 1):
        at = line.find("_")
        if at < 0:
            raise RnnlabError(f"{path}:{number}: no `_` marking where the answer starts "
                              "(the book's format is QUESTION_ANSWER, e.g. `16+75  _91  `)")
        question, answer = line[:at], line[at + 1:]
        if not keep_padding:
            question, answer = question.rstrip(), answer.rstrip()
        if not question.strip() or not answer.strip():
            raise RnnlabError(f"{path}:{number}: empty {'question' if not question.strip() else 'answer'}")
        pairs.append((question, answer))
    return pairs


def read_tsv_file(path: Path, encoding: str = "auto") -> list[tuple[str, str]]:
    """SOURCE<TAB>TARGET lines; further columns (Tatoeba / manythings.org files end with an
    attribution) are left out, with a note."""
    pairs, extra = [], 0
    for number, line in enumerate(_lines(path, encoding), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise RnnlabError(f"{path}:{number}: no tab between source and target; "
                              "each line must be SOURCE<TAB>TARGET")
        fields = line.split("\t")
        extra += len(fields) > 2
        source, target = fields[0].strip(), fields[1].strip()
        if not source or not target:
            raise RnnlabError(f"{path}:{number}: empty {'source' if not source else 'target'}")
        pairs.append((source, target))
    if extra:
        logging.getLogger("rnnlab").warning(f"note: {path}: {extra:,} line(s) have more than two tab-separated "
                                            "columns; the first is the source, the second the target, the rest left out")
    return pairs


def read_parallel_files(source_path: Path, target_path: Path, encoding: str = "auto") -> list[tuple[str, str]]:
    sources, targets = _lines(source_path, encoding), _lines(target_path, encoding)
    if len(sources) != len(targets):
        raise RnnlabError(f"{target_path}: has {len(targets)} lines but {source_path} has {len(sources)}; "
                          "parallel files need one line per pair")
    for number, (source, target) in enumerate(zip(sources, targets), 1):
        for path, side in ((source_path, source), (target_path, target)):
            if not side.strip():
                raise RnnlabError(f"{path}:{number}: empty line (each line is one side of a pair)")
    return [(s.strip(), t.strip()) for s, t in zip(sources, targets)]


def looks_like_book_file(path: Path, encoding: str = "auto") -> bool:
    if path.suffix.lower() == ".tsv":
        return False
    first = next((line for line in _lines(path, encoding) if line.strip()), "")
    if "\t" in first:
        return False
    if "_" in first:
        return True
    raise RnnlabError(f"{path}:1: neither SOURCE<TAB>TARGET nor the book's QUESTION_ANSWER format")


def book_split(pairs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """The book's split, bit for bit: legacy NumPy shuffle with seed 1984, the last 10% is test."""
    order = np.arange(len(pairs))
    np.random.RandomState(BOOK_SEED).shuffle(order)
    split_at = len(pairs) - len(pairs) // BOOK_TEST_SHARE
    return {"train": [pairs[i] for i in order[:split_at]], "valid": [],
            "test": [pairs[i] for i in order[split_at:]]}


def contiguous_split(pairs: list, fractions: tuple[float, float, float]) -> dict[str, list]:
    cut1 = int(len(pairs) * fractions[0])
    cut2 = cut1 + int(len(pairs) * fractions[1])
    return {"train": pairs[:cut1], "valid": pairs[cut1:cut2], "test": pairs[cut2:]}


def read_folder(folder: Path, direction: str, encoding: str) -> dict[str, list[tuple[str, str]]]:
    """`{train,dev,test}.{src,tgt}` files, the layout of small_parallel_enja; direction 'src-tgt'."""
    if direction.count("-") != 1:
        raise RnnlabError(f"{folder}: a folder of parallel files needs --direction SRC-TGT, e.g. en-ja "
                          "(it reads train.SRC and train.TGT)")
    src, tgt = direction.split("-")
    splits = {}
    for split, names in (("train", ("train",)), ("valid", DEV_NAMES), ("test", ("test",))):
        name = next((n for n in names if (folder / f"{n}.{src}").is_file()), None)
        if name is None:
            if split == "train":
                raise RnnlabError(f"{folder}: no train.{src} here; --direction {direction} reads train.{src} "
                                  f"and train.{tgt}")
            splits[split] = []
            continue
        splits[split] = read_parallel_files(folder / f"{name}.{src}", folder / f"{name}.{tgt}", encoding)
    return splits


def read_pair_splits(data: DataConfig, seq: Seq2SeqConfig) -> PairSplits:
    """Raw pairs per split from whatever the user named."""
    name, encoding = data.corpus, data.encoding
    if name in PAIR_CORPORA:
        paths = list(corpora.locate(name).values())
        if PAIR_CORPORA[name] == "book":
            return book_splits(paths[0], name, encoding, seq.book_padding)
        return PairSplits(read_folder(paths[0].parent, seq.direction or "en-ja", encoding), name)
    if "," in name and not Path(name).exists():
        source_path, target_path = (Path(p) for p in name.split(",", 1))
        for path in (source_path, target_path):
            if not path.is_file():
                raise RnnlabError(f"{path}: no such file (PAIRS `a,b` names two parallel files)")
        pairs = read_parallel_files(source_path, target_path, encoding)
        return PairSplits(contiguous_split(pairs, parse_split(data.split)), name)
    path = Path(name)
    if path.is_dir():
        return PairSplits(read_folder(path, seq.direction, encoding), name)
    if not path.is_file():
        raise RnnlabError(f"{path}: no such file or folder, and not a named pair corpus "
                          f"({', '.join(PAIR_CORPORA)})")
    if looks_like_book_file(path, encoding):
        return book_splits(path, name, encoding, seq.book_padding)
    return PairSplits(contiguous_split(read_tsv_file(path, encoding), parse_split(data.split)), name)


def book_splits(path: Path, name: str, encoding: str, keep_padding: bool) -> PairSplits:
    pairs = read_book_file(path, encoding, keep_padding)
    return PairSplits(book_split(pairs), name, True, max(len(q) for q, _ in pairs) if keep_padding else 0)


def read_pairs_any(name: str, encoding: str = "auto", keep_padding: bool = True) -> list[tuple[str, str]]:
    """Every pair of one file (TSV or the book's format) or of two parallel files `a,b`, unsplit."""
    if "," in name and not Path(name).exists():
        source_path, target_path = (Path(p) for p in name.split(",", 1))
        return read_parallel_files(source_path, target_path, encoding)
    path = Path(name)
    if not path.is_file():
        raise RnnlabError(f"{path}: no such file")
    if looks_like_book_file(path, encoding):
        return read_book_file(path, encoding, keep_padding)
    return read_tsv_file(path, encoding)


# ---- tokens and ids ---------------------------------------------------------------------------
def split_side(tokenizer: TextTokenizer, text: str) -> list[str]:
    """One side of a pair as tokens, without the line's <eos>."""
    if tokenizer.config.level == "char":
        return list(text.lower() if tokenizer.config.lowercase else text)
    return [t for t in tokenizer.split(text.replace("\n", " ")) if t != EOS]


def join_side(level: str, tokens: list[str]) -> str:
    return "".join(tokens) if level in ("char", "ja") else " ".join(tokens)


@dataclass
class PairVocabularies:
    """Token ids of each side. With SentencePiece (`--subword`) the tokens are the models' pieces,
    in the models' id order, and the models turn text into pieces and pieces back into text.
    `unspaced_source`: the source is Japanese, whose SentencePiece model learnt it (and reads it)
    with the spaces between its words taken out, so that raw Japanese is cut as in training."""

    source: Vocabulary
    target: Vocabulary
    source_subword: SubwordModel | None = None
    target_subword: SubwordModel | None = None
    unspaced_source: bool = False

    @property
    def subword(self) -> bool:
        return self.target_subword is not None

    def source_tokens(self, tokenizer: TextTokenizer, text: str) -> list[str]:
        if self.source_subword is not None:
            text = _cased(tokenizer, text)
            return self.source_subword.encode(join_japanese(text) if self.unspaced_source else text)
        return split_side(tokenizer, text)

    def target_tokens(self, tokenizer: TextTokenizer, text: str) -> list[str]:
        if self.target_subword is not None:
            return self.target_subword.encode(_cased(tokenizer, text))
        return split_side(tokenizer, text)

    def reference(self, tokenizer: TextTokenizer, text: str) -> list[str]:
        """A target as the scores read it: the corpus's own tokens (words, or characters at char level)."""
        if self.target_subword is not None:
            return _cased(tokenizer, text).split()
        return split_side(tokenizer, text)

    def words(self, ids: list[int]) -> list[str]:
        """Output ids as the corpus's tokens: pieces decoded to text and split at its spaces."""
        tokens = self.target.decode(ids)
        return self.target_subword.decode(tokens).split() if self.target_subword is not None else tokens

    @property
    def bos_id(self) -> int:
        return self.target.index[BOS]

    @property
    def eos_id(self) -> int:
        return self.target.index[EOS]


def _cased(tokenizer: TextTokenizer, text: str) -> str:
    text = " ".join(text.replace("\n", " ").split())
    return text.lower() if tokenizer.config.lowercase else text


def train_subwords(train_pairs: list[tuple[str, str]], tokenizer: TextTokenizer, seq: Seq2SeqConfig,
                   name: str) -> PairVocabularies:
    """SentencePiece models of both sides of the training split, and vocabularies of their pieces.
    A Japanese source is learnt without the spaces between its words (raw Japanese has none); the
    target keeps its spaces, since BLEU is scored on the corpus's own words."""
    sides = [[_cased(tokenizer, pair[i]) for pair in train_pairs] for i in (0, 1)]
    unspaced = looks_unspaced(sides[0])
    if unspaced:
        sides[0] = [join_japanese(line) for line in sides[0]]
    models = [train_subword(lines, seq.subword_vocab, seq.subword, side, name)
              for lines, side in zip(sides, ("source", "target"))]
    return PairVocabularies(Vocabulary(models[0].pieces), Vocabulary(models[1].pieces), *models,
                            unspaced_source=unspaced)


def build_pair_vocabularies(train_tokens: list[tuple[list[str], list[str]]], data: DataConfig) -> PairVocabularies:
    min_freq, max_vocab = (1, 0) if data.level == "char" else (data.min_freq, data.max_vocab)
    source = Vocabulary.build((t for s, _ in train_tokens for t in s), SOURCE_SPECIALS, min_freq, max_vocab)
    target = Vocabulary.build((t for _, g in train_tokens for t in g), TARGET_SPECIALS, min_freq, max_vocab)
    return PairVocabularies(source, target)


def encode_source(vocab: Vocabulary, tokens: list[str], reverse: bool) -> list[int]:
    ids = vocab.encode(tokens)
    return ids[::-1] if reverse else ids


@dataclass
class EncodedPairs:
    """One split as id lists; `examples[i]` = (source ids, target ids without <s> / </s>)."""

    examples: list[tuple[list[int], list[int]]]
    references: list[list[str]]            # target tokens as read, for exact match and BLEU
    sources: list[list[str]] = field(default_factory=list)
    padded: "PaddedSplit | None" = field(default=None, repr=False)   # built on first use by `batches`


def encode_pairs(pairs: list[tuple[str, str]], tokenizer: TextTokenizer, vocabs: PairVocabularies,
                 reverse_source: bool) -> EncodedPairs:
    tokens = [(vocabs.source_tokens(tokenizer, s), vocabs.target_tokens(tokenizer, t)) for s, t in pairs]
    examples = [(encode_source(vocabs.source, s, reverse_source), vocabs.target.encode(t)) for s, t in tokens]
    references = [vocabs.reference(tokenizer, t) for _, t in pairs] if vocabs.subword else [t for _, t in tokens]
    return EncodedPairs(examples, references, [s for s, _ in tokens])


@dataclass
class PreparedPairs:
    tokenizer: TextTokenizer
    vocabs: PairVocabularies
    splits: dict[str, EncodedPairs]
    skipped: int                           # training pairs over --max-length
    info: dict                             # saved in vocab.json: book format, widths, limits
    source_name: str


def prepare_pairs(data: DataConfig, seq: Seq2SeqConfig, vocabs: PairVocabularies | None = None) -> PreparedPairs:
    """Read, tokenise, drop overlong training pairs, build (or check) vocabularies, encode."""
    raw = read_pair_splits(data, seq)
    tokenizer = TextTokenizer(TokenizerConfig(level=data.level, lowercase=data.lowercase))
    subword = seq.subword != "none"
    if subword and vocabs is None:                       # a new run learns its SentencePiece models here
        vocabs = train_subwords(raw.pairs["train"], tokenizer, seq, raw.source)
    if subword and not (vocabs and vocabs.subword):
        raise RnnlabError(f"{raw.source}: the run's config says --subword {seq.subword} but its directory "
                          "holds no SentencePiece models")
    tokens, references = {}, {}
    for split, pairs in raw.pairs.items():
        if subword:
            tokens[split] = [(vocabs.source_tokens(tokenizer, s), vocabs.target_tokens(tokenizer, t)) for s, t in pairs]
            references[split] = [vocabs.reference(tokenizer, t) for _, t in pairs]
        else:
            tokens[split] = [(split_side(tokenizer, s), split_side(tokenizer, t)) for s, t in pairs]
            references[split] = [t for _, t in tokens[split]]
    keep = [i for i, p in enumerate(tokens["train"]) if 0 < len(p[0]) <= seq.max_length and 0 < len(p[1]) <= seq.max_length]
    kept = [tokens["train"][i] for i in keep]
    skipped = len(tokens["train"]) - len(kept)
    tokens["train"], references["train"] = kept, [references["train"][i] for i in keep]
    if not kept:
        raise RnnlabError(f"{raw.source}: no training pairs left (all {skipped} are empty or over "
                          f"--max-length {seq.max_length})")
    if not subword:
        built = build_pair_vocabularies(kept, data)
        if vocabs is not None and (vocabs.source.tokens != built.source.tokens or vocabs.target.tokens != built.target.tokens):
            raise RnnlabError(f"{raw.source}: its vocabularies differ from the run's; the data changed since the run began")
        vocabs = vocabs or built
    splits = {}
    for split, pairs in tokens.items():
        examples = [(encode_source(vocabs.source, s, seq.reverse_source), vocabs.target.encode(t)) for s, t in pairs]
        splits[split] = EncodedPairs(examples, references[split], [s for s, _ in pairs])
    info = {"book_format": raw.book_format, "source_width": raw.source_width,
            "max_target_length": max(len(t) for _, t in kept), "max_source_length": max(len(s) for s, _ in kept)}
    return PreparedPairs(tokenizer, vocabs, splits, skipped, info, raw.source)


# ---- batches --------------------------------------------------------------------------------
@dataclass
class PairBatch:
    """Padded, time-major tensors for one batch; padding id 0 on both sides."""

    source: torch.Tensor          # (source_time, batch)
    source_lengths: torch.Tensor  # (batch,)
    target_in: torch.Tensor       # (target_time + 1, batch): <s> then the target
    target_out: torch.Tensor      # (target_time + 1, batch): the target then </s>
    index: list[int]              # positions in the split

    def to(self, device) -> "PairBatch":
        return PairBatch(self.source.to(device), self.source_lengths, self.target_in.to(device),
                         self.target_out.to(device), self.index)


def make_batch(examples: list[tuple[list[int], list[int]]], index: list[int], bos_id: int, eos_id: int) -> PairBatch:
    source_time = max(len(s) for s, _ in examples)
    target_time = max(len(t) for _, t in examples) + 1

    def padded(rows: list[list[int]], time: int) -> torch.Tensor:      # (time, batch), one tensor call
        table = torch.tensor([row + [0] * (time - len(row)) for row in rows], dtype=torch.long)
        return table.view(-1, time).t().contiguous()

    source = padded([s for s, _ in examples], source_time)
    target_in = padded([[bos_id] + t for _, t in examples], target_time)
    target_out = padded([t + [eos_id] for _, t in examples], target_time)
    lengths = torch.tensor([len(s) for s, _ in examples], dtype=torch.long)
    return PairBatch(source, lengths, target_in, target_out, index)


class PaddedSplit:
    """A whole split padded once, so that a batch is an index lookup: rows are examples."""

    def __init__(self, pairs: EncodedPairs, bos_id: int, eos_id: int):
        whole = make_batch(pairs.examples, list(range(len(pairs.examples))), bos_id, eos_id)
        self.source, self.target_in, self.target_out = whole.source.t(), whole.target_in.t(), whole.target_out.t()
        self.source_lengths = whole.source_lengths
        self.target_lengths = torch.tensor([len(t) + 1 for _, t in pairs.examples])

    def batch(self, index: list[int]) -> PairBatch:
        rows = torch.tensor(index, dtype=torch.long)
        lengths = self.source_lengths[rows]
        source_time, target_time = int(lengths.max()), int(self.target_lengths[rows].max())
        return PairBatch(self.source[rows, :source_time].t().contiguous(), lengths,        # (time, batch)
                         self.target_in[rows, :target_time].t().contiguous(),
                         self.target_out[rows, :target_time].t().contiguous(), index)


def batches(pairs: EncodedPairs, batch_size: int, vocabs: PairVocabularies, shuffle_seed: int | None = None,
            bucket: int = 0, skip: int = 0):
    """Batches over a split, shuffled when a seed is given. With `bucket`, pools of that many batches
    are sorted by source length, then target length (less padding), then the batches are shuffled;
    every pair is in exactly one batch either way. Off by default, since
    length can stand for the kind of example (the date task's formats) and sorted batches then
    hold one kind each, which slows learning badly. The first `skip` batches are left out (resume)."""
    order = list(range(len(pairs.examples)))
    if shuffle_seed is not None:
        rng = random.Random(shuffle_seed)
        rng.shuffle(order)
    if shuffle_seed is not None and bucket:
        pool = batch_size * bucket
        order = [i for start in range(0, len(order), pool)
                 for i in sorted(order[start:start + pool], key=lambda i: (len(pairs.examples[i][0]),
                                                                           len(pairs.examples[i][1])))]
    groups = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    if shuffle_seed is not None and bucket:
        random.Random(shuffle_seed + 1).shuffle(groups)
    if pairs.padded is None:
        pairs.padded = PaddedSplit(pairs, vocabs.bos_id, vocabs.eos_id)
    for group in groups[skip:]:
        yield pairs.padded.batch(group)
