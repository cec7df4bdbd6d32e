"""Long jobs show a progress bar on a terminal and stay silent in logs and pipes."""

from __future__ import annotations

import io

import pytest

import rnnlab


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress")
    corpus = folder / "small.txt"
    corpus.write_text("the cat sees the dog .\nthe dog sees the cat .\n" * 60, encoding="utf-8")
    return rnnlab.train(corpus, folder / "run", level="word", epochs=1, batch_size=4, bptt=8, hidden=8, layers=1,
                        threads=1, progress=False).path


@pytest.mark.parametrize("terminal", [True, False])
def test_evaluate_shows_a_bar_only_on_a_terminal(text_run, monkeypatch, terminal):
    stream = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    assert rnnlab.load(text_run).evaluate(split="valid")["perplexity"] > 1
    assert ("evaluate" in stream.getvalue()) == terminal


def test_training_shows_its_epoch_bar_on_a_terminal_unless_asked_not_to(tmp_path, monkeypatch):
    corpus = tmp_path / "small.txt"
    corpus.write_text("a b c d e f g .\n" * 80, encoding="utf-8")
    settings = dict(level="word", epochs=1, batch_size=4, bptt=8, hidden=8, layers=1, threads=1)
    for progress in (True, False):
        stream = Terminal()
        monkeypatch.setattr("sys.stderr", stream)
        rnnlab.train(corpus, tmp_path / f"run-{progress}", progress=progress, **settings)
        assert ("epoch 1" in stream.getvalue()) == progress
