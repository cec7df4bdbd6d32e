"""The wheel users install: built once from a copy of the source, without the network (--no-isolation), and
checked for what an installed rnnlab needs (page, static files, bundled data, licence, metadata) and for
what it must not carry (tests, benchmarks, examples)."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import rnnlab

CHECKOUT = Path(__file__).resolve().parents[1]
pytest.importorskip("build", reason="needs the build package: pip install 'rnnlab[dev]'")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(CHECKOUT / name, source / name)
    shutil.copytree(CHECKOUT / "src" / "rnnlab", source / "src" / "rnnlab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules"))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (path,) = out.glob("rnnlab-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_wheel_carries_the_page_static_files_data_and_licence(wheel):
    names = set(wheel.namelist())
    needed = {"rnnlab/tasks/language_model/page/index.html", "rnnlab/tasks/language_model/page/rnnlab-web.js",
              "rnnlab/serve/static/index.html", "rnnlab/serve/static/rnnlab.js", "rnnlab/serve/static/p5.min.js",
              "rnnlab/tasks/series/datasets/sunspots.csv", "rnnlab/tasks/series/datasets/SOURCES.md",
              "rnnlab/data/manifests/mrmp-chat-ja.sha256",
              f"rnnlab-{rnnlab.__version__}.dist-info/licenses/LICENSE", "rnnlab/cli.py"}
    assert needed <= names, sorted(needed - names)
    tops = {name.split("/")[0] for name in names}
    assert tops == {"rnnlab", f"rnnlab-{rnnlab.__version__}.dist-info"}            # no tests, benchmarks, examples
    assert not [name for name in names if "node_modules" in name or "__pycache__" in name]


def test_the_wheels_metadata_has_one_version_the_licence_and_the_extras(wheel):
    metadata = email.message_from_bytes(wheel.read(f"rnnlab-{rnnlab.__version__}.dist-info/METADATA"))
    assert metadata["Version"] == rnnlab.__version__ and metadata["License-Expression"] == "MIT"
    assert metadata["Description-Content-Type"] == "text/markdown" and metadata.get_all("Classifier")
    declared = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(metadata.get_all("Provides-Extra")) == set(declared)
    requires = metadata.get_all("Requires-Dist")
    core = [r for r in requires if "extra ==" not in r]
    assert not [r for r in core if r.split(">")[0].split("=")[0].strip() in
                ("music21", "statsmodels", "gensim", "onnxruntime", "onnx", "fastapi")]
    assert [r for r in requires if r.startswith("music21")] == ['music21>=9.1; extra == "chorales"']
