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
# # 3. Holmes in Japanese, then MIDI
#
# The fourth note wrote an LSTM in Chainer: an embedding, two LSTM layers of `4 * n_units` inputs
# each (the input and three gates), dropout 0.5 on the projected inputs, a linear output; Adam,
# truncated BPTT (`bprop_len`), and gradient clipping. It learned 緋のエチュード (*A Study in
# Scarlet*, Aozora Bunko's translation) cut into words by MeCab (形態素解析, morphological analysis),
# and wrote Holmes from the prime 「ホームズ」. Then it swapped words for MIDI events and composed.
#
# rnnlab's `seed-chainer` preset is that network (2 × 650 units). Here a small one (1 × 128) trains
# for about twenty seconds: long enough to learn which words are common, not yet how they join.
# The preset itself is the note's full-size network, for a longer run.

# %%
import os
import shlex
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Audio, display
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


print(rnnlab.presets()["seed-chainer"])

# %%
shell("rnnlab -q train holmes-ja --preset seed-chainer --layers 1 --hidden 128 --embed 128 --bptt 20 "
      "--max-minutes 0.35 --threads 1 --out runs/holmes")
holmes = rnnlab.load("runs/holmes")
print(holmes.generate("ホームズ", length=60, temperature=0.8, top_k=40, seed=1))

# %% [markdown]
# The run reads the Aozora file as an Aozora file (header, colophon, 《ruby》 and ［＃notes］ removed)
# and cuts it into morphemes with MeCab through fugashi, as the note did by hand. The training curve:

# %%
runs = rnnlab.api.Run(Path("runs/holmes"), "lm",
                      [__import__("json").loads(line) for line in open("runs/holmes/metrics.jsonl")])
runs.plot()
plt.show()

# %% [markdown]
# ## MIDI as words: DELTA_STATUS_DATA
#
# The note's second experiment replaced words with the data chunks of a Standard MIDI File: each
# note event of one track written as one word, `DELTA_STATUS_DATA` in hex (`00_90_4080`: no delay,
# note-on on channel 1, pitch 0x40, velocity 0x80). rnnlab's `smf-events` tokenizer is that scheme
# (the busiest track, deltas in ticks of 480 per quarter). Forty Nottingham folk tunes and a tiny
# model:

# %%
source = Path(os.environ.get("RNNLAB_DATA", "data")) / "music" / "nottingham" / "midi"
Path("tunes").mkdir()
for tune in sorted(source.glob("*.mid"))[:40]:
    shutil.copy(tune, "tunes")
shell("rnnlab -q train tunes/ --modality midi --tokenizer smf-events --layers 1 --hidden 128 --embed 64 "
      "--bptt 64 --batch-size 8 --epochs 3 --threads 1 --out runs/folk")
words = __import__("json").loads(Path("runs/folk/vocab.json").read_text())
print(str(words)[:300])

# %% [markdown]
# Compose twelve seconds, draw the piano roll, and listen (FluidSynth and a General MIDI SoundFont
# render it; the player is a small WAV made from that render). The note's own verdict on its song:
# neither pleasant nor unpleasant, too monotonous. A model trained for seconds is no better.

# %%
folk = rnnlab.load("runs/folk")
song = folk.compose(seconds=12, temperature=0.9, seed=2)
song.plot(title="12 seconds from a tiny smf-events model")
plt.show()
song.render("song.wav")

# %%
from scipy.io import wavfile

rate, samples = wavfile.read("song.wav")
mono = samples.astype(np.float32).mean(axis=1) if samples.ndim == 2 else samples.astype(np.float32)
mono = mono[: int(rate * (song.generated_seconds + song.primer_seconds + 1.5))]
step = rate // 16000                                    # a small file for the page: 16 kHz, mono
display(Audio(mono[::step], rate=rate // step))

# %% [markdown]
# On the command line the same is `rnnlab generate runs/folk --out song.mid --seconds 12`, which
# writes `song.mid`, `song.wav`, `song.png` and `song.json`, the song's musical statistics beside the
# training set's. [Compose and listen](../guides/music.md) has the larger models and the benchmarks.
#
# | 日本語 | English |
# |---|---|
# | 形態素解析 (MeCab) | morphological analysis: cutting Japanese into words |
# | 分かち書き | text written with spaces between words |
# | 青空文庫 | Aozora Bunko, the public-domain library |
# | 自動作曲 / 自動作文 | automatic composition / writing |
# | 勾配爆発 | exploding gradient (what `clip_grads` guards against) |

# %%
print(f"This page ran in {time.process_time() - started:.0f} s of CPU when the site was built.")
