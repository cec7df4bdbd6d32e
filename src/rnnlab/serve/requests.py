"""The HTTP API's request bodies (strict: an unknown field is refused) and a JSON response that
never writes NaN or Infinity."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from rnnlab.generate.sampling import LIVE_SETTINGS, SETTING_TYPES, SamplingConfig
from rnnlab.serve.protocol import InputError, check_text

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def valid_unicode(cls, data):
        try:
            check_text(data)
        except InputError as err:
            raise ValueError(str(err)) from None
        return data


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: text a client sent back in an error (a lone surrogate) becomes '?'."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                          separators=(",", ":")).encode("utf-8", "replace")


def _setting_fields() -> dict:
    """GenerateRequest's sampling fields, from SamplingConfig's live settings."""
    found = {f.name: f for f in dataclasses.fields(SamplingConfig)}
    return {name: (SETTING_TYPES[name] | None if name == "seed" else SETTING_TYPES[name],
                   Field(found[name].default, description=found[name].metadata["help"])) for name in LIVE_SETTINGS}


class GenerateBase(Strict):
    model: str | None = Field(None, description="a name from GET /models (default: the first)")
    prime: str | list[int] | list[list[int]] | list[list[float]] | None = Field(
        None, description="text, token ids, vectors for a series model, or chords (lists of MIDI pitches) for "
                          "a piano-roll model; empty: start fresh")
    length: int = Field(200, description="steps to generate (bounded by the server's --max-length)")


GenerateRequest = create_model("GenerateRequest", __base__=GenerateBase, **_setting_fields())


class StepRequest(Strict):
    input: Any = Field(..., description="text, a token id or ids; a vector (or vectors) for series models; a "
                                         "chord (a list of MIDI pitches, [] a rest) for piano-roll models")
    session: str | None = Field(None, description="from an earlier reply; omitted: a new session")
    model: str | None = None
    settings: dict[str, Any] | None = Field(None, description="temperature, top_k, top_p, greedy, seed")
    top: int | None = Field(None, description="also answer the K likeliest next tokens (1..50, token models)")
    state: int | None = Field(None, description="also answer the first N units of the top layer's hidden state "
                                                "(1..64)")


class ResetRequest(Strict):
    session: str
    model: str | None = None
    close: bool = Field(False, description="forget the session altogether")
