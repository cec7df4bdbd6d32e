"""A griffe extension for the API reference: docstring lines of `>>>` examples become code blocks."""

from __future__ import annotations

import griffe


def fence(text: str) -> str:
    out, inside = [], False
    for line in text.splitlines():
        example = line.lstrip().startswith((">>>", "..."))
        if example and not inside:
            out.append("```pycon")
        if not example and inside:
            out.append("```")
        inside = example
        out.append(line.replace("# doctest: +SKIP", "").rstrip() if example else line)
    if inside:
        out.append("```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence(obj.docstring.value)
