"""Served models, per-client sessions and the engine that steps them.

A `ServedModel` turns a client's input (text, token ids, vectors) into model inputs and a sampled
step back into JSON. A `Session` holds, per model, the recurrent state carried between steps, the
pending prediction and its own sampling settings. The `Engine` owns the models on one worker
thread: one-step requests for the same model that queue up together run as a single batch, so
twenty clients cost little more than one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import torch

from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import SamplingConfig
from rnnlab.models.recurrent import State, map_state
from rnnlab.train.threads import ThreadTuner, timed, tuner_for
from rnnlab.serve.protocol import CapacityError, InputError, ServedModel


@dataclass
class ServeSettings:
    """Bounds that keep one client from taking the server down."""

    max_sessions: int = 64               # recurrent states held at once, per kind of client (WebSocket, HTTP)
    max_osc_sessions: int | None = None  # OSC senders remembered at once (None: max_sessions); LRU evicted
    max_length: int = 2000               # longest generation or stream, in steps
    max_request_bytes: int = 65536       # largest HTTP body, WebSocket message or OSC packet
    max_input_steps: int = 4096          # longest input fed in one step request
    session_idle_s: float = 600.0        # HTTP and OSC sessions are forgotten after this long unused
    max_interval_ms: int = 5000          # slowest allowed stream pacing
    max_batch: int = 64                  # one-step requests run together (1: one at a time)
    max_named_sessions: int | None = None  # sessions named by clients (None: max_sessions); LRU evicted
    max_snapshots: int = 16              # snapshots kept per session (the oldest goes first)
    threads: int = 0                     # CPU threads for model calls (0: timed, the faster count kept)


def quantized(model: torch.nn.Module):
    """int8 weights for the recurrent and linear layers (CPU only).

    A 2x650 model's weights shrink from 53 MB to 13 MB and fit the CPU's cache: one step gets much
    faster at batch 1. Language models step through the packed int8 Stepper of `rnnlab generate
    --precision int8`; other models through PyTorch's dynamic quantization (deprecated upstream in
    favour of torchao, but working in torch 2.x).
    """
    from rnnlab.generate.stepper import Stepper
    from rnnlab.tasks.language_model.model import LanguageModel

    if isinstance(model, LanguageModel):
        try:
            return Stepper(model, "int8")
        except (RuntimeError, NotImplementedError):    # no fbgemm kernels here (e.g. an ARM CPU)
            pass
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear},
                                                      dtype=torch.qint8)


def packed(model: torch.nn.Module):
    """A language model's fp32 weights packed for one-token steps (3x faster at batch 1 on a CPU);
    other models as they are."""
    from rnnlab.generate.stepper import PACKED_CELLS, Stepper
    from rnnlab.tasks.language_model.model import LanguageModel

    if isinstance(model, LanguageModel) and model.config.cell in PACKED_CELLS:
        return Stepper(model.eval(), "fp32")
    return model


def load_models(paths: list[str], device: str = "cpu", quantize: bool = False) -> dict[str, ServedModel]:
    """Open each run directory once; names are the folders' names, made unique."""
    from pathlib import Path

    from rnnlab.tasks.registry import task_of_run

    models: dict[str, ServedModel] = {}
    for path in paths:
        base = Path(path).resolve().name or "model"
        name, n = base, 2
        while name in models:
            name, n = f"{base}-{n}", n + 1
        task = task_of_run(path)
        trained = task.open_run(path, "best", device)
        if quantize:
            if torch.device(device).type != "cpu":
                raise RnnlabError("--quantize works on the CPU only; drop it or serve with --device cpu")
            trained.model = quantized(trained.model)
        else:
            trained.model = packed(trained.model)
        models[name] = task.served(name, trained)
    return models


# ---- sessions --------------------------------------------------------------------------------
def sampling_settings(base: SamplingConfig, changes: dict) -> SamplingConfig:
    """A copy of `base` with a client's settings; wrong names or values raise InputError."""
    try:
        config = base.changed(changes)
    except ValueError as err:
        raise InputError(str(err)) from None
    if config.seed is not None and not -2 ** 63 <= config.seed < 2 ** 64:      # what torch.Generator takes
        raise InputError(f"seed must be an integer from -2**63 to 2**64-1, got {config.seed}")
    if config.temperature < 1e-6 or config.top_p < 1e-6:      # beyond float32: every probability is lost
        raise InputError("temperature and top_p must be at least 1e-06 (greedy takes the most likely output)")
    return config


