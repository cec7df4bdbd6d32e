"""The language model of `rnnlab.tasks.language_model.model` again in NumPy: same layers, same state dict.

embedding -> dropout -> [recurrent layer, dropout between] -> dropout -> (projection) -> affine
and softmax with loss (one layer). `state_dict` / `load_state_dict` speak PyTorch's names and
layout (through `torch_layout.map_weights`), so a run trained by either engine loads in the other.
"""

from __future__ import annotations

import numpy as np

from rnnlab.config import ModelConfig
from rnnlab.errors import RnnlabError
from rnnlab.scratch.cells import make_cell
from rnnlab.scratch.layers import Affine, AffineSoftmaxWithLoss, Dropout, Embedding
from rnnlab.scratch.time_layers import TimeRecurrent
from rnnlab.scratch.torch_layout import map_weights


def recurrent_layers(config: ModelConfig, input_size: int, rng: np.random.Generator, dtype=np.float32,
                     ) -> list[TimeRecurrent]:
    """The stack of `config.layers` recurrent layers that rnnlab.models.recurrent.StackedRecurrent is."""
    sizes = [input_size] + [config.hidden] * config.layers
    peepholes = config.cell == "lstm-peephole"                 # the LSTM with peepholes=True
    return [TimeRecurrent(make_cell("lstm" if peepholes else config.cell, sizes[k], sizes[k + 1], rng, dtype,
                                    peepholes=peepholes)) for k in range(config.layers)]


def load_recurrent_layers(layers: list[TimeRecurrent], cell: str, weights: dict[str, np.ndarray],
                          prefix: str = "recurrent.layers.") -> None:
    """Copy StackedRecurrent's PyTorch-layout weights (`{prefix}{k}.weight_ih_l0`, ...) into the layers."""
    for k, layer in enumerate(layers):
        start = f"{prefix}{k}."
        torch_side = {name[len(start):]: value for name, value in weights.items() if name.startswith(start)}
        for name, value in map_weights(cell, torch_side, to="numpy").items():
            layer.params[name][...] = value


