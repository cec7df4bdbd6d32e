"""One training run from start (or resume) to finish: data, vocabulary, model, trainer."""

from __future__ import annotations

import random
from pathlib import Path

import torch
import torch.distributed as dist

from rnnlab.config import RunConfig, with_resumable
from rnnlab.data.prepare import prepare
from rnnlab.errors import RnnlabError
from rnnlab.runs_open import build_model
from rnnlab.runs import RunDir
from rnnlab.train.distributed import setup, teardown
from rnnlab.train.trainer import Trainer

def train(config: RunConfig | None, out: str | Path, resume: bool = False, overrides: dict | None = None,
          callbacks=(), log=print) -> list[dict]:
    """Train into run directory `out` and return its metrics records."""
    run = RunDir(out)
    if resume:
        run.check_resumable()
        config = with_resumable(run.load_config(), overrides)
    if config.train.engine == "numpy":          # the from-scratch engine, rnnlab.scratch
        from rnnlab.scratch.trainer import train_numpy
        return train_numpy(config, run, resume, callbacks, log)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    placement = setup(config.train.device)
    try:
        data = prepare(config.data, run.path, resume)
        if data.splits["valid"].size(0) < 2:
            raise RnnlabError(f"{config.data.corpus}: the valid split has {data.splits['valid'].size(0)} steps; "
                              "use more data or a larger share in --split")
        if not resume and placement.is_main:
            run.create(config)
            data.write(run.path)
        if placement.distributed:
            dist.barrier()
        torch.manual_seed(config.train.seed)
        random.seed(config.train.seed)
        model = build_model(config, data.output_size).to(placement.device)
        if config.model.init_embeddings and not resume:     # --init-embeddings W2V_RUN (train/word2vec.py)
            from rnnlab.data.tokenize import load_vocabulary
            from rnnlab.tasks.word2vec.train import init_language_model_embeddings
            found = init_language_model_embeddings(model, load_vocabulary(run.vocab_path)[0].tokens, config)
            if placement.is_main:
                log(found)
        torch.manual_seed(config.train.seed + placement.rank)
        def log_epoch(trainer, event, info):
            if event == "epoch" and placement.is_main:
                log(describe(info, data.unit))

        trainer = Trainer(model, config.train, placement, run, data.unit, [*callbacks, log_epoch])
        if resume:
            trainer.resume()
        if placement.is_main:
            params = sum(p.numel() for p in model.parameters())
            log(f"{config.data.corpus}: {data.summary}; "
                f"{config.model.layers}x{config.model.hidden} {config.model.cell}, {params:,} parameters; "
                f"{placement.device}, {placement.world_size} process(es); run {run.path}"
                + (f" (resuming at epoch {trainer.progress.epoch})" if resume else ""))
        return trainer.fit(data.splits["train"], data.splits["valid"])
    finally:
        teardown()


def describe(record: dict, unit: str) -> str:
    quality = f"valid bpc {record['valid_bpc']:.3f}" if unit == "bpc" else f"valid ppl {record['valid_ppl']:.2f}"
    if unit == "nll":   # continuous series: the loss is a density, perplexity means nothing
        quality = f"valid NLL {record['valid_loss']:.4f} nats/step"
    return (f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, valid loss "
            f"{record['valid_loss']:.4f}, {quality}, lr {record['lr']:.3g}")
