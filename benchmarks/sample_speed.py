"""Sampling speed: ms per token at batch 1, for the model's own step and the packed stepper in
fp32, bf16 and int8, at 2x200 and 2x650 LSTMs with a 10k vocabulary (random weights: speed only;
the total variation printed is measured on these random weights, `generate` measures a trained
model's on its prime).

    python benchmarks/sample_speed.py [--tokens 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from rnnlab.config import ModelConfig
from rnnlab.generate.sampling import SamplingConfig, sample
from rnnlab.generate.stepper import PRECISIONS, Stepper, check_accuracy
from rnnlab.tasks.language_model.model import LanguageModel


def ms_per_token(model, tokens: int) -> float:
    config = SamplingConfig(length=tokens, seed=0)
    sample(model, [1, 2, 3], SamplingConfig(length=20, seed=0), "cpu")          # warm up
    start = time.perf_counter()
    sample(model, [1], config, "cpu")
    return (time.perf_counter() - start) * 1000 / tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=10_000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"batch 1, vocabulary {args.vocab:,}, {args.threads} threads, {args.tokens} tokens per measurement")
    for hidden in (200, 650):
        torch.manual_seed(0)
        model = LanguageModel(ModelConfig(cell="lstm", layers=2, hidden=hidden), args.vocab).eval()
        naive = min(ms_per_token(model, args.tokens) for _ in range(3))
        line = f"2x{hidden}: model step {naive:.3f} ms/token"
        for precision in PRECISIONS:
            stepper = Stepper(model, precision)
            error = check_accuracy(model, stepper, list(range(50)))
            ms = min(ms_per_token(stepper, args.tokens) for _ in range(3))
            line += f", {precision} {ms:.3f} ms/token (TV {error:.1e})"
        print(line)


if __name__ == "__main__":
    main()
