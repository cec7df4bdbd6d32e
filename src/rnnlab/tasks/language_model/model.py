"""The language model: embedding -> stacked RNN/LSTM/GRU -> softmax head.

Tensors are time-major: inputs (time, batch) of token ids. `forward` returns the summed NLL
when targets are given, so the loss lives inside the module that DistributedDataParallel
wraps; `step_logits` serves sampling one token at a time.
"""

from __future__ import annotations


import torch
from torch import nn

from rnnlab.config import ModelConfig
from rnnlab.models.heads import SoftmaxHead
from rnnlab.models.output import LMOutput
from rnnlab.models.recurrent import State, StackedRecurrent
from rnnlab.models.regularize import LockedDropout, embedding_dropout, activity_penalty


class LanguageModel(nn.Module):
    def __init__(self, config: ModelConfig, vocab_size: int, fused_loss: bool = True):
        super().__init__()
        self.config, self.vocab_size = config, vocab_size
        embed = config.embed_size
        self.embedding = nn.Embedding(vocab_size, embed)
        self.embed_dropout = LockedDropout(0.0 if config.dropout_site == "projected" else config.dropout_embed,
                                           config.variational)
        self.recurrent = StackedRecurrent(config, embed)
        self.output_dropout = LockedDropout(config.dropout, config.variational)
        self.head = SoftmaxHead(config.hidden, vocab_size, embed, self.embedding if config.tie_weights else None,
                                fused=fused_loss)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        scheme, r = self.config.init, self.config.init_range
        if scheme == "default":
            nn.init.uniform_(self.embedding.weight, -r, r)
            return
        for name, param in self.named_parameters():
            if scheme == "uniform" or param.dim() < 2:
                nn.init.uniform_(param, -r, r) if scheme == "uniform" else nn.init.zeros_(param)
            elif scheme == "orthogonal" and ("weight_hh" in name or "hidden_proj" in name):
                nn.init.orthogonal_(param)
            else:
                nn.init.xavier_uniform_(param)

    def initial_state(self, batch_size: int) -> State:
        return self.recurrent.initial_state(batch_size, self.embedding.weight.device)

    def hidden(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Last layer's outputs before and after output dropout: each (time, batch, hidden)."""
        x = embedding_dropout(self.embedding, inputs, self.config.dropout_words, self.training)  # (time, batch, embed)
        x = self.embed_dropout(x)
        raw, state = self.recurrent(x, state)
        return raw, self.output_dropout(raw), state

    def forward(self, inputs: torch.Tensor, state: State, targets: torch.Tensor | None = None,
                activation_reg: float = 0.0, temporal_reg: float = 0.0) -> LMOutput:
        raw, dropped, state = self.hidden(inputs, state)
        if targets is None:
            return LMOutput(None, 0, state, None)
        nll = self.head.nll_sum(dropped, targets)
        penalty = activity_penalty(raw, dropped, activation_reg, temporal_reg, self.training)
        return LMOutput(nll, targets.numel(), state, penalty)

    @torch.no_grad()
    def step_logits(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Logits of the last position: inputs (time, batch) -> (batch, vocab)."""
        _, dropped, state = self.hidden(inputs, state)
        return self.head(dropped[-1]), state


def build_language_model(config, vocab_size: int) -> LanguageModel:
    """The token-sequence model for a RunConfig (text and event vocabularies)."""
    return LanguageModel(config.model, vocab_size, fused_loss=config.train.fused_loss)
