"""Fast one-token steps for sampling and serving: packed weights, optional bf16 or int8 storage.

At batch 1 a step is a chain of matrix-vector products, bound by how fast the weights stream
from memory. Each layer's input and recurrent matrices are packed into one (gates, in + hidden)
matrix so a step is one product per layer. A 2x650 model's fp32 weights (53 MB) do not fit a
32 MB L3 cache and stream from DRAM every token; `precision="int8"` (CPU: fbgemm's int8 products,
a scale per output row, the input quantised on the fly) stores a quarter of the bytes, and
`"bf16"` half (but PyTorch's bf16 matrix-vector products are slow on many CPUs). Both are opt-in:
`fast_model` measures them against fp32 first.
Same contract as the model: `initial_state(batch)`, `step_logits(inputs (time, batch), state)`.
An fp32 stepper hands inputs of more than one step (a prime) to the model itself, whose recurrent
layers take the whole sequence in one call: the same arithmetic, far fewer calls.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from rnnlab.models.cells import ProjectedDropoutLSTM
from rnnlab.models.recurrent import map_state

PRECISIONS = ("fp32", "bf16", "int8")
PACKED_CELLS = ("rnn", "rnn-relu", "lstm", "gru")      # the cells a Stepper packs (not the peephole LSTM)


# From this many rows on, oneDNN's int8 kernels beat fbgemm's (2x at 64 rows of a 10k x 650 matrix,
# even at 12-16, slower below): a server's batch of many clients takes them, a lone client fbgemm's.
WIDE_ROWS = 16


def _int8_pack(quantized: torch.Tensor, bias: torch.Tensor | None, engine: str | None = None):
    """Weights packed for the given quantized engine's int8 products (None: the current engine)."""
    previous = torch.backends.quantized.engine
    try:
        if engine is not None:
            torch.backends.quantized.engine = engine
        return torch.ops.quantized.linear_prepack(quantized, bias)
    finally:
        torch.backends.quantized.engine = previous


class Product:
    """x (batch, in) -> x W^T + b in fp32, with W (out, in) stored in fp32, bf16 or int8."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, precision: str):
        weight = weight.detach().float()
        self.precision = precision
        self.bias = bias.detach().float().clone() if bias is not None else None
        self.wide = None                  # int8: a second packing for batches of WIDE_ROWS rows or more
        if precision == "int8":
            scale = (weight.abs().amax(1) / 127).clamp_min(1e-12).double()
            with warnings.catch_warnings():               # quantized tensors: deprecated, not yet replaced
                warnings.simplefilter("ignore")
                quantized = torch.quantize_per_channel(weight, scale, torch.zeros_like(scale, dtype=torch.long),
                                                       0, torch.qint8)
                self.packed = _int8_pack(quantized, self.bias)
                engines = torch.backends.quantized.supported_engines
                if "onednn" in engines and torch.backends.quantized.engine != "onednn":
                    try:
                        self.wide = _int8_pack(quantized, self.bias, "onednn")
                    except RuntimeError:                  # a build without oneDNN's int8 kernels
                        self.wide = None
        else:
            dtype = torch.bfloat16 if precision == "bf16" else torch.float32
            self.weight = weight.t().contiguous().to(dtype)                # (in, out)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.precision == "int8":      # reduce_range: 7-bit inputs, safe from overflow on any x86 CPU
            x = x.float().contiguous()
            rows = x.size(0)
            if self.wide is None or rows < WIDE_ROWS:
                return torch.ops.quantized.linear_dynamic(x, self.packed, True)
            # oneDNN keeps a kernel per row count: rows padded with zeros to a multiple of 8 keep that
            # cache (and the memory it holds) small; zero rows leave the input's quantisation as it was
            padded = -(-rows // 8) * 8
            if padded != rows:
                x = torch.cat([x, x.new_zeros(padded - rows, x.size(1))])
            return torch.ops.quantized.linear_dynamic(x, self.wide, True)[:rows]
        out = (x.to(self.weight.dtype) @ self.weight).float()
        return out + self.bias if self.bias is not None else out


class PackedLayer:
    """One recurrent layer's weights for inference: W = [W_ih | W_hh] (gates, in + hidden)."""

    def __init__(self, layer, cell: str, precision: str):
        self.cell = cell
        if isinstance(layer, ProjectedDropoutLSTM):
            w_ih, w_hh = layer.input_proj.weight, layer.hidden_proj.weight
            b_ih, b_hh = layer.input_proj.bias, layer.hidden_proj.bias
        else:
            w_ih, w_hh, b_ih, b_hh = layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0
        self.hidden_size = w_hh.size(1)
        if cell == "gru":   # the reset gate multiplies W_hn h alone: keep the two products apart
            self.input_product, self.hidden_product = Product(w_ih, b_ih, precision), Product(w_hh, b_hh, precision)
        else:
            self.product = Product(torch.cat([w_ih, w_hh], 1), b_ih + b_hh, precision)

    def step(self, x: torch.Tensor, state):
        """x (batch, in) -> output (batch, hidden), new state."""
        if self.cell == "lstm":
            h, c = state
            i, f, g, o = self.product(torch.cat([x, h], 1)).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            return h, (h, c)
        if self.cell == "gru":
            ir, iz, inn = self.input_product(x).chunk(3, 1)
            hr, hz, hn = self.hidden_product(state).chunk(3, 1)
            r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            h = (1 - z) * torch.tanh(inn + r * hn) + z * state
            return h, h
        pre = self.product(torch.cat([x, state], 1))
        h = torch.relu(pre) if self.cell == "rnn-relu" else torch.tanh(pre)
        return h, h


