"""A trained series model in Python: forecast a series, or continue a drawing made of pen strokes."""

from __future__ import annotations

from rnnlab.generate.sampling import sampling_with
from rnnlab.tasks.trained import TrainedModel


class SeriesModel(TrainedModel):
    """A model of numeric series (a Gaussian or mixture-density head) or of pen strokes.

    >>> result = rnnlab.load(run_path).forecast(steps=24, seed=1)   # doctest: +SKIP
    >>> result.values.shape, result.columns; result.plot()          # doctest: +SKIP
    """

    verbs = ("forecast", "evaluate")
    kind = "series model"

    def forecast(self, steps: int = 24, prime=None, prime_file: str | None = None, context: int = 0,
                 temperature: float | None = None, greedy: bool | None = None, seed: int | None = None):
        """The next `steps` rows after `prime` (rows in the data's units, a CSV / NPY file as
        `prime_file`, or by default the run's own data; a stroke model starts a new drawing).
        Returns a Forecast: `columns`, `values` (steps, columns), `prime`, `.plot()`, `.to_csv(path)`."""
        from rnnlab.tasks.series.generate import forecast

        config = sampling_with(None, length=steps, temperature=temperature, greedy=greedy, seed=seed)
        return forecast(self._opened, config, prime_file, context, prime)

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1) -> dict:
        """NLL per step and the forecast errors against the naive baselines, on a split or a file."""
        from rnnlab.tasks.series.evaluate import evaluate_series_run

        return evaluate_series_run(self._opened, split, data)
