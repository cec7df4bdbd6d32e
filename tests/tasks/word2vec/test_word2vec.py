"""word2vec runs, nearest words, analogies (3CosAdd against gensim's scorer) and --init-embeddings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_DATA

from rnnlab.cli import main
from rnnlab.tasks.word2vec.vectors import AnalogyQuestion, WordVectors, read_analogy_lines

SHARED = Path(os.environ.get("RNNLAB_DATA") or SHARED_DATA)


def hand_made() -> WordVectors:
    words = ["king", "queen", "man", "woman", "apple", "pear"]
    vectors = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0.1], [0, 0, 1, 0.1], [0, 0, 0, 1], [0.1, 0, 0, 1]],
                       dtype=np.float32)
    return WordVectors(words, vectors)


def test_analogy_scorer_on_a_hand_made_case():
    vectors = hand_made()
    assert vectors.analogy("king", "man", "woman", 1)[0][0] == "queen"
    questions = [AnalogyQuestion("royal", ("man", "king", "woman", "queen")),      # king - man + woman
                 AnalogyQuestion("gram-fruit", ("apple", "pear", "man", "woman")),  # wrong on purpose
                 AnalogyQuestion("gram-fruit", ("apple", "pear", "man", "banana"))]  # banana unknown
    result = vectors.evaluate_analogies(questions)
    assert result["seen"] == 2 and result["total"] == 3 and result["coverage"] == pytest.approx(2 / 3)
    assert result["correct"] == 1 and result["accuracy"] == 0.5
    assert result["semantic_accuracy"] == 1.0 and result["syntactic_accuracy"] == 0.0
    assert vectors.most_similar("apple", 1)[0][0] == "pear"


def test_our_accuracy_agrees_with_gensims_evaluate_word_analogies(tmp_path):
    gensim = pytest.importorskip("gensim")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)] + ["W3", "Cap"]                        # W3 collides with w3 upper-cased
    vectors = rng.normal(size=(len(words), 8)).astype(np.float32)
    vectors[40:44] = vectors[0:4] + 0.05 * rng.normal(size=(4, 8))             # make some analogies solvable
    lines = [": first"] + [" ".join(rng.choice(words, 4)) for _ in range(150)]
    lines += [": gram-second"] + [f"w{a} w{b} w{c} w{d}" for a, b, c, d in rng.integers(0, 70, size=(150, 4))]
    path = tmp_path / "q.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    keyed = gensim.models.KeyedVectors(8)
    keyed.add_vectors(words, vectors)
    ours = WordVectors(words, vectors)
    for restrict in (50, 30000):
        score, _ = keyed.evaluate_word_analogies(str(path), restrict_vocab=restrict, case_insensitive=True)
        result = ours.evaluate_analogies(read_analogy_lines(lines, "q"), restrict_vocab=restrict)
        assert result["accuracy"] == pytest.approx(score)


def test_malformed_analogy_file_is_one_line_naming_file_and_line():
    from rnnlab.errors import RnnlabError
    with pytest.raises(RnnlabError, match=r"^q.txt:3: expected four words"):
        read_analogy_lines([": s", "a b c d", "a b c"], "q.txt")


@pytest.fixture(scope="module")
def w2v_run(tmp_path_factory):
    pytest.importorskip("gensim")
    folder = tmp_path_factory.mktemp("w2v")
    corpus = folder / "corpus.txt"
    rng = np.random.default_rng(1)
    animals, foods = ["cat", "dog", "cow", "pig"], ["rice", "bread", "soup", "cake"]
    lines = []
    for _ in range(400):
        lines.append(f"the {rng.choice(animals)} sees a {rng.choice(animals)} .")
        lines.append(f"we eat {rng.choice(foods)} with {rng.choice(foods)} .")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = folder / "run"
    assert main(["word2vec", str(corpus), "--out", str(run), "--dim", "16", "--min-count", "2", "--epochs", "10",
                 "--architecture", "skipgram", "--threads", "1"]) == 0
    return run, corpus


def test_word2vec_run_similar_and_analogy_commands(w2v_run, capsys):
    run, _ = w2v_run
    assert json.loads((run / "config.json").read_text())["data"]["task"] == "word2vec"
    assert main(["similar", str(run), "cat", "--top", "3"]) == 0
    nearest = [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()]
    assert len(nearest) == 3 and set(nearest) & {"dog", "cow", "pig"}
    assert main(["analogy", str(run), "cat", "dog", "rice", "--top", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["similar", str(run), "zebra"]) == 2
    assert "'zebra' is not in the vocabulary" in capsys.readouterr().err
    assert main(["similar", str(run), "cat", "--top", "-2"]) == 2
    assert "--top must be at least 1" in capsys.readouterr().err


def test_evaluate_analogies_json(w2v_run, tmp_path, capsys):
    run, _ = w2v_run
    questions = tmp_path / "q.txt"
    questions.write_text(": animals\ncat dog cow pig\nrice bread cat zebra\n", encoding="utf-8")
    assert main(["evaluate", str(run), "--analogies", str(questions), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 2 and result["seen"] == 1 and result["coverage"] == 0.5
    assert result["method"].startswith("3CosAdd")


def rows_of_known_words(embedding, tokens: list[str], vectors) -> tuple[np.ndarray, np.ndarray]:
    """The embedding's rows of the tokens word2vec has a vector for, and those vectors."""
    known = [(row, vectors.index[token]) for row, token in enumerate(tokens) if token in vectors.index]
    rows, found = zip(*known)
    return embedding.weight.detach().cpu().numpy()[list(rows)], vectors.vectors[list(found)]


