"""Per-client sessions: what a client's connection (or its name) keeps between requests.

A `Session` holds, per model, the recurrent state carried between steps, the pending prediction
and the client's own sampling settings; snapshots of it can be taken and restored by name. A
`SessionStore` keeps one pool per kind of client, so one kind cannot lock the others out.
`ServeSettings` are the bounds the whole server keeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from rnnlab.generate.sampling import SamplingConfig
from rnnlab.models.recurrent import State, map_state
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
    idle_grace_s: float = 30.0           # a full pool makes room by ending a session idle this long (--idle-seconds)
    max_interval_ms: int = 5000          # slowest allowed stream pacing
    max_batch: int = 64                  # one-step requests run together (1: one at a time)
    max_named_sessions: int | None = None  # sessions named by clients (None: max_sessions); LRU evicted
    max_snapshots: int = 16              # snapshots kept per session (the oldest goes first)
    threads: int = 0                     # CPU threads for model calls (0: timed, the faster count kept)
    max_connections: int = 4096          # open HTTP and WebSocket connections (kept below the open-files limit)
    request_timeout_s: float = 10.0      # seconds a client has to send a request's head, and then its body


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
    attached: int = 0                    # open WebSocket connections that joined this (named) session
    on_evict: Callable[[], None] | None = None      # tells the client whose session a full pool ended

    def touch(self) -> None:
        """Mark the session as in use now: a full pool ends only sessions idle for longer than a grace."""
        self.last_used = time.monotonic()

    def idle(self, grace: float) -> bool:
        """Neither used within `grace` seconds, nor stepping now, nor joined by an open WebSocket."""
        return not self.attached and not self.lock.locked() and time.monotonic() - self.last_used > grace

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


class SessionStore:
    """Sessions in one pool per kind of client (WebSocket, HTTP, OSC, and sessions that clients named),
    so that one kind never locks out the others. WebSocket sessions end with their socket; idle HTTP,
    OSC and named ones expire. A full OSC pool forgets its least recently used sender (OSC has no
    connections: a sender that sent once may never come back). A full WebSocket, HTTP or named pool
    makes room by ending its least recently used session among those idle for longer than
    `idle_grace_s` (its WebSocket client is told and closed); when every one is in use, the new
    session is refused (503), so that a crowd of new clients never pushes out a performer's session."""

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
            self.make_room(kind, same, limit)
        session = Session(key, self.default_model)
        self.sessions[session.id] = session
        return session

    def make_room(self, kind: str, same: list[Session], limit: int) -> None:
        """End sessions of a full pool, least recently used first, until one more fits; only idle ones,
        except in the OSC pool. Raises CapacityError when there are too few idle sessions to end."""
        grace = 0.0 if kind == "osc" else self.settings.idle_grace_s
        order = sorted(same, key=lambda s: (not s.idle(0.0), s.last_used))       # idle ones first
        ending = order[:len(same) - limit + 1]
        if kind != "osc" and not all(s.idle(grace) for s in ending):
            raise CapacityError(f"the server holds its limit of {limit} {KIND_NAMES[kind]} sessions, all in use "
                                f"within the last {grace:g} s; close one or try later")
        for old in ending:
            del self.sessions[old.id]
            if old.on_evict is not None:
                old.on_evict()

    def get(self, key: str, kind: str | None = None) -> Session | None:
        """The session `key`, if it is there (and of that kind of client)."""
        session = self.sessions.get(key) if isinstance(key, str) else None
        if session is None or (kind is not None and kind_of(key) != kind):
            return None
        session.touch()
        return session

    def named(self, name) -> tuple[Session, bool]:
        """The session a client named (made if new: then True); it outlives the connections that use it
        until idle for session_idle_s, or until the named pool, when full, ends it as the least recently
        used of those idle for longer than idle_grace_s."""
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
        for key in [k for k, s in self.sessions.items()
                    if s.last_used < cutoff and not s.attached and not k.startswith("ws:")]:
            del self.sessions[key]
