"""The two music tasks: MIDI as event tokens (a language model of events) and as piano rolls."""

from __future__ import annotations

from pathlib import Path

from rnnlab.config import DataConfig, RunConfig
from rnnlab.runs import RunDir
from rnnlab.tasks.language_model.model import build_language_model
from rnnlab.tasks.language_model.task import LANGUAGE_MODEL_OPTIONS, TRAIN_OPTIONS
from rnnlab.tasks.music.sniff import holds_midi
from rnnlab.tasks.music.data import load_midi_run_assets, prepare_midi_run, tokenizer_settings
from rnnlab.tasks.music.pianoroll_model import PianorollModel
from rnnlab.tasks.music.music_model import MusicModel
from rnnlab.tasks.stream import StreamData, StreamTask

MUSIC_DATA_OPTIONS = ("split", "transpose")


def is_pianoroll(config: RunConfig) -> bool:
    return tokenizer_settings(config.data)["name"] == "pianoroll"


class MusicTask(StreamTask):
    """What both music tasks share: MIDI files (or a benchmark's rolls) in, MIDI, audio and PNG out."""

    evaluate_options = ("data", "batch_size")
    generate_options = ("prime", "top_k", "top_p", "out", "seconds", "bars", "audio")
    model_class = MusicModel
    inspects = "midi"

    @classmethod
    def recognises(cls, corpus: str) -> dict:
        return {"modality": "midi"} if holds_midi(corpus) else {}     # MIDI files, whatever their names

    def read(self, config: DataConfig, run_folder: Path, resume: bool) -> StreamData:
        return prepare_midi_run(config, run_folder, resume)

    def read_assets(self, run: RunDir) -> tuple:
        return load_midi_run_assets(run)

    def evaluate(self, args) -> int:
        from rnnlab.tasks.music.commands import evaluate_command
        return evaluate_command(self, args)

    def generate(self, args) -> int:
        from rnnlab.tasks.music.commands import generate_command
        return generate_command(self, args)


class MidiEventsTask(MusicTask):
    name = "midi-events"
    numpy_engine = "tokens"
    description = "MIDI as a language of events (smf-events, performance, remi, tsd tokens)"
    options = {"data": MUSIC_DATA_OPTIONS + ("tokenizer", "min_freq", "max_vocab"), "model": LANGUAGE_MODEL_OPTIONS,
               "train": TRAIN_OPTIONS}

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "lm" and config.data.modality == "midi" and not is_pianoroll(config)

    def configure(self, data: dict) -> None:
        data.update(task="lm", modality="midi")
        if data.get("tokenizer", "auto") in ("auto", "pianoroll"):
            data["tokenizer"] = "performance"

    def model_for(self, config: RunConfig, output_size: int):
        return build_language_model(config, output_size)

    def served(self, name, trained):
        from rnnlab.tasks.language_model.serving import TokenModel
        return TokenModel(name, trained)


class PianorollTask(MusicTask):
    name = "pianoroll"
    numpy_engine = "frames"
    description = "polyphonic piano rolls: 88 keys a frame, a Bernoulli or NADE output (JSB, Nottingham, ...)"
    options = {"data": MUSIC_DATA_OPTIONS + ("steps_per_beat",),
               "model": ("cell", "layers", "hidden", "dropout", "dropout_embed", "weight_drop", "variational", "init",
                         "init_range", "frame_head", "nade_hidden"),
               "train": tuple(o for o in TRAIN_OPTIONS if o not in ("activation_reg", "temporal_reg", "fused_loss"))
               + ("average",)}
    default_preset = "poly-lstm"
    generate_options = ("prime", "top_k", "out", "seconds", "bars", "audio")

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "lm" and config.data.modality == "midi" and is_pianoroll(config)

    def configure(self, data: dict) -> None:
        data.update(task="lm", modality="midi", tokenizer="pianoroll")

    def model_for(self, config: RunConfig, output_size: int):
        return PianorollModel(config.model, output_size, config.train.average)

    def describe_model(self, config: RunConfig, model) -> str:
        return super().describe_model(config, model) + f", {config.model.frame_head} head"

    def served(self, name, trained):
        from rnnlab.tasks.music.serving import FrameModel
        return FrameModel(name, trained)