def test_init_embeddings_for_a_language_model_and_seq2seq(w2v_run, tmp_path, capsys):
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.word2vec.vectors import load_word_vectors

    run, corpus = w2v_run
    vectors = load_word_vectors(run)
    assert vectors.dim == 16
    still = ["--lr", "1e-12"]          # the weights move by less than float32 can show: what was copied in stays
    lm = tmp_path / "lm"
    assert main(["train", str(corpus), "--level", "word", "--layers", "1", "--hidden", "16", "--epochs", "1",
                 "--bptt", "8", "--batch-size", "4", "--init-embeddings", str(run), "--out", str(lm), *still]) == 0
    out = capsys.readouterr().out
    assert "init-embeddings: 15 of 17 vocabulary words found" in out           # <unk> and <eos> are not words
    trained = open_run(lm, "last")
    assert trained.model.embedding.weight.shape == (17, 16)
    ours, theirs = rows_of_known_words(trained.model.embedding, trained.vocab.tokens, vectors)
    assert len(ours) == 15
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("the cat\tthe dog\nwe eat rice\twe eat soup\n" * 20, encoding="utf-8")
    assert main(["train", str(pairs), "--task", "seq2seq", "--level", "word", "--layers", "1", "--hidden", "16",
                 "--epochs", "1", "--init-embeddings", str(run), "--out", str(tmp_path / "s2s"), *still]) == 0
    assert "source words and" in capsys.readouterr().out
    s2s = open_run(tmp_path / "s2s", "last")
    for embedding, vocab in ((s2s.model.source_embedding, s2s.vocabs.source), (s2s.model.target_embedding,
                                                                                 s2s.vocabs.target)):
        ours, theirs = rows_of_known_words(embedding, vocab.tokens, vectors)
        assert len(ours) >= 4                                                 # the, cat / dog, we, eat, ...
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert main(["train", str(pairs), "--task", "seq2seq", "--level", "word", "--hidden", "24", "--epochs", "1",
                 "--init-embeddings", str(run), "--out", str(tmp_path / "bad")]) == 2
    assert "vectors have 16 dimensions but the embeddings have 24; pass --embed 16" in capsys.readouterr().err
    assert main(["train", str(pairs), "--task", "seq2seq", "--level", "char", "--hidden", "16", "--epochs", "1",
                 "--init-embeddings", str(run), "--out", str(tmp_path / "bad2")]) == 2
    assert "word-level" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED / "analogy" / "questions-words.txt").is_file(), reason="shared data not here")
def test_the_google_analogy_file_reads_completely():
    lines = (SHARED / "analogy" / "questions-words.txt").read_text().splitlines()
    questions = read_analogy_lines(lines, "questions-words.txt")
    assert len(questions) == 19544 and len({q.section for q in questions}) == 14


def test_word2vec_with_no_word_frequent_enough_is_one_line(w2v_run, tmp_path, capsys):
    _, corpus = w2v_run
    out = tmp_path / "rare"
    assert main(["word2vec", str(corpus), "--out", str(out), "--min-count", "100000", "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "no word occurs --min-count 100000 times" in err and not (out / "config.json").exists()
