"""The options of the sections every run has (data, model, train) that kinds of task share, named
once: a task composes its `options` from these and its own section's fields."""

from __future__ import annotations

TEXT_OPTIONS = ("level", "min_freq", "max_vocab", "split", "encoding", "lowercase")
LANGUAGE_MODEL_OPTIONS = ("cell", "layers", "hidden", "embed", "dropout", "dropout_embed", "dropout_words",
                          "weight_drop", "variational", "tie_weights", "init", "init_range", "dropout_site")
TRAIN_OPTIONS = ("epochs", "batch_size", "bptt", "variable_bptt", "optimizer", "lr", "momentum", "weight_decay",
                 "schedule", "lr_decay", "decay_start", "patience", "clip", "early_stop", "max_minutes", "seed",
                 "eval_batch_size", "checkpoint_every", "activation_reg", "temporal_reg", "threads", "device",
                 "fused_loss", "tensorboard")
# A stream whose output is not a softmax over a vocabulary (series, piano rolls): no AR/TAR, no fused head.
NON_SOFTMAX_TRAIN_OPTIONS = tuple(o for o in TRAIN_OPTIONS if o not in ("activation_reg", "temporal_reg", "fused_loss"))
# Source -> target pairs (seq2seq, dialogue): batches of whole pairs, no BPTT window.
PAIR_TRAIN_OPTIONS = tuple(o for o in TRAIN_OPTIONS if o not in (
    "bptt", "variable_bptt", "activation_reg", "temporal_reg", "fused_loss", "eval_batch_size"))
PAIR_MODEL_OPTIONS = ("cell", "layers", "hidden", "embed", "dropout", "init", "init_range", "init_embeddings",
                      "tie_weights")
