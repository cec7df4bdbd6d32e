"""The documentation site builds with warnings as errors, every course page executed on the way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"


@pytest.mark.timeout(1500)              # the course pages train their small models as the site builds
def test_the_site_builds_strict_and_runs_every_course_page():
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(SITE)],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    course = sorted((ROOT / "docs" / "course").glob("*.py"))
    assert len(course) == 5
    for page in course:
        built = SITE / "course" / page.stem / "index.html"
        assert built.is_file(), built
        assert "Traceback" not in built.read_text(encoding="utf-8"), page.name
