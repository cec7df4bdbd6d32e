"""A trained run made into a shipped model: its files, weights as safetensors and a card.

The weights go in half precision when the card's test metric holds (within 1% of float32), else in
float32; the card says which, the data and its licence, the command that trained the run, the test
metrics, the parameter count and the rnnlab version. `rnnlab models rebuild NAME` runs the card's
command again and packs the new run the same way.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.gallery import CARD, WEIGHTS, read_card, resolve

# What a run folder holds that a shipped model leaves behind: training state and records, marks, locks.
LEFT_BEHIND = {"checkpoints", "metrics.jsonl", "metrics.png", "tensorboard", "export", ".rnnlab-run", ".rnnlab-lock"}
TOLERANCE = 0.01                    # half precision ships when the test metric moves by at most 1%


def copy_run_files(run: Path, dest: Path) -> None:
    """The files a task's open() reads (config, vocabularies, tokeniser models, statistics)."""
    for entry in sorted(run.iterdir()):
        if entry.name in LEFT_BEHIND or entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name)
        else:
            shutil.copy2(entry, dest / entry.name)


def portable_corpus(dest: Path) -> None:
    """A corpus path under $RNNLAB_DATA is saved as `$RNNLAB_DATA/...`, so that it is found on any machine."""
    root = os.environ.get("RNNLAB_DATA")
    path = dest / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    corpus = config["data"].get("corpus", "")
    if root and corpus.startswith(os.path.abspath(root) + os.sep):
        config["data"]["corpus"] = "$RNNLAB_DATA" + corpus[len(os.path.abspath(root)):]
        write_atomic(path, json.dumps(config, indent=2, ensure_ascii=False))


def trained_state(run: Path) -> dict:
    """The run's best weights (last when it kept no best), averaged where it kept an average."""
    from rnnlab.models.averaging import averaged_state
    from rnnlab.runs import RunDir
    from rnnlab.train.checkpoint import load_checkpoint

    folder = RunDir(run)
    path = folder.best_checkpoint if folder.best_checkpoint.exists() else folder.last_checkpoint
    return averaged_state(load_checkpoint(path)["model"])


def write_weights(dest: Path, state: dict, half: bool) -> None:
    import torch
    from safetensors.torch import save

    # each tensor its own copy: tied weights (a decoder's output layer and its embedding) share storage
    tensors = {name: (t.half() if half and t.dtype == torch.float32 else t).contiguous().clone() for name, t in state.items()}
    write_atomic(dest / WEIGHTS, save(tensors, metadata={"format": "rnnlab-weights-1"}))


def test_metrics(dest: Path, card: dict) -> tuple[dict, int]:
    """The shipped folder's test metrics as the card's evaluation names them, and its parameter count."""
    import rnnlab

    evaluation = card["evaluation"]
    model = rnnlab.load(str(dest), device="cpu")
    data = os.path.expandvars(evaluation["data"]) if evaluation.get("data") else None
    metrics = model.evaluate(evaluation["split"], data=data, batch_size=evaluation["batch_size"])
    params = sum(p.numel() for name, p in model._opened.model.named_parameters())
    return metrics, params


def package(run: Path, dest: Path, card: dict, minutes: float | None = None, log=print) -> dict:
    """Pack `run` into the shipped-model folder `dest` (replaced) with `card` filled in; returns the card."""
    run, dest = Path(run), Path(dest)
    staging = dest.with_name(f".{dest.name}.partial")         # hidden: never listed as a model
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        card = pack(run, staging, card, minutes, log)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return card


