import pytest
import torch

from rnnlab.data.streams import batchify, windows
from rnnlab.errors import RnnlabError


def test_batchify_columns_are_contiguous_slices():
    data = batchify(torch.arange(20), 4)
    assert data.shape == (5, 4)                      # (time, batch)
    assert data[:, 1].tolist() == [5, 6, 7, 8, 9]


def test_ranks_read_disjoint_columns():
    ids = torch.arange(40)
    a, b = batchify(ids, 2, rank=0, world_size=2), batchify(ids, 2, rank=1, world_size=2)
    assert set(a.flatten().tolist()).isdisjoint(b.flatten().tolist())
    assert a.shape == b.shape == (10, 2)


def test_batchify_frames():
    frames = torch.arange(60.).view(20, 3)
    data = batchify(frames, 2)
    assert data.shape == (10, 2, 3) and torch.equal(data[:, 1], frames[10:])


def test_windows_cover_stream_and_targets_shift_by_one():
    data = batchify(torch.arange(100), 2)
    seen = []
    for start, x, y in windows(data, 7):
        assert torch.equal(y[:-1], x[1:])
        seen.extend(x[:, 0].tolist())
    assert seen == list(range(49))


def test_variable_windows_are_reproducible_from_any_position():
    data = batchify(torch.arange(2000), 2)
    full = [(s, x.size(0)) for s, x, _ in windows(data, 20, variable=True, seed=3, epoch=1)]
    resumed = [(s, x.size(0)) for s, x, _ in windows(data, 20, full[5][0], variable=True, seed=3, epoch=1)]
    assert resumed == full[5:] and len({n for _, n in full}) > 1


def test_too_small_corpus_is_a_clear_error():
    with pytest.raises(RnnlabError, match="too few"):
        batchify(torch.arange(5), 4, name="tiny.txt")