@dataclass
class Track:
    """One session's place in one model: carried state and the prediction not yet sampled."""

    state: State
    params: torch.Tensor | None = None
    generator: torch.Generator | None = None


@dataclass
class Session:
    id: str
    default_model: str
    settings: SamplingConfig = field(default_factory=lambda: SamplingConfig())
    tracks: dict[str, Track] = field(default_factory=dict)
    last_used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)     # oldest first
    extras: dict[str, int] = field(default_factory=dict)              # OSC: {"top": K, "state": N} on each output

    def snapshot(self, name: str, limit: int) -> str | None:
        """Keep this moment as `name`; answers the name of the snapshot dropped to stay within `limit`."""
        check_name(name, "a snapshot name")
        self.snapshots.pop(name, None)
        dropped = None
        while len(self.snapshots) >= max(1, limit):
            dropped = next(iter(self.snapshots))
            del self.snapshots[dropped]
        self.snapshots[name] = snapshot_of(self)
        return dropped

    def restore(self, name: str) -> None:
        check_name(name, "a snapshot name")
        if name not in self.snapshots:
            held = ", ".join(self.snapshots) or "none"
            raise InputError(f"no snapshot {name!r} in this session (it holds: {held[:300]})")
        restore_snapshot(self, self.snapshots[name])

    def track(self, model: ServedModel) -> Track:
        if model.name not in self.tracks:
            generator = None
            if self.settings.seed is not None:
                generator = torch.Generator(device=model.device).manual_seed(self.settings.seed)
            self.tracks[model.name] = Track(model.initial_state(), None, generator)
        return self.tracks[model.name]

    def configure(self, changes: dict) -> None:
        self.settings = sampling_settings(self.settings, changes)
        if "seed" in changes:      # a new seed restarts every model's random stream
            for track in self.tracks.values():
                device = _first_tensor(track.state).device
                track.generator = (torch.Generator(device=device).manual_seed(self.settings.seed)
                                   if self.settings.seed is not None else None)


def _clone_state(state: State) -> State:
    return map_state(state, lambda t: t.clone())


@dataclass
class Snapshot:
    """A session's moment: per model its state, pending prediction and random stream; its settings."""

    tracks: dict[str, tuple]
    settings: SamplingConfig
    default_model: str


NAME = re.compile(r"[A-Za-z0-9_.~-]{1,64}")


