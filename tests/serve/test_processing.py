"""The example Processing sketches compiled with javac and run (xvfb) as real oscP5 clients of the server.

Needs Java 17 (with openjdk-17-jre's AWT), xvfb-run, Processing's core.jar (from the py5 wheel)
and shared/vendor/processing/oscP5.jar; skipped when any is absent (.ci/run installs them).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from .live import live_server
from .pde import pde_to_java

ROOT = Path(__file__).resolve().parents[2]
OSCP5 = ROOT.parent / "shared" / "vendor" / "processing" / "oscP5.jar"
SKETCHES = ROOT / "examples" / "processing"


def core_jar() -> Path | None:
    spec = importlib.util.find_spec("py5")          # located, never imported (importing starts a JVM)
    if spec is None or not spec.submodule_search_locations:
        return None
    jar = Path(spec.submodule_search_locations[0]) / "jars" / "core.jar"
    return jar if jar.exists() else None


CORE = core_jar()
pytestmark = pytest.mark.skipif(
    not (shutil.which("javac") and shutil.which("java") and shutil.which("xvfb-run") and OSCP5.exists() and CORE),
    reason="needs javac/java 17, xvfb-run, py5's core.jar and shared/vendor/processing/oscP5.jar")


def compile_sketch(name: str, build: Path) -> Path:
    source = (SKETCHES / name / f"{name}.pde").read_text(encoding="utf-8")
    java = build / f"{name}.java"
    java.write_text(pde_to_java(source, name), encoding="utf-8")
    classes = build / "classes"
    classes.mkdir(exist_ok=True)
    done = subprocess.run(["javac", "--release", "17", "-nowarn", "-encoding", "UTF-8", "-cp", f"{CORE}:{OSCP5}",
                           "-d", str(classes), str(java)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return classes


def run_sketch(name: str, classes: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["timeout", "90", "xvfb-run", "-a", "-s", "-screen 0 640x480x24", "java", "-cp",
                           f"{CORE}:{OSCP5}:{classes}", name, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def server(runs):
    with live_server([runs["chars"], runs["shapes"]]) as live:
        yield live


def test_play_model_sketch_receives_tokens(server, tmp_path):
    _, _, osc_port = server
    classes = compile_sketch("play_model", tmp_path)
    done = run_sketch("play_model", classes, str(osc_port), "chars", "16")
    assert done.returncode == 0 and "OK 16 tokens" in done.stdout, done.stdout[-1500:] + done.stderr[-1500:]
    tokens = [line for line in done.stdout.splitlines() if line.startswith("token ")]
    assert len(tokens) == 16 and "server error" not in done.stdout


def test_draw_strokes_sketch_gets_its_drawing_continued(server, tmp_path):
    _, _, osc_port = server
    classes = compile_sketch("draw_strokes", tmp_path)
    done = run_sketch("draw_strokes", classes, str(osc_port), "shapes", "AUTO", "0.1")
    assert done.returncode == 0 and "OK " in done.stdout, done.stdout[-1500:] + done.stderr[-1500:]
    words = done.stdout.split("OK ")[1].split()           # OK <outputs> outputs, <segments> segments drawn
    outputs, segments = int(words[0]), int(words[2])
    assert 1 <= outputs <= 60 and segments >= 1 and "server error" not in done.stdout
