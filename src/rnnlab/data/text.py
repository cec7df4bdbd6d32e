"""Read users' text files safely: decode, detect binary data, strip known wrappers.

Every failure names the file and what to do, as a one-line RnnlabError. Aozora Bunko files
(Shift_JIS with ruby and notes) and Project Gutenberg files (licence header/footer) are
recognised and reduced to their body.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from rnnlab.data.aozora import clean_aozora, looks_like_aozora
from rnnlab.errors import RnnlabError

TEXT_SUFFIXES = {".txt", ".text", ".md", ".py", ".csv", ".tsv", ".json", ".html", ".xml", ".rst", ""}
GUTENBERG_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE)
GUTENBERG_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE)


# Byte-order marks, longest first (UTF-32 LE starts with UTF-16 LE's).
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(raw: bytes, path: Path, encoding: str = "auto") -> str:
    """Bytes to str; 'auto' accepts UTF-8 (BOM or not), UTF-16 / UTF-32 with a BOM (Windows'
    "Unicode" text), else Shift_JIS if it decodes cleanly."""
    sniffed = encoding == "auto"
    if sniffed:
        encoding = next((name for bom, name in BOMS if raw.startswith(bom)), "auto")
    if encoding != "auto":
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise RnnlabError(f"{path}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as err:
            raise RnnlabError(f"{path}: not valid {encoding} at byte {err.start}") from None
        text = text.removeprefix("\ufeff")
        if "\x00" in text[:65536] or (sniffed and not plausible(text)):
            raise RnnlabError(f"{path}: looks like a binary file (read as {encoding} it is not text)")
        return text
    if raw[:4] in (b"MThd", b"RIFF"):
        raise RnnlabError(f"{path}: a MIDI file, not text; train on MIDI with --task midi-events (or pianoroll)")
    if b"\x00" in raw[:65536]:
        raise RnnlabError(f"{path}: looks like a binary file (it contains NUL bytes), not text; "
                          "for UTF-16 text without a BOM pass --encoding utf-16-le (or -be)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        utf8_error = err
    try:
        text = raw.decode("cp932")
        if looks_japanese(text):
            return text
    except UnicodeDecodeError:
        pass
    raise RnnlabError(
            f"{path}: not UTF-8 text (bad byte at offset {utf8_error.start}); "
            "convert it to UTF-8 or pass --encoding")


def plausible(text: str) -> bool:
    """Bytes that merely start like a UTF-16 BOM decode into symbol soup: unassigned, private-use
    and control characters, byte-order marks inside the text. Real text has almost none."""
    sample = text[:20000]
    odd = sum(1 for ch in sample if ch == "\ufeff" or (unicodedata.category(ch) in ("Cn", "Co", "Cc")
                                                        and ch not in "\n\r\t\f"))
    return odd <= 0.01 * len(sample)


def looks_japanese(text: str) -> bool:
    """Shift_JIS decodes most byte soup; accept it only when kana and kanji dominate."""
    letters = [ch for ch in text[:20000] if not ch.isspace() and not ch.isascii()]
    japanese = sum(1 for ch in letters if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return len(letters) > 0 and japanese / len(letters) > 0.8 and not any(ord(ch) < 9 for ch in text[:20000])


def strip_gutenberg(text: str) -> str:
    """Keep only what lies between Project Gutenberg's START and END markers, if present."""
    start, end = GUTENBERG_START.search(text), GUTENBERG_END.search(text)
    if start and end and start.end() < end.start():
        return text[start.end():end.start()].strip("\n") + "\n"
    return text


def read_text_file(path: Path, encoding: str = "auto") -> str:
    """One file's text with LF newlines and known wrappers removed."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RnnlabError(f"{path}: cannot read ({err.strerror})") from None
    text = decode(raw, path, encoding)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if looks_like_aozora(text):
        text = clean_aozora(text)
    text = strip_gutenberg(text)
    if not text.strip():
        raise RnnlabError(f"{path}: is empty (no text to learn from)")
    return text


def text_files_in(folder: Path) -> list[Path]:
    """Text-like files under a folder, sorted, hidden files skipped."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)
             and p.suffix.lower() in TEXT_SUFFIXES]
    if not files:
        raise RnnlabError(f"{folder}: holds no text files (.txt and similar)")
    return files


def read_text_source(path: Path, encoding: str = "auto") -> str:
    """A file, or every text file in a folder joined in sorted order."""
    if not path.exists():
        raise RnnlabError(f"{path}: no such file or folder, and not a named corpus (see `rnnlab data list`)")
    if path.is_dir():
        return "".join(_with_newline(read_text_file(p, encoding)) for p in text_files_in(path))
    return read_text_file(path, encoding)


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def split_contiguous(text: str, fractions: tuple[float, float, float]) -> tuple[str, str, str]:
    """Cut text into train/valid/test at line boundaries nearest the given fractions."""
    n = len(text)
    cuts = []
    for point in (fractions[0], fractions[0] + fractions[1]):
        at = int(n * point)
        newline = text.rfind("\n", 0, at)
        # Snap to a line end when one is near; a text of few long lines is cut mid-line.
        at = newline + 1 if newline >= 0 and at - newline < max(200, n // 100) else at
        cuts.append(at)
    cut1, cut2 = cuts[0], max(cuts[0], cuts[1])
    if fractions[2] == 0:
        cut2 = n
    return text[:cut1], text[cut1:cut2], text[cut2:]
