"""Training speed: rnnlab's loop vs a plain PyTorch loop at the same config, measured in one run.

Default config is the issue's: PTB, 2x200 LSTM, bptt 35, batch 20, SGD lr 1, clip 5, 2 threads.
Both start from the same weights and read the same batches; the script prints words/s for each
and the relative difference of the loss after the same steps (fp32 accuracy check). It also runs
rnnlab's Trainer with `--bf16` (products in bf16, weights and softmax in fp32): its loss follows
another rounding path, so its accuracy is checked by training, not here (README: PTB 2x200 for two
epochs with and without --bf16, valid perplexity compared).

    RNNLAB_DATA=DATA python benchmarks/train_speed.py [--steps 200] [--hidden 200]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.config import build_config
from rnnlab.tasks.language_model.data import prepare_text
from rnnlab.data.streams import batchify, windows
from rnnlab.tasks.language_model.model import build_language_model
from rnnlab.models.recurrent import detach_state


class PlainLSTM(nn.Module):
    """pytorch/examples word_language_model, without dropout: the baseline loop's model."""

    def __init__(self, vocab, hidden, layers):
        super().__init__()
        self.encoder = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden, layers)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x, state):
        out, state = self.rnn(self.encoder(x), state)
        return self.decoder(out), state


def copy_weights(plain: PlainLSTM, model) -> None:
    """Give the plain model rnnlab's initial weights (layer by layer)."""
    with torch.no_grad():
        plain.encoder.weight.copy_(model.embedding.weight)
        for i, layer in enumerate(model.recurrent.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(plain.rnn, f"{name}_l{i}").copy_(getattr(layer, f"{name}_l0"))
        plain.decoder.weight.copy_(model.head.decoder.weight)
        plain.decoder.bias.copy_(model.head.decoder.bias)


def run_plain(model, batches, vocab, lr, clip):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    state = None
    losses = []
    start = time.perf_counter()
    for x, y in batches:
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.view(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    return time.perf_counter() - start, losses


def run_rnnlab(model, batches, lr, clip):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    state = model.initial_state(batches[0][0].size(1))
    losses = []
    start = time.perf_counter()
    for x, y in batches:
        state = detach_state(state)
        out = model(x, state, y)
        loss = out.nll_sum / out.tokens
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        state = out.state
        losses.append(loss.item())
    return time.perf_counter() - start, losses


def run_trainer(model, batches, lr, clip, ids, bptt, batch, threads, bf16=False):
    """rnnlab's own training loop (train.loop.Trainer with the stream objective), one step per batch,
    at the same thread count as the other two loops."""
    from rnnlab.config import TrainConfig
    from rnnlab.train.distributed import Placement
    from rnnlab.train.loop import Trainer
    from rnnlab.train.stream import StreamObjective

    config = TrainConfig(optimizer="sgd", lr=lr, clip=clip, bptt=bptt, batch_size=batch, schedule="none",
                         threads=threads, bf16=bf16)
    placement = Placement(0, 1, torch.device("cpu"))
    trainer = Trainer(model, StreamObjective(ids, ids[:100], config, placement), config, placement, run=None)
    losses = []
    start = time.perf_counter()
    for x, y in batches:
        result = trainer.train_step((x, y))
        losses.append(result.nll / result.tokens)
    return time.perf_counter() - start, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = build_config("", {"data": {"corpus": "ptb", "level": "word"},
                               "model": {"cell": "lstm", "layers": args.layers, "hidden": args.hidden,
                                         "init": "uniform"}})
    _, vocab, ids = prepare_text(config.data)
    data = batchify(ids["train"], args.batch)
    batches = [(x, y) for _, x, y in windows(data, args.bptt)][:args.steps]
    words = sum(y.numel() for _, y in batches)
    print(f"PTB, {args.layers}x{args.hidden} LSTM, vocab {len(vocab)}, bptt {args.bptt}, batch {args.batch}, "
          f"{args.threads} threads, {len(batches)} steps ({words:,} words) per measurement")
    results = {"plain": [], "rnnlab": [], "trainer": [], "bf16": []}
    for repeat in range(args.repeats):
        torch.manual_seed(0)
        model = build_language_model(config, len(vocab))
        plain = PlainLSTM(len(vocab), args.hidden, args.layers)
        copy_weights(plain, model)
        seconds, plain_losses = run_plain(plain, batches, len(vocab), 1.0, 5.0)
        results["plain"].append(words / seconds)
        seconds, our_losses = run_rnnlab(model, batches, 1.0, 5.0)
        results["rnnlab"].append(words / seconds)
        torch.manual_seed(0)
        seconds, trainer_losses = run_trainer(build_language_model(config, len(vocab)), batches, 1.0, 5.0,
                                              ids["train"], args.bptt, args.batch, args.threads)
        results["trainer"].append(words / seconds)
        torch.manual_seed(0)
        seconds, bf16_losses = run_trainer(build_language_model(config, len(vocab)), batches, 1.0, 5.0,
                                           ids["train"], args.bptt, args.batch, args.threads, bf16=True)
        results["bf16"].append(words / seconds)
        rel = abs(our_losses[-1] - plain_losses[-1]) / abs(plain_losses[-1])
        print(f"repeat {repeat + 1}: plain {results['plain'][-1]:,.0f} words/s, rnnlab model "
              f"{results['rnnlab'][-1]:,.0f} words/s, rnnlab's Trainer {results['trainer'][-1]:,.0f} words/s; "
              f"loss after {len(batches)} steps {plain_losses[-1]:.6f} vs {our_losses[-1]:.6f} (relative "
              f"difference {rel:.2e}); the Trainer's {trainer_losses[-1]:.6f}; Trainer --bf16 "
              f"{results['bf16'][-1]:,.0f} words/s, loss {bf16_losses[-1]:.6f}")
    # Noise floor: the plain loop itself, its output weights nudged by one part in 10^7. Early SGD at
    # lr 1 amplifies any fp32 rounding difference, so this is what "the same loss" can mean.
    torch.manual_seed(0)
    model = build_language_model(config, len(vocab))
    nudged = PlainLSTM(len(vocab), args.hidden, args.layers)
    copy_weights(nudged, model)
    with torch.no_grad():
        nudged.decoder.weight.mul_(1 + 1e-7)
    _, nudged_losses = run_plain(nudged, batches, len(vocab), 1.0, 5.0)
    for step in sorted({min(10, len(batches)), len(batches) // 2, len(batches)}):
        ours = abs(our_losses[step - 1] - plain_losses[step - 1]) / plain_losses[step - 1]
        floor = abs(nudged_losses[step - 1] - plain_losses[step - 1]) / plain_losses[step - 1]
        print(f"loss after {step} steps: rnnlab vs plain {ours:.1e} relative; plain vs plain with "
              f"weights x(1+1e-7) {floor:.1e}")
    best = {name: max(speeds) for name, speeds in results.items()}
    print(f"best: plain {best['plain']:,.0f} words/s, rnnlab model {best['rnnlab']:,.0f} words/s "
          f"({best['rnnlab'] / best['plain']:.2f}x), rnnlab's Trainer {best['trainer']:,.0f} words/s "
          f"({best['trainer'] / best['plain']:.2f}x), Trainer --bf16 {best['bf16']:,.0f} words/s "
          f"({best['bf16'] / best['plain']:.2f}x)")


if __name__ == "__main__":
    main()
