"""The dialogue task: a response to the last few utterances (flat seq2seq, HRED or VHRED)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from rnnlab.commands import Command
from rnnlab.config import RunConfig
from rnnlab.options import field_names
from rnnlab.tasks.dialogue.config import DialogueConfig
from rnnlab.data.tokenize import Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.runs import RunDir
from rnnlab.tasks.base import Prepared, Task, TrainedRun
from rnnlab.tasks.dialogue.respond import open_dialogue_run
from rnnlab.tasks.dialogue.train import DialogueObjective, build_dialogue_model, prepare_dialogues
from rnnlab.tasks.dialogue.chat_model import ChatModel
from rnnlab.tasks.shared_options import PAIR_TRAIN_OPTIONS, TEXT_OPTIONS
from rnnlab.train.distributed import Placement


@dataclass
class VocabularyPrepared(Prepared):
    """The dialogue task's data beside what the loop needs: the vocabulary the model is sized by."""

    vocab: Vocabulary


class DialogueTask(Task):
    name = "dialogue"
    description = "response generation from a dialogue's context (seq2seq, HRED, VHRED)"
    model_class = ChatModel
    commands = {"respond": Command("rnnlab.tasks.dialogue.commands:add_respond_arguments",
                                   "rnnlab.tasks.dialogue.commands:cmd_respond",
                                   "sample a response to a dialogue context (dialogue runs)"),
                "chat": Command("rnnlab.tasks.dialogue.commands:add_response_flags",
                                "rnnlab.tasks.dialogue.commands:cmd_chat",
                                "talk with a dialogue run: each line you type gets a response")}
    settings = DialogueConfig
    options = {"data": TEXT_OPTIONS, "model": ("cell", "layers", "hidden", "embed", "dropout", "init", "init_range"),
               "train": PAIR_TRAIN_OPTIONS, DialogueConfig.section: field_names(DialogueConfig)}
    defaults = {"data": {"level": "ja"}, "dialogue": {}}

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "dialogue"

    @classmethod
    def owns_corpus_name(cls, name: str) -> bool:
        from rnnlab.tasks.dialogue.data import DIALOGUE_CORPORA
        return name in DIALOGUE_CORPORA

    def configure(self, data: dict) -> None:
        data.update(task="dialogue")

    def prepare(self, config: RunConfig, run: RunDir, resume: bool, placement: Placement) -> Prepared:
        dialogue = DialogueConfig.of(config)
        saved = load_vocabulary(run.vocab_path)[0] if resume else None
        tokenizer, vocab, examples = prepare_dialogues(config, dialogue, saved)
        summary = (f"{len(examples['train'].responses):,} training responses (context {dialogue.context_size}), "
                   f"vocabulary {len(vocab):,}")
        objective = DialogueObjective(config, examples, vocab, placement)   # checks the batches before any file
        return VocabularyPrepared(summary, len(vocab), lambda folder: save_vocabulary(folder / "vocab.json", vocab,
                                                                                     tokenizer.config),
                                  lambda model: objective, vocab)

    def build_model(self, config: RunConfig, prepared: Prepared) -> torch.nn.Module:
        return build_dialogue_model(config, DialogueConfig.of(config), prepared.vocab)

    def describe_model(self, config: RunConfig, model) -> str:
        return f"{DialogueConfig.of(config).model}, " + super().describe_model(config, model)

    def open(self, run: RunDir, config: RunConfig, which: str, device: torch.device) -> TrainedRun:
        return open_dialogue_run(run, config, which, device)

    def evaluate(self, args) -> int:
        from rnnlab.tasks.dialogue.train import evaluate_dialogue_run

        result = evaluate_dialogue_run(self.open_run(args.run, args.checkpoint, args.device, args.threads), args.split)
        print(json.dumps(result, ensure_ascii=False) if args.json else
              f"{result['data']} ({args.split}): response perplexity {result['perplexity']:.2f} over "
              f"{result['responses']:,} responses" + (f" (the bound; reconstruction perplexity "
                                                     f"{result['reconstruction_perplexity']:.2f}, KL "
                                                     f"{result['kl_per_response']:.3f} nats/response)"
                                                     if "kl_per_response" in result else ""))
        return 0
