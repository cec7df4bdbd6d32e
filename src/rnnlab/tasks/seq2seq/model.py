"""Encoder-decoder: a (bi)directional RNN encoder, and a plain, peeky or attention decoder.

Time-major throughout: source (source_time, batch), target (target_time, batch), padding id 0.
The encoder's final states are bridged (both directions joined, projected) to the decoder's
start. Peeky (the book's ch07) joins the encoder summary to every decoder input and to the
output layer; attention (Luong) scores the decoder state against the encoder outputs and, with
input feeding, feeds the attentional state into the next step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.config import ModelConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.models.averaging import AveragedWeights
from rnnlab.tasks.seq2seq.attention import Attention
from rnnlab.train.threads import ThreadTuner, timed


def make_rnn(cell: str, input_size: int, hidden: int, layers: int, dropout: float,
             bidirectional: bool = False) -> nn.Module:
    between = dropout if layers > 1 else 0.0
    if cell == "lstm":
        return nn.LSTM(input_size, hidden, layers, dropout=between, bidirectional=bidirectional)
    if cell == "gru":
        return nn.GRU(input_size, hidden, layers, dropout=between, bidirectional=bidirectional)
    return nn.RNN(input_size, hidden, layers, dropout=between, bidirectional=bidirectional,
                  nonlinearity="relu" if cell == "rnn-relu" else "tanh")


def _select(state, index: torch.Tensor):
    """Pick batch entries (dim 1 of (layers, batch, hidden) tensors, or of an (h, c) pair)."""
    if isinstance(state, tuple):
        return tuple(t.index_select(1, index) for t in state)
    return state.index_select(1, index)


@dataclass
class Encoded:
    """What the decoder reads from one batch of sources."""

    memory: torch.Tensor      # (source, batch, hidden) encoder outputs (projected when bidirectional)
    keys: torch.Tensor        # (source, batch, hidden) attention keys, or memory
    mask: torch.Tensor        # (source, batch) True on real tokens
    state: object             # decoder start state: (layers, batch, hidden), or (h, c)
    summary: torch.Tensor     # (batch, hidden) top layer of the start state (peeky)

    def select(self, index: torch.Tensor) -> "Encoded":
        return Encoded(self.memory.index_select(1, index), self.keys.index_select(1, index),
                       self.mask.index_select(1, index), _select(self.state, index),
                       self.summary.index_select(0, index))


@dataclass
class DecoderState:
    rnn: object                      # (layers, batch, hidden) or (h, c)
    feed: torch.Tensor | None        # (batch, hidden) last attentional state (input feeding)

    def select(self, index: torch.Tensor) -> "DecoderState":
        return DecoderState(_select(self.rnn, index), None if self.feed is None else self.feed.index_select(0, index))


class Seq2Seq(AveragedWeights):
    def __init__(self, model: ModelConfig, seq: Seq2SeqConfig, source_vocab: int, target_vocab: int,
                 average: float = 0.0):
        super().__init__()
        self.model_config, self.seq_config = model, seq
        hidden, embed, layers = model.hidden, model.embed_size, model.layers
        self.is_lstm = model.cell == "lstm"
        self.peeky = seq.decoder == "peeky"
        self.attends = seq.decoder == "attention"
        self.feeds = self.attends and seq.input_feeding
        self.source_embedding = nn.Embedding(source_vocab, embed, padding_idx=0)
        self.target_embedding = nn.Embedding(target_vocab, embed, padding_idx=0)
        self.encoder = make_rnn(model.cell, embed, hidden, layers, model.dropout, seq.bidirectional)
        if seq.bidirectional:
            self.bridge_h = nn.Linear(2 * hidden, hidden)
            self.bridge_c = nn.Linear(2 * hidden, hidden) if self.is_lstm else None
            self.memory_proj = nn.Linear(2 * hidden, hidden, bias=False)
        decoder_input = embed + (hidden if self.peeky else 0) + (hidden if self.feeds else 0)
        self.decoder = make_rnn(model.cell, decoder_input, hidden, layers, model.dropout)
        if self.attends:
            self.attention = Attention(seq.attention, hidden)
            self.combine = nn.Linear(2 * hidden, hidden)
        self.output = nn.Linear(2 * hidden if self.peeky else hidden, target_vocab)
        if model.tie_weights:                   # checked: embed == hidden, no peeky decoder
            self.output.weight = self.target_embedding.weight
        self.dropout = nn.Dropout(model.dropout)
        self.keep_average(average)          # --average: a moving average of every parameter

    # ---- encoder ------------------------------------------------------------------------------
    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> Encoded:
        x = self.dropout(self.source_embedding(source))                       # (source, batch, embed)
        if bool((lengths != source.size(0)).any()):
            packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
            outputs, final = self.encoder(packed)
            outputs = pad_packed_sequence(outputs, total_length=source.size(0))[0]
        else:
            outputs, final = self.encoder(x)                                   # (source, batch, dirs*hidden)
        mask = torch.arange(source.size(0), device=source.device)[:, None] < lengths.to(source.device)[None, :]
        if self.seq_config.bidirectional:
            outputs = self.memory_proj(outputs)                                # (source, batch, hidden)
            final = self.bridge(final)
        top = (final[0] if self.is_lstm else final)[-1]                       # (batch, hidden)
        keys = self.attention.keys(outputs) if self.attends else outputs
        return Encoded(outputs, keys, mask, final, top)

    def bridge(self, final):
        """Both directions' last states, per layer, into one decoder start state."""
        def join(states: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
            layers = states.size(0) // 2
            pairs = states.view(layers, 2, states.size(1), states.size(2))        # (layers, dirs, batch, hidden)
            return torch.tanh(layer(torch.cat([pairs[:, 0], pairs[:, 1]], dim=2)))  # (layers, batch, hidden)
        if self.is_lstm:
            return join(final[0], self.bridge_h), join(final[1], self.bridge_c)
        return join(final, self.bridge_h)

    # ---- decoder ------------------------------------------------------------------------------
    def initial_state(self, encoded: Encoded) -> DecoderState:
        feed = encoded.summary.new_zeros(encoded.summary.shape) if self.feeds else None
        return DecoderState(encoded.state, feed)

    def attend(self, output: torch.Tensor, encoded: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        """Luong's attentional state tanh(W [context; h]) and the weights (steps, batch, source)."""
        context, weights = self.attention(output, encoded.keys, encoded.memory, encoded.mask)
        return torch.tanh(self.combine(torch.cat([context, output], dim=2))), weights

    def decode(self, inputs: torch.Tensor, encoded: Encoded, state: DecoderState):
        """inputs (steps, batch) -> logits (steps, batch, vocab), next state, weights or None."""
        x = self.dropout(self.target_embedding(inputs))                      # (steps, batch, embed)
        if self.peeky:
            x = torch.cat([x, encoded.summary.expand(x.size(0), -1, -1)], dim=2)
        weights = None
        if self.feeds:
            rnn_state, feed, outputs, all_weights = state.rnn, state.feed, [], []
            for step in x:                                                    # step (batch, features)
                output, rnn_state = self.decoder(torch.cat([step, feed], dim=1).unsqueeze(0), rnn_state)
                attentional, step_weights = self.attend(output, encoded)
                feed = attentional[0]
                outputs.append(attentional)
                all_weights.append(step_weights)
            hidden, weights, state = torch.cat(outputs), torch.cat(all_weights), DecoderState(rnn_state, feed)
        else:
            output, rnn_state = self.decoder(x, state.rnn)                  # (steps, batch, hidden)
            state = DecoderState(rnn_state, None)
            if self.attends:
                hidden, weights = self.attend(output, encoded)
            elif self.peeky:
                hidden = torch.cat([output, encoded.summary.expand(output.size(0), -1, -1)], dim=2)
            else:
                hidden = output
        return self.output(self.dropout(hidden)), state, weights

    def forward(self, source, lengths, target_in, target_out, label_smoothing: float | None = None):
        """Summed NLL (nats) of target_out under teacher forcing, and the number of target tokens; given
        `label_smoothing` (training goes through here, so that torchrun's wrapper sees the call), the
        triple of `losses` instead."""
        if label_smoothing is not None:
            return self.losses(source, lengths, target_in, target_out, label_smoothing)
        encoded = self.encode(source, lengths)
        logits, _, _ = self.decode(target_in, encoded, self.initial_state(encoded))
        nll = F.cross_entropy(logits.reshape(-1, logits.size(2)), target_out.reshape(-1), ignore_index=0,
                              reduction="sum")
        return nll, int((target_out != 0).sum())

    def losses(self, source, lengths, target_in, target_out, label_smoothing: float = 0.0):
        """(training loss, summed NLL, target tokens) under teacher forcing. The training loss is the
        summed NLL when `label_smoothing` is 0, else (1 - e) NLL + e * the mean over the whole output
        vocabulary of -log p (what F.cross_entropy's label_smoothing computes), summed over tokens."""
        encoded = self.encode(source, lengths)
        logits, _, _ = self.decode(target_in, encoded, self.initial_state(encoded))
        flat, gold = logits.reshape(-1, logits.size(2)), target_out.reshape(-1)
        real = gold != 0
        tokens = int(real.sum())
        if not label_smoothing:
            nll = F.cross_entropy(flat, gold, ignore_index=0, reduction="sum")
            return nll, nll, tokens
        log_probs = torch.log_softmax(flat.float(), dim=1)
        nll = -(log_probs.gather(1, gold.unsqueeze(1)).squeeze(1) * real).sum()
        uniform = -(log_probs.mean(dim=1) * real).sum()
        return (1 - label_smoothing) * nll + label_smoothing * uniform, nll, tokens

    @torch.no_grad()
    def greedy(self, source, lengths, bos_id: int, eos_id: int, max_steps: int, threads: ThreadTuner | None = None):
        """Most likely token at each step, for a batch. Returns (id lists without </s>, summed
        log-probabilities (batch,), attention weights (steps, batch, source) or None). `threads`
        times each step to choose the CPU thread count."""
        encoded = self.encode(source, lengths)
        state = self.initial_state(encoded)
        batch = source.size(1)
        inputs = torch.full((1, batch), bos_id, dtype=torch.long, device=source.device)
        done = torch.zeros(batch, dtype=torch.bool, device=source.device)
        log_prob = torch.zeros(batch, device=source.device)
        steps, weights = [], []
        for _ in range(max_steps):
            with timed(threads):
                logits, state, step_weights = self.decode(inputs, encoded, state)
            log_probs = torch.log_softmax(logits[0], dim=1)                    # (batch, vocab)
            best = log_probs.argmax(1)
            log_prob += torch.where(done, torch.zeros_like(log_prob), log_probs.gather(1, best[:, None])[:, 0])
            steps.append(best)
            if step_weights is not None:
                weights.append(step_weights)
            done |= best == eos_id
            if bool(done.all()):
                break
            inputs = best.unsqueeze(0)
        ids = torch.stack(steps).t().tolist()                                  # (batch, steps)
        outputs = [row[:row.index(eos_id)] if eos_id in row else row for row in ids]
        return outputs, log_prob, (torch.cat(weights) if weights else None)


def build_seq2seq(model: ModelConfig, seq: Seq2SeqConfig, source_vocab: int, target_vocab: int,
                  average: float = 0.0) -> Seq2Seq:
    return Seq2Seq(model, seq, source_vocab, target_vocab, average)
