"""The series task: multi-dimensional series and pen strokes, a Gaussian or mixture-density output."""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.config import RunConfig
from rnnlab.options import field_names
from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import sampling_from_args
from rnnlab.runs import RunDir
from rnnlab.tasks.shared_options import NON_SOFTMAX_TRAIN_OPTIONS
from rnnlab.tasks.series.config import SeriesConfig
from rnnlab.tasks.series.data import load_series_run_assets, prepare_series_run
from rnnlab.tasks.series.model import build_series_model
from rnnlab.tasks.series.series_model import SeriesModel
from rnnlab.tasks.stream import StreamData, StreamTask


class SeriesTask(StreamTask):
    name = "series"
    modality = "series"
    description = "multi-dimensional series (CSV columns) and pen strokes: forecasts and drawings"
    model_class = SeriesModel
    settings = SeriesConfig
    options = {"data": ("split",), "model": ("cell", "layers", "hidden", "dropout", "variational", "init", "init_range"),
               SeriesConfig.section: field_names(SeriesConfig),
               "train": NON_SOFTMAX_TRAIN_OPTIONS}
    evaluate_options = ("data",)
    generate_options = ("length", "out", "prime_file", "context")

    @classmethod
    def owns_corpus_name(cls, name: str) -> bool:
        from rnnlab.tasks.series.data import STATSMODELS_PREFIX
        return name.startswith(STATSMODELS_PREFIX)

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "lm" and config.data.modality == cls.modality

    def configure(self, data: dict) -> None:
        data.update(task="lm", modality=self.modality)

    def read(self, config: RunConfig, run_folder: Path, resume: bool) -> StreamData:
        return prepare_series_run(config.data, SeriesConfig.of(config), run_folder, resume)

    def read_assets(self, run: RunDir) -> tuple:
        return load_series_run_assets(run)

    def model_for(self, config: RunConfig, output_size: int):
        return build_series_model(config, output_size)

    def evaluate(self, args) -> int:
        from rnnlab.tasks.series.evaluate import describe, evaluate_series_run

        result = evaluate_series_run(self.open_run(args.run, args.checkpoint, args.device, args.threads), args.split, args.data)
        print(json.dumps(result, ensure_ascii=False) if args.json else describe(result))
        return 0

    def generate(self, args) -> int:
        from rnnlab.tasks.series.generate import generate_series

        if not args.out:
            raise RnnlabError(f"{args.run}: a series run writes CSV and PNG; pass --out forecast.csv")
        model = self.load(args.run, args.checkpoint, args.device, args.threads)
        written = generate_series(model, sampling_from_args(args), Path(args.out), args.prime_file, args.context)
        print(f"{written['steps']} steps after {written['prime_steps']} of prime: {written['csv']}, {written['png']}")
        return 0

    def served(self, name, trained):
        from rnnlab.tasks.series.serving import VectorModel
        return VectorModel(name, trained)
