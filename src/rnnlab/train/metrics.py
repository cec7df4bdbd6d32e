"""Training curves as a PNG, drawn from the run's metrics.jsonl."""

from __future__ import annotations

from pathlib import Path

from rnnlab.files import save_figure


def plot_metrics(records: list[dict], path: Path, unit: str = "perplexity") -> None:
    """Loss per epoch (train and valid) and the validation perplexity or bits per character."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in records if "valid_loss" in r]
    if not epochs:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["train_loss"] for r in records if "valid_loss" in r], "o-", label="train")
    left.plot(epochs, [r["valid_loss"] for r in records if "valid_loss" in r], "o-", label="valid")
    left.set_xlabel("epoch"), left.set_ylabel("loss (nats / token)"), left.legend()
    key = "valid_bpc" if unit == "bpc" else "valid_ppl"
    right.plot(epochs, [r[key] for r in records if "valid_loss" in r], "o-", color="C1")
    right.set_xlabel("epoch"), right.set_ylabel("bits / char" if unit == "bpc" else "perplexity")
    if unit == "nll":   # series: a density's NLL per step; its exponential means nothing
        right.clear()
        right.plot(epochs, [r["valid_loss"] for r in records if "valid_loss" in r], "o-", color="C1")
        right.set_xlabel("epoch"), right.set_ylabel("NLL (nats / step)")
    right.set_title("validation")
    fig.tight_layout()
    save_figure(fig, path)
