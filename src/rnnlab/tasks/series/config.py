"""The series task's own settings (config.json's "series" section)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.options import TaskSettings, older_sections, option


@dataclass
class SeriesConfig(TaskSettings):
    """Which columns of a CSV are learnt, how gaps are treated, and the output distribution."""

    section = "series"

    columns: str = option("", "comma-separated column names to learn (default: every numeric column)")
    pen_column: str = option("", "the pen-state column of stroke data (dx, dy, pen; pen 1 = lifted after this "
                             "point, sketch-rnn's stroke-3); adds a pen-state softmax")
    season: int = option(0, "period of the seasonal-naive baseline (0: estimated from autocorrelation)", minimum=0)
    missing: str = option("error", "empty cells are an error, or filled by linear interpolation",
                          ("error", "interpolate"))
    head: str = option("auto", "output distribution: gaussian (its mean is the MSE forecast) or mdn (mixture "
                       "density); auto: gaussian, mdn for stroke data", ("auto", "gaussian", "mdn"))
    mixtures: int = option(5, "--head mdn: number of mixture components", minimum=1)

    @classmethod
    def from_older(cls, raw: dict) -> dict | None:
        data, model = older_sections(raw)
        if data.get("modality") != "series":
            return None
        return {**{k: data[k] for k in ("columns", "pen_column", "season", "missing") if k in data},
                **{k: model[k] for k in ("head", "mixtures") if k in model}}
