"""MIDI as a language of events (midi-events), and what every music task shares (MusicTask)."""

from __future__ import annotations

from pathlib import Path

from rnnlab.config import RunConfig
from rnnlab.options import field_names
from rnnlab.runs import RunDir
from rnnlab.tasks.language_model.model import build_language_model
from rnnlab.tasks.music.config import MidiConfig
from rnnlab.tasks.music.corpora import is_frame_corpus
from rnnlab.tasks.music.data import load_midi_run_assets, prepare_midi_run
from rnnlab.tasks.music.music_model import MusicModel
from rnnlab.tasks.music.sniff import holds_midi
from rnnlab.tasks.music.tokenizers import TOKENIZERS, make_tokenizer
from rnnlab.tasks.shared_options import LANGUAGE_MODEL_OPTIONS, TRAIN_OPTIONS
from rnnlab.tasks.stream import StreamData, StreamTask


class MusicTask(StreamTask):
    """What the music tasks share: MIDI files (or a benchmark's rolls) in, MIDI, audio and PNG out.
    Each says how it makes its tokeniser, composes, and scores a split."""

    evaluate_options = ("data", "batch_size")
    generate_options = ("prime", "top_k", "top_p", "out", "seconds", "bars", "audio")
    model_class = MusicModel
    modality = "midi"
    inspects = "midi"

    @classmethod
    def recognises(cls, corpus: str) -> dict:
        return {"modality": cls.modality} if holds_midi(corpus) else {}     # MIDI files, whatever their names

    def make_tokenizer(self, settings: dict, run_folder: Path | None = None):
        """The tokeniser (or codec) a run saved in its vocab.json, rebuilt."""
        raise NotImplementedError

    def read_assets(self, run: RunDir) -> tuple:
        return load_midi_run_assets(run, self.make_tokenizer)

    def compose(self, trained, primer: str, length, sampling):
        """A `Song` after `primer`, `length` (compose.Length) long."""
        raise NotImplementedError

    def score(self, trained, split: str, data_file: str | None, batch_size: int) -> dict:
        """`evaluate`'s numbers for a split, or for a folder of MIDI files."""
        raise NotImplementedError

    def describe_score(self, result: dict) -> str:
        """`evaluate`'s line for the terminal."""
        raise NotImplementedError

    def evaluate(self, args) -> int:
        from rnnlab.tasks.music.commands import evaluate_command
        return evaluate_command(self, args)

    def generate(self, args) -> int:
        from rnnlab.tasks.music.commands import generate_command
        return generate_command(self, args)


class MidiEventsTask(MusicTask):
    name = "midi-events"
    numpy_engine = "tokens"
    exports = True
    description = "MIDI as a language of events (smf-events, performance, remi, tsd tokens)"
    tokenizers = tuple(TOKENIZERS)
    settings = MidiConfig
    options = {"data": ("split", "tokenizer", "min_freq", "max_vocab"), "model": LANGUAGE_MODEL_OPTIONS,
               "train": TRAIN_OPTIONS, MidiConfig.section: field_names(MidiConfig)}

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        data = config.data
        return data.task == "lm" and data.modality == cls.modality and (
            data.tokenizer in cls.tokenizers or (data.tokenizer == "auto" and not is_frame_corpus(data.corpus)))

    def configure(self, data: dict) -> None:
        data.update(task="lm", modality=self.modality)
        if data.get("tokenizer", "auto") not in self.tokenizers:
            data["tokenizer"] = "performance"

    def read(self, config: RunConfig, run_folder: Path, resume: bool) -> StreamData:
        return prepare_midi_run(config.data, run_folder, resume, MidiConfig.of(config).transpose)

    def make_tokenizer(self, settings: dict, run_folder: Path | None = None):
        return make_tokenizer(settings, run_folder)

    def model_for(self, config: RunConfig, output_size: int):
        return build_language_model(config, output_size)

    def compose(self, trained, primer, length, sampling):
        from rnnlab.tasks.music.compose import compose_events
        return compose_events(trained, primer, length, sampling)

    def score(self, trained, split, data_file, batch_size):
        from rnnlab.tasks.music.evaluate import evaluate_events_run
        return evaluate_events_run(trained, split, data_file, batch_size)

    def describe_score(self, result: dict) -> str:
        from rnnlab.tasks.music.evaluate import describe
        return describe(result)

    def served(self, name, trained):
        from rnnlab.tasks.language_model.serving import TokenModel
        return TokenModel(name, trained)
