"""Every command in the README runs: each shell one-liner parses with rnnlab's own parser, and the cheap
ones run for real on a tiny model. The first block (setting up and running the tests) is left out."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rnnlab import cli
from rnnlab.config import build_config
from rnnlab.tasks.registry import train

README = Path(__file__).resolve().parents[2] / "README.md"


def one_liners() -> list[str]:
    """The shell lines of the README's ```bash blocks after the first."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    lines = [line for block in blocks[1:] for line in block.splitlines() if line.strip()]
    return [line.split("  #")[0].strip() for line in lines]


def commands() -> list[list[str]]:
    """Each `rnnlab ...` command of those lines, as argv without the program name."""
    found = []
    for line in one_liners():
        for part in line.split("&&"):
            argv = shlex.split(part, comments=True)
            assert argv and argv[0] == "rnnlab", f"a README one-liner that is not an rnnlab command: {part!r}"
            found.append(argv[1:])
    return found


def command_parsers() -> dict:
    built = cli.build_parser()
    if isinstance(built, tuple):
        return built[1]
    return {name: command.parser for name, command in cli.COMMANDS.items()}


def test_the_readme_is_one_screen():
    assert len(README.read_text(encoding="utf-8").splitlines()) < 120


def test_the_readme_has_one_liners():
    assert len(one_liners()) >= 5


@pytest.mark.parametrize("argv", commands(), ids=lambda argv: " ".join(argv)[:60])
def test_each_command_parses(argv, capsys):
    name = argv[0]
    with pytest.raises(SystemExit) as help_exit:                   # `rnnlab NAME --help` works
        cli.main([name, "--help"] if name != "train" else ["train", "--task", "lm", "--help"])
    assert help_exit.value.code == 0
    if name == "train":
        args, task = cli.parse_train(argv[1:])                      # the task's own parser takes every flag
        assert args.out
        return
    parsers = command_parsers()
    assert name in parsers, f"rnnlab has no command {name!r}"
    parsers[name].parse_intermixed_args(argv[1:])


@pytest.fixture(scope="module")
def tiny_text_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    text = root / "novel.txt"
    text.write_text("The cat sat on the mat. The dog sat on the log.\n" * 60, encoding="utf-8")
    overrides = {"data": {"corpus": str(text), "level": "word"}, "model": {"hidden": 16, "layers": 1},
                 "train": {"epochs": 1, "batch_size": 4, "bptt": 8, "checkpoint_every": 0}}
    train(build_config("", overrides), root / "novel", log=lambda line: None)
    return root / "novel"


def test_the_cheap_commands_run(tiny_text_run, tmp_path, monkeypatch, capsys):
    """The README's generate and gradients commands, for real; a tiny run stands in for runs/novel."""
    monkeypatch.chdir(tmp_path)
    ran = 0
    for argv in commands():
        if argv[0] == "generate" and argv[1] == "runs/novel":
            assert cli.main(["generate", str(tiny_text_run), *argv[2:], "--length", "20"]) == 0
            ran += 1
        elif argv[0] == "gradients":
            assert cli.main(argv) == 0
            assert Path(argv[argv.index("--out") + 1]).is_file()
            ran += 1
    assert ran == 2
