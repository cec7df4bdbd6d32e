"""An attention heat map as in the book's date figure: source along x, output along y."""

from __future__ import annotations

from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.files import save_figure


def shown(token: str) -> str:
    return "␣" if token == " " else token


def save_attention_map(weights, source_tokens: list[str], output_tokens: list[str], path: Path,
                       title: str = "") -> None:
    """weights (outputs, sources), rows summing to 1; output_tokens include the final </s>."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if weights is None:
        raise RnnlabError("--attention-map needs a run trained with --decoder attention")
    matrix = weights.numpy()
    fig, axis = plt.subplots(figsize=(max(4, 0.3 * len(source_tokens) + 2), max(3, 0.3 * len(output_tokens) + 1.5)))
    image = axis.imshow(matrix, cmap="gray", vmin=0, vmax=max(float(matrix.max()), 1e-9), aspect="auto")
    axis.set_xticks(range(len(source_tokens)), [shown(t) for t in source_tokens],
                    rotation=90 if max(map(len, source_tokens)) > 1 else 0)
    axis.set_yticks(range(len(output_tokens)), [shown(t) for t in output_tokens])
    axis.set_xlabel("source")
    axis.set_ylabel("output")
    if title:
        axis.set_title(title)
    fig.colorbar(image, ax=axis, fraction=0.04)
    fig.tight_layout()
    save_figure(fig, Path(path), dpi=100)
