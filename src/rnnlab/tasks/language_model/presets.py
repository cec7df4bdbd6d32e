"""The language-model task's named recipes (text: characters, words, Japanese morphemes).

Partial configs by section, applied after the task's and the corpus's defaults and before explicit
flags; `rnnlab.presets` gathers every task's into one table (the catalog names this module).
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # The seed note's Chainer net: EmbedID -> LSTM -> LSTM (dropout 0.5 on W_x x) -> Linear; Adam;
    # truncated BPTT; norm clipping 5 (the Chainer ptb example's values, batch 50 as in the note).
    "seed-chainer": {
        "data": {"level": "ja"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 650, "embed": 650, "dropout": 0.5,
                  "dropout_site": "projected", "init": "uniform", "init_range": 0.1},
        "train": {"optimizer": "adam", "lr": 1e-3, "bptt": 35, "batch_size": 50, "clip": 5.0,
                  "epochs": 39, "schedule": "none"},
    },
    # Zaremba et al. 2014, small: 2x200, no dropout, SGD lr 1, halve after epoch 4, 13 epochs. Their loss
    # is summed over the BPTT window, ours averaged: lr and clip are scaled by bptt to match.
    "zaremba-small": {
        "data": {"level": "word"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 200, "init": "uniform", "init_range": 0.1},
        "train": {"optimizer": "sgd", "lr": 20.0, "bptt": 20, "batch_size": 20, "clip": 0.25,
                  "epochs": 13, "schedule": "step", "lr_decay": 0.5, "decay_start": 4},
    },
    # Zaremba et al. 2014, medium: 2x650, dropout 0.5, lr decay 1/1.2 after epoch 6, 39 epochs (lr and
    # clip scaled by bptt as for small).
    "zaremba-medium": {
        "data": {"level": "word"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 650, "dropout": 0.5, "init": "uniform",
                  "init_range": 0.05},
        "train": {"optimizer": "sgd", "lr": 35.0, "bptt": 35, "batch_size": 20, "clip": 5.0 / 35,
                  "epochs": 39, "schedule": "step", "lr_decay": 1 / 1.2, "decay_start": 6},
    },
    # Medium with tied weights (Press & Wolf 2017; Inan et al. 2017), as pytorch/examples trains it.
    "medium-tied": {
        "data": {"level": "word"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 650, "dropout": 0.5, "variational": True,
                  "dropout_embed": 0.5, "tie_weights": True, "init": "uniform", "init_range": 0.1},
        "train": {"optimizer": "sgd", "lr": 20.0, "bptt": 35, "batch_size": 20, "clip": 0.25,
                  "epochs": 40, "schedule": "plateau", "lr_decay": 0.25, "patience": 0},
    },
    # Merity et al. 2018 (AWD-LSTM): 3 layers, 1150 units, 400 embed, tied, all the dropouts.
    # Plain SGD with plateau decay stands in for NT-ASGD.
    "awd-lstm": {
        "data": {"level": "word"},
        "model": {"cell": "lstm", "layers": 3, "hidden": 1150, "embed": 400, "dropout": 0.4,
                  "dropout_embed": 0.65, "dropout_words": 0.1, "weight_drop": 0.5,
                  "variational": True, "tie_weights": True, "init": "uniform", "init_range": 0.1},
        "train": {"optimizer": "sgd", "lr": 30.0, "bptt": 70, "variable_bptt": True,
                  "batch_size": 80, "clip": 0.25, "epochs": 500, "weight_decay": 1.2e-6,
                  "schedule": "plateau", "lr_decay": 0.1, "patience": 5,
                  "activation_reg": 2.0, "temporal_reg": 1.0},
    },
    # The best perplexity a 30-minute, 2-core CPU budget buys on PTB: medium's recipe shrunk to 2x400
    # with tied weights (pytorch/examples' schedule: SGD lr 20, clip 0.25); about 6.5 epochs fit, test 98.8.
    "ptb-budget": {
        "data": {"level": "word"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 400, "dropout": 0.4, "dropout_embed": 0.4,
                  "tie_weights": True, "init": "uniform", "init_range": 0.1},
        "train": {"optimizer": "sgd", "lr": 20.0, "bptt": 35, "batch_size": 20, "clip": 0.25,
                  "epochs": 40, "max_minutes": 30.0, "schedule": "plateau", "lr_decay": 0.25, "patience": 0},
    },
    # char-rnn on tiny Shakespeare, sized for a laptop CPU.
    "char-shakespeare": {
        "data": {"level": "char", "split": "0.9,0.1,0"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 384, "embed": 64, "dropout": 0.1},
        "train": {"optimizer": "adam", "lr": 3e-3, "bptt": 100, "batch_size": 32, "clip": 1.0,
                  "epochs": 30, "schedule": "plateau", "lr_decay": 0.5, "patience": 0},
    },
    # The embedded default: a small character model that learns Python source in minutes.
    "char-small": {
        "data": {"level": "char"},
        "model": {"cell": "lstm", "layers": 2, "hidden": 256, "embed": 64, "dropout": 0.1},
        "train": {"optimizer": "adam", "lr": 3e-3, "bptt": 64, "batch_size": 32, "clip": 1.0,
                  "epochs": 20, "schedule": "plateau", "lr_decay": 0.5, "patience": 0},
    },
}
