"""Dialogue response generation: corpus reading, split by speaker group, seq2seq / HRED / VHRED runs."""

from __future__ import annotations

import json

import pytest
import torch

from rnnlab.cli import main
from rnnlab.tasks.dialogue.data import read_dialogue_file, split_by_group
from rnnlab.tasks.dialogue.model import gaussian_kl
from tests.tasks.dialogue.chat_corpus import LINES, write_chat_corpus

TINY = ["--task", "dialogue", "--level", "word", "--layers", "1", "--hidden", "16", "--embed", "8",
        "--batch-size", "8", "--epochs", "2", "--threads", "1", "--context-size", "2"]


# Enough updates for every kind to learn the (deterministic) next line: 6 epochs at a higher rate; vhred
# with a small latent whose KL weight reaches 1 within the run (the scored perplexity is the full bound).
LEARN = [*TINY, "--epochs", "6", "--lr", "0.02", "--latent", "8", "--kl-anneal-steps", "20"]
WORDS = {word for line in LINES for word in line.split()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_chat_corpus(tmp_path_factory.mktemp("chat"))


def test_split_by_speaker_group_keeps_groups_apart():
    dialogues = [(f"A{g:03d}{d:02d}", [f"{g}"]) for g in range(20) for d in range(3)]
    splits = split_by_group(dialogues)
    assert [len(splits[s]) for s in ("train", "valid", "test")] == [48, 6, 6]
    groups = {s: {u[0] for u in splits[s]} for s in splits}
    assert not (groups["train"] & groups["test"]) and not (groups["valid"] & groups["test"])


def test_a_file_that_is_not_the_corpus_json_is_one_line_naming_it(tmp_path):
    from rnnlab.errors import RnnlabError
    bad = tmp_path / "A00101.json"
    bad.write_text('{"dialogue_id": "A00101", "turns": []}', encoding="utf-8")
    with pytest.raises(RnnlabError, match=r"A00101.json: not the corpus's JSON"):
        read_dialogue_file(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(RnnlabError, match=r"A00101.json: not the corpus's JSON"):
        read_dialogue_file(bad)


def test_gaussian_kl_is_zero_for_equal_and_positive_otherwise():
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(gaussian_kl(mu, logvar, mu, logvar), torch.zeros(4), atol=1e-6)
    assert bool((gaussian_kl(mu, logvar, mu + 1, logvar) > 0).all())


@pytest.mark.parametrize("kind", ["seq2seq", "hred", "vhred"])
def test_train_respond_evaluate(corpus, tmp_path, capsys, kind):
    run = tmp_path / kind
    assert main(["train", str(corpus), *LEARN, "--model", kind, "--out", str(run)]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    # measured: epoch 1 about 9-12, epoch 6 about 1.02-1.10 (seq2seq, hred, vhred)
    assert len(records) == 6 and records[-1]["valid_ppl"] < records[0]["valid_ppl"] * 0.5, records
    vocabulary = len(json.loads((run / "vocab.json").read_text())["tokens"])
    capsys.readouterr()
    context = ["--context", "hello there", "--context", "hello how are you"]
    assert main(["respond", str(run), *context, "--samples", "2", "--seed", "1"]) == 0
    responses = capsys.readouterr().out.splitlines()
    assert len(responses) == 2, responses
    for response in responses:                       # non-empty, and only the corpus's words
        assert response.split() and set(response.split()) <= WORDS, responses
    assert main(["respond", str(run), *context, "--greedy"]) == 0
    assert capsys.readouterr().out.splitlines() == ["fine thanks and you"]   # the line that always follows
    assert main(["evaluate", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "dialogue" and result["model"] == kind and result["perplexity"] > 1
    # a model that learned nothing scores about the vocabulary's size (uniform guessing); measured about 1.1
    assert result["perplexity"] < 0.2 * vocabulary, (result["perplexity"], vocabulary)
    assert ("kl_per_response" in result) == (kind == "vhred")
    if kind == "vhred":
        assert result["kl_per_response"] >= 0 and result["perplexity"] == result["bound_perplexity"]
        assert result["bound_perplexity"] >= result["reconstruction_perplexity"]


@pytest.mark.parametrize("kind", ["hred", "vhred"])
def test_a_killed_dialogue_run_resumes_to_the_same_numbers(corpus, tmp_path, monkeypatch, kind):
    flags = [*TINY, "--model", kind, "--checkpoint-every", "3"]
    assert main(["train", str(corpus), *flags, "--out", str(tmp_path / "whole")]) == 0
    whole = [json.loads(line) for line in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
    kill_at = whole[0]["step"] + 2                          # mid-way through the second epoch
    calls = {"n": 0}
    clip = torch.nn.utils.clip_grad_norm_

    def dying_clip(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == kill_at:
            raise KeyboardInterrupt
        return clip(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", dying_clip)
    assert main(["train", str(corpus), *flags, "--out", str(tmp_path / "parts")]) == 130
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    assert main(["train", "--resume", "--out", str(tmp_path / "parts")]) == 0
    parts = [json.loads(line) for line in (tmp_path / "parts" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in parts] == [r["step"] for r in whole]
    for ours, reference in zip(parts, whole):
        assert ours["valid_loss"] == pytest.approx(reference["valid_loss"], rel=1e-6)
        assert ours["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-6)


def test_speaker_mentions_are_dropped_as_the_corpus_is_read(tmp_path):
    from rnnlab.tasks.dialogue.data import drop_mentions
    texts = ["@しらす こちらも寒いです", "＠うどん　＠いそべ おすすめありますか？", "@つぶあん", "＠バスケ！",
             "mail me at a@b.c", "@しらすさん どうも", "@guest hello"]
    raw = {"dialogue_id": "A00101", "interlocutors": ["しらす", "うどん", "いそべ", "つぶあん"],
           "utterances": [{"utterance_id": i, "interlocutor_id": "しらす", "text": t} for i, t in enumerate(texts)]}
    path = tmp_path / "A00101.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    dialogue_id, read = read_dialogue_file(path)
    assert dialogue_id == "A00101"
    assert read == ["こちらも寒いです", "おすすめありますか？", "バスケ！", "mail me at a@b.c", "さん どうも",
                    "guest hello"]                      # no speaker named guest: only the sign goes
    # typed contexts have no list of speakers: a sign and the word it starts, when a space follows
    assert drop_mentions("@たらこ 素敵です") == "素敵です"
    assert drop_mentions("＠たらこ　＠あずき いいですね") == "いいですね"
    assert drop_mentions("@そうです") == "そうです" and drop_mentions("a@b c") == "a@b c"
