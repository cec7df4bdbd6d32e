"""The seq2seq task's own settings (config.json's "seq2seq" section)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.options import TaskSettings, option


@dataclass
class Seq2SeqConfig(TaskSettings):
    """Encoder-decoder options (--task seq2seq); cell, layers, hidden, embed, dropout come from ModelConfig.

    Saved as the "seq2seq" section of config.json; a preset may carry a "seq2seq" part too.
    """

    section = "seq2seq"

    direction: str = option("", "parallel corpus folder: which way to translate, e.g. en-ja or ja-en")
    max_length: int = option(100, "skip training pairs with more tokens than this on either side (counted)")
    reverse_source: bool = option(False, "feed the source backwards (Sutskever et al.; the book's reversed input)")
    bidirectional: bool = option(False, "bidirectional encoder; both directions bridged to the decoder's start")
    decoder: str = option("attention", "plain, peeky (summary joins every input and the output layer) or "
                          "attention", ("plain", "peeky", "attention"))
    attention: str = option("dot", "attention score: dot, general (Luong) or additive (Bahdanau)",
                            ("dot", "general", "additive"))
    input_feeding: bool = option(True, "attention: feed the last attentional state into the next step (Luong)")
    book_padding: bool = option(True, "the book's format: keep the spaces that pad questions and answers to a "
                                "fixed width, as the book does (attention learns the date task far faster with "
                                "them: the padding serves as a place to look when no character matters)")
    dev_limit: int = option(1000, "decode at most this many dev pairs per epoch for exact match / BLEU (0: all)")
    subword: str = option("none", "none: the corpus's own tokens (--level); unigram or bpe: SentencePiece "
                          "models of each side, trained on the training split and kept in the run "
                          "directory", ("none", "unigram", "bpe"))
    subword_vocab: int = option(8000, "--subword: SentencePiece vocabulary size of each side")
    normalize_source: bool = option(False, "translate: lowercase a raw source and split off its punctuation "
                                    "(`Where's it?` -> `where 's it ?`), as the corpus is written")
    label_smoothing: float = option(0.0, "train on (1 - e) NLL + e * the mean NLL over every output token "
                                    "(the logged losses stay plain NLL)")
    bucket: int = option(0, "group batches by length: pools of this many batches sorted by source and target "
                         "length, the batches then shuffled (0: off, random batches)")
    anneal: float = option(0.0, "with --max-minutes: decay the learning rate linearly to 1/50 over this final "
                           "fraction of the time budget (0: off)")
    warmup: int = option(0, "raise the learning rate linearly over the first N steps (0: off)")