class LanguageModel:
    """Token ids (time, batch) -> summed NLL of the targets; state carried between calls."""

    def __init__(self, config: ModelConfig, vocab_size: int, dtype=np.float32, seed: int = 0):
        if config.dropout_site != "between":
            raise RnnlabError(f"--dropout-site {config.dropout_site}: the NumPy engine has no such layer "
                              "(the seed's Chainer LSTM, rnnlab.models.cells); only PyTorch runs it")
        self.config, self.vocab_size = config, vocab_size
        self.rng = np.random.default_rng(seed)
        rng, embed, hidden = self.rng, config.embed_size, config.hidden
        self.embedding = Embedding(vocab_size, embed, rng, dtype)
        self.embed_dropout = Dropout(config.dropout_embed, rng, config.variational)
        self.layers = recurrent_layers(config, embed, rng, dtype)
        self.between = [Dropout(config.dropout, rng, config.variational) for _ in self.layers[1:]]
        self.output_dropout = Dropout(config.dropout, rng, config.variational)
        tied = config.tie_weights
        self.project = Affine(hidden, embed, rng, dtype, bias=False) if tied and embed != hidden else None
        self.decoder = AffineSoftmaxWithLoss(embed if tied else hidden, vocab_size, rng, dtype)
        if tied:
            self.decoder.tie(self.embedding.params["W"].T)               # a view: one array, two uses
        self.modules = {"embedding": self.embedding, "project": self.project, "decoder": self.decoder,
                        **{f"layers.{k}": layer for k, layer in enumerate(self.layers)}}
        self.params = {f"{m}.{k}": p for m, module in self.modules.items() if module is not None
                       for k, p in module.params.items() if not (tied and m == "decoder" and k == "W")}
        self.grads = {name: self._grad(name) for name in self.params}
        self.shape = None

    def _grad(self, name: str) -> np.ndarray:
        module, key = name.rsplit(".", 1)
        return self.modules[module].grads[key]

    # ---- forward and backward -------------------------------------------------------------
    def hidden(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Last layer's output after output dropout: inputs (time, batch) -> (time, batch, hidden)."""
        x = self.embed_dropout.forward(self.embedding.forward(inputs), training)   # (time, batch, embed)
        for k, layer in enumerate(self.layers):
            if k:
                x = self.between[k - 1].forward(x, training)
            x = layer.forward(x)
        return self.output_dropout.forward(x, training)

    def features(self, hidden: np.ndarray) -> np.ndarray:
        """(time, batch, hidden) -> (time*batch, features) entering the output layer."""
        flat = hidden.reshape(-1, hidden.shape[-1])
        return self.project.forward(flat) if self.project is not None else flat

    def scores(self, hidden: np.ndarray) -> np.ndarray:
        """(time, batch, hidden) -> (time*batch, vocab) unnormalised log-probabilities."""
        return self.decoder.scores(self.features(hidden))

    def forward(self, inputs: np.ndarray, targets: np.ndarray, training: bool = False,
                keep: bool | None = None) -> float:
        """Summed NLL (nats) of targets (time, batch); keep what backward needs if training or keep."""
        self.shape = inputs.shape
        features = self.features(self.hidden(inputs, training))
        return self.decoder.forward(features, targets.reshape(-1), keep=training if keep is None else keep)

    def backward(self, dloss: float = 1.0) -> None:
        """Fill `grads` with d(dloss * NLL)/d(params) of the last forward (dloss = 1/tokens: mean)."""
        T, N = self.shape
        d = self.decoder.backward(dloss)                                 # (time*batch, features)
        if self.project is not None:
            d = self.project.backward(d)
        d = self.output_dropout.backward(d.reshape(T, N, -1))
        for k in reversed(range(len(self.layers))):
            d = self.layers[k].backward(d)
            if k:
                d = self.between[k - 1].backward(d)
        self.embedding.backward(self.embed_dropout.backward(d))
        if self.config.tie_weights:
            self.grads["embedding.W"] += self.decoder.grads["W"].T

    def step_logits(self, inputs: np.ndarray) -> np.ndarray:
        """Scores of the last position, (batch, vocab), continuing the carried state."""
        hidden = self.hidden(inputs)
        return self.scores(hidden[-1:])

    # ---- state carried between windows ------------------------------------------------------
    @property
    def state(self) -> list[tuple]:
        return [layer.state for layer in self.layers]

    @state.setter
    def state(self, value: list[tuple] | None) -> None:
        for layer, layer_state in zip(self.layers, value or [None] * len(self.layers)):
            layer.state = layer_state

    def reset_state(self) -> None:
        self.state = None

    # ---- PyTorch names and layout -------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights under rnnlab.tasks.language_model.model.LanguageModel's names, in PyTorch's layout."""
        out = {"embedding.weight": self.embedding.params["W"]}
        for k, layer in enumerate(self.layers):
            for name, value in map_weights(self.config.cell, layer.params, to="torch").items():
                out[f"recurrent.layers.{k}.{name}"] = value
        if self.project is not None:
            out["head.project.weight"] = self.project.params["W"].T
        out["head.decoder.weight"] = self.decoder.params["W"].T
        out["head.decoder.bias"] = self.decoder.params["b"]
        return {name: np.ascontiguousarray(value) for name, value in out.items()}

    def load_state_dict(self, weights: dict[str, np.ndarray], source: str = "weights") -> None:
        """Copy PyTorch-layout weights in (in place, so tied views stay tied); mismatches name the key."""
        expected = self.state_dict()
        missing = sorted(set(expected) - set(weights))
        unexpected = sorted(set(weights) - set(expected))
        if missing or unexpected:
            raise RnnlabError(f"{source}: weights do not match the NumPy model (missing: {', '.join(missing) or '-'}; "
                              f"unexpected: {', '.join(unexpected) or '-'})")
        for name, value in weights.items():
            if np.shape(value) != expected[name].shape:
                raise RnnlabError(f"{source}: {name} has shape {tuple(np.shape(value))}, the model wants "
                                  f"{expected[name].shape}")
        self.embedding.params["W"][...] = weights["embedding.weight"]
        load_recurrent_layers(self.layers, self.config.cell, weights)
        if self.project is not None:
            self.project.params["W"][...] = weights["head.project.weight"].T
        if not self.config.tie_weights:
            self.decoder.params["W"][...] = weights["head.decoder.weight"].T
        self.decoder.params["b"][...] = weights["head.decoder.bias"]
