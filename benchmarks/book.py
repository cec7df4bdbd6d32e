"""The book's NumPy code (ゼロから作るDeep Learning ❷), laid out to run beside rnnlab in a benchmark.

Pass the folder of a clone of https://github.com/oreilly-japan/deep-learning-from-scratch-2 as
--book. It is copied into a scratch folder with the data its loaders expect (PTB, addition,
date) taken from $RNNLAB_DATA, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

WHERE = "git clone https://github.com/oreilly-japan/deep-learning-from-scratch-2 and pass its folder as --book"


def add_book_argument(parser, required: bool = True) -> None:
    parser.add_argument("--book", type=Path, required=required,
                        help="folder of the book's code (a clone of oreilly-japan/deep-learning-from-scratch-2)")


def lay_out(book: Path, dest: Path) -> Path:
    """A writable copy of the book's code in `dest`, with the data files from $RNNLAB_DATA."""
    if not (book / "common" / "trainer.py").is_file():
        sys.exit(f"{book}: not the book's code (no common/trainer.py); {WHERE}")
    data = Path(os.environ.get("RNNLAB_DATA", ""))
    shutil.copytree(book, dest, ignore=shutil.ignore_patterns(".git", "*.pkl", "*.npy"), dirs_exist_ok=True)
    for source in [data / "ptb" / f"ptb.{split}.txt" for split in ("train", "valid", "test")] + \
                  [data / "seq2seq" / "addition.txt", data / "seq2seq" / "date.txt"]:
        if source.is_file() and not (dest / "dataset" / source.name).exists():
            shutil.copy(source, dest / "dataset" / source.name)
    return dest
