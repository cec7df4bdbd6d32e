"""`rnnlab export`: a language model's one step as ONNX, checked against PyTorch with onnxruntime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.cli import main
from rnnlab.config import build_config
from rnnlab.errors import RnnlabError
from rnnlab.tasks.registry import open_run, train

pytest.importorskip("onnx", reason="needs the onnx package: pip install 'rnnlab[export]'")
ort = pytest.importorskip("onnxruntime", reason="checking the export needs onnxruntime: pip install 'rnnlab[dev]'")

from rnnlab.tasks.language_model.export import export_run  # noqa: E402

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 30


def tiny_run(folder: Path, corpus: Path, **model) -> Path:
    overrides = {"data": {"corpus": str(corpus), "level": model.pop("level", "char")},
                 "model": {"hidden": 12, "layers": 2, "embed": 8, **model},
                 "train": {"epochs": 1, "batch_size": 4, "bptt": 8, "checkpoint_every": 0}}
    train(build_config("", overrides), folder, log=lambda line: None)
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export-corpus") / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def torch_steps(trained, ids: list[int]) -> list[np.ndarray]:
    model = trained.model.float().eval()
    state, out = model.initial_state(1), []
    for token in ids:
        logits, state = model.step_logits(torch.tensor([[token]]), state)
        out.append(logits[0].numpy())
    return out


def onnx_steps(folder: Path, ids: list[int]) -> list[np.ndarray]:
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    state = {s["name"]: np.zeros(s["shape"], dtype=np.float32) for s in vocab["state"]}
    out = []
    for token in ids:
        results = session.run(vocab["outputs"], {"ids": np.array([[token]], dtype=np.int64), **state})
        out.append(results[0][0])
        state = {s["name"]: value for s, value in zip(vocab["state"], results[1:])}
    return out


@pytest.mark.parametrize("settings", [{"cell": "lstm"}, {"cell": "gru"}, {"cell": "rnn", "layers": 1},
                                      {"cell": "lstm-peephole", "layers": 1},
                                      {"cell": "lstm", "tie_weights": True, "level": "word"}],
                         ids=["lstm", "gru", "rnn", "peephole", "tied-word"])
def test_exported_step_matches_pytorch(tmp_path, corpus, settings):
    run = tiny_run(tmp_path / "run", corpus, **settings)
    folder = export_run(run, log=lambda line: None)
    assert folder == run / "export" and (folder / "meta.json").is_file()
    trained = open_run(run, device="cpu")
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["tokens"] == trained.vocab.tokens and vocab["level"] == settings.get("level", "char")
    assert vocab["start"] in vocab["tokens"] and vocab["tokens"][vocab["unk"]] == "<unk>"
    prime = trained.tokenizer.split("the cat sat on")[:6]
    ids = trained.vocab.encode([vocab["start"], *prime])
    expected, got = torch_steps(trained, ids), onnx_steps(folder, ids)
    assert len(got) == len(ids) >= 4
    for e, g in zip(expected, got):
        assert g.shape == (len(vocab["tokens"]),)
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=1e-4)
    # the state is carried: the same token after different histories gives different logits
    assert not np.allclose(onnx_steps(folder, [ids[-1]])[0], got[-1], atol=1e-4)


def test_cli_writes_the_folder_asked_for_and_the_page(tmp_path, corpus, capsys):
    run = tiny_run(tmp_path / "run", corpus, cell="gru", layers=1)
    out = tmp_path / "web"
    assert main(["export", str(run), "--out", str(out), "--page"]) == 0
    assert {p.name for p in out.iterdir()} >= {"model.onnx", "vocab.json", "meta.json", "index.html", "rnnlab-web.js"}
    meta = json.loads((out / "meta.json").read_text())
    assert meta["cell"] == "gru" and meta["vocabulary"] == len(open_run(run).vocab)
    assert "model.onnx" in capsys.readouterr().out


def test_bad_runs_get_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error:") and len(err.strip().splitlines()) == 1


def test_a_seq2seq_run_is_refused(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{a}+{b}\t{a + b}\n" for a in range(12) for b in range(12)), encoding="utf-8")
    run = tmp_path / "s2s"
    overrides = {"data": {"corpus": str(pairs), "task": "seq2seq", "level": "char"},
                 "model": {"hidden": 8, "layers": 1},
                 "train": {"epochs": 1, "batch_size": 16, "checkpoint_every": 0}}
    train(build_config("", overrides), run, log=lambda line: None)
    with pytest.raises(RnnlabError, match=r"a seq2seq run; `rnnlab export` takes language models over tokens \(lm, midi-events runs\)"):
        export_run(run, log=lambda line: None)


def test_a_midi_event_run_exports_its_events(tmp_path):
    pytest.importorskip("symusic", reason="MIDI runs need the music extra: pip install 'rnnlab[music]'")
    from tests.tasks.music.conftest import scale_notes, write_midi

    folder = tmp_path / "midi"
    folder.mkdir()
    for i in range(4):
        write_midi(folder / f"piece{i}.mid", scale_notes(55 + i, count=16))
    run = tmp_path / "events"
    overrides = {"data": {"corpus": str(folder), "modality": "midi"}, "model": {"hidden": 8, "layers": 1},
                 "train": {"epochs": 1, "batch_size": 2, "bptt": 8, "checkpoint_every": 0}}
    train(build_config("", overrides), run, log=lambda line: None)
    trained = open_run(run, device="cpu")
    assert trained.config.data.modality == "midi"
    exported = export_run(run, tmp_path / "out", log=lambda line: None)
    vocab = json.loads((exported / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["level"] == "events" and vocab["modality"] == "midi" and vocab["tokens"] == trained.vocab.tokens
    ids = [trained.vocab.index[vocab["start"]], *range(min(5, len(trained.vocab)))]
    for e, g in zip(torch_steps(trained, ids), onnx_steps(exported, ids)):
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=1e-4)
