"""SentencePiece runs, raw-sentence translation, label smoothing, length-grouped batches, and old
word-level runs: tiny parallel corpora written here, trained in seconds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from rnnlab.cli import main
from rnnlab.config import ModelConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.data.tokenize import Vocabulary
from rnnlab.tasks.seq2seq.data import EncodedPairs, PairVocabularies, batches
from rnnlab.tasks.seq2seq.model import build_seq2seq
from rnnlab.tasks.seq2seq.subword import join_japanese, normalize_english, train_subword
from rnnlab.tasks.seq2seq.train import lr_scale

NOUNS = [("station", "駅"), ("book", "本"), ("cat", "猫"), ("dog", "犬"), ("car", "車"), ("school", "学校"),
         ("bank", "銀行"), ("hospital", "病院"), ("park", "公園"), ("library", "図書館")]
TEMPLATES = [("where is the {} ?", "{} は どこ で す か 。"), ("i like the {} .", "私 は その {} が 好き で す 。"),
             ("this is my {} .", "これ は 私 の {} で す 。")]
JAPANESE = r"[\u3040-\u30ff\u3400-\u9fff。、]"
TINY = ["--task", "seq2seq", "--direction", "en-ja", "--layers", "1", "--hidden", "48", "--embed", "32",
        "--batch-size", "16", "--lr", "0.01", "--schedule", "none", "--threads", "1", "--epochs", "25",
        "--no-input-feeding"]
SUBWORD = ["--subword", "bpe", "--subword-vocab", "400", "--normalize-source", "--label-smoothing", "0.1",
           "--bucket", "2"]


def tiny_corpus(folder: Path) -> Path:
    """small_parallel_enja's layout and writing (lowercase, tokenised), 30 pairs in every split."""
    pairs = [(en.format(noun), ja.format(word)) for en, ja in TEMPLATES for noun, word in NOUNS]
    folder.mkdir(parents=True, exist_ok=True)
    for split, copies in (("train", 4), ("dev", 1), ("test", 1)):
        (folder / f"{split}.en").write_text("".join(f"{en}\n" for en, _ in pairs * copies), encoding="utf-8")
        (folder / f"{split}.ja").write_text("".join(f"{ja}\n" for _, ja in pairs * copies), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return tiny_corpus(tmp_path_factory.mktemp("enja") / "corpus")


@pytest.fixture(scope="module")
def subword_run(corpus, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("subword") / "run"
    assert main(["train", str(corpus), *TINY, *SUBWORD, "--out", str(run)]) == 0
    return run


# ---- SentencePiece and raw text ------------------------------------------------------------------
def test_sentencepiece_gives_the_corpus_tokens_back_exactly():
    lines = [ja.format(word) for _, ja in TEMPLATES for _, word in NOUNS]
    model = train_subword(lines, 300, "unigram", "target", "tiny")
    assert model.pieces[:4] == ["<pad>", "<unk>", "<s>", "<eos>"]       # rnnlab's ids for its specials
    for line in lines + ["未知 の 文字 鬱 だ 。", "ｔｏｍ は ５ 本 の ペン を 持 っ て い る 。"]:   # unseen: byte pieces
        pieces = model.encode(line)
        assert pieces and all(p in model.pieces for p in pieces)
        assert model.decode(pieces) == line
    source = train_subword([en.format(n) for en, _ in TEMPLATES for n, _ in NOUNS], 300, "bpe", "source", "tiny")
    assert source.pieces[:2] == ["<pad>", "<unk>"] and "<s>" not in source.pieces
    assert source.decode(source.encode("where is the hospital ?")) == "where is the hospital ?"


def test_raw_english_is_written_as_the_corpus_writes_it():
    assert normalize_english("Where is the station?") == "where is the station ?"
    assert normalize_english("I can't go, and I'm tired!") == "i can 't go , and i 'm tired !"
    assert normalize_english('"Mr. Brown," she said at 3 p.m.') == '" mr. brown , " she said at 3 p.m.'
    assert normalize_english("It costs $3.50...") == "it costs $3.50 ..."
    for line in ("don 't you know mr. brown ?", "the job must be finished by 3 p.m.", "year followed year ..."):
        assert normalize_english(line) == line


def test_japanese_words_are_joined_for_a_reader():
    assert join_japanese("駅 は どこ で す か 。") == "駅はどこですか。"
    assert join_japanese("CD を 買 っ た") == "CDを買った"
    assert join_japanese("new york に 行 く") == "new yorkに行く"


# ---- label smoothing ---------------------------------------------------------------------------
def test_label_smoothing_mixes_in_the_mean_over_the_vocabulary():
    torch.manual_seed(0)
    model = build_seq2seq(ModelConfig(cell="lstm", layers=1, hidden=16), Seq2SeqConfig(input_feeding=False), 9, 11)
    source = torch.randint(1, 9, (5, 3))
    lengths = torch.tensor([5, 4, 2])
    target_in, target_out = torch.randint(1, 11, (4, 3)), torch.randint(1, 11, (4, 3))
    target_out[3, 1:] = 0                                              # padding is not scored
    plain, nll, tokens = model.losses(source, lengths, target_in, target_out)
    smooth, nll_again, _ = model.losses(source, lengths, target_in, target_out, 0.2)
    assert tokens == 10 and torch.equal(plain, nll)
    assert nll_again.item() == pytest.approx(nll.item(), rel=1e-5)        # the logged NLL stays plain NLL
    encoded = model.encode(source, lengths)
    logits = model.decode(target_in, encoded, model.initial_state(encoded))[0].reshape(-1, 11)
    expected = F.cross_entropy(logits, target_out.reshape(-1), ignore_index=0, reduction="sum", label_smoothing=0.2)
    assert smooth.item() == pytest.approx(expected.item(), rel=1e-5)
    uniform = -torch.log_softmax(logits, 1).mean(1)[target_out.reshape(-1) != 0].sum()
    assert smooth.item() == pytest.approx(0.8 * nll.item() + 0.2 * uniform.item(), rel=1e-5)
    assert smooth.item() != pytest.approx(nll.item(), rel=1e-3)
    through_forward = model(source, lengths, target_in, target_out, 0.2)   # what training calls (torchrun wraps it)
    assert through_forward[0].item() == pytest.approx(smooth.item(), rel=1e-6) and through_forward[2] == tokens
    smooth.backward()                                                  # it trains


def test_the_learning_rate_warms_up_then_anneals_over_the_budget():
    seq = Seq2SeqConfig(warmup=10, anneal=0.5)
    assert lr_scale(seq, 5, 0, 100) == pytest.approx(0.5)
    assert lr_scale(seq, 20, 40, 100) == 1.0
    assert lr_scale(seq, 20, 75, 100) == pytest.approx(0.5)
    assert lr_scale(seq, 20, 100, 100) == pytest.approx(0.02)
    assert lr_scale(Seq2SeqConfig(), 1, 99, 100) == 1.0


# ---- batches grouped by length ---------------------------------------------------------------------
def test_length_grouped_batches_pad_less_and_cover_every_pair_once():
    rng = torch.Generator().manual_seed(3)
    sources = torch.randint(1, 40, (1000,), generator=rng)
    targets = (sources * 3 // 2 + torch.randint(-3, 4, (1000,), generator=rng)).clamp(min=1)   # a translation's length
    lengths = list(zip(sources.tolist(), targets.tolist()))
    pairs = EncodedPairs([([5] * s, [6] * t) for s, t in lengths], [[] for _ in lengths])
    vocabs = PairVocabularies(Vocabulary(["<pad>", "<unk>"] + [f"s{i}" for i in range(8)]),
                              Vocabulary(["<pad>", "<unk>", "<s>", "<eos>"] + [f"t{i}" for i in range(8)]))

    def walk(bucket):
        seen, padding = [], 0
        for batch in batches(pairs, 32, vocabs, shuffle_seed=7, bucket=bucket):
            seen += batch.index
            padding += int((batch.source == 0).sum()) + int((batch.target_out == 0).sum())
        return seen, padding

    random_order, random_padding = walk(0)
    grouped, grouped_padding = walk(10)
    assert sorted(grouped) == list(range(1000)) == sorted(random_order)
    assert grouped != random_order
    assert grouped_padding < random_padding / 2
    assert walk(10) == (grouped, grouped_padding)                      # a function of the seed


# ---- end to end ----------------------------------------------------------------------------------
def test_a_subword_run_keeps_its_models_and_translates_raw_sentences(subword_run, capsys):
    assert (subword_run / "spm.source.model").is_file() and (subword_run / "spm.target.model").is_file()
    vocab = json.loads((subword_run / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["subword"] == {"source": "spm.source.model", "target": "spm.target.model"}
    assert main(["translate", str(subword_run), "Where is the station?", "where is the station ?", "This is my DOG."]) == 0
    raw, written, dog = capsys.readouterr().out.splitlines()
    assert raw == written                                              # the raw sentence is normalised first
    for text in (raw, dog):
        assert re.search(JAPANESE, text), text
        assert not re.search(f"{JAPANESE} +{JAPANESE}", text), text     # no spaces between Japanese words
    assert raw == "駅はどこですか。" and dog == "これは私の犬です。"
    assert main(["translate", str(subword_run), "Where is the library?", "--beam", "3"]) == 0
    assert capsys.readouterr().out.strip() == "図書館はどこですか。"


def test_a_subword_run_is_scored_on_the_corpus_words(subword_run, corpus, capsys):
    assert main(["evaluate", str(subword_run), "--split", "test", "--json"]) == 0
    greedy = json.loads(capsys.readouterr().out)
    assert greedy["exact_match"] >= 0.9 and greedy["bleu"] > 80
    assert greedy["bleu_tokenize"].startswith("none")
    records = [json.loads(line) for line in (subword_run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["valid_bleu"] > 80
    assert main(["evaluate", str(subword_run), "--data", f"{corpus}/test.en,{corpus}/test.ja", "--beam", "2",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exact_match"] == pytest.approx(greedy["exact_match"], abs=0.1)


def test_a_missing_sentencepiece_model_is_a_one_line_error(subword_run, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in subword_run.rglob("*"):
        if path.is_file() and path.name != "spm.target.model":
            (broken / path.relative_to(subword_run)).parent.mkdir(parents=True, exist_ok=True)
            (broken / path.relative_to(subword_run)).write_bytes(path.read_bytes())
    assert main(["translate", str(broken), "where is the bank ?"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "spm.target.model" in err and "missing" in err
    (broken / "spm.target.model").write_bytes(b"not a model")
    assert main(["translate", str(broken), "where is the bank ?"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "spm.target.model" in err


def test_an_old_word_level_run_still_translates_and_evaluates(corpus, tmp_path, capsys):
    run = tmp_path / "word"
    assert main(["train", str(corpus), *TINY, "--level", "word", "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    for name in ("subword", "subword_vocab", "normalize_source", "label_smoothing", "bucket", "anneal", "warmup"):
        del config["seq2seq"][name]                                    # as a run from before these options
    (run / "config.json").write_text(json.dumps(config))
    assert not list(run.glob("spm.*"))
    capsys.readouterr()
    assert main(["translate", str(run), "where is the station ?", "where is the dog ?"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["駅 は どこ で す か 。", "犬 は どこ で す か 。"]          # word tokens joined by spaces, as before
    assert main(["evaluate", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exact_match"] >= 0.9


def test_a_japanese_source_is_learnt_and_read_without_its_spaces(corpus, tmp_path, monkeypatch, capsys):
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq import data
    from rnnlab.tasks.seq2seq.translate import source_tokens

    jaen = [a if a != "en-ja" else "ja-en" for a in TINY]
    run = tmp_path / "jaen"
    assert main(["train", str(corpus), *jaen, *SUBWORD, "--out", str(run)]) == 0
    assert json.loads((run / "vocab.json").read_text(encoding="utf-8"))["subword_unspaced_source"] is True
    trained = open_run(run)
    spaced = source_tokens(trained, "駅 は どこ で す か 。")
    assert source_tokens(trained, "駅はどこですか。") == spaced == trained.vocabs.source_tokens(
        trained.tokenizer, "駅はどこですか。")                          # raw Japanese is cut as the corpus was
    assert not any(piece.startswith("▁") for piece in spaced[1:])     # one word: no spaces inside it
    capsys.readouterr()
    assert main(["translate", str(run), "駅はどこですか。", "駅 は どこ で す か 。", "これは私の犬です。"]) == 0
    raw, written, dog = capsys.readouterr().out.splitlines()
    assert raw == written == "where is the station ?" and dog == "this is my dog ."
    assert main(["evaluate", str(run), "--split", "test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exact_match"] >= 0.9

    # a ja-en run from before: its source model learnt the spaced corpus, and reads spaced text as it did
    old = tmp_path / "old"
    monkeypatch.setattr(data, "looks_unspaced", lambda lines: False)
    assert main(["train", str(corpus), *jaen, *SUBWORD, "--out", str(old)]) == 0
    vocab = json.loads((old / "vocab.json").read_text(encoding="utf-8"))
    del vocab["subword_unspaced_source"]
    (old / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    before = open_run(old)
    assert not before.vocabs.unspaced_source
    assert source_tokens(before, "駅 は どこ で す か 。") == before.vocabs.source_subword.encode("駅 は どこ で す か 。")
    capsys.readouterr()
    assert main(["translate", str(old), "駅 は どこ で す か 。"]) == 0
    assert re.fullmatch(r"[a-z ?.]+", capsys.readouterr().out.strip())
    vocab["subword_unspaced_source"] = "yes"
    (old / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    assert main(["translate", str(old), "駅 は どこ で す か 。"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "subword_unspaced_source" in err


def test_only_a_japanese_source_loses_its_spaces(subword_run):
    from rnnlab.tasks.seq2seq.subword import looks_unspaced

    assert looks_unspaced(["駅 は どこ で す か 。", "cd を 買 っ た", "ok"])
    assert not looks_unspaced(["where is the station ?", "i like the cat .", "駅"])
    assert not looks_unspaced([])
    vocab = json.loads((subword_run / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["subword_unspaced_source"] is False                  # en-ja: English source, spaced target


def test_bad_subword_options_are_refused_together(corpus, tmp_path, capsys):
    assert main(["train", str(corpus), *TINY, "--subword", "unigram", "--subword-vocab", "50", "--label-smoothing",
                 "1.5", "--anneal", "0.5", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--subword-vocab must be at least 300" in err and "--label-smoothing must be in [0, 1)" in err
    assert "--anneal" in err and "--max-minutes" in err
    assert not (tmp_path / "r").exists()


def test_small_parallel_enja_trains_the_budget_recipe_by_default(tmp_path, monkeypatch):
    import rnnlab.cli as cli

    chosen = {}
    monkeypatch.setattr(cli.registry, "train", lambda config, out, **_: chosen.update(config=config))
    assert main(["train", "small-parallel-enja", "--max-minutes", "30", "--threads", "1", "--out", str(tmp_path)]) == 0
    config = chosen["config"]
    assert config.preset == "enja-budget" and config.data.task == "seq2seq"
    assert (Seq2SeqConfig.of(config).direction, Seq2SeqConfig.of(config).subword) == ("en-ja", "bpe")
    assert Seq2SeqConfig.of(config).label_smoothing > 0 and Seq2SeqConfig.of(config).bucket > 0 and Seq2SeqConfig.of(config).normalize_source
    assert config.model.tie_weights and config.model.embed_size == config.model.hidden
    assert main(["train", "small-parallel-enja", "--subword", "none", "--out", str(tmp_path)]) == 0
    assert Seq2SeqConfig.of(chosen["config"]).subword == "none"                  # the word-level path, by a flag
