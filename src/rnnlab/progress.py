"""Progress bars for long jobs: tqdm's, a widget in a notebook, text on a terminal, silent otherwise."""

from __future__ import annotations


def progress_bar(iterable=None, *, total: float | None = None, desc: str = "", unit: str = "it", leave: bool = False,
                 **options):
    """A tqdm bar: a notebook widget under Jupyter, a text bar when standard error is a terminal, and
    nothing when it is not (logs and pipes stay clean)."""
    from tqdm.auto import tqdm

    notebook = tqdm.__module__.startswith("tqdm.notebook")
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, dynamic_ncols=True,
                disable=False if notebook else None, **options)
