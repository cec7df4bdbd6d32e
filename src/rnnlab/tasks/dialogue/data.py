"""Dialogues for response generation: the MRMP chat corpus's JSON files, as (context, response) pairs.

Each example is the last K utterances (the context) and the next one (the response), tokenised
by the core tokeniser (MeCab morphemes at level ja). The corpus has no official split, so it is
split by speaker group (the first four characters of the dialogue id, e.g. A001): no group's
speakers appear in two splits.

Speaker mentions are dropped as the corpus is read: an utterance addressed `@しらす 寒いですね`
(or with the full-width `＠`) becomes `寒いですね`, so that responses do not copy the names of
the corpus's speakers. A mention is the sign followed by one of the dialogue's interlocutors'
names; a sign followed by no name is dropped alone; an utterance that was only mentions goes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnlab.data import corpora
from rnnlab.tasks.seq2seq.data import BOS, TARGET_SPECIALS
from rnnlab.data.tokenize import EOS, TextTokenizer, Vocabulary
from rnnlab.errors import RnnlabError

# The named dialogue corpora (in the one table of corpora): name -> the folder of JSON files under a data root.
DIALOGUE_CORPORA = {c.name: c.folder for c in corpora.CORPORA.values() if c.task == "dialogue" and c.folder}


def dialogue_folder(name: str) -> Path:
    """A named dialogue corpus under $RNNLAB_DATA (or the cache), or a folder of JSON files."""
    if name in DIALOGUE_CORPORA:
        for root in corpora.data_roots():
            if (root / DIALOGUE_CORPORA[name]).is_dir():
                return root / DIALOGUE_CORPORA[name]
        raise RnnlabError(f"corpus {name!r} is not here ({DIALOGUE_CORPORA[name]} missing): run "
                          f"`rnnlab data get {name}` or set RNNLAB_DATA to a folder that has it")
    path = Path(name)
    if not path.is_dir():
        raise RnnlabError(f"{path}: no such folder of dialogue JSON files, and not a named corpus "
                          f"({', '.join(DIALOGUE_CORPORA)})")
    return path


MENTION_SIGNS = "@＠"
_HANDLE = re.compile(r"(?:^|(?<=\s))[@＠][^\s@＠]+(?=\s)")       # `@name ` where the names are not known


def drop_mentions(text: str, names=()) -> str:
    """`text` without its speaker mentions: the sign and one of `names` where given; without names,
    a sign and the word it starts when a space follows. Signs left over (no name after them) go too."""
    if not any(sign in text for sign in MENTION_SIGNS):
        return text
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if names:
        text = re.sub("[@＠](?:" + "|".join(map(re.escape, names)) + ")", " ", text)
    else:
        text = _HANDLE.sub(" ", text)
    text = re.sub(r"(?:^|(?<=\s))[@＠]+", " ", text)
    return " ".join(text.split())


def read_dialogue_file(path: Path) -> tuple[str, list[str]]:
    """(dialogue id, utterance texts) from one of the corpus's JSON files."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        texts = [u["text"] for u in raw["utterances"]]
        if not all(isinstance(t, str) for t in texts):
            raise TypeError
    except (UnicodeDecodeError, ValueError) as err:
        raise RnnlabError(f"{path}: not the corpus's JSON ({type(err).__name__}: {str(err)[:80]})") from None
    except (KeyError, TypeError):
        raise RnnlabError(f"{path}: not the corpus's JSON (needs \"utterances\": [{{\"text\": ...}}, ...])") from None
    names = [str(n) for n in raw.get("interlocutors") or [] if isinstance(n, str)]
    names += [str(u["interlocutor_id"]) for u in raw["utterances"] if isinstance(u.get("interlocutor_id"), str)]
    texts = [drop_mentions(t, names).strip() for t in texts]
    return str(raw.get("dialogue_id", path.stem)), [t for t in texts if t]


