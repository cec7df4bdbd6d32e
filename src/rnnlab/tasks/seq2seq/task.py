"""The seq2seq task: source -> target pairs (the book's addition and dates, translation) with an
encoder-decoder: plain, peeky or attention."""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from rnnlab.commands import Command
from rnnlab.config import RunConfig
from rnnlab.options import field_names
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.runs import RunDir
from rnnlab.tasks.base import Prepared, Task
from rnnlab.tasks.shared_options import PAIR_MODEL_OPTIONS, PAIR_TRAIN_OPTIONS, TEXT_OPTIONS
from rnnlab.tasks.seq2seq.data import PreparedPairs, prepare_pairs
from rnnlab.tasks.seq2seq.model import build_seq2seq
from rnnlab.tasks.seq2seq.train import PairObjective, load_pair_vocabularies, save_pair_vocabularies, validate_seq2seq
from rnnlab.tasks.seq2seq.translate import PairRun, open_pair_run
from rnnlab.tasks.seq2seq.translator import Decoding, Translator
from rnnlab.train.distributed import Placement



@dataclass
class PairPrepared(Prepared):
    """A pair task's data beside what the loop needs: the vocabularies the model is sized by, and
    pretrained word vectors to start from (None: none)."""

    data: PreparedPairs
    pretrained: tuple | None


class Seq2SeqTask(Task):
    name = "seq2seq"
    description = "sequence to sequence: source -> target pairs (addition, dates, translation)"
    model_class = Translator
    commands = {"translate": Command("rnnlab.tasks.seq2seq.commands:add_translate_arguments",
                                     "rnnlab.tasks.seq2seq.commands:cmd_translate",
                                     "decode with a seq2seq run (greedy or beam search)", intermixed=True)}
    settings = Seq2SeqConfig
    options = {"data": TEXT_OPTIONS, "model": PAIR_MODEL_OPTIONS, "train": PAIR_TRAIN_OPTIONS + ("bf16", "precision", "compile", "average"),
               Seq2SeqConfig.section: field_names(Seq2SeqConfig)}
    defaults = {"data": {"level": "word"}, "seq2seq": {}}
    evaluate_options = ("data", "beam", "length_penalty")

    @classmethod
    def owns_corpus_name(cls, name: str) -> bool:
        from rnnlab.tasks.seq2seq.data import PAIR_CORPORA
        return name in PAIR_CORPORA

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "seq2seq"

    def configure(self, data: dict) -> None:
        data.update(task="seq2seq")

    def prepare(self, config: RunConfig, run: RunDir, resume: bool, placement: Placement) -> Prepared:
        seq = Seq2SeqConfig.of(config)
        validate_seq2seq(config, seq)
        data = prepare_pairs(config.data, seq, load_pair_vocabularies(run)[0] if resume else None)
        pretrained = None
        if config.model.init_embeddings and not resume:          # checked before the run directory is made
            from rnnlab.tasks.word2vec.vectors import vectors_for
            pretrained = vectors_for(config)
        summary = (f"{len(data.splits['train'].examples):,} training pairs"
                   + (f" ({data.skipped:,} over --max-length {seq.max_length} skipped)" if data.skipped else "")
                   + f", vocabulary {len(data.vocabs.source):,} -> {len(data.vocabs.target):,}"
                   + (f" SentencePiece {seq.subword} pieces" if data.vocabs.subword else ""))
        trained_s = 0.0
        if resume:
            metrics = run.read_metrics()
            trained_s = float(metrics[-1].get("elapsed_s", 0.0)) if metrics else 0.0
        objective = PairObjective(config, data, placement, trained_s)   # checks the batches before any file is written
        return PairPrepared(summary, len(data.vocabs.target), lambda folder: save_pair_vocabularies(RunDir(folder), data),
                            lambda model: objective, data, pretrained)

    def build_model(self, config: RunConfig, prepared: PairPrepared) -> torch.nn.Module:
        vocabs = prepared.data.vocabs
        return build_seq2seq(config.model, Seq2SeqConfig.of(config), len(vocabs.source), len(vocabs.target),
                             config.train.average)

    def after_build(self, model, config, run, prepared, log) -> None:
        if prepared.pretrained:
            from rnnlab.tasks.word2vec.vectors import init_seq2seq_embeddings
            log(init_seq2seq_embeddings(model, prepared.data.vocabs, *prepared.pretrained))

    def describe_model(self, config: RunConfig, model) -> str:
        m, seq = config.model, Seq2SeqConfig.of(config)
        params = sum(p.numel() for p in model.parameters())
        return (f"{m.layers}x{m.hidden} {m.cell} {'bidirectional ' if seq.bidirectional else ''}encoder, "
                f"{seq.decoder} decoder" + (f" ({seq.attention})" if seq.decoder == "attention" else "")
                + (", reversed source" if seq.reverse_source else "")
                + (", output layer tied to the target embedding" if m.tie_weights else "")
                + (f", weights averaged (decay {config.train.average})" if config.train.average else "")
                + f", {params:,} parameters")

    def open(self, run: RunDir, config: RunConfig, which: str, device: torch.device) -> PairRun:
        return open_pair_run(run, config, which, device)

    def evaluate(self, args) -> int:
        from rnnlab.tasks.seq2seq.evaluate import evaluate_pair_run

        Decoding(args.beam, args.length_penalty).validate()
        result = evaluate_pair_run(self.open_run(args.run, args.checkpoint, args.device, args.threads), args.split, args.data,
                                   args.beam, args.length_penalty)
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return 0
        d = result["decoding"]
        print(f"{result['data']}: exact match {100 * result['exact_match']:.2f}%, BLEU {result['bleu']:.2f} "
              f"(tokenize {result['bleu_tokenize']}), perplexity {result['perplexity']:.3f} over "
              f"{result['pairs']:,} pairs; {d['method']} decoding"
              + (f", beam {d['beam']}, length penalty {d['length_penalty']}" if d["method"] == "beam" else ""))
        return 0
