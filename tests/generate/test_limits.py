"""How much `generate` may be asked for: a bound per kind, said in one line with the allowed range."""

import argparse

import pytest

from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import MAX_LENGTH, SamplingConfig, add_sampling_flags, sampling_from_args
from rnnlab.tasks.music.compose import music_length


def test_generate_flags_refuse_an_unbounded_length():
    parser = argparse.ArgumentParser()
    add_sampling_flags(parser)
    for length in ("1000000000000", "0"):
        with pytest.raises(RnnlabError, match=r"^--length must be 1\.\.1,000,000 \(tokens or steps\)"):
            sampling_from_args(parser.parse_args(["--length", length]))
    assert sampling_from_args(parser.parse_args(["--length", "3"])).length == 3


def test_the_length_bound_is_the_sampling_configs():
    SamplingConfig(length=MAX_LENGTH).validate()
    with pytest.raises(RnnlabError, match="1..1,000,000"):
        SamplingConfig(length=MAX_LENGTH + 1).validate()


@pytest.mark.parametrize("seconds, bars, expected", [
    (1e12, None, "--seconds must be more than 0 and at most 3600"),
    (float("nan"), None, "--seconds must be more than 0 and at most 3600"),
    (-1, None, "--seconds must be more than 0 and at most 3600"),
    (None, 1e9, "--bars must be more than 0 and at most 1000"),
    (None, 0, "--bars must be more than 0 and at most 1000"),
])
def test_music_length_is_bounded(seconds, bars, expected):
    with pytest.raises(RnnlabError, match=expected):
        music_length(seconds, bars)


def test_music_length_defaults_to_thirty_seconds():
    assert music_length(None, None).seconds == 30.0 and music_length(None, 8).bars == 8
