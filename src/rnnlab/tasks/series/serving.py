"""Serving series and stroke models: vectors in the data's units in, the next vector (and pen) out."""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.generate.sampling import SamplingConfig
from rnnlab.serve.protocol import InputError, ServedModel
from rnnlab.tasks.series.data import PEN_STATES
from rnnlab.tasks.series.generate import continue_rows, start_row, table


class VectorModel(ServedModel):
    """Series and stroke runs: inputs are vectors in the data's units; a step gives the next one."""

    kind = "series"

    def __init__(self, name: str, trained):
        super().__init__(name, trained)
        self.spec = trained.assets

    def describe(self) -> dict:
        info = super().describe()
        pen = self.spec.pen_column if self.spec.pen else None
        info.update(kind="strokes" if self.spec.pen else "series", columns=self.spec.columns, pen=pen,
                    input=f"[{', '.join(self.spec.columns + ([pen] if pen else []))}] or a list of them",
                    output="values" + (", pen (down, up or end)" if pen else ""))
        return info

    def encode(self, value, limit: int) -> tuple[torch.Tensor, list[str]]:
        """Model input (time, 1, features) from a vector, a list of vectors, or {column: value}."""
        width = len(self.spec.columns) + (1 if self.spec.pen else 0)
        names = self.spec.columns + ([self.spec.pen_column] if self.spec.pen else [])
        if isinstance(value, dict):
            missing = [n for n in names if n not in value]
            if missing:
                raise InputError(f"input lacks {', '.join(missing)} (this model takes {', '.join(names)})")
            value = [value[n] for n in names]
        if isinstance(value, list) and value and not isinstance(value[0], list):
            value = [value]
        if not isinstance(value, list) or not value:
            raise InputError(f"input must be a vector of {width} numbers ({', '.join(names)}) or a list of them")
        if len(value) > limit:
            raise InputError(f"input has {len(value)} steps; at most {limit} per request")
        for row in value:
            if not isinstance(row, list) or len(row) != width or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in row):
                raise InputError(f"each step must be {width} finite numbers ({', '.join(names)}), got {str(row)[:60]}")
        array = np.asarray(value, dtype=np.float64)
        rows = self.spec.rows(array[:, :len(self.spec.columns)], array[:, -1] if self.spec.pen else None)
        if self.spec.pen:
            rows = rows[:-1]                     # the client's strokes stay open: no `end` row
        return torch.from_numpy(rows).to(self.device).unsqueeze(1), []

    def start(self) -> torch.Tensor:
        return torch.from_numpy(start_row(self.spec)).to(self.device).unsqueeze(1)

    def sample(self, params: torch.Tensor, settings: SamplingConfig, generator) -> torch.Tensor:
        return self.model.sample(params, settings.temperature, settings.greedy, generator)   # (batch, features)

    def feed(self, sampled: torch.Tensor) -> torch.Tensor:
        return sampled.view(1, 1, -1)

    def decode(self, sampled: torch.Tensor) -> dict:
        values, pen = self.spec.decode(sampled.view(1, -1).cpu().numpy())
        out = {"values": [float(v) for v in values[0]]}
        if pen is not None:
            out["pen"] = PEN_STATES[int(pen[0])]
            if out["pen"] == "end":
                out["values"] = [0.0] * len(out["values"])
        return out

    def generate(self, prime, config: SamplingConfig, limit: int) -> dict:
        rows = self.start()[:, 0] if prime in (None, []) else self.encode(prime, limit)[0][:, 0]
        header, values = table(self.spec, continue_rows(self.model, rows.cpu().numpy(), config, self.device))
        return {"model": self.name, "columns": header, "values": values.tolist()}
