"""Command-line parts for seq2seq and word vectors: `translate`, `word2vec`, `similar`, `analogy`,
and the `train` / `evaluate` branches for runs whose task is not a language model.

cli.py keeps the table; this module adds its commands to it and holds their functions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

from rnnlab.config import PRESETS, DialogueConfig, Seq2SeqConfig, build_config
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir


# ---- train / evaluate branches ----------------------------------------------------------------
def run_task(path: str) -> str:
    """The task of an existing run directory (lm, seq2seq, word2vec)."""
    run = RunDir(path)
    if not run.holds_run():
        return ""
    return run.load_config().data.task


def train_other_task(args, overrides: dict) -> bool:
    """Train a seq2seq run when the task (a flag, the preset, the resumed run or a pair corpus) says
    so; False leaves the language-model path to cli.py."""
    from rnnlab.data.corpora import CORPORA
    from rnnlab.tasks.seq2seq.data import PAIR_CORPORA
    from rnnlab.tasks.seq2seq.train import train_pairs

    if args.resume:
        if run_task(args.out) == "dialogue":
            from rnnlab.tasks.dialogue.train import train_dialogue
            train_dialogue(None, None, args.out, resume=True, overrides=overrides)
            return True
        if run_task(args.out) != "seq2seq":
            return False
        train_pairs(None, None, args.out, resume=True, overrides=overrides)
        return True
    preset = PRESETS.get(args.preset or "", {})
    task = overrides["data"].get("task") or preset.get("data", {}).get("task")
    if task is None and args.corpus in PAIR_CORPORA:
        task = "seq2seq"
    if task == "dialogue":
        from rnnlab.tasks.dialogue.train import train_dialogue
        if not args.corpus:
            raise RnnlabError("train --task dialogue needs a corpus: mrmp-chat-ja or a folder of its JSON files")
        overrides["data"].update(corpus=args.corpus, task="dialogue")
        overrides["data"].setdefault("level", "ja")
        config = build_config(args.preset or "", overrides)
        train_dialogue(config, dataclasses.replace(DialogueConfig(), **overrides.get("dialogue", {})), args.out)
        return True
    if task != "seq2seq":
        check_language_model_embeddings(args, overrides, preset)
        return False
    if not args.corpus:
        raise RnnlabError("train --task seq2seq needs PAIRS (a TSV file, a.src,a.tgt, a folder, or addition, "
                          "date, small-parallel-enja)")
    overrides["data"].update(corpus=args.corpus, task="seq2seq")
    if "level" not in overrides["data"] and "level" not in preset.get("data", {}):
        overrides["data"]["level"] = CORPORA[args.corpus].level if args.corpus in CORPORA else "word"
    config = build_config(args.preset or "", overrides)
    seq = dataclasses.replace(Seq2SeqConfig(), **preset.get("seq2seq", {}), **overrides.get("seq2seq", {}))
    train_pairs(config, seq, args.out)
    return True


def check_language_model_embeddings(args, overrides: dict, preset: dict) -> None:
    """--init-embeddings for a language model: check size and level before the run directory exists."""
    from rnnlab.data.corpora import CORPORA
    if not overrides["model"].get("init_embeddings") or not args.corpus:
        return
    data = dict(overrides["data"])
    if "level" not in data and not args.preset and args.corpus in CORPORA:
        data["level"] = CORPORA[args.corpus].level
    from rnnlab.tasks.word2vec.train import vectors_for
    vectors_for(build_config(args.preset or "", {**overrides, "data": {**data, "corpus": args.corpus}}))


def evaluate_other_task(args) -> bool:
    """`evaluate --analogies` and seq2seq runs; False leaves language models to cli.py."""
    if getattr(args, "analogies", None):
        from rnnlab.tasks.word2vec.train import evaluate_analogies_run
        result = evaluate_analogies_run(args.run, args.analogies, args.restrict_vocab, not args.case_sensitive)
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"{result['file']}: accuracy {100 * result['accuracy']:.2f}% on {result['seen']:,} of "
                  f"{result['total']:,} questions (coverage {100 * result['coverage']:.1f}%; semantic "
                  f"{100 * result['semantic_accuracy']:.2f}%, syntactic {100 * result['syntactic_accuracy']:.2f}%)")
        return True
    task = run_task(args.run)
    if task == "word2vec":
        raise RnnlabError(f"{args.run}: a word2vec run; evaluate it with --analogies FILE "
                          "(e.g. questions-words.txt)")
    if task == "dialogue":
        from rnnlab.tasks.dialogue.train import evaluate_dialogue_run
        result = evaluate_dialogue_run(args.run, args.split, args.device, args.checkpoint)
        print(json.dumps(result, ensure_ascii=False) if args.json else
              f"{result['data']} ({args.split}): response perplexity {result['perplexity']:.2f} over "
              f"{result['responses']:,} responses" + (f" (the bound; reconstruction perplexity "
                                                     f"{result['reconstruction_perplexity']:.2f}, KL "
                                                     f"{result['kl_per_response']:.3f} nats/response)"
                                                     if "kl_per_response" in result else ""))
        return True
    if task != "seq2seq":
        return False
    from rnnlab.tasks.seq2seq.evaluate import evaluate_pair_run
    check_decoding(args)
    result = evaluate_pair_run(args.run, args.split, args.data, args.device, args.checkpoint, args.beam,
                               args.length_penalty)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        d = result["decoding"]
        print(f"{result['data']}: exact match {100 * result['exact_match']:.2f}%, BLEU {result['bleu']:.2f} "
              f"(tokenize {result['bleu_tokenize']}), perplexity {result['perplexity']:.3f} over "
              f"{result['pairs']:,} pairs; {d['method']} decoding"
              + (f", beam {d['beam']}, length penalty {d['length_penalty']}" if d["method"] == "beam" else ""))
    return True


def check_decoding(args) -> None:
    """--beam, --length-penalty, --n-best and --max-length, all problems in one message."""
    problems = []
    if args.beam < 0:
        problems.append("--beam must be 0 (greedy) or a width of at least 1")
    if not (math.isfinite(args.length_penalty) and args.length_penalty >= 0):
        problems.append("--length-penalty must be a number of at least 0")
    if getattr(args, "n_best", 1) < 1:
        problems.append("--n-best must be at least 1")
    if getattr(args, "n_best", 1) > max(args.beam, 1):
        problems.append("--n-best cannot exceed --beam (greedy decoding finds one hypothesis)")
    if getattr(args, "max_length", 0) < 0:
        problems.append("--max-length must be 0 (from the training data) or positive")
    if problems:
        raise RnnlabError("; ".join(problems))


def add_evaluate_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--beam", type=int, default=0, help="seq2seq: beam search of this width (0: greedy)")
    p.add_argument("--length-penalty", type=float, default=0.0, help="seq2seq beam: GNMT alpha (0: none)")
    p.add_argument("--analogies", help="word2vec run: score this analogy file (questions-words.txt format)")
    p.add_argument("--restrict-vocab", type=int, default=30000,
                   help="analogies: only the most frequent N words take part (compute-accuracy's threshold)")
    p.add_argument("--case-sensitive", action="store_true", help="analogies: do not upper-case words")


# ---- translate ------------------------------------------------------------------------------
def cmd_translate(args) -> int:
    from rnnlab.tasks.seq2seq.translate import open_pair_run, output_text, translate
    from rnnlab.train.distributed import pick_device

    check_decoding(args)
    trained = open_pair_run(args.run, args.checkpoint, pick_device(args.device))
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise RnnlabError("translate needs TEXT arguments or lines on standard input")
    if args.attention_map and trained.seq.decoder != "attention":
        raise RnnlabError(f"{args.run}: --attention-map needs a run trained with --decoder attention "
                          f"(this one is {trained.seq.decoder})")
    for number, text in enumerate(texts):
        hypotheses, tokens = translate(trained, text, args.beam, args.length_penalty, args.n_best, args.max_length)
        unknown = trained.vocabs.source.unknown(tokens)
        if unknown:
            print(f"note: source tokens not in the vocabulary, read as <unk>: {' '.join(unknown)}", file=sys.stderr)
        if args.n_best > 1:
            print(f"> {text}")
            for rank, h in enumerate(hypotheses, 1):
                print(f"{rank}\t{h.score:.4f}\t{h.log_prob:.4f}\t{output_text(trained, h.tokens)}")
        else:
            print(output_text(trained, hypotheses[0].tokens))
        if args.attention_map and number == 0:
            from rnnlab.render.attention import save_attention_map
            best = hypotheses[0]
            outputs = best.tokens + ["</s>"]
            save_attention_map(best.weights[:len(outputs)], tokens, outputs, Path(args.attention_map),
                               f"{text.strip()} -> {output_text(trained, best.tokens)}")
            print(f"attention map of {text!r} written to {args.attention_map}", file=sys.stderr)
    return 0


# ---- word vectors -----------------------------------------------------------------------------
def cmd_word2vec(args) -> int:
    from rnnlab.tasks.word2vec.train import Word2VecConfig, train_word2vec

    fields = {f.name for f in dataclasses.fields(Word2VecConfig)}
    config = Word2VecConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
    train_word2vec(config, args.out)
    return 0


def word_vectors_for(args):
    """The run's word vectors for `similar` / `analogy`, once --top is known to make sense."""
    from rnnlab.tasks.word2vec.train import load_word_vectors

    if args.top < 1:
        raise RnnlabError("--top must be at least 1")
    return load_word_vectors(args.run)


