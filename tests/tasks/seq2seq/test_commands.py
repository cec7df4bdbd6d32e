"""End to end through the command line: train on pairs, translate, evaluate, resume, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from tests.conftest import SHARED_DATA

from rnnlab.cli import main
from .seq2seq_tasks import reversal_pairs

SHARED = Path(os.environ.get("RNNLAB_DATA") or SHARED_DATA)
TINY = ["--task", "seq2seq", "--level", "char", "--layers", "1", "--hidden", "32", "--embed", "16",
        "--batch-size", "32", "--lr", "0.01", "--schedule", "none", "--threads", "1"]


@pytest.fixture(scope="module")
def reversal_run(tmp_path_factory):
    """A tiny attention model trained on string reversal: it should get almost every dev pair right."""
    folder = tmp_path_factory.mktemp("reversal")
    data = folder / "reverse.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in reversal_pairs(1500)), encoding="utf-8")
    run = folder / "run"
    assert main(["train", str(data), *TINY, "--epochs", "5",
                 "--out", str(run)]) == 0
    return run


def test_training_reaches_high_exact_match_and_logs_it(reversal_run):
    records = [json.loads(line) for line in (reversal_run / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 5
    assert records[-1]["valid_exact_match"] >= 0.9
    assert records[-1]["valid_bleu"] > 80
    assert records[0]["valid_exact_match"] < records[-1]["valid_exact_match"]
    assert (reversal_run / "metrics.png").stat().st_size > 0
    assert (reversal_run / "checkpoints" / "best.pt").exists()


def test_translate_greedy_beam_and_nbest(reversal_run, capsys):
    assert main(["translate", str(reversal_run), "abcd", "fed"]) == 0
    assert capsys.readouterr().out.split() == ["dcba", "def"]
    assert main(["translate", str(reversal_run), "abcd", "--beam", "4", "--n-best", "3", "--length-penalty", "0.6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "> abcd" and len(lines) == 4
    assert lines[1].split("\t")[-1] == "dcba"
    scores = [float(line.split("\t")[1]) for line in lines[1:]]
    assert scores == sorted(scores, reverse=True)
    for flags, expected in ((["--beam", "-1"], "--beam must be 0"), (["--max-length", "-1"], "--max-length must be"),
                            (["--n-best", "3"], "--n-best cannot exceed --beam"),
                            (["--beam", "2", "--length-penalty", "nan"], "--length-penalty must be")):
        assert main(["translate", str(reversal_run), "abcd", *flags]) == 2
        assert expected in capsys.readouterr().err
    assert main(["evaluate", str(reversal_run), "--beam", "-1"]) == 2
    assert "--beam must be 0" in capsys.readouterr().err


def test_options_may_come_before_between_or_after_the_texts(reversal_run, capsys):
    for argv in (["--beam", "4", "abcd", "fed"], ["abcd", "fed", "--beam", "4"], ["abcd", "--beam", "4", "fed"],
                 ["abcd", "--beam", "4", "fed", "--length-penalty", "0.6", "--checkpoint", "last"]):
        assert main(["translate", str(reversal_run), *argv]) == 0, argv
        assert capsys.readouterr().out.split() == ["dcba", "def"], argv
    assert main(["translate", str(reversal_run), "abcd", "--n-best", "2", "--beam", "3", "fed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith(">")] == ["> abcd", "> fed"] and len(lines) == 6


def test_an_empty_text_is_refused_in_one_line(reversal_run, capsys):
    for texts in ([""], ["abc", "  "], ["", "--beam", "2"]):
        assert main(["translate", str(reversal_run), *texts]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "empty" in err and "Traceback" not in err
    from rnnlab.errors import RnnlabError
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq.translate import translate
    with pytest.raises(RnnlabError, match="empty"):
        translate(open_run(reversal_run), "")


def test_a_long_input_draws_a_bounded_map_and_a_short_log_line(reversal_run, tmp_path, capsys):
    import struct
    picture = tmp_path / "long.png"
    text = "abcdef" * 834                                             # 5,004 characters
    assert main(["translate", str(reversal_run), text, "--max-length", "12", "--attention-map", str(picture)]) == 0
    captured = capsys.readouterr()
    width, height = struct.unpack(">II", picture.read_bytes()[16:24])  # the PNG's IHDR
    assert width < 4000 and height < 2000
    err = captured.err.splitlines()
    assert any("the first 80 of 5,004 source tokens" in line for line in err)
    assert all(len(line) < 300 for line in err) and any("5,004 characters" in line for line in err)
    assert len(captured.out.strip()) == 12


def test_translating_many_at_once_gives_what_each_gets_alone(reversal_run):
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq.translate import translate, translate_many
    trained = open_run(reversal_run)
    texts = ["abcd", "f", "bacfe", "eeddcc", "ab", "fedcbaf"]
    for beam, n_best in ((0, 1), (1, 1), (4, 3)):
        together = translate_many(trained, texts, beam, 0.6, n_best, batch_size=4)
        for text, (hypotheses, tokens) in zip(texts, together):
            alone, alone_tokens = translate(trained, text, beam, 0.6, n_best)
            assert tokens == alone_tokens and len(hypotheses) == len(alone) == n_best
            for got, want in zip(hypotheses, alone):
                assert got.tokens == want.tokens and got.score == pytest.approx(want.score, abs=1e-4)
                assert got.weights.shape == want.weights.shape
                assert torch.allclose(got.weights, want.weights, atol=1e-5)
    seen = [t for t in texts if 2 <= len(t) <= 5]                     # lengths the run was trained on
    assert ["".join(h[0].tokens) for h, _ in translate_many(trained, seen, 3)] == [t[::-1] for t in seen]


def test_save_load_translate_gives_identical_output(reversal_run, capsys):
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq.translate import translate
    trained = open_run(reversal_run)
    first = translate(trained, "bacfe")[0][0]
    again = translate(open_run(reversal_run), "bacfe")[0][0]
    assert first.tokens == again.tokens and first.log_prob == pytest.approx(again.log_prob, abs=1e-6)
    assert first.weights.shape == (len(first.tokens) + 1, 5)


def test_attention_map_is_written(reversal_run, tmp_path):
    picture = tmp_path / "map.png"
    assert main(["translate", str(reversal_run), "abcde", "--attention-map", str(picture)]) == 0
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_json(reversal_run, capsys):
    assert main(["evaluate", str(reversal_run), "--split", "valid", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "seq2seq" and result["pairs"] == 75
    assert result["exact_match"] >= 0.9 and result["bleu"] > 80 and 1.0 <= result["perplexity"] < 1.5
    assert result["decoding"]["method"] == "greedy" and result["bleu_tokenize"].startswith("char")
    assert main(["evaluate", str(reversal_run), "--split", "valid", "--json", "--beam", "3"]) == 0
    beam = json.loads(capsys.readouterr().out)
    assert beam["decoding"] == {"method": "beam", "beam": 3, "length_penalty": 0.0, "max_steps": beam["decoding"]["max_steps"]}
    assert beam["exact_match"] >= 0.9


def test_resume_continues_to_the_same_numbers(tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in reversal_pairs(300, seed=4)), encoding="utf-8")
    flags = [*TINY, "--dropout", "0.1", "--checkpoint-every", "3"]
    assert main(["train", str(data), *flags, "--epochs", "2", "--out", str(tmp_path / "whole")]) == 0
    assert main(["train", str(data), *flags, "--epochs", "1", "--out", str(tmp_path / "parts")]) == 0
    assert main(["train", "--resume", "--epochs", "2", "--out", str(tmp_path / "parts")]) == 0
    read = lambda name: [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
    whole, parts = read("whole"), read("parts")
    assert len(parts) == 2
    assert parts[-1]["valid_loss"] == pytest.approx(whole[-1]["valid_loss"], rel=1e-5)


def test_bad_pairs_lines_are_one_line_errors_naming_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("ab\tba\ncd dc\n", encoding="utf-8")
    assert main(["train", str(bad), *TINY, "--out", str(tmp_path / "r1")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{bad}:2:" in err and "tab" in err
    bad.write_text("ab\tba\ncd\t \n", encoding="utf-8")
    assert main(["train", str(bad), *TINY, "--out", str(tmp_path / "r2")]) == 2
    assert f"{bad}:2: empty target" in capsys.readouterr().err
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()


def test_parallel_files_of_different_lengths_and_overlong_pairs(tmp_path, capsys):
    (tmp_path / "a.src").write_text("ab\ncd\n", encoding="utf-8")
    (tmp_path / "a.tgt").write_text("ba\n", encoding="utf-8")
    pairs = f"{tmp_path / 'a.src'},{tmp_path / 'a.tgt'}"
    assert main(["train", pairs, *TINY, "--out", str(tmp_path / "r")]) == 2
    assert "has 1 lines but" in capsys.readouterr().err
    from rnnlab.config import DataConfig
    from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
    from rnnlab.tasks.seq2seq.data import prepare_pairs
    data = tmp_path / "long.tsv"
    data.write_text("abc\tcba\n" * 40 + "abcdefgh\thgfedcba\n" * 5, encoding="utf-8")
    prepared = prepare_pairs(DataConfig(corpus=str(data), level="char", split="1,0,0"), Seq2SeqConfig(max_length=5))
    assert prepared.skipped == 5 and len(prepared.splits["train"].examples) == 40


def test_an_existing_run_is_never_overwritten(reversal_run, tmp_path, capsys):
    before = (reversal_run / "checkpoints" / "last.pt").read_bytes()
    data = tmp_path / "p.tsv"
    data.write_text("ab\tba\n" * 30, encoding="utf-8")
    assert main(["train", str(data), *TINY, "--out", str(reversal_run)]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (reversal_run / "checkpoints" / "last.pt").read_bytes() == before


@pytest.mark.skipif(not (SHARED / "seq2seq" / "addition.txt").is_file(), reason="shared data not here")
def test_the_books_split_and_format():
    from rnnlab.config import DataConfig
    from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
    from rnnlab.tasks.seq2seq.data import read_pair_splits
    splits = read_pair_splits(DataConfig(corpus="addition"), Seq2SeqConfig(book_padding=True))
    assert [len(splits.pairs[s]) for s in ("train", "valid", "test")] == [45000, 0, 5000]
    assert splits.book_format and splits.source_width == 7
    assert all(len(q) == 7 and len(a) == 4 for q, a in splits.pairs["test"][:50])
    stripped = read_pair_splits(DataConfig(corpus="addition"), Seq2SeqConfig(book_padding=False))
    assert stripped.source_width == 0
    assert stripped.pairs["test"][:50] == [(q.rstrip(), a.rstrip()) for q, a in splits.pairs["test"][:50]]
    lines = (SHARED / "seq2seq" / "addition.txt").read_text().splitlines()
    import numpy as np
    order = np.arange(len(lines))
    np.random.seed(1984)                # the book's own call (dataset/sequence.py)
    np.random.shuffle(order)
    first_test = lines[order[45000]]
    assert splits.pairs["test"][0] == (first_test[:first_test.index("_")], first_test[first_test.index("_") + 1:])


def test_attention_aligns_the_month_and_the_day_on_a_trained_date_model(tmp_path):
    """The book's figure in small: output digits mostly look at the input characters they come from."""
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq.translate import translate
    from .seq2seq_tasks import date_pairs
    data = tmp_path / "dates.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in date_pairs(2000)), encoding="utf-8")
    assert main(["train", str(data), *TINY, "--epochs", "5", "--out", str(tmp_path / "run")]) == 0
    run = open_run(tmp_path / "run")
    month_hits = day_hits = days = 0
    examples = date_pairs(12, seed=99)
    for text, answer in examples:
        hypotheses, tokens = translate(run, text)
        best = hypotheses[0]
        assert "".join(best.tokens) == answer
        peaks = [int(best.weights[i].argmax()) for i in range(len(best.tokens))]
        month_length = len(text.split()[0])
        month_hits += peaks[1] < month_length                       # the month's second digit reads the month
        day_hits += sum(p > month_length for p in peaks[3:])        # the day's digits read the day
        days += 2
    assert month_hits >= 0.75 * len(examples) and day_hits >= 0.75 * days


