"""Sampling speed: ms per token at batch 1, for the model's own step, the packed fp32 stepper and
the bf16 stepper, at 2x200 and 2x650 LSTMs with a 10k vocabulary (random weights: speed only).

    python benchmarks/sample_speed.py [--tokens 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from rnnlab.config import ModelConfig
from rnnlab.generate.sampling import SamplingConfig, sample
from rnnlab.generate.stepper import Stepper, check_accuracy
from rnnlab.models.model import LanguageModel


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
        fp32, bf16 = Stepper(model, "fp32"), Stepper(model, "bf16")
        error = check_accuracy(model, bf16, list(range(50)))
        naive = min(ms_per_token(model, args.tokens) for _ in range(2))
        packed = min(ms_per_token(fp32, args.tokens) for _ in range(2))
        half = min(ms_per_token(bf16, args.tokens) for _ in range(2))
        print(f"2x{hidden}: model step {naive:.3f} ms/token, packed fp32 {packed:.3f} ms/token, "
              f"bf16 {half:.3f} ms/token (total variation vs fp32 {error:.1e})")


if __name__ == "__main__":
    main()
