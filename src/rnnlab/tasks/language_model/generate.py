"""`rnnlab generate` for text runs: prime -> tokens -> sampled continuation -> text on standard output."""

from __future__ import annotations

import sys
from typing import Iterator

from rnnlab.data.tokenize import EOS
from rnnlab.generate.sampling import SamplingConfig, sample, sample_stream, sampling_from_args
from rnnlab.generate.stepper import fast_model
from rnnlab.train.threads import tuner_for


def prime_tokens(tokenizer, vocab, prime: str) -> list[str]:
    """The prime as tokens; a word/ja prime not ending in a newline gets no closing <eos>."""
    tokens = tokenizer.split(prime) if prime else []
    if tokens and tokens[-1] == EOS and not prime.endswith("\n"):
        tokens.pop()
    if not tokens:   # start as after a line break
        tokens = [EOS] if EOS in vocab.index else (["\n"] if "\n" in vocab.index else [vocab.tokens[-1]])
    return tokens


def text_pieces(trained, prime: str, config: SamplingConfig, precision: str = "fp32",
                note=lambda line: None) -> Iterator[str]:
    """The prime as the model read it, then the continuation piece by piece as it is sampled (beam
    search: all at once at the end). Prime tokens the vocabulary lacks are read as <unk>, with a note."""
    tokenizer, vocab = trained.tokenizer, trained.vocab
    config.validate()
    tokens = prime_tokens(tokenizer, vocab, prime)
    unknown = vocab.unknown(tokens)
    if unknown:
        note(f"note: prime tokens not in the vocabulary, read as <unk>: {' '.join(unknown)}")
    prime_ids = vocab.encode(tokens)
    model = fast_model(trained.model, precision, prime_ids, note)
    shown_prime = tokens if prime else []
    if config.beam > 1:
        ids = sample(model, prime_ids, config, trained.device)
        yield tokenizer.join(shown_prime + vocab.decode(ids))
        return
    yield tokenizer.join(shown_prime)
    previous = shown_prime[-1] if shown_prime else None
    for token_id in sample_stream(model, prime_ids, config, trained.device, threads=tuner_for(trained.threads)):
        token = vocab.tokens[token_id]
        yield tokenizer.piece(token, previous)
        previous = token


def generate_command(model, args) -> int:
    """Print the prime and its continuation as it is sampled; notes go to standard error."""
    for piece in model.stream(args.prime, sampling=sampling_from_args(args), precision=args.precision,
                              note=lambda line: print(line, file=sys.stderr)):
        sys.stdout.write(piece)
        sys.stdout.flush()
    print()
    return 0
