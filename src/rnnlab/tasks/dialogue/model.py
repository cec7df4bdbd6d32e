"""Response generation from a dialogue context: flat seq2seq, HRED and VHRED.

seq2seq reads the context as one sequence. HRED (Serban et al. 2016) encodes each utterance,
runs a context RNN over the utterance vectors and conditions the decoder on its last state.
VHRED (Serban et al. 2017) adds a latent z per response: a prior p(z | context) and, in
training, a posterior q(z | context, response); the loss is NLL + w * KL(q || p), with w
annealed from 0 and decoder words dropped so that z stays in use. Time-major, padding id 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnlab.config import ModelConfig
from rnnlab.tasks.dialogue.config import DialogueConfig
from rnnlab.tasks.seq2seq.model import make_rnn


@dataclass
class DialogueOutput:
    nll_sum: torch.Tensor     # summed NLL of the response tokens (nats)
    tokens: int
    kl_sum: torch.Tensor      # summed KL(q || p) over the batch (0 unless vhred)


def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) -> torch.Tensor:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per example: (batch, latent) -> (batch,)."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1).sum(1)


class DialogueModel(nn.Module):
    def __init__(self, model: ModelConfig, dialogue: DialogueConfig, vocab_size: int, unk_id: int = 1):
        super().__init__()
        self.kind, self.cell, self.layers = dialogue.model, model.cell, model.layers
        self.word_dropout, self.unk_id = dialogue.word_dropout, unk_id
        hidden, embed = model.hidden, model.embed_size
        self.embedding = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.utterance_encoder = make_rnn(model.cell, embed, hidden, 1, 0.0)
        if self.kind != "seq2seq":
            self.context_rnn = make_rnn(model.cell, hidden, hidden, 1, 0.0)
        latent = dialogue.latent if self.kind == "vhred" else 0
        if latent:
            self.prior = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent))
            self.posterior = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent))
        condition = hidden + latent
        self.bridge = nn.Linear(condition, hidden)
        self.decoder = make_rnn(model.cell, embed + condition, hidden, model.layers, model.dropout)
        self.output = nn.Linear(hidden + condition, vocab_size)
        self.dropout = nn.Dropout(model.dropout)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Last hidden state of each sequence: tokens (time, n) -> (n, hidden)."""
        packed = pack_padded_sequence(self.dropout(self.embedding(tokens)), lengths.cpu(), enforce_sorted=False)
        _, final = self.utterance_encoder(packed)
        return (final[0] if self.cell == "lstm" else final)[-1]

    def context(self, batch) -> torch.Tensor:
        """The context vector (batch, hidden)."""
        if self.kind == "seq2seq":
            return self.encode(batch.flat, batch.flat_lengths)
        vectors = self.encode(batch.utterances, batch.utterance_lengths)             # (context * batch, hidden)
        turns = vectors.view(batch.context_size, -1, vectors.size(1))                # (context, batch, hidden)
        _, final = self.context_rnn(turns)
        return (final[0] if self.cell == "lstm" else final)[-1]

    def latent(self, context: torch.Tensor, batch=None, sample: bool = True):
        """z and the KL per example; from the posterior when the response is known (training)."""
        mu_p, logvar_p = self.prior(context).chunk(2, dim=1)
        if batch is None:
            mu, logvar, kl = mu_p, logvar_p, context.new_zeros(context.size(0))
        else:
            response = self.encode(batch.response_in, batch.response_lengths)        # <s> + response
            mu, logvar = self.posterior(torch.cat([context, response], dim=1)).chunk(2, dim=1)
            kl = gaussian_kl(mu, logvar, mu_p, logvar_p)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        return z, kl

    def condition(self, batch, with_response: bool, sample: bool = True):
        """(batch, condition) the decoder reads at every step, and the KL per example."""
        context = self.context(batch)
        if self.kind != "vhred":
            return context, context.new_zeros(context.size(0))
        z, kl = self.latent(context, batch if with_response else None, sample)
        return torch.cat([context, z], dim=1), kl

    def initial_state(self, condition: torch.Tensor):
        start = torch.tanh(self.bridge(condition)).unsqueeze(0).repeat(self.layers, 1, 1)   # (layers, batch, hidden)
        return (start, torch.zeros_like(start)) if self.cell == "lstm" else start

    def decode(self, inputs: torch.Tensor, condition: torch.Tensor, state):
        """inputs (steps, batch) -> logits (steps, batch, vocab) and the next state."""
        if self.training and self.word_dropout and self.kind == "vhred":
            drop = torch.rand(inputs.shape, device=inputs.device) < self.word_dropout
            inputs = inputs.masked_fill(drop & (inputs != 0), self.unk_id)
        steps = inputs.size(0)
        spread = condition.unsqueeze(0).expand(steps, -1, -1)
        x = torch.cat([self.dropout(self.embedding(inputs)), spread], dim=2)
        output, state = self.decoder(x, state)
        return self.output(self.dropout(torch.cat([output, spread], dim=2))), state

    def forward(self, batch) -> DialogueOutput:
        condition, kl = self.condition(batch, with_response=True)
        logits, _ = self.decode(batch.response_in, condition, self.initial_state(condition))
        nll = F.cross_entropy(logits.reshape(-1, logits.size(2)), batch.response_out.reshape(-1), ignore_index=0,
                              reduction="sum")
        return DialogueOutput(nll, int((batch.response_out != 0).sum()), kl.sum())

    @torch.no_grad()
    def sample(self, batch, bos_id: int, eos_id: int, max_steps: int, temperature: float = 1.0, top_k: int = 0,
               greedy: bool = False, generator: torch.Generator | None = None) -> list[list[int]]:
        """Responses for a batch of contexts (z from the prior for vhred)."""
        condition, _ = self.condition(batch, with_response=False)
        state = self.initial_state(condition)
        inputs = torch.full((1, condition.size(0)), bos_id, dtype=torch.long, device=condition.device)
        rows, done = [], torch.zeros(condition.size(0), dtype=torch.bool, device=condition.device)
        for _ in range(max_steps):
            logits, state = self.decode(inputs, condition, state)
            logits = logits[0] / max(temperature, 1e-6)
            logits[:, 0] = float("-inf")                                             # never <pad>
            if top_k:
                kth = logits.topk(min(top_k, logits.size(1)), dim=1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            chosen = logits.argmax(1) if greedy else torch.multinomial(logits.softmax(1), 1, generator=generator)[:, 0]
            rows.append(chosen)
            done |= chosen == eos_id
            if bool(done.all()):
                break
            inputs = chosen.unsqueeze(0)
        ids = torch.stack(rows).t().tolist()
        return [row[:row.index(eos_id)] if eos_id in row else row for row in ids]
