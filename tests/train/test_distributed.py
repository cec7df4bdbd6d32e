"""torchrun with 2 CPU processes (gloo): each rank reads its own columns of a stream, or its own
share of every epoch's batches of pairs and dialogues; one run directory."""

import json
import os
import subprocess
import sys

import pytest

from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
import torch

from rnnlab.cli import main
from rnnlab.data.streams import batchify
from rnnlab.train.distributed import Placement, deal
from tests.tasks.dialogue.chat_corpus import LINES, write_chat_corpus
from tests.tasks.seq2seq.seq2seq_tasks import reversal_pairs


def torchrun(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "rnnlab", "train", *args, "--device", "cpu", "--threads", "1"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def written_once(result: subprocess.CompletedProcess, out, epochs: list[int]) -> list[dict]:
    """The records of a run rank 0 alone wrote: one line per epoch, one start line, one run folder."""
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == epochs
    assert result.stdout.count("2 process(es)") == 1
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"config.json", "vocab.json", "metrics.png", "checkpoints/last.pt"} <= files, files
    assert files <= {".rnnlab-run", ".rnnlab-lock", "config.json", "vocab.json", "metrics.jsonl", "metrics.png", "checkpoints/last.pt",
                     "checkpoints/best.pt"}, files                  # no half-written or per-rank leftovers
    return records


def test_two_cpu_processes_train_one_run(tmp_path, small_text):
    out = tmp_path / "ddp"
    result = torchrun(str(small_text), "--level", "word", "--out", str(out), "--epochs", "2",
                      "--batch-size", "2", "--bptt", "8", "--hidden", "16", "--layers", "1")
    written_once(result, out, [1, 2])
    ckpt = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert len(ckpt["hidden_by_rank"]) == 2


def test_each_rank_gets_half_the_columns():
    ids = torch.arange(64)
    shards = [batchify(ids, 2, rank, 2) for rank in range(2)]
    assert torch.equal(torch.cat(shards, 1), batchify(ids, 4))


def test_each_rank_deals_every_world_size_th_batch_and_drops_the_tail():
    assert [list(deal(9, Placement(rank, 2, torch.device("cpu")))) for rank in range(2)] == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert [list(deal(9, Placement(rank, 3, torch.device("cpu")))) for rank in range(3)] == [[0, 3, 6], [1, 4, 7],
                                                                                                [2, 5, 8]]
    assert list(deal(9, Placement(0, 1, torch.device("cpu")))) == list(range(9))      # one process: every batch


def test_seq2seq_trains_and_resumes_under_two_processes_on_the_whole_epoch(tmp_path, capsys):
    """9 batches an epoch: each rank takes 4 (the ninth is left out); the epoch's train loss is over
    both ranks' 8 batches, also when the epoch was stopped after its first step and resumed. A
    learning rate of 1e-12 keeps the weights as they started, so the saved model scores those 8
    batches to the record's train loss."""
    from rnnlab.runs import RunDir
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq.data import prepare_pairs
    from rnnlab.tasks.seq2seq.train import PairObjective, load_pair_vocabularies

    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in reversal_pairs(200)), encoding="utf-8")
    out = tmp_path / "pairs"
    stopped = torchrun(str(data), "--task", "seq2seq", "--level", "char", "--layers", "1", "--hidden", "16",
                       "--embed", "8", "--batch-size", "20", "--epochs", "2", "--lr", "1e-12",
                       "--max-minutes", "1e-9", "--out", str(out))                  # out of time after one step
    assert written_once(stopped, out, [1])[0]["partial"]
    result = torchrun("--resume", "--max-minutes", "0", "--out", str(out))
    assert "resuming at epoch 1" in result.stdout
    partial, *records = written_once(result, out, [1, 1, 2])
    assert [partial["step"], records[0]["step"], records[1]["step"]] == [1, 4, 8]   # 4 batches a rank an epoch
    assert "valid_exact_match" in records[0]

    trained = open_run(out, "last")
    config = trained.config
    prepared = prepare_pairs(config.data, Seq2SeqConfig.of(config), load_pair_vocabularies(RunDir(out))[0])
    assert len(prepared.splits["train"].examples) == 180                    # 9 batches of 20
    shares = [list(PairObjective(config, prepared, Placement(rank, 2, torch.device("cpu"))).batches(1, 0))
              for rank in range(2)]
    assert [[position for position, _ in share] for share in shares] == [[1, 2, 3, 4]] * 2
    resumed = list(PairObjective(config, prepared, Placement(1, 2, torch.device("cpu"))).batches(1, 2))
    assert [position for position, _ in resumed] == [3, 4]
    assert torch.equal(resumed[0][1].target_out, shares[1][2][1].target_out)
    sums = []
    with torch.no_grad():
        for share in shares:
            nll = tokens = 0.0
            for _, batch in share:
                value, count = trained.model(batch.source, batch.source_lengths, batch.target_in, batch.target_out)
                nll, tokens = nll + value.item(), tokens + count
            sums.append((nll, tokens))
    whole = (sums[0][0] + sums[1][0]) / (sums[0][1] + sums[1][1])
    assert records[0]["train_loss"] == pytest.approx(whole, rel=1e-6)
    assert records[0]["train_loss"] != pytest.approx(sums[0][0] / sums[0][1], rel=1e-6)     # not rank 0's alone

    capsys.readouterr()
    assert main(["translate", str(out), "abc", "fed"]) == 0                 # it loads and decodes
    decoded = capsys.readouterr().out.splitlines()
    assert len(decoded) == 2 and all(set(line) <= set("abcdef") for line in decoded), decoded


@pytest.fixture
def chat(tmp_path):
    """80 training responses with two utterances of context (the dialogue tests' corpus)."""
    return write_chat_corpus(tmp_path / "chat")


def test_dialogue_trains_under_two_processes(tmp_path, chat, capsys):
    out = tmp_path / "vhred"
    result = torchrun(str(chat), "--task", "dialogue", "--model", "vhred", "--level", "word", "--layers", "1",
                      "--hidden", "16", "--embed", "8", "--batch-size", "8", "--epochs", "2", "--context-size", "2",
                      "--lr", "0.01", "--out", str(out))
    records = written_once(result, out, [1, 2])
    assert "80 training responses" in result.stdout                        # 10 batches: 5 a rank
    assert [r["step"] for r in records] == [5, 10]
    assert records[0]["train_kl_per_token"] > 0 and records[1]["train_loss"] < records[0]["train_loss"], records

    capsys.readouterr()
    assert main(["respond", str(out), "--context", "hello there", "--context", "hello how are you", "--greedy"]) == 0
    response = capsys.readouterr().out.split()                               # it loads and decodes
    assert set(response) <= {word for line in LINES for word in line.split()}, response


def test_an_epoch_of_fewer_batches_than_processes_is_refused_before_the_run_is_made(tmp_path, chat):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = tmp_path / "one-batch"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "rnnlab",
           "train", str(chat), "--task", "dialogue", "--level", "word", "--context-size", "2", "--batch-size", "100",
           "--device", "cpu", "--threads", "1", "--out", str(out)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode != 0
    assert "1 training batch(es) of --batch-size 100 cannot be shared among 2 processes" in result.stderr
    assert not out.exists()
