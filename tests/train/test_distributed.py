"""torchrun with 2 CPU processes (gloo): each rank reads its own columns; one run directory."""

import json
import os
import subprocess
import sys

import torch

from rnnlab.data.streams import batchify


def test_two_cpu_processes_train_one_run(tmp_path, small_text):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "rnnlab", "train", str(small_text), "--level", "word", "--out", str(out), "--epochs", "2",
           "--batch-size", "2", "--bptt", "8", "--hidden", "16", "--layers", "1", "--device", "cpu"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]        # written once, by rank 0
    assert "2 process(es)" in result.stdout
    ckpt = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert len(ckpt["hidden_by_rank"]) == 2


def test_each_rank_gets_half_the_columns():
    ids = torch.arange(64)
    shards = [batchify(ids, 2, rank, 2) for rank in range(2)]
    assert torch.equal(torch.cat(shards, 1), batchify(ids, 4))