def split_by_group(dialogues: list[tuple[str, list[str]]]) -> dict[str, list[list[str]]]:
    """Every 10th speaker group (in sorted order) to test, the one before it to valid."""
    groups = sorted({dialogue_id[:4] for dialogue_id, _ in dialogues})
    where = {g: "test" if i % 10 == 9 else "valid" if i % 10 == 8 else "train" for i, g in enumerate(groups)}
    splits: dict[str, list[list[str]]] = {"train": [], "valid": [], "test": []}
    for dialogue_id, utterances in dialogues:
        splits[where[dialogue_id[:4]]].append(utterances)
    return splits


@dataclass
class DialogueExamples:
    """Examples of one split: `contexts[i]` holds K utterances as id lists, `responses[i]` one."""

    contexts: list[list[list[int]]]
    responses: list[list[int]]
    texts: list[tuple[list[str], str]] = field(default_factory=list)   # (context, response) as read


def make_examples(dialogues: list[list[list[str]]], vocab: Vocabulary, context_size: int, max_length: int,
                  raw: list[list[str]] | None = None) -> DialogueExamples:
    """(last K utterances, next utterance) for every response with a full context; long utterances cut."""
    examples = DialogueExamples([], [])
    for number, utterances in enumerate(dialogues):
        ids = [vocab.encode(u[:max_length]) for u in utterances]
        for i in range(context_size, len(ids)):
            if not ids[i] or not all(ids[i - context_size:i]):
                continue
            examples.contexts.append(ids[i - context_size:i])
            examples.responses.append(ids[i])
            if raw is not None:
                examples.texts.append((raw[number][i - context_size:i], raw[number][i]))
    return examples


@dataclass
class DialogueBatch:
    """Padded, time-major tensors; padding id 0."""

    utterances: torch.Tensor       # (utterance_time, context * batch): context utterances, turn-major
    utterance_lengths: torch.Tensor  # (context * batch,)
    flat: torch.Tensor             # (flat_time, batch): the context joined by <s> (the flat baseline)
    flat_lengths: torch.Tensor     # (batch,)
    response_in: torch.Tensor      # (response_time + 1, batch): <s> then the response
    response_out: torch.Tensor     # (response_time + 1, batch): the response then </s>
    response_lengths: torch.Tensor  # (batch,) with </s>
    context_size: int

    def to(self, device) -> "DialogueBatch":
        move = {k: (v.to(device) if isinstance(v, torch.Tensor) and not k.endswith("lengths") else v)
                for k, v in vars(self).items()}
        return DialogueBatch(**move)


def _pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    matrix = torch.zeros(int(lengths.max()), len(rows), dtype=torch.long)
    for column, row in enumerate(rows):
        matrix[:len(row), column] = torch.tensor(row, dtype=torch.long)
    return matrix, lengths


def make_dialogue_batch(contexts: list[list[list[int]]], responses: list[list[int]], vocab: Vocabulary) -> DialogueBatch:
    bos, eos = vocab.index[BOS], vocab.index[EOS]
    context_size = len(contexts[0])
    turn_major = [context[turn] for turn in range(context_size) for context in contexts]
    utterances, utterance_lengths = _pad(turn_major)
    flat, flat_lengths = _pad([[t for u in context for t in [bos] + u] for context in contexts])
    response_in, response_lengths = _pad([[bos] + r for r in responses])
    response_out, _ = _pad([r + [eos] for r in responses])
    return DialogueBatch(utterances, utterance_lengths, flat, flat_lengths, response_in, response_out,
                         response_lengths, context_size)


def build_dialogue_vocabulary(train: list[list[list[str]]], min_freq: int, max_vocab: int) -> Vocabulary:
    return Vocabulary.build((t for dialogue in train for u in dialogue for t in u), TARGET_SPECIALS,
                            min_freq, max_vocab)


def tokenise_dialogues(dialogues: list[list[str]], tokenizer: TextTokenizer) -> list[list[list[str]]]:
    from rnnlab.tasks.seq2seq.data import split_side
    return [[split_side(tokenizer, u) for u in utterances] for utterances in dialogues]


def read_dialogue_splits(name: str) -> dict[str, list[list[str]]]:
    folder = dialogue_folder(name)
    files = sorted(folder.rglob("*.json"))
    if not files:
        raise RnnlabError(f"{folder}: holds no .json dialogue files")
    return split_by_group([read_dialogue_file(p) for p in files])

