"""One smoke test per command on a tiny model, and the bad inputs a user can give each command."""

import json

import pytest

from rnnlab.cli import main

TINY = ["--epochs", "1", "--batch-size", "4", "--bptt", "8", "--hidden", "16", "--layers", "1"]


@pytest.fixture
def trained(tmp_path, small_text):
    out = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY]) == 0
    return out


def test_train_evaluate_generate(trained, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(trained), "--split", "test", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"perplexity", "nll", "tokens", "batch_size"} <= result.keys() and result["batch_size"] == 1
    assert result["perplexity"] == pytest.approx(2.718281828 ** result["nll"], rel=1e-6)
    assert main(["evaluate", str(trained), "--batch-size", "3"]) == 0
    assert "batch size 3" in capsys.readouterr().out
    assert main(["generate", str(trained), "--prime", "the cat", "--length", "12", "--seed", "1"]) == 0
    assert capsys.readouterr().out.startswith("the cat")


def test_generate_modes_and_unknown_prime(trained, capsys):
    for extra in (["--greedy"], ["--beam", "3"], ["--top-k", "3", "--temperature", "0.7"], ["--top-p", "0.5"]):
        assert main(["generate", str(trained), "--prime", "the zebra", "--length", "5", *extra]) == 0
        captured = capsys.readouterr()
        assert "zebra" in captured.err and captured.out.startswith("the zebra")
    assert main(["generate", str(trained), "--length", "5", "--seed", "3"]) == 0


def test_bf16_sampling_reports_its_accuracy(trained, capsys):
    assert main(["generate", str(trained), "--prime", "the cat", "--length", "5", "--precision", "bf16"]) == 0
    assert "bf16" in capsys.readouterr().err


def test_same_seed_same_sample(trained, capsys):
    capsys.readouterr()
    assert main(["generate", str(trained), "--length", "20", "--seed", "5"]) == 0
    first = capsys.readouterr().out
    assert first.strip(), "generate printed nothing"
    assert main(["generate", str(trained), "--length", "20", "--seed", "5"]) == 0
    assert capsys.readouterr().out == first


