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
# # 1. RNN, BPTT and beyond
#
# The second note summarises a lecture (深層学習 day 3) in seven sections: the recurrent network
# (再帰型ニューラルネットワーク) and BPTT, LSTM, GRU, the bidirectional RNN (双方向RNN), seq2seq with
# HRED and VHRED, word2vec, and attention. This page runs the parts that fit in a minute and points
# to rnnlab's commands for the rest.
#
# ## The RNN and BPTT
#
# An RNN has three weight matrices: input to hidden, hidden to output, and the one that sets it
# apart from a plain network, **hidden to hidden**, from the previous step's state. Its gradient is
# computed by back-propagation through time (BPTT, 通時的誤差逆伝播): the network unrolled over the
# steps is one deep graph, and the chain rule (連鎖律) walks it backwards.
#
# The note's exercise (`3_1_simple_RNN`) teaches a simple RNN to add two 8-bit numbers bit by bit,
# carrying in its state; it tried ReLU and saw the gradient explode. `rnnlab toy addition` is that
# exercise on rnnlab's NumPy engine:

# %%
import os
import shlex
import tempfile
import time
import warnings

import torch
from IPython.display import Image, display
from threadpoolctl import threadpool_limits

import rnnlab
import rnnlab.cli

started = time.process_time()
warnings.filterwarnings("ignore", message="IProgress not found")   # progress bars print as text here
threadpool_limits(1)
torch.set_num_threads(1)
os.chdir(tempfile.mkdtemp(prefix="rnnlab-course-"))


def shell(command: str) -> None:
    """Run an `rnnlab ...` command line in this process, as the shell would."""
    print("$", command)
    assert rnnlab.cli.main(shlex.split(command)[1:]) == 0


shell("rnnlab toy addition")

# %% [markdown]
# ## Vanishing and exploding gradients (勾配消失・勾配爆発)
#
# How much does the loss at the end of a sequence move a state far back? `rnnlab gradients`
# measures |∂loss/∂state| against the distance from the loss on the adding problem, 100 steps, the
# same kind of weights for every cell. A tanh RNN's units saturate and tanh' collapses: the
# gradient **vanishes**. ReLU units do not saturate and the recurrent gain compounds: it
# **explodes**. The LSTM's cell state and the GRU's update gate carry it.

# %%
shell("rnnlab gradients --out gradients.png")
display(Image("gradients.png"))

# %% [markdown]
# The usual cure for explosion is **gradient clipping** (勾配クリッピング): when the gradient's norm
# passes a threshold, scale it back to the threshold. It tames the ReLU curve and cannot bring back
# what vanished:

# %%
shell("rnnlab gradients --clip 1 --out clipped.png")
display(Image("clipped.png"))

# %% [markdown]
# ## LSTM and GRU
#
# The LSTM answers the vanishing gradient by changing the structure: a cell state, the constant
# error carousel (CEC), holds the memory, and gates learn what to write to it, what to forget and
# what to show ([page 2](002-inside-the-lstm.py) looks inside). The GRU (ゲート付き回帰ユニット)
# has no separate cell: an update gate and a reset gate, fewer parameters, less computation — the
# note's reason for it. In rnnlab both are one flag: `rnnlab train ... --cell lstm|gru|rnn`.
#
# ## Bidirectional, seq2seq and attention
#
# When the whole input is given at once (proof-reading, translation) it can be read backwards as
# well: a **bidirectional** RNN joins a forward and a backward pass (`--bidirectional`). A
# **seq2seq** model encodes the input into vectors and decodes them into another sequence. Its
# weakness, the note says, is one fixed-size vector for a long sentence; **attention** lets the
# decoder look back at every encoder state, weighted by relevance.
#
# The book's date task turns dates written many ways into ISO form. A model with attention (the
# book's, at half its width), trained here for one pass over the 45,000 pairs:

# %%
shell("rnnlab -q train date --hidden 128 --epochs 1 --dev-limit 200 --threads 1 --out runs/date")
translator = rnnlab.load("runs/date")
for source in ("september 27, 1994", "JUNE 17, 2013", "2/10/93"):
    print(f"{source!r:24} -> {translator.translate(source)!r}")

# %% [markdown]
# Where the decoder looked while writing each character is the attention map: source characters
# along x, output along y. For the year it looks at the year; for the month, at the month's name.

# %%
shell('rnnlab translate runs/date "september 27, 1994" --attention-map attention.png')
display(Image("attention.png"))

# %% [markdown]
# ## word2vec, HRED and VHRED
#
# **word2vec** learns a vector per word (分散表現, a distributed representation) from the words
# around it, in place of one-hot vectors and their curse of dimensionality:
# `rnnlab word2vec ptb --out runs/w2v && rnnlab analogy runs/w2v king man woman`.
# **HRED** encodes each utterance and runs a context RNN over them, so a response sees the
# conversation; **VHRED** adds a latent variable per response (as a VAE does) so that responses
# vary: `rnnlab train mrmp-chat-ja --model hred|vhred --out RUN`, then `rnnlab chat RUN`. Both take
# minutes rather than seconds; [translate and chat](../guides/translate-and-chat.md) has them.
#
# | 日本語 | English |
# |---|---|
# | 再帰型ニューラルネットワーク | recurrent neural network (RNN) |
# | 通時的誤差逆伝播 (BPTT) | back-propagation through time |
# | 勾配消失 / 勾配爆発 | vanishing / exploding gradient |
# | 勾配クリッピング | gradient clipping |
# | 双方向RNN | bidirectional RNN |
# | 分散表現 | distributed representation (word vectors) |
# | 潜在変数 | latent variable |

# %%
print(f"This page ran in {time.process_time() - started:.0f} s of CPU when the site was built.")
