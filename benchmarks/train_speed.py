"""Training speed: rnnlab's loop vs a plain PyTorch loop at the same config, measured in one run.

Default config: PTB, 2x200 LSTM, bptt 35, batch 20, SGD lr 1, clip 5, 2 threads. Four loops
train from the same weights on the same batches: the plain loop (pytorch/examples'
word_language_model without dropout), rnnlab's model in that loop, rnnlab's Trainer, and the
Trainer with `--bf16` (products in bf16; weights, softmax and loss in fp32). They take turns, ten
steps each, so that a load that comes and goes weighs on all of them alike; the script prints
words/s for each and the relative difference of the fp32 losses after the same steps. The bf16
loss follows another rounding path, so its accuracy is checked by training instead (README: PTB
with `--preset zaremba-small`, with and without `--bf16`, valid perplexity compared).

    RNNLAB_DATA=DATA python benchmarks/train_speed.py [--steps 200] [--hidden 200] [--threads 1]
        [--device cuda] [--compile] [--no-bf16]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.config import TrainConfig, build_config
from rnnlab.data.streams import batchify, windows
from rnnlab.models.recurrent import detach_state
from rnnlab.tasks.language_model.data import prepare_text
from rnnlab.tasks.language_model.model import build_language_model
from rnnlab.train.distributed import Placement
from rnnlab.train.loop import Trainer
from rnnlab.train.stream import StreamObjective

LR, CLIP, CHUNK = 1.0, 5.0, 10


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


class PlainLoop:
    """What a user writes: forward, cross-entropy, backward, clip, SGD step."""

    def __init__(self, model: PlainLSTM):
        self.model, self.state = model, None
        self.optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step(self, x, y) -> float:
        if self.state is not None:
            self.state = tuple(s.detach() for s in self.state)
        logits, self.state = self.model(x, self.state)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1))
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        return loss.item()


class ModelLoop:
    """The same loop around rnnlab's model (its fused softmax head and loss)."""

    def __init__(self, model):
        self.model, self.state = model, None
        self.optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step(self, x, y) -> float:
        state = detach_state(self.state) if self.state is not None else self.model.initial_state(x.size(1))
        out = self.model(x, state, y)
        loss = out.nll_sum / out.tokens
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.state = out.state
        return loss.item()


class TrainerLoop:
    """rnnlab's own training loop (train.loop.Trainer with the stream objective), one step per
    batch, at the same thread count as the other loops."""

    def __init__(self, model, ids, bptt, batch, threads, bf16=False, device="cpu", compile=False):
        config = TrainConfig(optimizer="sgd", lr=LR, clip=CLIP, bptt=bptt, batch_size=batch, schedule="none",
                             threads=threads, bf16=bf16, compile=compile)
        placement = Placement(0, 1, torch.device(device))
        self.trainer = Trainer(model, StreamObjective(ids, ids[:100], config, placement), config, placement, run=None)

    def step(self, x, y) -> float:
        result = self.trainer.train_step((x, y))
        return result.nll / result.tokens


def race(loops: dict, batches: list) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Each loop's seconds and losses over `batches`, the loops taking turns CHUNK steps at a time."""
    seconds = {name: 0.0 for name in loops}
    losses: dict[str, list[float]] = {name: [] for name in loops}
    for start in range(0, len(batches), CHUNK):
        for name, loop in loops.items():
            began = time.perf_counter()
            losses[name] += [loop.step(x, y) for x, y in batches[start:start + CHUNK]]
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            seconds[name] += time.perf_counter() - began
    return seconds, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--compile", action="store_true", help="also race the Trainer with --compile")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", help="leave out the Trainer with --bf16")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = build_config("", {"data": {"corpus": "ptb", "level": "word"},
                               "model": {"cell": "lstm", "layers": args.layers, "hidden": args.hidden,
                                         "init": "uniform"}})
    _, vocab, ids = prepare_text(config.data)
    data = batchify(ids["train"], args.batch)
    batches = [(x.to(args.device), y.to(args.device)) for _, x, y in windows(data, args.bptt)][:args.steps]
    words = sum(y.numel() for _, y in batches)
    print(f"PTB, {args.layers}x{args.hidden} LSTM, vocab {len(vocab)}, bptt {args.bptt}, batch {args.batch}, "
          f"{args.threads} threads, {args.device}, {len(batches)} steps ({words:,} words) per measurement")

    def fresh_model():
        torch.manual_seed(0)
        return build_language_model(config, len(vocab)).to(args.device)

    speeds: dict[str, list[float]] = {}
    for repeat in range(args.repeats):
        plain = PlainLSTM(len(vocab), args.hidden, args.layers).to(args.device)
        copy_weights(plain, fresh_model())
        loops = {"plain": PlainLoop(plain), "rnnlab model": ModelLoop(fresh_model()),
                 "Trainer": TrainerLoop(fresh_model(), ids["train"], args.bptt, args.batch, args.threads,
                                        device=args.device)}
        if args.bf16:
            loops["Trainer --bf16"] = TrainerLoop(fresh_model(), ids["train"], args.bptt, args.batch, args.threads,
                                                  bf16=True, device=args.device)
        if args.compile:
            loops["Trainer --compile"] = TrainerLoop(fresh_model(), ids["train"], args.bptt, args.batch,
                                                     args.threads, device=args.device, compile=True)
        seconds, losses = race(loops, batches)
        for name in loops:
            speeds.setdefault(name, []).append(words / seconds[name])
        rel = abs(losses["rnnlab model"][-1] - losses["plain"][-1]) / abs(losses["plain"][-1])
        print(f"repeat {repeat + 1}: " + ", ".join(f"{name} {words / seconds[name]:,.0f} words/s" for name in loops)
              + f"; loss after {len(batches)} steps: " + ", ".join(f"{losses[name][-1]:.6f}" for name in loops)
              + f" (rnnlab model vs plain: relative difference {rel:.2e})")
    # Noise floor: the plain loop itself, its output weights nudged by one part in 10^7. Early SGD at
    # lr 1 amplifies any fp32 rounding difference, so this is what "the same loss" can mean.
    nudged = PlainLSTM(len(vocab), args.hidden, args.layers).to(args.device)
    copy_weights(nudged, fresh_model())
    with torch.no_grad():
        nudged.decoder.weight.mul_(1 + 1e-7)
    _, nudged_losses = race({"nudged": PlainLoop(nudged)}, batches)
    for step in sorted({min(10, len(batches)), len(batches) // 2, len(batches)}):
        plain_loss = losses["plain"][step - 1]
        ours = abs(losses["rnnlab model"][step - 1] - plain_loss) / plain_loss
        floor = abs(nudged_losses["nudged"][step - 1] - plain_loss) / plain_loss
        print(f"loss after {step} steps: rnnlab vs plain {ours:.1e} relative; plain vs plain with "
              f"weights x(1+1e-7) {floor:.1e}")
    best = {name: max(values) for name, values in speeds.items()}
    print("best: " + ", ".join(f"{name} {speed:,.0f} words/s ({speed / best['plain']:.2f}x)"
                               for name, speed in best.items()))


if __name__ == "__main__":
    main()
