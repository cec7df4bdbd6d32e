"""`rnnlab generate` for text runs: prime -> tokens -> sampled continuation -> text."""

from __future__ import annotations

from rnnlab.data.tokenize import EOS
from rnnlab.generate.sampling import SamplingConfig, sample
from rnnlab.generate.stepper import fast_model


def prime_tokens(tokenizer, vocab, prime: str) -> list[str]:
    """The prime as tokens; a word/ja prime not ending in a newline gets no closing <eos>."""
    tokens = tokenizer.split(prime) if prime else []
    if tokens and tokens[-1] == EOS and not prime.endswith("\n"):
        tokens.pop()
    if not tokens:   # start as after a line break
        tokens = [EOS] if EOS in vocab.index else (["\n"] if "\n" in vocab.index else [vocab.tokens[-1]])
    return tokens


def generate_text(trained, prime: str, config: SamplingConfig, precision: str = "fp32",
                  note=lambda line: None) -> tuple[str, list[str]]:
    """The prime followed by generated text, and the prime's tokens the vocabulary lacks."""
    tokens = prime_tokens(trained.tokenizer, trained.vocab, prime)
    unknown = trained.vocab.unknown(tokens)
    prime_ids = trained.vocab.encode(tokens)
    model = fast_model(trained.model, precision, prime_ids, note)
    ids = sample(model, prime_ids, config, trained.device)
    continuation = trained.vocab.decode(ids)
    shown_prime = tokens if prime else []
    return trained.tokenizer.join(shown_prime + continuation), unknown
