"""The piano-roll task's named recipes (JSB Chorales, Nottingham, MuseData, Piano-midi.de, bach-chorales).

Partial configs by section, applied after the task's and the corpus's defaults and before explicit
flags; `rnnlab.presets` gathers every task's into one table (the catalog names this module).
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # Polyphonic piano rolls (JSB Chorales & co., bach-chorales): 1x256 LSTM, dropout 0.3, Adam halved
    # on plateaus, early stop; every piece starts from the zero state, in training as in scoring.
    # poly-lstm: a Bernoulli per key (the benchmark's classic output), also trained on copies
    # transposed by up to +-3 semitones: without them it overfits (Nottingham valid 3.45 at its early
    # stop, 3.24 with them in 8 minutes, 3.22 and test 3.18 in 30); +-6 did not help JSB. The weights'
    # moving average (decay 0.9995 a step) is validated and scored: Nottingham valid 3.09, test 3.09,
    # best after 15 epochs, early stop after 23 in 19.5 CPU minutes; DropConnect 0.3 on top learned
    # slower (valid 3.31 after 10 epochs in 13 minutes, against 3.19 after 10 in 9 without it). With a
    # second layer (`--layers 2`) Nottingham reaches valid 2.96, test 2.93, best after 13 epochs (20 minutes).
    # poly-lstm-512: for a set as small as JSB, 512 units, dropout 0.5, DropConnect 0.3 on the recurrent
    # weights, and the weights' moving average (decay 0.999 a step) validated and scored: JSB valid 7.96,
    # test 8.04, best after 32 epochs of 38 in a 16-minute budget (15.2 CPU minutes). Without the
    # average valid 8.05, test 8.11 (15.5 CPU minutes); without either 8.18 and 8.25 at its early stop
    # after 24 epochs; 1x256 8.24 and 8.40. Input dropout 0.2 on top only slowed it down, and on
    # Nottingham 512 units are budget-bound (valid 3.46 after 15 minutes).
    # poly-nade: the keys of a frame in turn (RNN-NADE's idea), far lower NLL; on JSB it stops early
    # within 10 minutes (valid 5.47, test 5.44) on the pieces as they are.
    "poly-lstm": {
        "data": {"modality": "midi", "tokenizer": "pianoroll"},
        "pianoroll": {"transpose": 3, "frame_head": "bernoulli"},
        "model": {"cell": "lstm", "layers": 1, "hidden": 256, "dropout": 0.3},
        "train": {"optimizer": "adam", "lr": 2e-3, "batch_size": 8, "bptt": 32, "epochs": 200, "clip": 5.0,
                  "schedule": "plateau", "lr_decay": 0.5, "patience": 0, "early_stop": 8, "eval_batch_size": 4,
                  "average": 0.9995},
    },
    "poly-lstm-512": {
        "data": {"modality": "midi", "tokenizer": "pianoroll"},
        "pianoroll": {"transpose": 3, "frame_head": "bernoulli"},
        "model": {"cell": "lstm", "layers": 1, "hidden": 512, "dropout": 0.5, "weight_drop": 0.3},
        "train": {"optimizer": "adam", "lr": 2e-3, "batch_size": 8, "bptt": 32, "epochs": 200, "clip": 5.0,
                  "schedule": "plateau", "lr_decay": 0.5, "patience": 0, "early_stop": 8, "eval_batch_size": 4,
                  "average": 0.999},
    },
    "poly-nade": {
        "data": {"modality": "midi", "tokenizer": "pianoroll"},
        "pianoroll": {"frame_head": "nade", "nade_hidden": 128},
        "model": {"cell": "lstm", "layers": 1, "hidden": 256, "dropout": 0.3},
        "train": {"optimizer": "adam", "lr": 2e-3, "batch_size": 8, "bptt": 32, "epochs": 200, "clip": 5.0,
                  "schedule": "plateau", "lr_decay": 0.5, "patience": 0, "early_stop": 8, "eval_batch_size": 4},
    },
}
