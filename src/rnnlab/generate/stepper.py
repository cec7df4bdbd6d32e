"""Fast one-token steps for sampling and serving: packed weights, optional bfloat16 storage.

At batch 1 a step is a chain of matrix-vector products, bound by how fast the weights stream
from memory. Each layer's input and recurrent matrices are packed into one (gates, in + hidden)
matrix so a step is one product per layer; `precision="bf16"` halves the bytes (a 2x650 model
then fits a 32 MB L3 cache) and is opt-in: `check_accuracy` compares it with fp32 first.
Same contract as the model: `initial_state(batch)`, `step_logits(inputs (time, batch), state)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnlab.models.cells import ProjectedDropoutLSTM
from rnnlab.models.recurrent import map_state

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class PackedLayer:
    """One recurrent layer's weights for inference: W = [W_ih | W_hh] (gates, in + hidden)."""

    def __init__(self, layer, cell: str, dtype: torch.dtype):
        self.cell, self.dtype = cell, dtype
        if isinstance(layer, ProjectedDropoutLSTM):
            w_ih, w_hh = layer.input_proj.weight, layer.hidden_proj.weight
            b_ih, b_hh = layer.input_proj.bias, layer.hidden_proj.bias
        else:
            w_ih, w_hh, b_ih, b_hh = layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0
        self.hidden_size = w_hh.size(1)
        if cell == "gru":   # the reset gate multiplies W_hn h alone: keep the two products apart
            self.w_ih, self.w_hh = w_ih.detach().t().contiguous().to(dtype), w_hh.detach().t().contiguous().to(dtype)
            self.b_ih, self.b_hh = b_ih.detach().clone(), b_hh.detach().clone()
        else:
            self.weight = torch.cat([w_ih, w_hh], 1).detach().t().contiguous().to(dtype)   # (in + hidden, gates)
            self.bias = (b_ih + b_hh).detach().clone()

    def step(self, x: torch.Tensor, state):
        """x (batch, in) -> output (batch, hidden), new state."""
        if self.cell == "lstm":
            h, c = state
            gates = (torch.cat([x, h], 1).to(self.dtype) @ self.weight).float() + self.bias   # (batch, 4H)
            i, f, g, o = gates.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            return h, (h, c)
        if self.cell == "gru":
            gi = (x.to(self.dtype) @ self.w_ih).float() + self.b_ih
            gh = (state.to(self.dtype) @ self.w_hh).float() + self.b_hh
            ir, iz, inn = gi.chunk(3, 1)
            hr, hz, hn = gh.chunk(3, 1)
            r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            h = (1 - z) * torch.tanh(inn + r * hn) + z * state
            return h, h
        pre = (torch.cat([x, state], 1).to(self.dtype) @ self.weight).float() + self.bias
        h = torch.relu(pre) if self.cell == "rnn-relu" else torch.tanh(pre)
        return h, h


class Stepper:
    """Inference-only view of a LanguageModel with packed (and optionally bf16) weights."""

    def __init__(self, model, precision: str = "fp32"):
        dtype = DTYPES[precision]
        self.precision, self.dtype = precision, dtype
        self.embedding = model.embedding.weight.detach()
        self.layers = [PackedLayer(layer, model.config.cell, dtype) for layer in model.recurrent.layers]
        head = model.head
        self.project = head.project.weight.detach().t().contiguous().to(dtype) if head.project is not None else None
        self.decoder = head.decoder.weight.detach().t().contiguous().to(dtype)   # (features, vocab)
        self.decoder_bias = head.decoder.bias.detach().clone()
        self.cell = model.config.cell
        self.device = self.embedding.device

    def initial_state(self, batch_size: int):
        """Same layout as the model's state: per layer (1, batch, hidden), (h, c) for LSTM."""
        state = []
        for layer in self.layers:
            zeros = torch.zeros(1, batch_size, layer.hidden_size, device=self.device)
            state.append((zeros, zeros.clone()) if self.cell == "lstm" else zeros)
        return state

    @torch.no_grad()
    def step_logits(self, inputs: torch.Tensor, state):
        """Feed inputs (time, batch) one step at a time; logits (batch, vocab) of the last."""
        state = map_state(state, lambda t: t[0])            # (batch, hidden)
        for token in inputs:
            x = F.embedding(token, self.embedding)           # (batch, embed)
            new_state = []
            for layer, layer_state in zip(self.layers, state):
                x, layer_state = layer.step(x, layer_state)
                new_state.append(layer_state)
            state = new_state
        state = map_state(state, lambda t: t[None])         # (1, batch, hidden)
        if self.project is not None:
            x = (x.to(self.dtype) @ self.project).float()
        return (x.to(self.dtype) @ self.decoder).float() + self.decoder_bias, state


@torch.no_grad()
def check_accuracy(model, stepper: Stepper, probe: list[int], tolerance: float = 0.02) -> float:
    """Largest total-variation distance between next-token distributions along `probe`."""
    ids = torch.tensor(probe, device=stepper.device)
    reference_state, fast_state = model.initial_state(1), stepper.initial_state(1)
    worst = 0.0
    for token in ids:
        reference, reference_state = model.step_logits(token.view(1, 1), reference_state)
        fast, fast_state = stepper.step_logits(token.view(1, 1), fast_state)
        worst = max(worst, 0.5 * (reference.softmax(-1) - fast.softmax(-1)).abs().sum(-1).max().item())
    return worst


def fast_model(model, precision: str, probe: list[int], note=print):
    """The stepper to sample with; bf16 only when it stays within tolerance on `probe`."""
    if precision == "fp32":
        return Stepper(model, "fp32")
    stepper = Stepper(model, precision)
    error = check_accuracy(model, stepper, probe[:64] or [0])
    if error > 0.02:
        note(f"note: {precision} moved next-token distributions by up to {error:.3f} (total variation) on the prime; using fp32")
        return Stepper(model, "fp32")
    note(f"note: {precision} weights; next-token distributions within {error:.4f} (total variation) of fp32 on the prime")
    return stepper
