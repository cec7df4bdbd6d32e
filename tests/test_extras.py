"""A missing optional dependency is one line naming the extra that brings it."""

from __future__ import annotations

import sys

import pytest

from rnnlab.cli import main


@pytest.mark.parametrize("module, argv, extra", [
    ("music21", ["train", "bach-chorales", "--out", "{tmp}/run"], "chorales"),
    ("gensim", ["word2vec", "python-stdlib", "--out", "{tmp}/vectors"], "word2vec"),
])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch, module, argv, extra):
    monkeypatch.setitem(sys.modules, module, None)                  # import fails as when it is not installed
    monkeypatch.setitem(sys.modules, f"{module}.models", None)
    monkeypatch.setitem(sys.modules, f"{module}.corpus", None)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"pip install 'rnnlab[{extra}]'" in err
