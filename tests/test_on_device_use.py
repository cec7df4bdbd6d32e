"""Using a trained run on each device there is: runs trained on the CPU give on the GPU what they
give on the CPU (greedy text, beam translations), and sampling is repeatable on the device."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from tests.tasks.seq2seq.seq2seq_tasks import date_pairs

TINY = dict(epochs=1, batch_size=4, bptt=8, hidden=16, layers=1, threads=1, progress=False)


def on(model) -> str:
    """The device type a loaded model's weights are on."""
    return next(model._opened.model.parameters()).device.type


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny runs trained on the CPU: a date translator, a piano roll and a series (the word model is
    conftest's base_run)."""
    from tests.tasks.music.conftest import scale_notes, write_midi

    root = tmp_path_factory.mktemp("device-runs")
    pairs = root / "dates.tsv"
    pairs.write_text("".join(f"{s}\t{t}\n" for s, t in date_pairs(300)), encoding="utf-8")
    midi = root / "midi"
    midi.mkdir()
    for i in range(6):
        write_midi(midi / f"piece{i}.mid", scale_notes(55 + i, count=16))
    wave = root / "wave.csv"
    wave.write_text("t,value\n" + "".join(f"{t},{np.sin(t / 6):.5f}\n" for t in range(300)), encoding="utf-8")
    return {
        "dates": rnnlab.train(pairs, root / "dates", task="seq2seq", level="char", embed=8, epochs=1, batch_size=32,
                              hidden=16, layers=1, threads=1, progress=False).path,
        "roll": rnnlab.train(midi, root / "roll", task="pianoroll", steps_per_beat=2, frame_head="nade",
                             nade_hidden=8, **{**TINY, "batch_size": 2}).path,
        "wave": rnnlab.train(wave, root / "wave", modality="series", columns="value", **TINY).path,
    }


def test_greedy_text_on_the_device_is_the_cpus(base_run, device):
    model = rnnlab.load(base_run, device=device)
    assert on(model) == device
    cpu = rnnlab.load(base_run, device="cpu").generate("the ", length=30, greedy=True)
    assert model.generate("the ", length=30, greedy=True) == cpu
    assert model.generate("the ", length=30, seed=3) == model.generate("the ", length=30, seed=3)
    assert np.isfinite(model.perplexity("the cat sat on the log"))


def test_beam_translations_on_the_device_are_the_cpus(runs, device):
    translator = rnnlab.load(runs["dates"], device=device)
    assert on(translator) == device
    sources = ["march 3, 1999", "july 14, 2001"]
    assert translator.translate(sources, beam=3) == rnnlab.load(runs["dates"], device="cpu").translate(sources, beam=3)


def test_a_piano_roll_composes_on_the_device(runs, device):
    model = rnnlab.load(runs["roll"], device=device)
    assert on(model) == device
    song = model.compose(bars=2, seed=5)
    assert song.notes > 0 and song.midi == model.compose(bars=2, seed=5).midi
    assert np.isfinite(model.evaluate("test")["nll"])


def test_a_series_forecasts_on_the_device(runs, device):
    model = rnnlab.load(runs["wave"], device=device)
    assert on(model) == device
    forecast = model.forecast(steps=10, seed=2)
    assert forecast.values.shape == (10, 1) and np.isfinite(forecast.values).all()
    assert np.array_equal(forecast.values, model.forecast(steps=10, seed=2).values)
