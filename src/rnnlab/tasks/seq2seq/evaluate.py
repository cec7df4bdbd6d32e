"""`rnnlab evaluate` for seq2seq runs: exact match, BLEU and perplexity on a split or a pairs file."""

from __future__ import annotations


from rnnlab.tasks.seq2seq.data import encode_pairs, prepare_pairs, read_pairs_any
from rnnlab.errors import RnnlabError
from rnnlab.tasks.seq2seq.translate import beam_search_batch, source_batch
from rnnlab.tasks.seq2seq.metrics import bleu_tokenisation, decode_limit, greedy_hypotheses, score_split
from rnnlab.train.threads import tuner_for


def evaluate_pair_run(trained, split: str = "test", data_file: str | None = None, beam: int = 0,
                      length_penalty: float = 0.0) -> dict:
    config, seq, vocabs = trained.config, trained.seq, trained.vocabs
    if data_file:
        pairs, source = encode_pairs(read_pairs_any(data_file, config.data.encoding, seq.book_padding), trained.tokenizer, vocabs,
                                     seq.reverse_source), data_file
    else:
        pairs, source = prepare_pairs(config.data, seq, vocabs).splits[split], f"{config.data.corpus} ({split})"
    if not pairs.examples:
        raise RnnlabError(f"{source}: has no pairs to evaluate"
                          + ("; the book's corpora have train and test only" if split == "valid" else ""))
    max_steps = decode_limit(trained.info, max(len(s) for s, _ in pairs.examples))
    if beam:
        hypotheses = beam_hypotheses(trained, pairs, beam, max_steps, length_penalty)
    else:
        hypotheses = greedy_hypotheses(trained.model, pairs, vocabs, trained.device, max_steps,
                                       threads=tuner_for(trained.threads))
    scores = score_split(trained.model, pairs, vocabs, config.data.level, trained.device, max_steps,
                         hypotheses=hypotheses)
    level = config.data.level
    return {"task": "seq2seq", "split": None if data_file else split, "data": source, "pairs": scores["pairs"],
            "exact_match": scores["exact_match"], "bleu": scores["bleu"],
            "bleu_tokenize": f"{bleu_tokenisation(level)} (sacrebleu on the corpus's own {level}-level tokens)",
            "perplexity": scores["perplexity"], "nll": scores["loss"], "tokens": scores["tokens"],
            "decoding": {"method": "beam" if beam else "greedy", "beam": beam or 1,
                         "length_penalty": length_penalty if beam else 0.0, "max_steps": max_steps},
            "level": level, "checkpoint": trained.checkpoint}


def beam_hypotheses(trained, pairs, beam: int, max_steps: int, length_penalty: float = 0.0,
                    hypotheses: int = 5000) -> list[list[str]]:
    """The best beam-search output of every pair, in split order: sources of like length decoded
    together, `hypotheses` // beam sources at a time (few large steps: on a busy machine, every
    step's threads wait for each other)."""
    vocabs, examples = trained.vocabs, pairs.examples
    batch_size = max(1, hypotheses // beam)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    outputs: list[list[str]] = [[] for _ in examples]
    was_training = trained.model.training
    trained.model.eval()
    threads = tuner_for(trained.threads)    # the thread count, chosen by timing the decoding steps
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        source, lengths = source_batch([examples[i][0] for i in chunk], trained.device)
        found = beam_search_batch(trained.model, source, lengths, vocabs.bos_id, vocabs.eos_id, beam, max_steps,
                                  length_penalty, keep_weights=False, threads=threads)
        for i, best in zip(chunk, found):
            outputs[i] = vocabs.words(best[0][0])
    trained.model.train(was_training)
    return outputs
