"""The NumPy model behind the contract rnnlab.train drives, and a run directory opened for it.

`rnnlab.train.loop` and `rnnlab.train.evaluate` know a model only through
`model(inputs, state, targets) -> LMOutput`, `initial_state(batch)` and `train()` / `eval()`.
`LMAdapter` gives the NumPy language model that face (token ids arrive as CPU tensors, the
summed NLL leaves as a NumPy scalar), so the same loop and the same perplexity protocol serve
both engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rnnlab.config import RunConfig
from rnnlab.tasks.music.midi import KEYS
from rnnlab.data.tokenize import Vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.gallery import WEIGHTS, is_shipped, read_weights
from rnnlab.models.output import LMOutput
from rnnlab.runs import RunDir
from rnnlab.scratch.model import LanguageModel, load_recurrent_layers, recurrent_layers
from rnnlab.models.averaging import averaged_state
from rnnlab.train.checkpoint import load_checkpoint


class LMAdapter:
    """A NumPy LanguageModel as rnnlab.train sees a model; the state is passed in and out."""

    def __init__(self, model: LanguageModel):
        self.model, self.training = model, True

    def train(self, mode: bool = True) -> "LMAdapter":
        self.training = mode
        return self

    def eval(self) -> "LMAdapter":
        return self.train(False)

    def initial_state(self, batch_size: int) -> list[tuple]:
        return [layer.cell.initial_state(batch_size) for layer in self.model.layers]

    def __call__(self, inputs: torch.Tensor, state: list, targets: torch.Tensor | None = None,
                 activation_reg: float = 0.0, temporal_reg: float = 0.0) -> LMOutput:
        """inputs, targets (time, batch) -> summed NLL of the targets and the state after the window."""
        self.model.state = state
        if targets is None:
            self.model.hidden(inputs.numpy(), self.training)
            return LMOutput(None, 0, self.model.state, None)
        nll = self.model.forward(inputs.numpy(), targets.numpy(), training=self.training)
        return LMOutput(np.float64(nll), targets.numel(), self.model.state, None)


@dataclass
class NumpyRun:
    """A run opened for the NumPy engine, with the fields of rnnlab.tasks.base.TrainedRun."""

    run: RunDir
    config: RunConfig
    tokenizer: object              # TextTokenizer, a MidiTokenizer, or the PianorollCodec
    vocab: Vocabulary
    model: LMAdapter | None        # a language model over tokens (text, MIDI events)
    layers: list = field(default_factory=list)   # a piano-roll run's recurrent stack (model is None)
    device: torch.device = torch.device("cpu")
    threads: int = 0               # CPU threads for its work (0: timed, the faster count kept)


def checkpoint_weights(run: RunDir, which: str, dtype) -> tuple[dict[str, np.ndarray], str]:
    if is_shipped(run.path):                # a shipped model: its one set of weights (already averaged)
        return {name: value.numpy().astype(dtype) for name, value in read_weights(run.path).items()}, str(run.path / WEIGHTS)
    checkpoint = run.best_checkpoint if which == "best" and run.best_checkpoint.exists() else run.last_checkpoint
    weights = load_checkpoint(checkpoint)["model"]
    weights = averaged_state(weights)     # --average: read with the average, as open_run reads it
    return {name: value.numpy().astype(dtype) for name, value in weights.items()}, str(checkpoint)


def open_numpy_run(task, path, which: str = "best", dtype=np.float32, frames: bool = False) -> NumpyRun:
    """Load a language-model run (text, or MIDI events) of `task`, trained by either engine, into the
    NumPy model; with `frames`, a piano-roll run's recurrent stack as well (its frame head stays in PyTorch)."""
    run = RunDir(path)
    config = run.load_config()
    if not task.numpy_engine:
        raise RnnlabError(f"{run.path}: a {task.name} run; the NumPy engine reads language models over text "
                          "or MIDI events")
    tokenizer, vocab, _, _ = task.read_assets(run)
    weights, source = checkpoint_weights(run, which, dtype)
    if task.numpy_engine == "frames":
        if not frames:
            raise RnnlabError(f"{run.path}: a piano-roll run (frames, not tokens); the NumPy engine reads "
                              "language models over text or MIDI events")
        layers = recurrent_layers(config.model, KEYS + 1, np.random.default_rng(0), dtype)   # keys + piece start
        try:
            load_recurrent_layers(layers, config.model.cell, weights)
        except (KeyError, ValueError) as err:
            raise RnnlabError(f"{source}: weights do not match the run's config ({err})") from None
        return NumpyRun(run, config, tokenizer, vocab, None, layers)
    model = LanguageModel(config.model, len(vocab), dtype)
    model.load_state_dict(weights, source)
    return NumpyRun(run, config, tokenizer, vocab, LMAdapter(model))
