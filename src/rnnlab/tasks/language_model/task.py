"""The language-model task: a text read as characters, words or morphemes, learnt token by token."""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.commands import Command
from rnnlab.config import RunConfig
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, load_vocabulary
from rnnlab.runs import RunDir
from rnnlab.tasks.language_model.data import prepare_text_run
from rnnlab.tasks.language_model.model import build_language_model
from rnnlab.tasks.language_model.text_model import TextModel
from rnnlab.tasks.shared_options import LANGUAGE_MODEL_OPTIONS, TEXT_OPTIONS, TRAIN_OPTIONS
from rnnlab.tasks.stream import StreamData, StreamTask



class LanguageModelTask(StreamTask):
    name = "lm"
    description = "a language model of text: characters, words or Japanese morphemes (MeCab)"
    options = {"data": TEXT_OPTIONS, "model": LANGUAGE_MODEL_OPTIONS + ("init_embeddings",),
               "train": TRAIN_OPTIONS + ("engine", "bf16", "precision", "compile")}
    evaluate_options = ("data", "batch_size", "engine")
    generate_options = ("prime", "length", "top_k", "top_p", "beam", "precision")
    model_class = TextModel
    numpy_engine, inspects = "tokens", "text"
    exports = True
    commands = {"export": Command("rnnlab.tasks.language_model.export:add_export_arguments",
                                  "rnnlab.tasks.language_model.export:cmd_export",
                                  "write a text or MIDI-event run's one-step model as ONNX for a browser "
                                  "(onnxruntime-web)")}

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "lm" and config.data.modality == "text"

    def configure(self, data: dict) -> None:
        data.update(task="lm", modality="text")

    def read(self, config: RunConfig, run_folder: Path, resume: bool) -> StreamData:
        return prepare_text_run(config.data, run_folder, resume)

    def read_assets(self, run: RunDir) -> tuple:
        vocab, payload = load_vocabulary(run.vocab_path)
        return TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {}))), vocab, len(vocab), None

    def model_for(self, config: RunConfig, output_size: int):
        return build_language_model(config, output_size)

    def prepare(self, config, run, resume, placement):
        if config.model.init_embeddings and not resume:       # checked before the run directory is made
            from rnnlab.tasks.word2vec.vectors import vectors_for
            vectors_for(config)
        return super().prepare(config, run, resume, placement)

    def after_build(self, model, config, run, prepared, log) -> None:
        if config.model.init_embeddings:                        # --init-embeddings W2V_RUN
            from rnnlab.tasks.word2vec.vectors import init_language_model_embeddings
            log(init_language_model_embeddings(model, load_vocabulary(run.vocab_path)[0].tokens, config))

    def train(self, config, run, resume, callbacks, log):
        if config.train.engine == "numpy":                     # the from-scratch engine: same loop, NumPy steps
            from rnnlab.scratch.trainer import train_numpy
            return train_numpy(self, config, run, resume, callbacks, log)
        return super().train(config, run, resume, callbacks, log)

    def evaluate(self, args) -> int:
        from rnnlab.tasks.language_model.evaluate import evaluate_run

        if args.engine == "numpy":                     # the from-scratch engine reads the same run directory
            from rnnlab.scratch.adapter import open_numpy_run
            trained = open_numpy_run(self, args.run, args.checkpoint)
        else:
            trained = self.open_run(args.run, args.checkpoint, args.device, args.threads)
        result = evaluate_run(trained, args.split, args.data, args.batch_size)
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            return 0
        bpc = f", {result['bpc']:.4f} bits/char" if result["level"] == "char" else ""
        print(f"{result['data']}: perplexity {result['perplexity']:.2f}, NLL {result['nll']:.4f} nats/token{bpc} "
              f"over {result['tokens']:,} tokens (batch size {result['batch_size']}, state carried "
              f"across the whole text; {result['unknown_tokens']:,} tokens were <unk>)")
        return 0

    def generate(self, args) -> int:
        from rnnlab.tasks.language_model.generate import generate_command
        return generate_command(self.load(args.run, args.checkpoint, args.device, args.threads), args)

    def served(self, name, trained):
        from rnnlab.tasks.language_model.serving import TokenModel
        return TokenModel(name, trained)
