"""Training curves as a PNG, drawn from the run's metrics.jsonl."""

from __future__ import annotations

from pathlib import Path

from rnnlab.files import save_figure

# An objective's validation curves: (record key, label, scale); drawn beside the losses.
Curve = tuple[str, str, float]
QUALITY_CURVES: dict[str, list[Curve]] = {
    "perplexity": [("valid_ppl", "perplexity", 1.0)],
    "bpc": [("valid_bpc", "bits / char", 1.0)],
    "nll": [("valid_loss", "NLL (nats / step)", 1.0)],     # a density's NLL: its exponential means nothing
}


def plot_metrics(records: list[dict], path: Path, curves: list[Curve]) -> None:
    """A PNG of metrics_figure (nothing before the first validation)."""
    if any("valid_loss" in r for r in records):
        save_figure(metrics_figure(records, curves), path)


def metrics_figure(records: list[dict], curves: list[Curve] | None = None):
    """Loss per epoch (train and valid) on the left, the validation curves on the right (default: every
    other number the records hold under a valid_ key). A matplotlib Figure, apart from pyplot's state."""
    from matplotlib.figure import Figure

    records = [r for r in records if "valid_loss" in r]
    if curves is None:
        keys = dict.fromkeys(k for r in records for k, v in r.items() if k.startswith("valid_")
                             and k != "valid_loss" and isinstance(v, (int, float)) and not isinstance(v, bool))
        curves = [(key, key.removeprefix("valid_").replace("_", " "), 1.0) for key in keys]
    epochs = [r["epoch"] for r in records]
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    left.plot(epochs, [r["train_loss"] for r in records], "o-", label="train")
    left.plot(epochs, [r["valid_loss"] for r in records], "o-",
              label=records[-1].get("valid_split", "valid") if records else "valid")
    left.set_xlabel("epoch"), left.set_ylabel("loss (nats / token)"), left.legend()
    for key, label, scale in curves:
        right.plot([r["epoch"] for r in records if key in r], [scale * r[key] for r in records if key in r], "o-",
                   label=label)
    right.set_xlabel("epoch"), right.set_title("validation")
    if len(curves) == 1:
        right.set_ylabel(curves[0][1])
    elif curves:
        right.legend()
    fig.tight_layout()
    return fig
