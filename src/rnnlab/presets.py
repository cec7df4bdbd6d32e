"""Named recipes: partial configs applied before explicit flags. Values follow the papers' recipes,
scaled where noted; a named corpus may bring one of them as its default (see data/corpora.py).

Each task keeps its own beside it (tasks/<task>/presets.py, named by its line in the catalog);
PRESETS is the one table of all of them.
"""

from __future__ import annotations

from typing import Any

from rnnlab.tasks.catalog import task_presets

PRESETS: dict[str, dict[str, dict[str, Any]]] = task_presets()