def cmd_similar(args) -> int:
    vectors = word_vectors_for(args)
    for word, similarity in vectors.most_similar(args.word, args.top):
        print(f"{similarity:.4f}\t{word}")
    return 0


def cmd_analogy(args) -> int:
    vectors = word_vectors_for(args)
    for word, similarity in vectors.analogy(args.a, args.b, args.c, args.top):
        print(f"{similarity:.4f}\t{word}")
    return 0


def add_response_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("run")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=20)
    p.add_argument("--greedy", action="store_true")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default="cpu")


def cmd_respond(args) -> int:
    from rnnlab.tasks.dialogue.respond import respond

    if not args.context:
        raise RnnlabError("respond needs at least one --context UTTERANCE (oldest first)")
    for line in respond(args.run, [args.context], args.samples, args.temperature, args.top_k, args.greedy,
                        args.seed, args.device)[0]:
        print(line)
    return 0


def cmd_chat(args) -> int:
    """Read one utterance per line; answer each, keeping the conversation as context."""
    from rnnlab.tasks.dialogue.respond import open_dialogue_run, respond

    loaded = open_dialogue_run(args.run, "best", args.device)
    history: list[str] = []
    print("(one utterance per line; end with Ctrl-D)", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            continue
        history.append(line.strip())
        reply = respond(args.run, [history], 1, args.temperature, args.top_k, args.greedy, args.seed,
                        args.device, loaded)[0][0]
        history.append(reply)
        print(reply, flush=True)
    return 0


def add_commands(sub) -> None:
    """This module's sub-commands, added to cli.py's parser."""
    p = sub.add_parser("translate", help="decode with a seq2seq run (greedy or beam search)")
    p.add_argument("run")
    p.add_argument("texts", nargs="*", help="source strings (none: one per line on standard input)")
    p.add_argument("--beam", type=int, default=0, help="beam width (0: greedy)")
    p.add_argument("--length-penalty", type=float, default=0.0, help="GNMT length penalty alpha for beam search")
    p.add_argument("--n-best", type=int, default=1, help="print this many hypotheses per source (beam search)")
    p.add_argument("--max-length", type=int, default=0, help="output tokens at most (0: from the training data)")
    p.add_argument("--attention-map", help="write the first source's attention weights as a PNG heat map")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    p.add_argument("--device", default="auto")

    from rnnlab.tasks.word2vec.train import Word2VecConfig
    p = sub.add_parser("word2vec", help="train word vectors (CBOW / skip-gram, negative sampling) with gensim")
    p.add_argument("corpus", help="text file, folder, or named corpus (rnnlab data list)")
    p.add_argument("--out", required=True, help="run directory to create")
    for f in dataclasses.fields(Word2VecConfig):
        if f.name == "corpus":
            continue
        flag, help_text = "--" + f.name.replace("_", "-"), f"{f.metadata.get('help', '')} (default: {f.default})"
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            p.add_argument(flag, type={"int": int, "float": float}.get(str(f.type), str), default=None,
                           help=help_text, choices=f.metadata.get("choices"))

    p = sub.add_parser("similar", help="nearest words by cosine similarity in a word2vec run")
    p.add_argument("run")
    p.add_argument("word")
    p.add_argument("--top", type=int, default=10)

    p = sub.add_parser("respond", help="sample a response to a dialogue context (--task dialogue runs)")
    add_response_flags(p)
    p.add_argument("--context", action="append", default=[], help="an utterance of context; repeat, oldest first")
    p.add_argument("--samples", type=int, default=1, help="responses to sample")

    p = sub.add_parser("chat", help="talk with a dialogue run: each line you type gets a response")
    add_response_flags(p)

    p = sub.add_parser("analogy", help="A - B + C: `king man woman` -> queen (3CosAdd)")
    p.add_argument("run")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("--top", type=int, default=5)


COMMANDS = {"respond": cmd_respond, "chat": cmd_chat, "translate": cmd_translate, "word2vec": cmd_word2vec, "similar": cmd_similar, "analogy": cmd_analogy}
