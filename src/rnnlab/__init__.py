"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) to learn, use and play with.

    import rnnlab
    run = rnnlab.train("python-stdlib", "runs/demo", preset="char-small", max_minutes=2)
    model = rnnlab.load("runs/demo")
    print(model.generate("def ", length=300, temperature=0.8, seed=1))

The names below load on first use, so `import rnnlab` stays quick; PyTorch comes in with `train`
and `load`. rnnlab logs to the "rnnlab" logger: progress lines at INFO (not shown unless the
program asks, e.g. logging.basicConfig(level="INFO")), notes about the data at WARNING.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module

__version__ = "0.1.0"


PUBLIC = {
    "train": "rnnlab.api", "load": "rnnlab.api", "configure": "rnnlab.api", "corpora": "rnnlab.api",
    "presets": "rnnlab.api", "tasks": "rnnlab.api", "Run": "rnnlab.api",
    "models": "rnnlab.api",
    "RnnlabError": "rnnlab.errors",
    "TrainedModel": "rnnlab.tasks.trained", "VerbNotSupported": "rnnlab.tasks.trained",
    "TextModel": "rnnlab.tasks.language_model.text_model",
    "MusicModel": "rnnlab.tasks.music.music_model", "Song": "rnnlab.tasks.music.compose",
    "SeriesModel": "rnnlab.tasks.series.series_model", "Forecast": "rnnlab.tasks.series.generate",
    "Translator": "rnnlab.tasks.seq2seq.translator", "Translation": "rnnlab.tasks.seq2seq.translator",
    "Decoding": "rnnlab.tasks.seq2seq.translator",
    "ChatModel": "rnnlab.tasks.dialogue.chat_model",
    "WordVectorModel": "rnnlab.tasks.word2vec.vector_model",
    "SamplingConfig": "rnnlab.generate.sampling",
}
__all__ = ["__version__", *PUBLIC]


class _Package(types.ModuleType):
    """The package keeps the API's `train`, `tasks` and `presets` functions as its attributes, although
    modules of the same names live in it: importing a submodule binds it on its parent, and that
    binding is skipped here (the modules stay importable as usual)."""

    def __setattr__(self, name: str, value) -> None:
        if name in PUBLIC and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in PUBLIC:
        value = getattr(import_module(PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