def test_a_tatoeba_style_third_column_is_left_out_with_a_note(tmp_path, caplog):
    from rnnlab.tasks.seq2seq.data import read_tsv_file

    path = tmp_path / "fra.txt"
    path.write_text("Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\nHi.\tSalut !\n", encoding="utf-8")
    assert read_tsv_file(path) == [("Go.", "Va !"), ("Hi.", "Salut !")]
    assert "1 line(s) have more than two tab-separated columns" in caplog.text


def test_a_run_with_the_weights_average_decodes_with_it(tmp_path, capsys):
    from rnnlab.tasks.registry import open_run
    from rnnlab.train.checkpoint import load_checkpoint

    data = tmp_path / "reverse.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in reversal_pairs(400)), encoding="utf-8")
    run = tmp_path / "run"
    assert main(["train", str(data), *TINY, "--epochs", "2", "--average", "0.95", "--tie-weights",
                 "--embed", "32", "--out", str(run)]) == 0
    saved = load_checkpoint(run / "checkpoints" / "best.pt")["model"]
    assert not torch.equal(saved["output.weight"], saved["average_target_embedding_weight"])
    trained = open_run(run)
    assert torch.equal(trained.model.output.weight, saved["average_target_embedding_weight"])
    assert trained.model.output.weight is trained.model.target_embedding.weight
    capsys.readouterr()
    assert main(["translate", str(run), "abcd"]) == 0 and capsys.readouterr().out.strip()
    for flags, expected in ((["--average", "1"], "--average must be in [0, 1)"),
                            (["--tie-weights"], "--tie-weights shares the target embedding")):
        assert main(["train", str(data), *TINY, "--epochs", "1", *flags, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err.strip()
        assert expected in err and "Traceback" not in err
        assert not (tmp_path / "bad").exists()


def test_bf16_is_a_training_option_and_older_runs_keep_theirs(tmp_path):
    """`--bf16` trains a pair model under the training loop's bf16 autocast (the same numbers as
    fp32 nowhere, yet it learns); a run whose config says so in its seq2seq section, as runs from
    before it was a training option do, loads with it on."""
    from rnnlab.config import RunConfig

    data = tmp_path / "reverse.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in reversal_pairs(400)), encoding="utf-8")
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():          # a CPU without bf16: refused, nothing made
        assert main(["train", str(data), *TINY, "--bf16", "--device", "cpu", "--out", str(tmp_path / "no")]) == 2
        assert not (tmp_path / "no").exists()
        return
    records = {}
    for name, flags in (("fp32", []), ("bf16", ["--bf16"])):
        assert main(["train", str(data), *TINY, "--epochs", "2", *flags, "--out", str(tmp_path / name)]) == 0
        records[name] = [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
        config = json.loads((tmp_path / name / "config.json").read_text())
        assert config["train"]["bf16"] is (name == "bf16") and "bf16" not in config["seq2seq"]
    assert records["bf16"][-1]["train_loss"] != records["fp32"][-1]["train_loss"]
    assert records["bf16"][-1]["valid_loss"] < records["bf16"][0]["valid_loss"]
    assert records["bf16"][-1]["valid_loss"] == pytest.approx(records["fp32"][-1]["valid_loss"], rel=0.1)
    older = RunConfig.from_dict({"data": {"task": "seq2seq"}, "train": {"lr": 0.01, "bf16": False},
                                 "seq2seq": {"bf16": True, "average": 0.99}})
    assert older.train.bf16 is True and older.train.average == 0.99 and older.train.lr == 0.01
