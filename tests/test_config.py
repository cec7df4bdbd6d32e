"""Config sections: the three every run has in config.py, each task's own beside the task; older
config.json files read into the new layout; a section's values checked as the core's are."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

import rnnlab
from rnnlab.config import CORE_SECTIONS, RunConfig, build_config, read_config_file
from rnnlab.errors import RnnlabError
from rnnlab.tasks.catalog import CATALOG, find, task_settings
from rnnlab.tasks.music.config import MidiConfig
from rnnlab.tasks.pianoroll.config import PianorollConfig
from rnnlab.tasks.registry import TASKS, task_for
from rnnlab.tasks.series.config import SeriesConfig


def test_each_tasks_settings_are_declared_once_beside_it():
    for name, listing in CATALOG.items():
        task = TASKS[name]
        assert task.name == name
        declared = find(listing.settings) if listing.settings else None
        assert task.settings is declared, name
        if declared is not None:
            assert declared.__module__.startswith(type(task).__module__.rsplit(".", 1)[0]), name  # in its package
            assert task.options[declared.section] == tuple(f.name for f in dataclasses.fields(declared))
    sections = [kind.section for kind in task_settings().values()]
    assert len(sections) == len(set(sections)) and not set(sections) & set(CORE_SECTIONS)


def test_no_task_field_is_named_as_a_core_field():
    """Settings are flat (`rnnlab.train(hidden=..., columns=...)`, `--columns`): one name, one field."""
    core = {f.name for kind in CORE_SECTIONS.values() for f in dataclasses.fields(kind)}
    for kind in task_settings().values():
        assert not core & {f.name for f in dataclasses.fields(kind)}, kind.__name__


def test_reading_a_config_imports_no_task_code():
    raw = build_config("", {"data": {"corpus": "x.csv", "modality": "series"}, "series": {"columns": "a"}}).to_dict()
    code = ("import json, sys; from rnnlab.config import RunConfig; "
            f"c = RunConfig.from_dict(json.loads({json.dumps(json.dumps(raw))})); "
            "assert c.sections['series'].columns == 'a'; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.endswith('.task')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def older(data: dict, model: dict | None = None, **extra) -> dict:
    """A config.json as rnnlab wrote it before tasks had sections: every field in data and model."""
    old_data = {"corpus": "c", "level": "char", "modality": "text", "task": "lm", "columns": "", "pen_column": "",
                "season": 0, "missing": "error", "tokenizer": "auto", "steps_per_beat": 0, "transpose": 0, **data}
    old_model = {"hidden": 32, "head": "auto", "mixtures": 5, "frame_head": "bernoulli", "nade_hidden": 128,
                 **(model or {})}
    return {"data": old_data, "model": old_model, "train": {"epochs": 2}, "preset": "", **extra}


def test_older_runs_read_into_their_tasks_sections():
    series = RunConfig.from_dict(older({"modality": "series", "pen_column": "pen", "season": 7}, {"head": "mdn"}))
    assert task_for(series).name == "series" and list(series.sections) == ["series"]
    assert SeriesConfig.of(series) == SeriesConfig(pen_column="pen", season=7, head="mdn")
    assert "pen_column" not in series.to_dict()["data"] and series.to_dict()["series"]["head"] == "mdn"

    roll = RunConfig.from_dict(older({"modality": "midi", "tokenizer": "pianoroll", "transpose": 3},
                                     {"frame_head": "nade", "nade_hidden": 64}))
    assert task_for(roll).name == "pianoroll" and list(roll.sections) == ["pianoroll"]
    assert PianorollConfig.of(roll) == PianorollConfig(transpose=3, frame_head="nade", nade_hidden=64)

    events = RunConfig.from_dict(older({"modality": "midi", "tokenizer": "remi", "transpose": 2}))
    assert task_for(events).name == "midi-events" and MidiConfig.of(events).transpose == 2

    text = RunConfig.from_dict(older({}))
    assert task_for(text).name == "lm" and text.sections == {} and text.model.hidden == 32


def test_seq2seq_runs_from_before_moved_options_keep_them():
    raw = {"data": {"task": "seq2seq"}, "model": {}, "train": {}, "seq2seq": {"decoder": "peeky", "average": 0.99}}
    config = RunConfig.from_dict(raw)
    assert config.train.average == 0.99 and config.sections["seq2seq"].decoder == "peeky"


@pytest.mark.parametrize("overrides", [{"data": {"modality": "series"}, "series": {"pen_column": "pen"}},
                                       {"data": {"modality": "midi", "tokenizer": "pianoroll"},
                                        "pianoroll": {"frame_head": "nade"}},
                                       {"data": {"task": "seq2seq"}, "seq2seq": {"decoder": "plain"}},
                                       {"data": {"task": "dialogue"}, "dialogue": {"model": "vhred"}}])
def test_every_tasks_config_survives_config_json(overrides):
    config = build_config("", overrides)
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_a_tasks_values_are_checked_like_the_cores():
    with pytest.raises(RnnlabError, match="--transpose must be between 0 and 12"):
        build_config("", {"data": {"modality": "midi", "tokenizer": "pianoroll"}, "pianoroll": {"transpose": 13}})
    with pytest.raises(RnnlabError, match="--mixtures must be at least 1"):
        build_config("", {"data": {"modality": "series"}, "series": {"mixtures": 0}})
    with pytest.raises(RnnlabError, match="--head 'normal' is not one of: auto, gaussian, mdn"):
        build_config("", {"data": {"modality": "series"}, "series": {"head": "normal"}})
    with pytest.raises(RnnlabError, match="--season must be int"):
        build_config("", {"data": {"modality": "series"}, "series": {"season": "7"}})


def test_a_setting_goes_to_the_runs_task(tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text("t,y\n" + "".join(f"{i},{i % 7}\n" for i in range(60)))
    config = rnnlab.configure(str(csv), modality="series", columns="y", hidden=16)
    assert SeriesConfig.of(config).columns == "y" and list(config.sections) == ["series"]
    with pytest.raises(RnnlabError, match="--transpose does not apply to a series run"):
        rnnlab.configure(str(csv), modality="series", transpose=2)
    with pytest.raises(RnnlabError, match="unknown training setting"):
        rnnlab.configure(str(csv), modality="series", colums="y")


def test_a_config_file_with_another_tasks_section_is_refused(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("some text to learn from\n" * 50)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"model": {"hidden": 24}}))
    assert rnnlab.configure(str(text), config=str(good)).model.hidden == 24
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": {"hidden": 24}, "seq2seq": {"decoder": "plain"}}))
    with pytest.raises(RnnlabError, match=r"bad.json: a lm run has no 'seq2seq' section"):
        rnnlab.configure(str(text), config=str(bad))
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"series": {"colour": 1}}))
    with pytest.raises(RnnlabError, match="unknown field"):
        read_config_file(unknown)


def test_older_midi_runs_are_told_apart_by_the_tokenizers_names():
    from rnnlab.tasks.music.config import EVENT_SCHEMES
    from rnnlab.tasks.music.tokenizers import TOKENIZERS

    assert EVENT_SCHEMES == tuple(TOKENIZERS)


@pytest.mark.parametrize("raw", [{"data": [1], "model": {}, "train": {}}, {"data": {"modality": "series"}, "series": 5},
                                 {"data": {"modality": "midi", "tokenizer": "pianoroll"}, "model": "x"},
                                 {"data": {}, "seq2seq": {"decoder": 3}}])
def test_a_hand_edited_config_is_one_line_naming_the_file(tmp_path, raw):
    from rnnlab.runs import RunDir

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(raw))
    with pytest.raises(RnnlabError, match=r"config.json: ") as caught:
        RunDir(run).load_config()
    assert "\n" not in str(caught.value)


def test_each_preset_lives_with_the_task_it_trains():
    from rnnlab.presets import PRESETS

    owned = 0
    for name, listing in CATALOG.items():
        for preset in (find(listing.presets) if listing.presets else {}):
            assert task_for(build_config(preset, {"data": {"corpus": "c"}})).name == name, preset
            owned += 1
    assert owned == len(PRESETS) > 0


def test_a_tokenizer_no_task_knows_is_refused(tmp_path, small_text):
    with pytest.raises(RnnlabError, match="--tokenizer 'abc' is not one of: auto, smf-events, performance"):
        rnnlab.configure(str(small_text), task="midi-events", tokenizer="abc")
