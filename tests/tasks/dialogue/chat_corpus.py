"""A tiny chat corpus in the dialogue corpus's JSON layout, written by the tests that need one."""

from __future__ import annotations

import json
from pathlib import Path

LINES = ["hello there", "hello how are you", "fine thanks and you", "good , it is cold", "yes very cold",
         "do you like tea", "i like tea", "me too"]


def write_chat_corpus(root: Path) -> Path:
    """Ten speaker groups of twelve utterances cycling through LINES; returns the corpus folder."""
    folder = root / "dialogues" / "A_first_time"
    folder.mkdir(parents=True)
    for group in range(10):
        utterances = [{"utterance_id": i, "interlocutor_id": "x", "text": LINES[i % len(LINES)], "mention_to": []}
                      for i in range(12)]
        (folder / f"A{group:03d}01.json").write_text(json.dumps({"dialogue_id": f"A{group:03d}01",
                                                                  "utterances": utterances}), encoding="utf-8")
    return folder.parent
