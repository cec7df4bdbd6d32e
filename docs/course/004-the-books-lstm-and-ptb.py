# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. The book's LSTM, and the PTB ladder
#
# The fifth note follows chapter 6 of *Deep Learning from Scratch 2* (ゼロから作るDeep Learning ❷):
# an `LSTM` class for one step, `TimeLSTM` for T steps, the four affine maps of the gates computed as
# one (`A = x·Wx + h_prev·Wh + b`) and sliced into f, g, i, o; then a language model on the Penn
# Treebank (PTB), improved by stacking layers (多層化), dropout (variational: one mask shared over
# time, 変分ドロップアウト) and weight tying (重み共有).
#
# `rnnlab.scratch` is that code's shape: each layer's `forward` and `backward` side by side,
# `params` and `grads` as dicts. Is it the same LSTM as PyTorch's? Give both the same weights
# (`map_weights` is the one place that states the two layouts: the book's f, g, i, o with `Wx`
# (D, 4H) and one bias; PyTorch's i, f, g, o with `weight_ih` (4H, D) and two biases), run both
# forward and backward, and compare.

# %%
import os
import shlex
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from threadpoolctl import threadpool_limits

import rnnlab
import rnnlab.cli
from rnnlab.scratch.cells import make_cell
from rnnlab.scratch.time_layers import TimeRecurrent
from rnnlab.scratch.torch_layout import map_weights

started = time.process_time()
warnings.filterwarnings("ignore", message="IProgress not found")   # progress bars print as text here
threadpool_limits(1)
torch.set_num_threads(1)
os.chdir(tempfile.mkdtemp(prefix="rnnlab-course-"))


def shell(command: str) -> None:
    """Run an `rnnlab ...` command line in this process, as the shell would."""
    print("$", command)
    assert rnnlab.cli.main(shlex.split(command)[1:]) == 0


time_steps, batch, inputs, hidden = 12, 4, 8, 16
torch.manual_seed(0)
reference = torch.nn.LSTM(inputs, hidden).double()
cell = make_cell("lstm", inputs, hidden, np.random.default_rng(0), np.float64)
torch_weights = {name: p.detach().numpy() for name, p in reference.named_parameters()}
for name, value in map_weights("lstm", torch_weights, to="numpy").items():
    cell.params[name][...] = value
ours = TimeRecurrent(cell)

rng = np.random.default_rng(1)
xs = rng.standard_normal((time_steps, batch, inputs))          # (time, batch, features)
probe = rng.standard_normal((time_steps, batch, hidden))       # a loss: sum(outputs * probe)
x_torch = torch.tensor(xs, requires_grad=True)
out_torch, _ = reference(x_torch)
(out_torch * torch.tensor(probe)).sum().backward()

out = ours.forward(xs)
dxs = ours.backward(probe)
grads = map_weights("lstm", {n: p.grad.numpy() for n, p in reference.named_parameters()}, to="numpy")
print(f"outputs:            largest difference {np.abs(out - out_torch.detach().numpy()).max():.1e}")
print(f"input gradients:    largest difference {np.abs(dxs - x_torch.grad.numpy()).max():.1e}")
print(f"Wx gradient:        largest difference {np.abs(ours.grads['Wx'] - grads['Wx']).max():.1e}")
print(f"Wh gradient:        largest difference {np.abs(ours.grads['Wh'] - grads['Wh']).max():.1e}")

# %% [markdown]
# Differences of the order of 1e-16: the same LSTM, to far better than the 1e-6 the tests demand
# (`tests/scratch` checks every cell, the whole language model and its gradients this way, and the
# gradients against central differences).
#
# The engine trains real runs too. Train a small word model on some English with
# `--engine numpy`, then score the same run with both engines:

# %%
library = Path(sysconfig.get_paths()["stdlib"])
text = (library / "this.py").read_text() + (library / "textwrap.py").read_text()
Path("words.txt").write_text(text, encoding="utf-8")
shell("rnnlab train words.txt --engine numpy --level word --cell lstm --layers 1 --hidden 64 --embed 64 "
      "--epochs 3 --bptt 20 --batch-size 8 --threads 1 --out runs/np")

# %%
shell("rnnlab evaluate runs/np --json")
shell("rnnlab evaluate runs/np --engine numpy --json")

# %% [markdown]
# ## The PTB ladder
#
# The note ends where the book does: PTB perplexity falls with depth, dropout and tied weights.
# These are rnnlab's results on PTB (test perplexity, batch 1 with the state carried, the standard
# protocol), each with the command that made it and the date it was recorded, on a shared 2-core
# CPU. More on [the benchmarks page](../benchmarks/index.md#text-training-and-sampling).
#
# | recipe | command | result | recorded |
# |---|---|---|---|
# | `zaremba-small` (Zaremba et al. 2014's small LSTM), 30 minutes on half a core | `rnnlab train ptb --preset zaremba-small --max-minutes 30 --out runs/ptb && rnnlab evaluate runs/ptb` | test perplexity **114.6** (the paper: 114.5 after 13 epochs) | 2026-11-25 |
# | `zaremba-small` with `--bf16`, 2 epochs | `rnnlab train ptb --preset zaremba-small --epochs 3 --threads 1 --bf16 --out runs/z` | valid 183.0, 146.1 after epochs 1 and 2 (fp32: 185.4, 148.7), in 1,423 s against 1,974 s | 2026-11-30 |
# | `ptb-budget` (a 2×400 LSTM, tied weights, dropout 0.4), 30 minutes, 2 threads | `rnnlab train ptb --preset ptb-budget --max-minutes 30 --threads 2 --out runs/budget && rnnlab evaluate runs/budget` | test perplexity **98.8** | 2026-11-25 |
#
# The `ptb-budget` run's validation perplexity after each epoch (the seventh cut short by the
# budget):

# %%
valid = [197, 148, 127, 116, 109, 104, 102]          # the benchmarks page's figures for that run
figure, axis = plt.subplots(figsize=(6, 3))
axis.plot(range(1, len(valid) + 1), valid, marker="o")
axis.axhline(98.8, color="tab:orange", linestyle="--", label="its test perplexity, 98.8")
axis.set_xlabel("epoch")
axis.set_ylabel("valid perplexity")
axis.set_title("ptb-budget, 30 minutes on 2 threads")
axis.legend()
plt.show()

# %% [markdown]
# | 日本語 | English |
# |---|---|
# | 多層化 | stacking layers |
# | 過学習 | overfitting |
# | 変分ドロップアウト | variational dropout |
# | 重み共有 | weight tying |
# | パープレキシティ | perplexity |
# | 記憶セル | memory cell (the cell state) |

# %%
print(f"This page ran in {time.process_time() - started:.0f} s of CPU when the site was built.")
