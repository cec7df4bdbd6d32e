"""A missing optional dependency is one line naming the extra that brings it."""

from __future__ import annotations

import sys

import pytest

from rnnlab.cli import main


@pytest.mark.parametrize("module, argv, extra", [
    ("music21", ["train", "bach-chorales", "--out", "{tmp}/run"], "chorales"),
    ("gensim", ["word2vec", "python-stdlib", "--out", "{tmp}/vectors"], "word2vec"),
    ("fastapi", ["serve", "{tmp}/run"], "serve"),
    ("onnx", ["export", "{tmp}/run"], "export"),
])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch, module, argv, extra):
    monkeypatch.setitem(sys.modules, module, None)                  # import fails as when it is not installed
    monkeypatch.delitem(sys.modules, "rnnlab.serve.app", raising=False)   # so that serve imports it again
    monkeypatch.setitem(sys.modules, f"{module}.models", None)
    monkeypatch.setitem(sys.modules, f"{module}.corpus", None)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"pip install 'rnnlab[{extra}]'" in err


def test_the_install_guides_extras_table_is_pyprojects():
    """docs/guides/install.md lists each extra with the packages it brings (extras it includes named as
    such, "every extra above" for dev), as pyproject.toml declares them."""
    import re
    import tomllib
    from pathlib import Path

    checkout = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    guide = (checkout / "docs" / "guides" / "install.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]*) \|", guide.split("## Extras", 1)[1], re.M))
    assert list(rows) == list(declared)
    for extra, requirements in declared.items():
        packages = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements if not r.startswith("rnnlab[")}
        listed = {word.strip().lower() for word in rows[extra].split(",")}
        named = {w for w in listed if w in packages}
        assert named == packages, (extra, packages - named)
        included = {r[len("rnnlab["):-1] for r in requirements if r.startswith("rnnlab[")}
        if extra != "dev":
            assert {w.split(" ")[0] for w in listed - packages if w.split(" ")[0] in declared} == included, extra


def test_data_list_says_which_extra_an_embedded_corpus_needs(monkeypatch):
    import importlib.util

    from rnnlab.data import corpora

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "music21" else real(name, *a))
    assert corpora.status("bach-chorales") == "needs pip install 'rnnlab[chorales]'"
    assert corpora.status("python-stdlib") == "embedded"
