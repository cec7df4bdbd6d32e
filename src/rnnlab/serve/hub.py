"""What every protocol (HTTP, WebSocket, OSC) asks of the server: step, stream, reset, generate.

The protocols only parse and reply; the meaning lives here once. `step` feeds the client's input
and answers with a sample of what comes next (not fed back); `stream` lets the model play n steps
on its own, feeding back what it samples; `generate` is stateless, as `rnnlab generate` is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from rnnlab.generate.sampling import SamplingConfig
from rnnlab.serve.protocol import MAX_STATE, MAX_TOP, InputError, ServedModel
from rnnlab.serve.engine import Engine, EngineFailed
from rnnlab.serve.sessions import ServeSettings, Session, SessionStore, sampling_settings


async def answered(call):
    """A model call's result; should the model refuse what a client sent in a way no check foresaw,
    that client gets an InputError saying so (never a 500 or a dropped connection)."""
    try:
        return await call
    except (InputError, EngineFailed, asyncio.CancelledError):
        raise
    except Exception as err:
        raise InputError(f"the model could not take this request ({type(err).__name__}: {str(err)[:200]})") from err


class Hub:
    def __init__(self, models: dict[str, ServedModel], settings: ServeSettings | None = None, on_failure=None):
        if not models:
            raise ValueError("serve at least one model")
        self.models, self.settings = models, settings or ServeSettings()
        self.engine = Engine(self.settings.max_batch, on_failure, self.settings.threads)
        self.sessions = SessionStore(self.settings, next(iter(models)))

    def model(self, name: str | None) -> ServedModel:
        if name is None:
            return next(iter(self.models.values()))
        if not isinstance(name, str) or name not in self.models:
            raise InputError(f"no model named {name!r}; this server has: {', '.join(self.models)}")
        return self.models[name]

    def check_length(self, n, what: str = "n") -> int:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"{what} must be a positive integer")
        if n > self.settings.max_length:
            raise InputError(f"{what}={n} is over this server's limit of {self.settings.max_length} steps")
        return n

    @staticmethod
    def check_extras(model: ServedModel, top=None, state=None) -> tuple[int | None, int | None]:
        """What a client asked besides the sample: the `top` K likeliest tokens (1..50, token models)
        and the first `state` units of the top layer's hidden state (1..64)."""
        for value, name, most in ((top, "top", MAX_TOP), (state, "state", MAX_STATE)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most):
                raise InputError(f"{name} must be an integer from 1 to {most}, got {str(value)[:40]}")
        if top is not None and model.kind != "tokens":
            raise InputError(f"top (the likeliest next tokens) is for token models; {model.name} is a {model.kind} model")
        return top, state

    @staticmethod
    def extras(model: ServedModel, params, state, settings, top: int | None, units: int | None) -> dict:
        out = {}
        if top:
            out["candidates"] = model.candidates(params, settings, top)
        if units:
            out["state"] = model.state_vector(state, units)
        return out

    async def step(self, session: Session, model_name: str | None, value, top=None, state=None) -> dict:
        model = self.model(model_name or session.default_model)
        top, state = self.check_extras(model, top, state)
        inputs, unknown = model.encode(value, self.settings.max_input_steps)
        async with session.lock:
            session.touch()
            track = session.track(model)
            track.params, track.state, sampled = await answered(self.engine.astep(
                model, inputs, track.state, (session.settings, track.generator)))
            extra = self.extras(model, track.params, track.state, session.settings, top, state)
        out = {"type": "output", "model": model.name, **model.decode(sampled), **extra}
        if unknown:
            out["unknown"] = unknown
        return out

    async def stream(self, session: Session, model_name: str | None, n, interval_ms=0, top=None,
                     state=None) -> AsyncIterator[dict]:
        """n outputs, each fed back before the next; a stroke model stops at its `end` state."""
        model = self.model(model_name or session.default_model)
        top, state = self.check_extras(model, top, state)
        n = self.check_length(n)
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, (int, float)) or not (
                0 <= interval_ms <= self.settings.max_interval_ms):
            raise InputError(f"interval_ms must be a number from 0 to {self.settings.max_interval_ms}")
        for index in range(n):
            async with session.lock:
                session.touch()                            # a session playing on its own is in use
                track = session.track(model)
                sampling = (session.settings, track.generator)
                if track.params is None:
                    track.params, track.state, _ = await answered(self.engine.astep(model, model.start(), track.state))
                try:
                    sampled = model.sample(track.params, *sampling)
                except Exception as err:
                    raise InputError(f"the model could not sample with these settings ({str(err)[:200]})") from err
                extra = self.extras(model, track.params, track.state, session.settings, top, state)
                track.params, track.state, _ = await answered(self.engine.astep(model, model.feed(sampled), track.state))
            out = {"type": "output", "model": model.name, "index": index, **model.decode(sampled), **extra}
            yield out
            if out.get("pen") == "end":
                return
            if interval_ms:
                await asyncio.sleep(interval_ms / 1000)

    def reset(self, session: Session, model_name: str | None = None) -> None:
        """Forget the recurrent state (of one model, or of all)."""
        if model_name is None:
            session.tracks.clear()
        else:
            session.tracks.pop(self.model(model_name).name, None)

    async def generate(self, model_name: str | None, prime, length, settings: dict) -> dict:
        """A whole continuation at once, from a fresh state (nothing carried between calls)."""
        model = self.model(model_name)
        config = sampling_settings(SamplingConfig(), settings)
        config.length = self.check_length(length, "length")
        return await answered(self.engine.acall(model.generate, prime, config, self.settings.max_input_steps))

    def close(self) -> None:
        self.engine.close()

