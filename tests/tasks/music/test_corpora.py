"""Named music corpora: the benchmark sets through $RNNLAB_DATA, and the chorales inside music21."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import SHARED_DATA

from rnnlab.cli import main
from rnnlab.data import corpora
from rnnlab.tasks.music import corpora as music_corpora
from rnnlab.errors import RnnlabError

SHARED_JSB = SHARED_DATA / "music" / "jsb" / "jsb-chorales-quarter.json"


@pytest.fixture
def tiny_benchmarks(tmp_path, monkeypatch):
    """A $RNNLAB_DATA folder laid out as the shared one, with small JSB (JSON) and Nottingham (.mat) sets."""
    root = tmp_path / "data"
    (root / "music" / "jsb").mkdir(parents=True)
    chorale = [[60, 64, 67], [62, 65, 69], [], [59, 62, 67, 107]] * 3
    layout = {"train": [chorale] * 6, "valid": [chorale[:5]], "test": [chorale[:7], chorale[:3]]}
    (root / "music" / "jsb" / "jsb-chorales-quarter.json").write_text(json.dumps(layout))
    scipy_io = pytest.importorskip("scipy.io")
    (root / "music" / "nottingham").mkdir(parents=True)
    roll = np.zeros((10, 88), dtype=np.uint8)
    roll[:, 39] = 1
    cells = lambda n: np.array([[roll] * n], dtype=object)      # noqa: E731  a 1 x n cell array
    scipy_io.savemat(root / "music" / "nottingham" / "Nottingham.mat",
                     {"traindata": cells(3), "validdata": cells(1), "testdata": cells(2)})
    monkeypatch.setenv("RNNLAB_DATA", str(root))
    return root


def test_music_corpora_are_registered_with_checksums():
    for name in ("bach-chorales", "jsb", "nottingham", "musedata", "piano-midi"):
        assert corpora.CORPORA[name].modality == "midi"
    for name in ("jsb", "nottingham", "musedata", "piano-midi"):
        (remote,) = corpora.CORPORA[name].files
        assert remote.relpath.startswith("music/") and len(remote.sha256) == 64 and remote.url.startswith("https://")
    assert corpora.status("bach-chorales") == "embedded"


def test_benchmark_sets_keep_their_own_split(tiny_benchmarks):
    jsb = music_corpora.frame_splits("jsb")
    assert [len(jsb[s]) for s in ("train", "valid", "test")] == [6, 1, 2]
    first = jsb["train"][0]
    assert first.frames.shape == (12, 88) and first.steps_per_beat == 1
    assert first.frames[0, [60 - 21, 64 - 21, 67 - 21]].all() and first.frames[0].sum() == 3
    assert not first.frames[2].any()                                  # a rest
    nottingham = music_corpora.frame_splits("nottingham")
    assert [len(nottingham[s]) for s in ("train", "valid", "test")] == [3, 1, 2]
    assert nottingham["train"][0].steps_per_beat == 2 and nottingham["test"][1].frames[:, 39].all()


def test_missing_benchmark_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "nothing"))
    with pytest.raises(RnnlabError, match="rnnlab data get musedata"):
        music_corpora.frame_splits("musedata")


def test_train_a_named_set_picks_midi_and_pianoroll(tiny_benchmarks, tmp_path, capsys):
    out = tmp_path / "jsb-run"
    assert main(["train", "jsb", "--out", str(out), "--epochs", "1", "--batch-size", "2", "--bptt", "4",
                 "--hidden", "8", "--layers", "1", "--eval-batch-size", "1"]) == 0
    assert "9 pieces used, 0 skipped" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["modality"] == "midi" and config["data"]["tokenizer"] == "pianoroll"
    assert config["preset"] == "poly-lstm" and config["pianoroll"]["frame_head"] == "bernoulli"     # the set's recipe
    assert config["train"]["average"] == 0.9995 and config["model"]["weight_drop"] == 0       # averaged weights scored
    assert json.loads((out / "vocab.json").read_text())["tokenizer"] == {"name": "pianoroll", "steps_per_beat": 1}
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 6 + 2


@pytest.mark.skipif(not SHARED_JSB.is_file(), reason="the shared JSB Chorales copy is not here")
def test_shared_jsb_is_the_papers_split(monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(SHARED_JSB.parents[2]))
    jsb = music_corpora.frame_splits("jsb")
    assert [len(jsb[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    assert sum(len(p.frames) for p in jsb["test"]) == 4725


def test_bach_chorales_convert_once_from_music21(monkeypatch):
    pytest.importorskip("music21")
    lines = []
    pieces, skipped = music_corpora.chorale_pieces(lines.append, limit=2)
    assert len(pieces) == 2 and not skipped and all(p.score.note_num() > 20 for p in pieces)
    assert len(list(music_corpora.chorales_folder().glob("*.mid"))) == 2
    assert any("converting 2 music21 chorales" in line for line in lines)
    lines.clear()
    music_corpora.chorale_pieces(lines.append, limit=2)
    assert not any("converting" in line for line in lines)          # cached: no second conversion


def test_jsb_recipe_trains_with_weight_drop_and_scores_the_averaged_weights(tiny_benchmarks, tmp_path, capsys):
    """poly-lstm-512 (JSB's Bernoulli recipe): DropConnect on the recurrent weights, the moving average scored."""
    import torch

    from rnnlab.tasks.registry import open_run
    from rnnlab.train.checkpoint import load_checkpoint

    out = tmp_path / "jsb-512"
    assert main(["train", "jsb", "--preset", "poly-lstm-512", "--out", str(out), "--epochs", "1", "--batch-size", "2",
                 "--bptt", "4", "--hidden", "8", "--eval-batch-size", "1"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["weight_drop"] == 0.3 and config["model"]["dropout"] == 0.5
    assert config["train"]["average"] == 0.999
    saved = load_checkpoint(out / "checkpoints" / "best.pt")["model"]
    assert torch.equal(open_run(out, "best", "cpu").model.head.project.weight, saved["average_head_project_weight"])
