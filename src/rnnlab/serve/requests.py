"""The HTTP API's request bodies (strict: an unknown field is refused) and a JSON response that
never writes NaN or Infinity."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any, ClassVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from rnnlab.generate.sampling import LIVE_SETTINGS, SETTING_TYPES, SamplingConfig
from rnnlab.serve.protocol import InputError, check_text
from rnnlab.serve.sessions import NAME

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


Name = Annotated[str, Field(pattern=f"^{NAME.pattern}$", min_length=1, max_length=64,
                            description="1 to 64 of A-Z a-z 0-9 _ - . ~")]


class Target(Strict):
    """Which session a request is for: an HTTP session by the id an earlier reply gave, or a named one."""

    session: str | None = Field(None, description="from an earlier reply")
    name: Name | None = Field(None, description="a named session, shared with WebSocket and OSC clients that name "
                                                "it (made by /step or /session when new)")

    needed: ClassVar[bool] = True        # False: neither means a new HTTP session (/step)

    @model_validator(mode="after")
    def one_target(self):
        if self.session is not None and self.name is not None:
            raise ValueError("give a session or a name, not both")
        if self.needed and self.session is None and self.name is None:
            raise ValueError("say which session: a session (from an earlier reply) or a name")
        return self


class StepRequest(Target):
    input: Any = Field(..., description="text, a token id or ids; a vector (or vectors) for series models; a "
                                         "chord (a list of MIDI pitches, [] a rest) for piano-roll models")
    session: str | None = Field(None, description="from an earlier reply; omitted (and no name): a new session")
    needed: ClassVar[bool] = False
    model: str | None = None
    settings: dict[str, Any] | None = Field(None, description="temperature, top_k, top_p, greedy, seed")
    top: int | None = Field(None, description="also answer the K likeliest next tokens (1..50, token models)")
    state: int | None = Field(None, description="also answer the first N units of the top layer's hidden state "
                                                "(1..64)")


class ResetRequest(Target):
    model: str | None = None
    close: bool = Field(False, description="forget the session altogether")


class SessionRequest(Strict):
    name: Name = Field(..., description="the session's name: made if new, joined if not")
    settings: dict[str, Any] | None = Field(None, description="temperature, top_k, top_p, greedy, seed")


class SnapshotRequest(Target):
    snapshot: Name = Field(..., description="the snapshot's name (kept per session; the same name again "
                                            "replaces it)")
