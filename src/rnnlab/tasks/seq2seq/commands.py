"""`rnnlab translate`: decode sources with a seq2seq run, greedy or by beam search."""

from __future__ import annotations

import sys
from pathlib import Path

from rnnlab.commands import add_device_flags
from rnnlab.errors import RnnlabError
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.tasks.seq2seq.task import Seq2SeqTask


def add_decoding_flags(p) -> None:
    p.add_argument("--beam", type=int, default=0, help="beam search of this width (0: greedy)")
    p.add_argument("--length-penalty", type=float, default=0.0, help="beam search: GNMT length penalty alpha (0: none)")


def add_translate_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("texts", nargs="*", default=[], help="source strings (none: one per line on standard input)")
    add_decoding_flags(p)
    p.add_argument("--n-best", type=int, default=1, help="print this many hypotheses per source (beam search)")
    p.add_argument("--max-length", type=int, default=0, help="output tokens at most (0: from the training data)")
    p.add_argument("--attention-map", help="write the first source's attention weights as a PNG heat map")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    add_device_flags(p)


def shorten(text: str, width: int = 60) -> str:
    """A source as a log line quotes it: the whole of a short one, the start of a long one."""
    if len(text) <= width:
        return repr(text)
    return f"{text[:width]!r}… ({len(text):,} characters)"


def cmd_translate(args) -> int:
    from rnnlab.tasks.seq2seq.translator import Decoding

    decoding = Decoding(args.beam, args.length_penalty, args.n_best, args.max_length)
    decoding.validate()
    for number, text in enumerate(args.texts, 1):
        if not text.strip():
            raise RnnlabError(f"text {number} is empty: give each source as a non-empty argument")
    translator = Seq2SeqTask().load(args.run, args.checkpoint, args.device, args.threads)
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise RnnlabError("translate needs TEXT arguments or lines on standard input")
    if args.attention_map and Seq2SeqConfig.of(translator.config).decoder != "attention":
        raise RnnlabError(f"{args.run}: --attention-map needs a run trained with --decoder attention "
                          f"(this one is {Seq2SeqConfig.of(translator.config).decoder})")
    for number, found in enumerate(translator.translations(texts, decoding)):
        if found.unknown:
            more = f" ({len(found.unknown)} in all)" if len(found.unknown) > 20 else ""
            print(f"note: source tokens not in the vocabulary, read as <unk>: {' '.join(found.unknown[:20])}{more}",
                  file=sys.stderr)
        if args.n_best > 1:
            print(f"> {found.source}")
            for rank, (text, score, log_prob) in enumerate(zip(found.texts, found.scores, found.log_probs), 1):
                print(f"{rank}\t{score:.4f}\t{log_prob:.4f}\t{text}")
        else:
            print(found.text)
        if args.attention_map and number == 0:
            from rnnlab.tasks.seq2seq.attention_map import save_attention_map
            outputs = found.hypotheses[0].tokens + ["</s>"]
            note = save_attention_map(found.hypotheses[0].weights[:len(outputs)], found.source_tokens, outputs,
                                      Path(args.attention_map), f"{found.source.strip()} -> {found.text}")
            if note:
                print(f"note: {note}", file=sys.stderr)
            print(f"attention map of {shorten(found.source)} written to {args.attention_map}", file=sys.stderr)
    return 0
