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
    """Loss per epoch (train and valid) on the left, the validation curves on the right."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [r for r in records if "valid_loss" in r]
    if not records:
        return
    epochs = [r["epoch"] for r in records]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["train_loss"] for r in records], "o-", label="train")
    left.plot(epochs, [r["valid_loss"] for r in records], "o-", label=records[-1].get("valid_split", "valid"))
    left.set_xlabel("epoch"), left.set_ylabel("loss (nats / token)"), left.legend()
    for key, label, scale in curves:
        right.plot(epochs, [scale * r[key] for r in records if key in r], "o-", label=label)
    right.set_xlabel("epoch"), right.set_title("validation")
    if len(curves) == 1:
        right.set_ylabel(curves[0][1])
    else:
        right.legend()
    fig.tight_layout()
    save_figure(fig, path)