class Stepper:
    """Inference-only view of a LanguageModel with packed (and optionally bf16 or int8) weights."""

    def __init__(self, model, precision: str = "fp32"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        if model.config.cell not in PACKED_CELLS:
            raise NotImplementedError(f"no packed {model.config.cell} layer")
        self.precision = precision
        self.embedding = model.embedding.weight.detach()
        self.layers = [PackedLayer(layer, model.config.cell, precision) for layer in model.recurrent.layers]
        head = model.head
        self.project = Product(head.project.weight, None, precision) if head.project is not None else None
        self.decoder = Product(head.decoder.weight, head.decoder.bias, precision)
        self.cell = model.config.cell
        self.device = self.embedding.device
        self.sequence_model = model if precision == "fp32" else None

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
        if inputs.size(0) > 1 and self.sequence_model is not None and not self.sequence_model.training:
            return self.sequence_model.step_logits(inputs, state)
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
            x = self.project(x)
        return self.decoder(x), state


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
    """The stepper to sample with; bf16 or int8 only where it works and stays within tolerance on `probe`.
    A cell the stepper does not pack (the peephole LSTM) is sampled by the model itself, in fp32."""
    if model.config.cell not in PACKED_CELLS:
        if precision != "fp32":
            note(f"note: {precision} weights are not available for --cell {model.config.cell}; using fp32")
        return model
    if precision == "fp32":
        return Stepper(model, "fp32")
    if precision == "int8" and model.embedding.weight.device.type != "cpu":
        note("note: int8 weights run on the CPU only; using fp32")
        return Stepper(model, "fp32")
    try:
        stepper = Stepper(model, precision)
        error = check_accuracy(model, stepper, probe[:64] or [0])
    except (RuntimeError, NotImplementedError) as err:        # e.g. no int8 kernels for this CPU
        note(f"note: {precision} weights are not available here ({str(err).splitlines()[0]}); using fp32")
        return Stepper(model, "fp32")
    if error > 0.02:
        note(f"note: {precision} moved next-token distributions by up to {error:.3f} (total variation) on the prime; using fp32")
        return Stepper(model, "fp32")
    note(f"note: {precision} weights; next-token distributions within {error:.4f} (total variation) of fp32 on the prime")
    return stepper