def check_name(name, what: str = "a session name") -> str:
    """A client's name for a session or a snapshot: 1 to 64 letters, digits, '_', '-', '.', '~'."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        shown = repr(name)[:40] if isinstance(name, str) else type(name).__name__
        raise InputError(f"{what} is 1 to 64 characters among A-Z a-z 0-9 _ - . ~ (got {shown})")
    return name


def snapshot_of(session: Session) -> Snapshot:
    tracks = {name: (_clone_state(t.state), None if t.params is None else t.params.clone(),
                     None if t.generator is None else t.generator.get_state())
              for name, t in session.tracks.items()}
    return Snapshot(tracks, dataclasses.replace(session.settings), session.default_model)


def restore_snapshot(session: Session, snap: Snapshot) -> None:
    session.tracks.clear()
    for name, (state, params, generator_state) in snap.tracks.items():
        generator = None
        if generator_state is not None:
            generator = torch.Generator(device=_first_tensor(state).device)
            generator.set_state(generator_state.clone())
        session.tracks[name] = Track(_clone_state(state), None if params is None else params.clone(), generator)
    session.settings = dataclasses.replace(snap.settings)
    session.default_model = snap.default_model


def _first_tensor(state: State) -> torch.Tensor:
    return state[0][0] if isinstance(state[0], tuple) else state[0]


def kind_of(key: str) -> str:
    """Which kind of client a session key belongs to: "ws", "osc", "named" or "http"."""
    for prefix, kind in (("ws:", "ws"), ("osc:", "osc"), ("name:", "named")):
        if key.startswith(prefix):
            return kind
    return "http"


KIND_NAMES = {"ws": "WebSocket", "osc": "OSC", "http": "HTTP", "named": "named"}
EVICTED = ("osc", "named")          # pools that forget their least recently used session when full


class SessionStore:
    """Sessions in one pool per kind of client (WebSocket, HTTP, OSC, and sessions that clients named),
    so that one kind never locks out the others. WebSocket sessions end with their socket; idle HTTP,
    OSC and named ones expire. A full HTTP or WebSocket pool refuses new sessions; a full OSC or named
    pool forgets its least recently used session (OSC has no connections to close: a sender that sent
    once may never come back; a named session outlives the connections that used it)."""

    def __init__(self, settings: ServeSettings, default_model: str):
        self.settings, self.default_model = settings, default_model
        self.sessions: dict[str, Session] = {}

    def limit(self, kind: str) -> int:
        if kind == "osc" and self.settings.max_osc_sessions is not None:
            return self.settings.max_osc_sessions
        if kind == "named" and self.settings.max_named_sessions is not None:
            return self.settings.max_named_sessions
        return self.settings.max_sessions

    def count(self, kind: str) -> int:
        return sum(1 for key in self.sessions if kind_of(key) == kind)

    def create(self, key: str | None = None) -> Session:
        self.expire()
        key = key or secrets.token_urlsafe(12)
        kind, limit = kind_of(key), self.limit(kind_of(key))
        same = [s for k, s in self.sessions.items() if kind_of(k) == kind]
        if len(same) >= limit:
            if kind not in EVICTED:
                raise CapacityError(f"the server holds its limit of {limit} {KIND_NAMES[kind]} sessions; "
                                    "close one or try later")
            for old in sorted(same, key=lambda s: (s.lock.locked(), s.last_used))[:len(same) - limit + 1]:
                del self.sessions[old.id]          # the least recently used sender, idle ones first
        session = Session(key, self.default_model)
        self.sessions[session.id] = session
        return session

    def get(self, key: str, kind: str | None = None) -> Session | None:
        """The session `key`, if it is there (and of that kind of client)."""
        session = self.sessions.get(key) if isinstance(key, str) else None
        if session is None or (kind is not None and kind_of(key) != kind):
            return None
        session.last_used = time.monotonic()
        return session

    def named(self, name) -> tuple[Session, bool]:
        """The session a client named (made if new: then True); it outlives the connections that use it
        until idle for session_idle_s, or until the named pool, when full, forgets it as least recently used."""
        key = "name:" + check_name(name)
        self.expire()
        session = self.get(key)
        if session is not None:
            return session, False
        return self.create(key), True

    def drop(self, key: str) -> bool:
        return self.sessions.pop(key, None) is not None

    def expire(self) -> None:
        cutoff = time.monotonic() - self.settings.session_idle_s
        for key in [k for k, s in self.sessions.items() if s.last_used < cutoff and not k.startswith("ws:")]:
            del self.sessions[key]


# ---- the engine ------------------------------------------------------------------------------
def _stack(states: list[State]) -> State:
    """Per-client states (each batch 1) as one batched state: layer by layer, along dim 1."""
    layers = []
    for parts in zip(*states):
        if isinstance(parts[0], tuple):
            layers.append(tuple(torch.cat(group, dim=1) for group in zip(*parts)))
        else:
            layers.append(torch.cat(parts, dim=1))
    return layers


def _unstack(state: State, index: int) -> State:
    return map_state(state, lambda t: t[:, index:index + 1])


@dataclass
class _Step:
    model: ServedModel
    inputs: torch.Tensor                   # (time, 1) ids or (time, 1, features)
    state: State
    future: concurrent.futures.Future
    sampling: tuple | None = None          # (SamplingConfig, generator): sample on the engine's thread


class EngineFailed(RuntimeError):
    """The engine's thread stopped on an error of its own: the server can no longer step any model."""


def _settle(future: concurrent.futures.Future, result=None, error: BaseException | None = None) -> None:
    """Hand a result to a waiting client; one that gave up waiting (a cut stream) is skipped."""
    if future.done():                          # cancelled by its client while the engine worked
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except concurrent.futures.InvalidStateError:   # cancelled between the check and the hand-over
        pass


