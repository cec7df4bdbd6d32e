"""`rnnlab generate` for text runs: prime -> tokens -> sampled continuation -> text on standard output."""

from __future__ import annotations

import sys

from rnnlab.data.tokenize import EOS
from rnnlab.generate.sampling import SamplingConfig, sample, sampling_from_args
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


def generate_text(trained, prime: str, config: SamplingConfig, precision: str = "fp32",
                  note=lambda line: None, write=None) -> tuple[str, list[str]]:
    """The prime followed by generated text, and the prime's tokens the vocabulary lacks. With
    `write`, the text also goes there as it is generated (all at once for beam search)."""
    tokenizer, vocab = trained.tokenizer, trained.vocab
    tokens = prime_tokens(tokenizer, vocab, prime)
    unknown = vocab.unknown(tokens)
    if unknown:
        note(f"note: prime tokens not in the vocabulary, read as <unk>: {' '.join(unknown)}")
    prime_ids = vocab.encode(tokens)
    model = fast_model(trained.model, precision, prime_ids, note)
    shown_prime = tokens if prime else []
    streaming = write is not None and config.beam <= 1
    previous = shown_prime[-1] if shown_prime else None

    def stream(token_id: int) -> None:
        nonlocal previous
        token = vocab.tokens[token_id]
        write(tokenizer.piece(token, previous))
        previous = token

    if streaming:
        write(tokenizer.join(shown_prime))
    ids = sample(model, prime_ids, config, trained.device, on_token=stream if streaming else None,
                 threads=tuner_for(0))
    text = tokenizer.join(shown_prime + vocab.decode(ids))
    if write is not None and not streaming:
        write(text)
    return text, unknown


def generate_command(trained, args) -> int:
    """Print the prime and its continuation as it is sampled; notes go to standard error."""
    def write(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    generate_text(trained, args.prime, sampling_from_args(args), args.precision,
                  note=lambda line: print(line, file=sys.stderr), write=write)
    print()
    return 0
