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
# # 2. Inside the LSTM
#
# The third note reads the LSTM closely. A plain RNN's gradient vanishes the further back it goes,
# and the sigmoid makes it worse: its derivative is at most 0.25 (the note's 確認テスト 23), so every
# step back through a sigmoid multiplies the gradient by a quarter or less.

# %%
import inspect
import os
import shlex
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from IPython.display import Image, Markdown, display
from threadpoolctl import threadpool_limits

import rnnlab
import rnnlab.cli
from rnnlab.scratch.cells import LSTMCell

started = time.process_time()
warnings.filterwarnings("ignore", message="IProgress not found")   # progress bars print as text here
threadpool_limits(1)
torch.set_num_threads(1)
os.chdir(tempfile.mkdtemp(prefix="rnnlab-course-"))


def shell(command: str) -> None:
    """Run an `rnnlab ...` command line in this process, as the shell would."""
    print("$", command)
    assert rnnlab.cli.main(shlex.split(command)[1:]) == 0


x = np.linspace(-6, 6, 1201)
sigmoid = 1 / (1 + np.exp(-x))
print(f"largest sigmoid'(x) = {np.max(sigmoid * (1 - sigmoid)):.4f}, at x = {x[np.argmax(sigmoid * (1 - sigmoid))]:g}")

# %% [markdown]
# ## The constant error carousel (CEC) and its gates
#
# The LSTM keeps its memory apart, in the **cell state** c: the constant error carousel. Along c the
# gradient passes back unchanged when nothing is forgotten — the note's δ = 1 — and the learning
# happens in the gates around it:
#
# - the **input gate** (入力ゲート) i decides what of the new candidate g is written into c;
# - the **forget gate** (忘却ゲート) f decides what of the old c is kept;
# - the **output gate** (出力ゲート) o decides what of c is shown as the hidden state h.
#
# So c(t) = f·c(t-1) + i·g and h(t) = o·tanh(c(t)). In the note's exercise, a word such as 「とても」
# that does not help the prediction is the forget gate's to drop. Here is rnnlab's NumPy LSTM step,
# the four gates computed as one affine map and sliced, as the book does:

# %%
display(Markdown("```python\n" + inspect.getsource(LSTMCell.forward) + "```"))

# %% [markdown]
# ## Gates on real text
#
# Train a small character LSTM for a few seconds on some of Python's own source (the standard
# library's `json` package and `textwrap`), then read a line of code with it and draw each gate,
# the cell state and the hidden state, step by step. `rnnlab inspect` also lists the units most
# correlated with the position in the line and with being inside quotes.

# %%
library = Path(sysconfig.get_paths()["stdlib"])
sources = [library / "textwrap.py", *sorted((library / "json").glob("*.py"))]
Path("code.txt").write_text("\n".join(p.read_text(encoding="utf-8") for p in sources), encoding="utf-8")
shell("rnnlab train code.txt --level char --cell lstm --layers 1 --hidden 64 --embed 32 --bptt 64 "
      "--batch-size 16 --epochs 4 --optimizer adam --lr 0.005 --threads 1 --out runs/code")

# %%
shell("rnnlab inspect runs/code --text 'def wrap(text, width=70):\n    return \"a \" + text\n' "
      "--units 24 --out gates.png")
display(Image("gates.png"))

# %% [markdown]
# Each band is one unit, time runs left to right under the characters. A forget gate near 1 keeps
# the cell's value, near 0 wipes it; the cell state rows that stay one colour across a stretch are
# the carousel carrying something.
#
# ## Peepholes and clipping
#
# **Peephole connections** (覗き穴結合) let the gates see the cell state itself, not only the input
# and the previous output. The note's verdict: they did not help much. rnnlab has them as
# `--cell lstm-peephole` (Gers & Schmidhuber's LSTM), a loop over time and slower than the fused
# LSTM, to compare for yourself.
#
# **Gradient clipping** (勾配クリッピング) is the note's 演習チャレンジ: when the gradient's norm
# exceeds a threshold, multiply it by threshold / norm. Every rnnlab training run does this with
# `--clip` (the picture is on [page 1](001-rnn-bptt-and-beyond.py)).
#
# | 日本語 | English |
# |---|---|
# | 勾配消失 / 勾配爆発 | vanishing / exploding gradient |
# | 入力ゲート / 出力ゲート / 忘却ゲート | input / output / forget gate |
# | CEC (Constant Error Carousel) | the cell state |
# | 覗き穴結合 | peephole connections |
# | 勾配クリッピング | gradient clipping |
# | シグモイド関数 | sigmoid function |

# %%
print(f"This page ran in {time.process_time() - started:.0f} s of CPU when the site was built.")