class Engine:
    """A worker thread that runs every model call; waiting one-step calls of a model run batched,
    and their samples are drawn there too, in one call for clients with the same settings.

    Whatever a client does (cancel, disconnect, send nonsense) the thread goes on. Should it fail
    all the same, every waiting and later request gets `EngineFailed` and `on_failure` is told, so
    that the server can say so and exit instead of hanging.
    """

    def __init__(self, max_batch: int = 64, on_failure=None, threads: int = 0):
        self.max_batch = max(1, max_batch)
        self.threads = threads
        self.tuners: dict[tuple, ThreadTuner | None] = {}    # (model, batch size class) -> its tuner
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.batches = 0                    # batched calls made (for tests and the benchmark)
        self.failure: BaseException | None = None
        self.on_failure = on_failure
        self.pending: list = []             # the jobs taken from the queue and not yet answered
        self.thread = threading.Thread(target=self._work, name="rnnlab-engine", daemon=True)
        self.thread.start()

    def step(self, model: ServedModel, inputs: torch.Tensor, state: State,
             sampling: tuple | None = None) -> concurrent.futures.Future:
        """Future of (params (1, P), new state, sample or None) after feeding `inputs` from `state`."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._submit(_Step(model, inputs, state, future, sampling), future)
        return future

    def call(self, function, *args) -> concurrent.futures.Future:
        """Run any function on the engine's thread (generation, anything touching a model)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._submit((function, args, future), future)
        return future

    def _submit(self, job, future: concurrent.futures.Future) -> None:
        if self.failure is not None:
            future.set_exception(EngineFailed(f"the model engine stopped: {self.failure!r}"))
        else:
            self.jobs.put(job)

    async def astep(self, model, inputs, state, sampling=None):
        return await asyncio.wrap_future(self.step(model, inputs, state, sampling))

    async def acall(self, function, *args):
        return await asyncio.wrap_future(self.call(function, *args))

    def close(self) -> None:
        self.jobs.put(None)

    def _work(self) -> None:
        try:
            self._loop()
        except BaseException as err:             # a bug of ours: fail loudly, never leave clients waiting
            self.failure = err
            self._fail_waiting()
            if self.on_failure is not None:
                self.on_failure(err)

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            pending = self.pending = [job]
            while len(pending) < self.max_batch:
                try:
                    pending.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            if None in pending:
                self._run(pending[:pending.index(None)])
                return
            self._run(pending)

    def _fail_waiting(self) -> None:
        error = EngineFailed(f"the model engine stopped: {self.failure!r}")
        waiting = list(self.pending)
        while True:
            try:
                waiting.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        for job in waiting:
            if job is not None:
                _settle(job.future if isinstance(job, _Step) else job[2], error=error)

    def _run(self, pending: list) -> None:
        groups: dict[int, list[_Step]] = {}
        for job in pending:
            if isinstance(job, _Step):
                if job.future.cancelled():          # its client gave up: nothing to compute
                    continue
                if job.inputs.size(0) == 1:
                    groups.setdefault(id(job.model), []).append(job)
                else:
                    self._guard([job], lambda j=job: self._batched([j]))
            else:
                function, args, future = job
                if future.cancelled():
                    continue
                try:
                    _settle(future, function(*args))
                except Exception as err:           # handed to the waiting client, never kills the thread
                    _settle(future, error=err)
        for group in groups.values():
            self._guard(group, lambda g=group: self._batched(g))

    def _tuner(self, model: ServedModel, batch: int) -> ThreadTuner | None:
        """One tuner per model and batch size class: a lone client's step and twenty clients' batch
        may want different thread counts."""
        key = (model.name, min(batch.bit_length(), 6))
        if key not in self.tuners:
            self.tuners[key] = tuner_for(self.threads)
        return self.tuners[key]

    def _batched(self, group: list[_Step]) -> list:
        model = group[0].model
        with timed(self._tuner(model, sum(job.inputs.size(1) for job in group))):
            if len(group) == 1:
                params, state = model.model.step_logits(group[0].inputs, group[0].state)
                states = [state]
            else:
                self.batches += 1
                inputs = torch.cat([job.inputs for job in group], dim=1)        # (1, batch[, features])
                params, state = model.model.step_logits(inputs, _stack([job.state for job in group]))
                states = [_unstack(state, i) for i in range(len(group))]
        samples = self._samples(model, params, group)
        return [(params[i:i + 1], states[i], samples[i]) for i in range(len(group))]

    @staticmethod
    def _samples(model: ServedModel, params: torch.Tensor, group: list[_Step]) -> list:
        """One sample per job that asked; jobs with the same settings and no seed share one call."""
        out: list = [None] * len(group)
        shared: dict[tuple, list[int]] = {}
        for i, job in enumerate(group):
            if job.sampling is None:
                continue
            settings, generator = job.sampling
            if generator is None:
                shared.setdefault((settings.temperature, settings.top_k, settings.top_p, settings.greedy), []).append(i)
            else:
                out[i] = model.sample(params[i:i + 1], settings, generator)
        for rows in shared.values():
            drawn = model.sample(params[rows], group[rows[0]].sampling[0], None)
            for position, i in enumerate(rows):
                out[i] = drawn[position:position + 1]
        return out

    @staticmethod
    def _guard(group: list[_Step], compute) -> None:
        try:
            results = compute()
        except Exception as err:                   # the model refused these inputs: tell their clients
            for job in group:
                _settle(job.future, error=err)
            return
        for job, result in zip(group, results):
            _settle(job.future, result)