def pack(run: Path, staging: Path, card: dict, minutes: float | None, log) -> dict:
    """The run's files, weights and filled-in card in `staging`, weights in fp16 unless that moves the metric."""
    from rnnlab import __version__

    copy_run_files(run, staging)
    portable_corpus(staging)
    write_atomic(staging / CARD, json.dumps(card, indent=2, ensure_ascii=False))   # marks it shipped for loading
    state = trained_state(run)
    headline = card["headline"]["metric"]
    write_weights(staging, state, half=False)
    full, params = test_metrics(staging, card)
    write_weights(staging, state, half=True)
    half, _ = test_metrics(staging, card)
    moved = abs(half[headline] - full[headline]) / max(abs(full[headline]), 1e-12)
    precision = "fp16" if moved <= TOLERANCE else "fp32"
    if precision == "fp32":
        write_weights(staging, state, half=False)
    log(f"{card['name']}: {headline} fp32 {full[headline]:.4f}, fp16 {half[headline]:.4f} ({moved:.2%}): ships {precision}")
    metrics = half if precision == "fp16" else full
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    card = {**card, "headline": {**card["headline"], "value": metrics[headline]},
            "metrics": metrics, "precision": precision,
            "precision_check": {"fp32": full[headline], "fp16": half[headline]},
            "parameters": params, "weights_bytes": (staging / WEIGHTS).stat().st_size,
            "epochs": len(records), "rnnlab_version": __version__}
    if minutes is not None:
        card["training_minutes"] = round(minutes, 1)
    write_atomic(staging / CARD, json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    write_atomic(staging / "README.md", render_readme(card))
    return card


def render_readme(card: dict) -> str:
    """The card as a page: what the model does, how to use it, what made it and what it scores."""
    data, evaluation = card["data"], card["evaluation"]
    headline = card["headline"]
    metrics = "\n".join(f"| {name} | {value:.6g} |" if isinstance(value, float) else f"| {name} | {value} |"
                        for name, value in card["metrics"].items() if isinstance(value, (int, float, str)))
    return f"""# @{card['name']}

{card['summary']}

```bash
{card['usage']['cli']}
```

```python
{card['usage']['python']}
```

## Model

- task: `{card['task']}`; {card['model']}
- parameters: {card['parameters']:,}; weights {card['weights_bytes'] / 1e6:.1f} MB as {card['precision']}
  (test {headline['metric']} {card['precision_check']['fp32']:.4f} in fp32, {card['precision_check']['fp16']:.4f} in fp16)
- trained with rnnlab {card['rnnlab_version']} for {card.get('training_minutes', '?')} minutes ({card['epochs']} epochs) on one CPU thread:

```bash
{card['command']}
```

## Data

{data['description']}

- licence: {data['licence']}
- source: {data['source']}

## Test metrics

`{evaluation['command']}` (split `{evaluation['split']}`, batch size {evaluation['batch_size']}):

| metric | value |
|---|---:|
{metrics}

Headline: {headline['metric']} **{headline['value']:.4g}** ({headline.get('note', '')}).
"""


def rebuild(name: str, out: str | Path, log=print) -> dict:
    """Train the shipped model `name` again from its card's command into `out`/run, then pack it into
    `out`/NAME; returns the new card."""
    card = read_card(resolve("@" + name))
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise RnnlabError(f"{out}: not empty; rebuild writes a new run and model there, choose a new folder")
    argv = shlex.split(card["command"])
    if argv[:2] != ["rnnlab", "train"] or "--out" not in argv:
        raise RnnlabError(f"@{name}: its card's command is not an `rnnlab train ... --out RUN` command")
    argv[argv.index("--out") + 1] = str(out / "run")
    argv = [os.path.expandvars(arg) for arg in argv[2:]]
    log(f"@{name}: training: rnnlab train {shlex.join(argv)}")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "rnnlab", "train", *argv])
    if done.returncode != 0:
        raise RnnlabError(f"@{name}: training stopped with exit status {done.returncode}; its run is in {out / 'run'}")
    card = {key: value for key, value in card.items()
            if key not in ("metrics", "precision", "precision_check", "parameters", "weights_bytes", "epochs")}
    card = package(out / "run", out / name, card, (time.monotonic() - started) / 60, log)
    log(f"@{name}: packed into {out / name}; `pip install` a copy of the gallery with it, or load it as a folder")
    return card
