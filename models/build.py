"""Pack trained runs into this distribution's model folders (not shipped in the wheel).

    python models/build.py RUNS [NAME ...]

RUNS holds one run per model, named as below and trained with the card's command (run from inside
RUNS, so that `--out NAME` lands there); the minutes each took come from RUNS/NAME.minutes when
present. Each run is evaluated on its test split in fp32 and fp16 and packed with its card into
src/rnnlab_models/NAME. `rnnlab models rebuild NAME --out DIR` does the same for one model.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rnnlab.shipping import package

HERE = Path(__file__).parent / "src" / "rnnlab_models"

CC_JA = "Creative Commons Attribution 2.1 Japan (CC BY 2.1 JP): アーサー・コナン・ドイル『緋のエチュード』大久保ゆう訳（青空文庫）"

CARDS = {
    "shakespeare": {
        "task": "lm", "verb": "generate",
        "summary": "A character-level LSTM of tiny Shakespeare (char-rnn's corpus): writes play-like text, speaker by speaker.",
        "model": "2x256 LSTM over characters, 64-wide embeddings (the char-small recipe)",
        "usage": {"cli": "rnnlab generate @shakespeare --prime 'ROMEO:' --length 400 --temperature 0.8",
                  "python": "rnnlab.load(\"@shakespeare\").generate(\"ROMEO:\", length=400, temperature=0.8)"},
        "command": "rnnlab train tinyshakespeare --preset char-small --max-minutes 10 --threads 1 --out shakespeare",
        "data": {"corpus": "tinyshakespeare", "files": ["tinyshakespeare/input.txt"],
                 "description": "tiny Shakespeare, 1.1M characters of the plays as char-rnn collected them; split "
                                "contiguously 90% / 5% / 5% for training, validation and test.",
                 "licence": "the plays are public domain; the compilation is from karpathy/char-rnn (MIT)",
                 "source": "karpathy/char-rnn, data/tinyshakespeare/input.txt (`rnnlab data get tinyshakespeare`)"},
        "evaluation": {"split": "test", "batch_size": 8},
        "headline": {"metric": "perplexity", "note": "per character on the last 5% of the text"},
    },
    "python": {
        "task": "lm", "verb": "generate",
        "summary": "A character-level LSTM of Python source: the embedded default corpus, as the README's first command trains it.",
        "model": "2x256 LSTM over characters, 64-wide embeddings (the char-small recipe)",
        "usage": {"cli": "rnnlab generate @python --prime 'def ' --length 400",
                  "python": "rnnlab.load(\"@python\").generate(\"def \", length=400)"},
        "command": "rnnlab train python-stdlib --preset char-small --max-minutes 4 --threads 1 --out python",
        "data": {"corpus": "python-stdlib", "files": [],
                 "description": "the first 2M characters of the Python standard library's top-level modules, read "
                                f"from the interpreter that trains (here Python {sys.version_info.major}.{sys.version_info.minor}); split contiguously 90/5/5. Another "
                                "Python version's library gives a slightly different test split.",
                 "licence": "Python Software Foundation License Version 2",
                 "source": "the running interpreter's standard library (embedded: no download)"},
        "evaluation": {"split": "test", "batch_size": 8},
        "headline": {"metric": "perplexity", "note": "per character on the last 5% of the source"},
    },
    "bach": {
        "task": "pianoroll", "verb": "compose",
        "summary": "JSB Chorales as a piano roll: 88 keys a quarter-note frame, the keys of each frame in turn (RNN-NADE's idea); composes four-part chorale-like music.",
        "model": "1x256 LSTM with a NADE head over the 88 keys of each frame, 128 NADE units, dropout 0.3 (the poly-nade recipe, "
                 "the lowest NLL of the polyphonic benchmark's recipes)",
        "usage": {"cli": "rnnlab generate @bach --bars 8 --out chorale.mid",
                  "python": "rnnlab.load(\"@bach\").compose(bars=8).save(\"chorale.mid\")"},
        "command": "rnnlab train jsb --preset poly-nade --max-minutes 10 --threads 1 --out bach",
        "data": {"corpus": "jsb", "files": ["music/jsb/jsb-chorales-quarter.json"],
                 "description": "JSB Chorales, quarter notes, the Boulanger-Lewandowski et al. (2012) split "
                                "(229 / 76 / 77 chorales).",
                 "licence": "Bach's chorales are public domain; the split was published for research "
                            "benchmarking (czhuang/JSB-Chorales-dataset)",
                 "source": "czhuang/JSB-Chorales-dataset, jsb-chorales-quarter.json (`rnnlab data get jsb`)"},
        "evaluation": {"split": "test", "batch_size": 4},
        "headline": {"metric": "nll", "note": "frame-level NLL in nats, the polyphonic benchmark's measure"},
    },
    "nottingham": {
        "task": "midi-events", "verb": "compose",
        "summary": "Nottingham folk tunes (melody and chords) as MIDI events: something to play live, or to compose a jig.",
        "model": "2x256 LSTM over Performance RNN events (note on / off, 10 ms time shifts, velocities), 128-wide embeddings",
        "usage": {"cli": "rnnlab generate @nottingham --seconds 30 --out tune.mid",
                  "python": "rnnlab.load(\"@nottingham\").compose(seconds=30).save(\"tune.mid\")"},
        "command": "rnnlab train $RNNLAB_DATA/music/nottingham/midi --tokenizer performance --layers 2 --hidden 256 "
                   "--embed 128 --dropout 0.1 --optimizer adam --lr 3e-3 --bptt 128 --batch-size 32 --clip 1 "
                   "--schedule plateau --patience 0 --lr-decay 0.5 --max-minutes 7 --threads 1 --out nottingham",
        "data": {"corpus": "$RNNLAB_DATA/music/nottingham/midi", "files": ["music/nottingham/midi"],
                 "description": "the Nottingham Music Database as MIDI (jukedeck's cleaning: 1,034 tunes, melody and "
                                "chords), split by file 90 / 5 / 5 (a fixed shuffle).",
                 "licence": "GNU GPLv3 (jukedeck/nottingham-dataset); tunes from E. Foxley's ABC collection",
                 "source": "jukedeck/nottingham-dataset, MIDI/ (place it as $RNNLAB_DATA/music/nottingham/midi)"},
        "evaluation": {"split": "test", "batch_size": 8},
        "headline": {"metric": "perplexity", "note": "per event token on the test tunes"},
    },
    "dates": {
        "task": "seq2seq", "verb": "translate",
        "summary": "The book's date translator (ゼロから作るDeep Learning ❷, ch. 8): any written date to ISO 8601, "
                   "an LSTM encoder-decoder with attention.",
        "model": "1x256 LSTM encoder and decoder, dot attention, reversed source (the book-attention recipe)",
        "usage": {"cli": "rnnlab translate @dates \"september 27, 1994\" \"TUESDAY, SEPTEMBER 25, 1984\"",
                  "python": "rnnlab.load(\"@dates\").translate(\"september 27, 1994\")"},
        "command": "rnnlab train date --preset book-attention --max-minutes 2 --threads 1 --out dates",
        "data": {"corpus": "date", "files": ["seq2seq/date.txt"],
                 "description": "the book's 50,000 date pairs (`september 27, 1994 _1994-09-27`), split "
                                "45,000 / 5,000 as the book does (legacy NumPy shuffle, seed 1984).",
                 "licence": "MIT (oreilly-japan/deep-learning-from-scratch-2, Copyright (c) 2018 Koki Saitoh)",
                 "source": "oreilly-japan/deep-learning-from-scratch-2, dataset/date.txt (`rnnlab data get date`)"},
        "evaluation": {"split": "test", "batch_size": 1},
        "headline": {"metric": "exact_match", "note": "whole answers right, greedy decoding, on the 5,000 test pairs"},
    },
    "enja": {
        "task": "seq2seq", "verb": "translate",
        "summary": "English to Japanese on small-parallel-enja: short everyday sentences, raw English in, Japanese out.",
        "model": "1x256 bidirectional LSTM encoder, general attention, SentencePiece BPE 4,000 pieces a side, "
                 "tied output layer (the enja-budget recipe in float32, on a third of its budget)",
        "usage": {"cli": "rnnlab translate @enja \"Where is the station?\"",
                  "python": "rnnlab.load(\"@enja\").translate(\"Where is the station?\")"},
        "command": "rnnlab train small-parallel-enja --preset enja-budget --no-bf16 --max-minutes 10 --threads 1 --out enja",
        "data": {"corpus": "small-parallel-enja", "files": ["small-parallel-enja/test.en", "small-parallel-enja/test.ja"],
                 "description": "50,000 English-Japanese sentence pairs of 4-16 words (train), 500 dev, 500 test; "
                                "tokenised (Stanford tokenizer / KyTea).",
                 "licence": "public domain (the Tanaka Corpus, as released by Prof. Yasuhito Tanaka); credit: "
                            "Tanaka Corpus via odashi/small_parallel_enja",
                 "source": "odashi/small_parallel_enja (`rnnlab data get small-parallel-enja`)"},
        "evaluation": {"split": "test", "batch_size": 1},
        "headline": {"metric": "bleu", "note": "greedy decoding, sacrebleu on the corpus's own Japanese word tokens"},
    },
    "holmes-ja": {
        "task": "lm", "verb": "generate",
        "summary": "The seed's own network: a 2-layer LSTM over MeCab morphemes of 緋のエチュード (A Study in Scarlet in Japanese).",
        "model": "2x200 LSTM over MeCab morphemes (fugashi + unidic-lite; the 4,000 most frequent, the rest <unk>), "
                 "dropout 0.5 on the projected inputs, Adam 2e-3, batch 20 (the seed-chainer recipe sized down from "
                 "650 units and batch 50 to train in minutes on a CPU)",
        "usage": {"cli": "rnnlab generate @holmes-ja --prime ホームズ --length 100 --temperature 0.8 --top-k 40",
                  "python": "rnnlab.load(\"@holmes-ja\").generate(\"ホームズ\", length=100, temperature=0.8, top_k=40)"},
        "command": "rnnlab train holmes-ja --preset seed-chainer --hidden 200 --embed 200 --max-vocab 4000 "
                   "--batch-size 20 --lr 2e-3 --max-minutes 8 --threads 1 --out holmes-ja",
        "data": {"corpus": "holmes-ja", "files": ["holmes/ja/55881_ruby_50043.txt"],
                 "description": "緋のエチュード, Aozora Bunko card 55881 (Okubo Yu's translation): 60,077 morphemes, "
                                "split contiguously 90 / 5 / 5. Needs `pip install 'rnnlab[ja]'` to read.",
                 "licence": CC_JA,
                 "source": "Aozora Bunko, cards/000009/files/55881_ruby_50043 (`rnnlab data get holmes-ja`)"},
        "evaluation": {"split": "test", "batch_size": 1},
        "headline": {"metric": "perplexity", "note": "per morpheme on the last 5% of the text"},
    },
}


def template(name: str) -> dict:
    card = {"name": name, **CARDS[name]}
    card["evaluation"] = {**card["evaluation"], "data": None,
                          "command": f"rnnlab evaluate @{name} --split {card['evaluation']['split']} "
                                     f"--batch-size {card['evaluation']['batch_size']} --json"}
    return card


def main(argv: list[str]) -> int:
    runs = Path(argv[0])
    for name in argv[1:] or list(CARDS):
        minutes_file = runs / f"{name}.minutes"
        minutes = float(minutes_file.read_text()) if minutes_file.exists() else None
        package(runs / name, HERE / name, template(name), minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
