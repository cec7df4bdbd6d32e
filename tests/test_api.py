"""The Python API as a notebook uses it, with only the names `rnnlab` exports, and the same seeds
giving the same outputs through the command line."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

import rnnlab
from rnnlab.cli import main
from tests.tasks.dialogue.chat_corpus import write_chat_corpus
from tests.tasks.seq2seq.seq2seq_tasks import date_pairs

TINY = dict(epochs=1, batch_size=4, bptt=8, hidden=16, layers=1, threads=1)


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api_text")
    corpus = folder / "small.txt"
    lines = [f"the {a} {v} the {t} ." for a in ("cat", "dog", "owl") for v in ("sees", "likes") for t in ("ball", "box")]
    corpus.write_text("\n".join(lines * 8) + "\n", encoding="utf-8")
    run = rnnlab.train(corpus, folder / "run", level="word", progress=False, **TINY)
    return run


def test_train_returns_the_run_with_its_metrics_and_curves(text_run):
    assert isinstance(text_run, rnnlab.Run) and text_run.task == "lm"
    assert len(text_run.metrics) == 1 and np.isfinite(text_run.metrics[0]["valid_loss"])
    figure = text_run.plot()
    assert figure.axes and (text_run.path / "config.json").is_file()


def test_a_text_model_generates_streams_and_scores_as_the_cli_does(text_run, capsys):
    model = rnnlab.load(text_run.path)
    assert isinstance(model, rnnlab.TextModel) and model.task == "lm"
    text = model.generate("the cat", length=20, temperature=0.8, seed=3)
    pieces = list(model.stream("the cat", length=20, temperature=0.8, seed=3))
    assert "".join(pieces) == text and len(pieces) > 2 and text.startswith("the cat")
    assert main(["generate", str(text_run.path), "--prime", "the cat", "--length", "20", "--temperature", "0.8",
                 "--seed", "3"]) == 0
    assert capsys.readouterr().out == text + "\n"
    ppl = model.perplexity("the cat sees the ball .\nthe dog likes the box .\n")
    assert 1 < ppl < len(json.loads((text_run.path / "vocab.json").read_text())["tokens"]) * 2
    assert model.evaluate(split="valid")["perplexity"] > 1


def test_beam_search_text_is_one_piece_and_the_same_from_the_cli(text_run, capsys):
    model = rnnlab.load(text_run.path)
    text = model.generate("the dog", length=6, beam=3)
    assert main(["generate", str(text_run.path), "--prime", "the dog", "--length", "6", "--beam", "3"]) == 0
    assert capsys.readouterr().out == text + "\n"


def test_a_verb_that_does_not_fit_is_a_clear_error_not_an_attribute_error(text_run):
    model = rnnlab.load(text_run.path)
    for verb, args in (("translate", ("hello",)), ("compose", ()), ("forecast", ()), ("respond", (["hi"],))):
        with pytest.raises(rnnlab.VerbNotSupported, match="its verbs: generate, stream, perplexity"):
            getattr(model, verb)(*args)
    with pytest.raises(rnnlab.RnnlabError):
        rnnlab.load(text_run.path, checkpoint="newest")


def test_settings_are_checked_by_name_and_by_task(tmp_path, small_text):
    with pytest.raises(rnnlab.RnnlabError, match="unknown training setting.*hiden"):
        rnnlab.train(small_text, tmp_path / "r", hiden=8)
    with pytest.raises(rnnlab.RnnlabError, match="--frame-head does not apply to a lm run"):
        rnnlab.train(small_text, tmp_path / "r", frame_head="nade")
    assert not (tmp_path / "r").exists()


def test_a_tokenizer_that_does_not_fit_the_data_is_refused_in_one_line(tmp_path, small_text, capsys):
    assert main(["train", str(small_text), "--tokenizer", "remi", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--tokenizer remi" in err and str(small_text) in err
    assert not (tmp_path / "r").exists()


def test_configure_and_print_config_agree_and_a_config_file_sits_under_flags(tmp_path, small_text, capsys):
    settings = tmp_path / "settings.yaml"
    settings.write_text("model:\n  hidden: 24\n  layers: 1\ntrain:\n  epochs: 3\n", encoding="utf-8")
    config = rnnlab.configure(small_text, config=settings, epochs=2)
    assert (config.model.hidden, config.model.layers, config.train.epochs) == (24, 1, 2)
    assert main(["train", str(small_text), "--config", str(settings), "--epochs", "2", "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == config.to_dict()
    settings.write_text("model:\n  hiden: 24\n", encoding="utf-8")
    assert main(["train", str(small_text), "--config", str(settings), "--out", str(tmp_path / "r")]) == 2
    assert "hiden" in capsys.readouterr().err


def test_version_has_one_source(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rnnlab {rnnlab.__version__}" == f"rnnlab {version('rnnlab')}"


def test_quiet_training_prints_nothing_but_the_cli_says_what_it_does(tmp_path, small_text, capsys):
    rnnlab.train(small_text, tmp_path / "api", progress=False, **TINY)
    assert capsys.readouterr().out == ""
    assert main(["train", str(small_text), "--out", str(tmp_path / "cli"), *cli_flags(TINY)]) == 0
    assert "epoch 1" in capsys.readouterr().out
    assert main(["-q", "train", str(small_text), "--out", str(tmp_path / "quiet"), *cli_flags(TINY)]) == 0
    assert capsys.readouterr().out == ""


def cli_flags(settings: dict) -> list[str]:
    return [part for name, value in settings.items() for part in (f"--{name.replace('_', '-')}", str(value))]


def test_translate_from_python_and_the_cli(tmp_path, capsys):
    data = tmp_path / "dates.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in date_pairs(400)), encoding="utf-8")
    run = rnnlab.train(data, tmp_path / "run", task="seq2seq", level="char", layers=1, hidden=32, embed=16,
                       batch_size=32, epochs=1, threads=1, progress=False)
    translator = rnnlab.load(run.path)
    assert isinstance(translator, rnnlab.Translator)
    one = translator.translate("march 3", beam=3)
    many = translator.translate(["march 3", "july 14"], beam=3)
    assert isinstance(one, str) and many[0] == one and len(many) == 2
    assert main(["translate", str(run.path), "march 3", "july 14", "--beam", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == many
    best = translator.translations(["march 3"], rnnlab.Decoding(beam=3, n_best=2))[0]
    assert best.text == one and len(best.texts) == 2 and best.scores[0] >= best.scores[1]


def test_respond_from_python_and_the_cli(tmp_path, capsys):
    corpus = write_chat_corpus(tmp_path / "chat")
    run = rnnlab.train(corpus, tmp_path / "run", task="dialogue", level="word", layers=1, hidden=16, embed=8,
                       batch_size=8, epochs=1, threads=1, context_size=2, progress=False)
    chat = rnnlab.load(run.path)
    assert isinstance(chat, rnnlab.ChatModel)
    reply = chat.respond(["hello there"], seed=1)
    assert isinstance(reply, str)
    assert main(["respond", str(run.path), "--context", "hello there", "--seed", "1"]) == 0
    assert capsys.readouterr().out.strip() == reply


def test_forecast_from_python_and_the_cli(tmp_path, capsys):
    series = tmp_path / "wave.csv"
    steps = np.arange(400)
    series.write_text("t,value\n" + "".join(f"{t},{np.sin(t / 6):.5f}\n" for t in steps), encoding="utf-8")
    run = rnnlab.train(series, tmp_path / "run", modality="series", columns="value", progress=False, **TINY)
    model = rnnlab.load(run.path)
    assert isinstance(model, rnnlab.SeriesModel)
    result = model.forecast(steps=12, seed=2)
    assert result.columns == ["value"] and result.values.shape == (12, 1) and result.plot().axes
    prime = model.forecast(steps=5, prime=[[0.0], [0.2], [0.4]], seed=2)
    assert prime.values.shape == (5, 1) and prime.prime.shape == (3, 1)
    out = tmp_path / "forecast.csv"
    assert main(["generate", str(run.path), "--out", str(out), "--length", "12", "--seed", "2"]) == 0
    rows = list(csv.reader(out.open()))[1:]
    assert np.allclose([float(r[0]) for r in rows], result.values[:, 0], atol=1e-4)


def test_compose_save_render_and_the_cli(tmp_path, midi_folder, capsys):
    run = rnnlab.train(midi_folder, tmp_path / "run", tokenizer="performance", progress=False,
                       **{**TINY, "batch_size": 2})
    model = rnnlab.load(run.path)
    assert isinstance(model, rnnlab.MusicModel) and model.task == "midi-events"
    song = model.compose(seconds=4, seed=7)
    assert isinstance(song, rnnlab.Song) and song.notes > 0 and song.plot().axes
    saved = song.save(tmp_path / "api_song")
    assert saved.suffix == ".mid" and saved.read_bytes() == song.midi
    assert main(["generate", str(run.path), "--out", str(tmp_path / "cli_song.mid"), "--seconds", "4",
                 "--seed", "7"]) == 0
    assert (tmp_path / "cli_song.mid").read_bytes() == song.midi
    if shutil.which("fluidsynth"):
        from rnnlab.tasks.music.audio import find_soundfont
        if find_soundfont() is not None:
            wav = song.render(tmp_path / "song.wav")
            assert wav.stat().st_size > 1000


@pytest.fixture
def midi_folder(tmp_path):
    from tests.tasks.music.conftest import scale_notes, write_midi

    folder = tmp_path / "midi"
    folder.mkdir()
    for i in range(6):
        write_midi(folder / f"piece{i}.mid", scale_notes(55 + i, count=16), tempo=500_000 + 50_000 * i)
    return folder


def test_every_public_name_has_a_docstring():
    for name in rnnlab.__all__:
        if name.startswith("__"):
            continue
        value = getattr(rnnlab, name)
        assert (value.__doc__ or "").strip(), name
    assert set(rnnlab.tasks()) >= {"lm", "midi-events", "pianoroll", "series", "seq2seq", "dialogue", "word2vec"}
    assert "python-stdlib" in rnnlab.corpora() and "char-small" in rnnlab.presets()


def test_word_vectors_from_python_and_the_cli(tmp_path, capsys):
    pytest.importorskip("gensim")
    corpus = tmp_path / "words.txt"
    corpus.write_text("the king rules the land . the queen rules the land .\n" * 200, encoding="utf-8")
    assert main(["word2vec", str(corpus), "--out", str(tmp_path / "w2v"), "--dim", "8", "--epochs", "2",
                 "--min-count", "1", "--threads", "1"]) == 0
    capsys.readouterr()
    vectors = rnnlab.load(tmp_path / "w2v")
    assert isinstance(vectors, rnnlab.WordVectorModel)
    nearest = vectors.similar("king", top=3)
    assert main(["similar", str(tmp_path / "w2v"), "king", "--top", "3"]) == 0
    assert [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()] == [w for w, _ in nearest]
    with pytest.raises(rnnlab.VerbNotSupported, match="its verbs: similar, analogy"):
        vectors.generate("king")


def test_the_docstring_examples_that_need_no_run_do_run():
    import doctest

    import rnnlab.api
    import rnnlab.options

    for module in (rnnlab.api, rnnlab.options):
        result = doctest.testmod(module, extraglobs={"rnnlab": rnnlab})
        assert result.failed == 0 and result.attempted >= 1, module.__name__
