"""Aozora Bunko text files as the seed read them: body only, no ruby, no editor's notes.

An Aozora file is Shift_JIS with a title block, a `-----` block explaining the notation, the
body, and a colophon starting at `底本：`. Ruby `《…》`, the ruby start mark `｜` and the
input notes `［＃…］` are removed; heading lines (marked `［＃「…」は…見出し］`) are dropped,
as the seed dropped chapter numbers.
"""

from __future__ import annotations

import re

NOTATION_BLOCK = re.compile(r"^-{20,}\s*$.*?^-{20,}\s*$\n?", re.MULTILINE | re.DOTALL)
RUBY = re.compile(r"《[^《》\n]*》")
NOTE = re.compile(r"［＃[^］\n]*］")
HEADING = re.compile(r"［＃「[^］\n]*」は[^］\n]*見出し］")
FOOTER = re.compile(r"^(［＃本文終わり］|(翻訳の)?底本[:：])", re.MULTILINE)


def looks_like_aozora(text: str) -> bool:
    """True for text carrying Aozora Bunko markup (notation block, notes or colophon)."""
    markers = ("【テキスト中に現れる記号について】" in text, "［＃" in text,
               bool(re.search(r"^(翻訳の)?底本[:：]", text, re.MULTILINE)))
    return sum(markers) >= 2 or (markers[0] and "《" in text)


def clean_aozora(text: str) -> str:
    """Return the body of an Aozora Bunko text, without ruby, notes, headings or colophon."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    block = NOTATION_BLOCK.search(text)
    if block:
        text = text[block.end():]
    footer = FOOTER.search(text)
    if footer:
        text = text[:footer.start()]
    lines = [line for line in text.split("\n") if not HEADING.search(line)]
    text = "\n".join(lines)
    text = RUBY.sub("", text).replace("｜", "")
    text = NOTE.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"
