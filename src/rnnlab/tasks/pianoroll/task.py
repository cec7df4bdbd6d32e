"""Polyphonic piano rolls: 88 keys a frame, a Bernoulli or RNN-NADE output (JSB, Nottingham, ...)."""

from __future__ import annotations

from pathlib import Path

from rnnlab.config import RunConfig
from rnnlab.options import field_names
from rnnlab.tasks.shared_options import NON_SOFTMAX_TRAIN_OPTIONS
from rnnlab.tasks.music.corpora import is_frame_corpus
from rnnlab.tasks.music.task import MusicTask
from rnnlab.tasks.pianoroll.codec import PianorollCodec
from rnnlab.tasks.pianoroll.config import PianorollConfig
from rnnlab.tasks.pianoroll.data import prepare_pianoroll_run
from rnnlab.tasks.pianoroll.model import PianorollModel
from rnnlab.tasks.stream import StreamData


class PianorollTask(MusicTask):
    name = "pianoroll"
    numpy_engine = "frames"
    description = "polyphonic piano rolls: 88 keys a frame, a Bernoulli or NADE output (JSB, Nottingham, ...)"
    tokenizers = (PianorollCodec.name,)
    settings = PianorollConfig
    options = {"data": ("split",), PianorollConfig.section: field_names(PianorollConfig),
               "model": ("cell", "layers", "hidden", "dropout", "dropout_embed", "weight_drop", "variational", "init",
                         "init_range"),
               "train": NON_SOFTMAX_TRAIN_OPTIONS + ("average",)}
    default_preset = "poly-lstm"
    generate_options = ("prime", "top_k", "out", "seconds", "bars", "audio")

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        data = config.data        # "auto" on a benchmark set of piano rolls (JSB, ...) is a piano roll too
        return data.task == "lm" and data.modality == cls.modality and (
            data.tokenizer in cls.tokenizers or (data.tokenizer == "auto" and is_frame_corpus(data.corpus)))

    def configure(self, data: dict) -> None:
        data.update(task="lm", modality=self.modality, tokenizer=PianorollCodec.name)

    def read(self, config: RunConfig, run_folder: Path, resume: bool) -> StreamData:
        return prepare_pianoroll_run(config.data, PianorollConfig.of(config), run_folder, resume)

    def make_tokenizer(self, settings: dict, run_folder: Path | None = None):
        return PianorollCodec(settings, run_folder)

    def model_for(self, config: RunConfig, output_size: int):
        return PianorollModel(config.model, PianorollConfig.of(config), output_size, config.train.average)

    def describe_model(self, config: RunConfig, model) -> str:
        return super().describe_model(config, model) + f", {PianorollConfig.of(config).frame_head} head"

    def compose(self, trained, primer, length, sampling):
        from rnnlab.tasks.pianoroll.compose import compose_frames
        return compose_frames(trained, primer, length, sampling)

    def score(self, trained, split, data_file, batch_size):
        from rnnlab.tasks.pianoroll.evaluate import evaluate_pianoroll_run
        return evaluate_pianoroll_run(trained, split, data_file, batch_size)

    def describe_score(self, result: dict) -> str:
        from rnnlab.tasks.pianoroll.evaluate import describe
        return describe(result)

    def served(self, name, trained):
        from rnnlab.tasks.pianoroll.serving import FrameModel
        return FrameModel(name, trained)
