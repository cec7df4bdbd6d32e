"""An attention heat map as in the book's date figure: source along x, output along y."""

from __future__ import annotations

from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.files import save_figure

MAX_TOKENS = 80          # per axis: a longer source or output is cut to its first MAX_TOKENS tokens
MAX_TITLE = 70           # characters of the title


def shown(token: str) -> str:
    return "␣" if token == " " else token


def save_attention_map(weights, source_tokens: list[str], output_tokens: list[str], path: Path,
                       title: str = "", max_tokens: int = MAX_TOKENS) -> str | None:
    """weights (outputs, sources), rows summing to 1; output_tokens include the final </s>.

    At most `max_tokens` source tokens (columns) and output tokens (rows) are drawn, the first
    ones, so a long input still makes a picture of bounded size; returns a one-line note saying
    what was left out, or None when everything is shown."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if weights is None:
        raise RnnlabError("--attention-map needs a run trained with --decoder attention")
    cut = []
    if len(source_tokens) > max_tokens:
        cut.append(f"the first {max_tokens} of {len(source_tokens):,} source tokens")
    if len(output_tokens) > max_tokens:
        cut.append(f"the first {max_tokens} of {len(output_tokens):,} output tokens")
    source_tokens, output_tokens = source_tokens[:max_tokens], output_tokens[:max_tokens]
    matrix = weights[:len(output_tokens), :len(source_tokens)].numpy()
    if len(title) > MAX_TITLE:
        title = title[:MAX_TITLE - 1] + "…"
    fig, axis = plt.subplots(figsize=(max(4, 0.3 * len(source_tokens) + 2), max(3, 0.3 * len(output_tokens) + 1.5)))
    image = axis.imshow(matrix, cmap="gray", vmin=0, vmax=max(float(matrix.max()), 1e-9), aspect="auto")
    axis.set_xticks(range(len(source_tokens)), [shown(t) for t in source_tokens],
                    rotation=90 if max(map(len, source_tokens)) > 1 else 0)
    axis.set_yticks(range(len(output_tokens)), [shown(t) for t in output_tokens])
    axis.set_xlabel("source" + (f" (first {len(source_tokens)})" if cut and "source" in cut[0] else ""))
    axis.set_ylabel("output" + (f" (first {len(output_tokens)})" if any("output" in c for c in cut) else ""))
    if title:
        axis.set_title(title)
    fig.colorbar(image, ax=axis, fraction=0.04)
    fig.tight_layout()
    save_figure(fig, Path(path), dpi=100)
    return f"the attention map shows {' and '.join(cut)}" if cut else None
