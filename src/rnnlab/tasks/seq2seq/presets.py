"""The seq2seq task's named recipes (the book's addition and date sets, English-Japanese).

Partial configs by section, applied after the task's and the corpus's defaults and before explicit
flags; `rnnlab.presets` gathers every task's into one table (the catalog names this module).
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # The book's seq2seq chapters (ゼロから作るDeep Learning ❷, ch07-08): one LSTM layer, 16-wide
    # embeddings, Adam, batch 128, clip 5. Addition uses 128 units, date 256. The book's lr 1e-3 needs
    # 10-20 epochs; 5e-3, halved when the test score stalls, reaches the same accuracy within one or
    # two minutes on a laptop (benchmarks/seq2seq_book.py compares with the book at its own 1e-3).
    "book-seq2seq": {
        "data": {"task": "seq2seq", "level": "char"},
        "model": {"cell": "lstm", "layers": 1, "hidden": 128, "embed": 16},
        "train": {"optimizer": "adam", "lr": 5e-3, "batch_size": 128, "clip": 5.0, "epochs": 25,
                  "schedule": "plateau"},
        "seq2seq": {"decoder": "plain"},
    },
    "book-peeky": {
        "data": {"task": "seq2seq", "level": "char"},
        "model": {"cell": "lstm", "layers": 1, "hidden": 128, "embed": 16},
        "train": {"optimizer": "adam", "lr": 5e-3, "batch_size": 128, "clip": 5.0, "epochs": 25,
                  "schedule": "plateau"},
        "seq2seq": {"decoder": "peeky", "reverse_source": True},
    },
    # small_parallel_enja en->ja in a 30-minute, one-thread CPU budget: SentencePiece BPE pieces on
    # both sides, a bidirectional LSTM encoder and Luong general attention without input feeding (the
    # decoder's LSTM then runs over the whole target at once), label smoothing 0.1, batches grouped
    # by length, Adam 3e-3 after a 200-step warmup, decayed linearly over the budget's last 80%, and
    # the decoder's output layer tied to its target embedding (the budget's largest single gain).
    "enja-budget": {
        "data": {"task": "seq2seq", "level": "word"},
        "model": {"cell": "lstm", "layers": 1, "hidden": 256, "embed": 256, "dropout": 0.2, "tie_weights": True},
        "train": {"optimizer": "adam", "lr": 3e-3, "batch_size": 128, "clip": 5.0, "epochs": 100,
                  "max_minutes": 30.0, "schedule": "none", "bf16": True},
        "seq2seq": {"direction": "en-ja", "bidirectional": True, "decoder": "attention", "attention": "general",
                    "input_feeding": False, "subword": "bpe", "subword_vocab": 4000,
                    "normalize_source": True, "label_smoothing": 0.1, "bucket": 50, "warmup": 200,
                    "anneal": 0.8, "dev_limit": 0},
    },
    "book-attention": {
        "data": {"task": "seq2seq", "level": "char"},
        "model": {"cell": "lstm", "layers": 1, "hidden": 256, "embed": 16},
        "train": {"optimizer": "adam", "lr": 5e-3, "batch_size": 128, "clip": 5.0, "epochs": 10,
                  "schedule": "plateau"},
        "seq2seq": {"decoder": "attention", "attention": "dot", "input_feeding": False, "reverse_source": True},
    },
}
