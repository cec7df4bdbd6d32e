"""The guide to a task of one's own runs as written: its code block trains, saves the task's own
section and generates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "own-task.md"


def test_the_guides_task_trains_and_generates(tmp_path):
    code = re.search(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S).group(1)
    script = tmp_path / "mirror.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "RNNLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("def main():")            # the line it was asked what came before
    config = json.loads((tmp_path / "runs" / "mirror" / "config.json").read_text())
    assert config["mirror"] == {"forwards_too": True} and config["data"]["task"] == "mirror"