def test_evaluate_on_another_file(trained, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("the cat sees the moon .\n" * 5)
    assert main(["evaluate", str(trained), "--data", str(other), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_tokens"] == 5


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out
    for name in ("ptb", "wikitext-2", "tinyshakespeare", "holmes-en", "holmes-ja", "python-stdlib"):
        assert name in listing


def error_line(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("rnnlab: error:"), err
    return err


def test_bad_inputs_get_one_line_and_exit_2(tmp_path, small_text, capsys):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01" * 100)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("a b\n")
    out = str(tmp_path / "r")
    assert "blob.bin" in error_line(capsys, ["train", str(binary), "--out", out])
    assert "empty.txt" in error_line(capsys, ["train", str(empty), "--out", out])
    assert "tiny.txt" in error_line(capsys, ["train", str(tiny), "--level", "word", "--out", out, *TINY])
    assert "no such file" in error_line(capsys, ["train", str(tmp_path / "nope"), "--out", out])
    assert "not a run directory" in error_line(capsys, ["evaluate", str(tmp_path)])


@pytest.mark.parametrize("flag, value", [("--preset", "nope"), ("--cell", "transformer"), ("--cell", "banana")])
def test_unknown_preset_and_cell_are_rejected(small_text, tmp_path, capsys, flag, value):
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:   # argparse's usage error: exit 2, naming the bad choice
        main(["train", str(small_text), "--out", str(tmp_path / "r"), flag, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: invalid choice: '{value}'" in err, err
    assert not (tmp_path / "r").exists()


def test_several_config_problems_reported_together(small_text, tmp_path, capsys):
    err = error_line(capsys, ["train", str(small_text), "--out", str(tmp_path / "r"), "--layers", "0", "--lr", "-1"])
    assert "--layers" in err and "--lr" in err


def test_existing_run_is_never_overwritten(trained, small_text, capsys):
    before = (trained / "checkpoints" / "best.pt").read_bytes()
    assert "already holds a run" in error_line(capsys, ["train", str(small_text), "--out", str(trained), *TINY])
    assert (trained / "checkpoints" / "best.pt").read_bytes() == before


def test_corrupt_or_truncated_checkpoint(trained, capsys):
    best = trained / "checkpoints" / "best.pt"
    best.write_bytes(best.read_bytes()[:100])
    assert "best.pt" in error_line(capsys, ["generate", str(trained)])
    best.write_bytes(b"garbage")
    assert "corrupt" in error_line(capsys, ["evaluate", str(trained)])


def test_vocabulary_mismatch_between_checkpoint_and_run(trained, capsys):
    vocab = json.loads((trained / "vocab.json").read_text())
    vocab["tokens"] = vocab["tokens"][:-3]
    (trained / "vocab.json").write_text(json.dumps(vocab))
    assert "do not match" in error_line(capsys, ["generate", str(trained)])


def test_resume_with_changed_data_is_refused(trained, small_text, capsys):
    small_text.write_text("completely different words here\n" * 200)
    assert "differs" in error_line(capsys, ["train", "--resume", "--out", str(trained), "--epochs", "2"])


def test_named_corpus_missing_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "nothing"))
    assert "rnnlab data get ptb" in error_line(capsys, ["train", "ptb", "--out", str(tmp_path / "r")])


def test_generate_on_a_seq2seq_run_points_to_translate(trained, capsys):
    config = json.loads((trained / "config.json").read_text())
    config["data"]["task"] = "seq2seq"
    (trained / "config.json").write_text(json.dumps(config))
    assert "rnnlab translate" in error_line(capsys, ["generate", str(trained)])


@pytest.mark.parametrize("extra", [[], ["--beam", "3"]])
def test_generated_text_is_written_as_it_is_sampled_and_equals_the_whole(trained, capsys, extra):
    import rnnlab

    model = rnnlab.load(trained)
    beam = 3 if extra else 0
    for prime in ("the cat", "", "the cat\n"):
        pieces = list(model.stream(prime, length=30, seed=5, beam=beam))
        assert "".join(pieces) == model.generate(prime, length=30, seed=5, beam=beam)
        assert (len(pieces) > 2) != bool(extra)
    assert main(["generate", str(trained), "--prime", "the cat", "--length", "30", "--seed", "5", *extra]) == 0
    assert capsys.readouterr().out == model.generate("the cat", length=30, seed=5, beam=beam) + "\n"

def test_every_command_that_runs_a_model_takes_device_and_threads():
    from rnnlab.cli import build_parser

    _, parsers = build_parser()
    runs_a_model = [name for name, parser in parsers.items()
                    if any(action.dest in ("run", "runs") for action in parser._actions)]
    assert {"evaluate", "generate", "translate", "respond", "chat", "serve"} <= set(runs_a_model)
    for name in ("evaluate", "generate", "translate", "respond", "chat", "serve"):
        flags = {flag for action in parsers[name]._actions for flag in action.option_strings}
        assert {"--device", "--threads"} <= flags, name


def test_threads_is_taken_by_evaluate_and_generate_and_checked(trained, capsys):
    assert main(["evaluate", str(trained), "--threads", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["perplexity"] > 1
    assert main(["generate", str(trained), "--length", "5", "--threads", "1", "--seed", "1"]) == 0
    capsys.readouterr()
    assert main(["generate", str(trained), "--length", "5", "--threads", "-2"]) == 2
    assert "--threads" in capsys.readouterr().err


def test_generate_help_for_a_run_lists_its_tasks_flags_only(trained, capsys):
    with pytest.raises(SystemExit):
        main(["generate", str(trained), "--help"])
    shown = capsys.readouterr().out
    assert "--beam" in shown and "--precision" in shown and "--seconds" not in shown and "--prime-file" not in shown
    assert main(["generate", str(trained), "--seconds", "3"]) == 2
    assert "--seconds does not apply to a lm run (it is for midi-events, pianoroll runs)" in capsys.readouterr().err
