"""Series reading, splitting, normalisation and stroke-5 rows, on files each test writes."""

import numpy as np
import pytest

from rnnlab.config import DataConfig
from rnnlab.tasks.series.config import SeriesConfig
from rnnlab.tasks.series.data import SeriesSpec, estimate_season, load_splits, read_sequences, statsmodels_table, stream
from rnnlab.errors import RnnlabError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_columns_by_name_and_text_columns_skipped(tmp_path):
    rows = "\n".join(f"2020-01-{i:02d},{i},{i * 2}" for i in range(1, 21))
    path = write(tmp_path / "a.csv", "date,x,y\n" + rows + "\n")
    (seq,) = read_sequences(DataConfig(corpus=str(path)))
    assert seq.columns == ["x", "y"] and seq.values.shape == (20, 2)
    (seq,) = read_sequences(DataConfig(corpus=str(path)), SeriesConfig(columns="y"))
    assert seq.values[:3, 0].tolist() == [2, 4, 6]
    with pytest.raises(RnnlabError, match="'date' is not numeric.*no column 'z'|no column 'z'.*'date' is not numeric"):
        read_sequences(DataConfig(corpus=str(path)), SeriesConfig(columns="date,z"))


def test_missing_cells_error_or_interpolate(tmp_path):
    path = write(tmp_path / "gap.csv", "v\n1\n2\nNA\n4\n5\n")
    with pytest.raises(RnnlabError, match=r"gap.csv: column 'v' has 1 empty cells \(first at row 3\)"):
        read_sequences(DataConfig(corpus=str(path)))
    (seq,) = read_sequences(DataConfig(corpus=str(path)), SeriesConfig(missing="interpolate"))
    assert seq.values[:, 0].tolist() == [1, 2, 3, 4, 5]


def test_headerless_csv_and_npy_folder(tmp_path):
    write(tmp_path / "plain.csv", "1,2\n3,4\n5,6\n")
    (seq,) = read_sequences(DataConfig(corpus=str(tmp_path / "plain.csv")))
    assert seq.columns == ["0", "1"] and seq.values.sum() == 21
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(5):
        np.save(folder / f"s{i}.npy", np.full((4 + i, 3), float(i)))
    spec, parts = load_splits(DataConfig(corpus=str(folder), split="0.6,0.2,0.2"))
    assert [len(parts[k]) for k in ("train", "valid", "test")] == [3, 1, 1]
    assert spec.mean == pytest.approx([1.0 * (4 * 0 + 5 * 1 + 6 * 2) / 15] * 3)


def test_normalisation_round_trip_and_saved_spec(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(5, 3, size=(200, 2))
    np.save(tmp_path / "v.npy", values)
    spec, parts = load_splits(DataConfig(corpus=str(tmp_path / "v.npy"), split="0.8,0.1,0.1"))
    rows = stream(spec, parts["train"]).numpy()
    assert rows.shape == (160, 2) and abs(rows.mean()) < 1e-5 and rows.std(0) == pytest.approx([1, 1], abs=1e-5)
    back, pen = spec.decode(rows)
    assert pen is None and np.allclose(back, values[:160], atol=1e-4)
    spec.save(tmp_path / "series.json")
    assert SeriesSpec.load(tmp_path / "series.json") == spec


def test_strokes_become_stroke5_rows(tmp_path):
    path = write(tmp_path / "d.csv", "dx,dy,pen\n3,0,0\n0,4,1\n-3,-4,1\n")
    spec, parts = load_splits(DataConfig(corpus=str(path), split="1,0,0"), series=SeriesConfig(pen_column="pen"))
    rows = stream(spec, parts["train"]).numpy()
    assert spec.pen and spec.features == 5 and spec.mean == [0.0, 0.0]
    assert rows[:, 2:].tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]   # down, up, up, end
    assert rows[-1, :2].tolist() == [0, 0] and rows[0, 1] == 0                   # offsets scaled, not shifted


def test_season_found_by_autocorrelation():
    t = np.arange(300)
    assert estimate_season(np.sin(2 * np.pi * t / 12) + 0.1 * np.cos(t)) == 12
    assert estimate_season(np.random.default_rng(1).normal(size=300)) == 0


@pytest.mark.parametrize("name, rows, columns, first", [
    ("sunspots", 309, 2, ("SUNACTIVITY", 5.0)),          # 1700: 5 spots
    ("co2", 2284, 1, ("co2", 316.1)),                     # the week of 29 March 1958 (59 weeks missing)
    ("elnino", 61, 13, ("JAN", 23.11)),
    ("macrodata", 203, 14, ("realgdp", 2710.349)),
    ("nile", 100, 2, ("volume", 1120.0)),
])
def test_bundled_statsmodels_data_sets_read_offline(name, rows, columns, first):
    names, numeric, text = statsmodels_table(name)
    assert len(names) == columns and not text and all(len(values) == rows for values in numeric.values())
    assert numeric[first[0]][0] == first[1]
    assert int(np.isnan(numeric[names[-1]]).sum()) == (59 if name == "co2" else 0)


def test_bundled_data_set_as_a_series_and_an_unknown_name():
    (seq,) = read_sequences(DataConfig(corpus="statsmodels:sunspots"), SeriesConfig(columns="SUNACTIVITY"))
    assert seq.values.shape == (309, 1) and seq.values[0, 0] == 5.0 and seq.name == "statsmodels:sunspots"
    for name in ("nosuch", "../series/datasets/sunspots", ""):
        with pytest.raises(RnnlabError, match="not a bundled data set; try one of: co2, elnino, macrodata, nile"):
            read_sequences(DataConfig(corpus=f"statsmodels:{name}"))


def test_a_number_column_with_one_word_is_named_infinite_values_and_long_rows_refused(tmp_path, capsys, caplog):
    rows = [f"{i},{2 * i}" for i in range(30)]
    rows[20] = "20,oops"
    path = write(tmp_path / "typo.csv", "a,b\n" + "\n".join(rows) + "\n")
    (seq,) = read_sequences(DataConfig(corpus=str(path)))
    assert seq.columns == ["a"]
    assert "typo.csv: left out column(s) that are not numbers: 'b' (line 22 holds 'oops')" in caplog.text
    infinite = write(tmp_path / "inf.csv", "a\n1\n2\ninf\n4\n")
    with pytest.raises(RnnlabError, match=r"inf.csv: column 'a' holds an infinite value \(row 3\)"):
        read_sequences(DataConfig(corpus=str(infinite)))
    ragged = write(tmp_path / "ragged.csv", "a,b\n1,2\n3,4,5\n6,7\n")
    with pytest.raises(RnnlabError, match="ragged.csv: line 3 has 3 cells, the header 2"):
        read_sequences(DataConfig(corpus=str(ragged)))


def test_an_older_series_file_with_its_pen_column_in_extra_still_loads(tmp_path):
    import json

    from rnnlab.tasks.series.data import SeriesSpec

    path = tmp_path / "series.json"
    path.write_text(json.dumps({"columns": ["dx", "dy"], "mean": [0, 0], "std": [1, 1], "pen": True,
                                "extra": {"pen_column": "lift"}}), encoding="utf-8")
    assert SeriesSpec.load(path).pen_column == "lift"
