"""Word vectors and what people ask of them: nearest words, analogies, the Google analogy test.

Analogies follow word2vec's compute-accuracy (3CosAdd): with unit-length vectors, the answer
to a:b :: c:? is the word nearest to b - a + c, the three question words excluded; only the
`restrict_vocab` most frequent words take part, and, case-insensitively, words are upper-cased
with the most frequent spelling kept (as gensim's evaluate_word_analogies does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.config import RunConfig
from rnnlab.data.tokenize import load_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint


@dataclass
class AnalogyQuestion:
    section: str
    words: tuple[str, str, str, str]     # a b c d: a is to b as c is to d


class WordVectors:
    def __init__(self, words: list[str], vectors: np.ndarray):
        """words in falling frequency (the order word2vec keeps), vectors (words, dim)."""
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self.unit = self.vectors / np.maximum(norms, 1e-12)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def _id(self, word: str) -> int:
        if word not in self.index:
            raise RnnlabError(f"{word!r} is not in the vocabulary ({len(self.words):,} words)")
        return self.index[word]

    def nearest(self, query: np.ndarray, exclude: set[int], top: int) -> list[tuple[str, float]]:
        similarities = self.unit @ (query / max(np.linalg.norm(query), 1e-12))
        order = np.argsort(-similarities)
        picked = [i for i in order[:top + len(exclude)] if i not in exclude][:top]
        return [(self.words[i], float(similarities[i])) for i in picked]

    def most_similar(self, word: str, top: int = 10) -> list[tuple[str, float]]:
        i = self._id(word)
        return self.nearest(self.unit[i], {i}, top)

    def analogy(self, a: str, b: str, c: str, top: int = 5) -> list[tuple[str, float]]:
        """a - b + c: `king man woman` -> queen (word2vec's demo order)."""
        ia, ib, ic = self._id(a), self._id(b), self._id(c)
        return self.nearest(self.unit[ia] - self.unit[ib] + self.unit[ic], {ia, ib, ic}, top)

    def evaluate_analogies(self, questions: list[AnalogyQuestion], restrict_vocab: int = 30000,
                           case_insensitive: bool = True, chunk: int = 512) -> dict:
        """Top-1 accuracy (3CosAdd) over the questions whose four words are in the restricted vocabulary."""
        count = min(restrict_vocab or len(self.words), len(self.words))
        lookup: dict[str, int] = {}
        for i in reversed(range(count)):                        # the most frequent spelling wins
            lookup[self.words[i].upper() if case_insensitive else self.words[i]] = i
        norm = (lambda w: w.upper()) if case_insensitive else (lambda w: w)
        seen, sections = [], {}
        for q in questions:
            ids = [lookup.get(norm(w)) for w in q.words]
            sections.setdefault(q.section, [0, 0, 0])[2] += 1
            if None not in ids:
                seen.append((q.section, ids))
        unit = torch.from_numpy(self.unit[:count])
        for start in range(0, len(seen), chunk):
            block = seen[start:start + chunk]
            ids = torch.tensor([ids for _, ids in block])        # (n, 4)
            query = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
            scores = query @ unit.t()                            # (n, words)
            scores.scatter_(1, ids[:, :3], float("-inf"))
            predicted = scores.argmax(1)
            for (section, _), hit in zip(block, (predicted == ids[:, 3]).tolist()):
                sections[section][0] += hit
                sections[section][1] += 1
        return summarise(sections, len(questions), len(seen))


def summarise(sections: dict[str, list[int]], total: int, seen: int) -> dict:
    """sections: name -> [correct, seen, total]; accuracy overall, semantic and syntactic (gram*)."""
    def accuracy(names):
        correct = sum(sections[n][0] for n in names)
        asked = sum(sections[n][1] for n in names)
        return correct / asked if asked else 0.0
    semantic = [n for n in sections if not n.startswith("gram")]
    syntactic = [n for n in sections if n.startswith("gram")]
    return {"accuracy": accuracy(list(sections)), "coverage": seen / total if total else 0.0, "seen": seen,
            "total": total, "correct": sum(s[0] for s in sections.values()),
            "semantic_accuracy": accuracy(semantic), "syntactic_accuracy": accuracy(syntactic),
            "sections": {n: {"correct": c, "seen": s, "total": t} for n, (c, s, t) in sections.items()}}


def read_analogy_lines(lines: list[str], name: str) -> list[AnalogyQuestion]:
    """questions-words.txt format: `: section` headers, then `a b c d` lines."""
    questions, section = [], ""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.split()
        if len(words) != 4:
            raise RnnlabError(f"{name}:{number}: expected four words (a b c d) or a `: section` header, "
                              f"got {len(words)} words")
        questions.append(AnalogyQuestion(section or "all", tuple(words)))
    if not questions:
        raise RnnlabError(f"{name}: holds no analogy questions")
    return questions


def copy_into_embedding(embedding: torch.nn.Embedding, tokens: list[str], vectors: WordVectors) -> int:
    """Overwrite the rows of tokens that have a vector; returns how many were found."""
    found = 0
    with torch.no_grad():
        for row, token in enumerate(tokens):
            i = vectors.index.get(token)
            if i is not None:
                embedding.weight[row] = torch.from_numpy(vectors.vectors[i])
                found += 1
    return found


# ---- a word2vec run's vectors, and other models' embeddings started from them ----------------
def load_word_vectors(path) -> WordVectors:
    run = RunDir(path)
    config = run.load_config()
    if config.data.task != "word2vec":
        raise RnnlabError(f"{run.path}: a {config.data.task} run, not a word2vec run (make one with `rnnlab word2vec`)")
    vocab, _ = load_vocabulary(run.vocab_path)
    vectors = load_checkpoint(run.last_checkpoint)["vectors"]
    return WordVectors(vocab.tokens, vectors.numpy())


# ---- starting other models' embeddings --------------------------------------------------------
def vectors_for(config: RunConfig) -> tuple[WordVectors, str]:
    """The word2vec run named by --init-embeddings, checked against this model's size and level."""
    path = config.model.init_embeddings
    vectors = load_word_vectors(path)
    w2v_level = RunDir(path).load_config().data.level
    if w2v_level != config.data.level:
        raise RnnlabError(f"{path}: vectors are {w2v_level}-level but this model reads --level {config.data.level}")
    if vectors.dim != config.model.embed_size:
        raise RnnlabError(f"{path}: vectors have {vectors.dim} dimensions but the embeddings have "
                          f"{config.model.embed_size}; pass --embed {vectors.dim}")
    return vectors, path


def init_language_model_embeddings(model, tokens: list[str], config: RunConfig) -> str:
    vectors, path = vectors_for(config)
    found = copy_into_embedding(model.embedding, tokens, vectors)
    return f"init-embeddings: {found:,} of {len(tokens):,} vocabulary words found in {path}; the rest start random"


def init_seq2seq_embeddings(model, vocabs, vectors: WordVectors, path: str) -> str:
    source = copy_into_embedding(model.source_embedding, vocabs.source.tokens, vectors)
    target = copy_into_embedding(model.target_embedding, vocabs.target.tokens, vectors)
    return (f"init-embeddings: {source:,} of {len(vocabs.source):,} source words and {target:,} of "
            f"{len(vocabs.target):,} target words found in {path}; the rest start random")
