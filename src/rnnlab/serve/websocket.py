"""One WebSocket client: JSON messages read in order, replies, at most one running stream; closed with
1013 should a full server end its session for being idle (see SessionStore.make_room)."""

from __future__ import annotations

import asyncio
import json
import sys

from fastapi import WebSocket, WebSocketDisconnect

from rnnlab.generate.sampling import LIVE_SETTINGS
from rnnlab.serve.hub import Hub
from rnnlab.serve.protocol import InputError, check_text
from rnnlab.serve.engine import EngineFailed

class Connection:
    """One WebSocket client: reads JSON messages in order, replies, runs at most one stream."""

    def __init__(self, hub: Hub, socket: WebSocket, session):
        self.hub, self.socket, self.session = hub, socket, session
        self.own = session                       # the connection's unnamed session, freed when it closes
        self.send_lock = asyncio.Lock()
        self.streaming: asyncio.Task | None = None
        self.closing: asyncio.Task | None = None
        session.on_evict = self.evicted

    def evicted(self) -> None:
        """The server was full and this connection had been idle the longest: say so, then close (1013, try
        again later; the browser client reconnects and rejoins its named session)."""
        self.stop_stream()
        self.closing = asyncio.ensure_future(self.close_evicted())

    async def close_evicted(self) -> None:
        grace = self.hub.settings.idle_grace_s
        try:
            await self.send({"type": "error", "error": f"closed: idle for over {grace:g} s while the server was "
                                                       "full; connect again to go on"})
            async with self.send_lock:
                await self.socket.close(code=1013, reason="idle while the server was full")
        except Exception:                          # the client left meanwhile
            pass

    def close(self) -> None:
        """The socket closed: stop its stream and let go of the named session it had joined."""
        self.stop_stream()
        if self.session is not self.own:
            self.session.attached -= 1
            self.session = self.own

    async def send(self, message: dict, request: dict | None = None) -> None:
        """Send `message`; a reply to a request that carried an "id" repeats it as "request_id", and as
        "id" too where the reply has no token id of its own (as before "request_id" existed)."""
        if request:
            message = {**message, "request_id": request["id"]}
            message.setdefault("id", request["id"])
        async with self.send_lock:
            await self.socket.send_text(json.dumps(message, ensure_ascii=False))

    async def serve(self) -> None:
        await self.send({"type": "hello", "session": self.session.id, "models": list(self.hub.models),
                         "default": self.session.default_model})
        while True:
            try:
                raw = await self.socket.receive()
            except WebSocketDisconnect:
                return
            if raw["type"] == "websocket.disconnect":
                return
            text = raw.get("text")
            if text is None:
                text = (raw.get("bytes") or b"").decode("utf-8", "replace")
            await self.handle(text)

    async def handle(self, text: str) -> None:
        limit = self.hub.settings.max_request_bytes
        if len(text.encode("utf-8")) > limit:
            return await self.send({"type": "error", "error": f"message over the limit of {limit} bytes"})
        try:
            message = json.loads(text, parse_constant=_not_json)
        except ValueError as err:
            return await self.send({"type": "error", "error": f"invalid JSON: {err}"})
        except RecursionError:
            return await self.send({"type": "error", "error": "invalid JSON: nested too deeply"})
        try:
            check_text(message)
        except InputError as err:
            return await self.send({"type": "error", "error": str(err)})
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self.send({"type": "error", "error": 'a message is a JSON object with a "type"'})
        reply_id = {"id": message["id"]} if "id" in message else None
        try:
            await self.dispatch(message, reply_id)
        except InputError as err:
            await self.send({"type": "error", "error": str(err)}, reply_id)
        except (WebSocketDisconnect, EngineFailed):
            raise
        except Exception as err:                   # a bug of ours: say so, keep the connection
            print(f"rnnlab serve: a WebSocket message failed: {err!r}", file=sys.stderr)
            await self.send({"type": "error", "error": f"internal error: {type(err).__name__}"}, reply_id)

    async def dispatch(self, message: dict, reply_id: dict | None) -> None:
        kind, model = message["type"], message.get("model")
        if kind != "stop" and self.streaming and not self.streaming.done() and kind in (
                "step", "stream", "reset", "session", "restore"):
            self.stop_stream()                          # a new request ends a running stream
        self.own.touch()                                 # a connection in use is not ended for room
        self.session.touch()                             # nor is the named session it uses
        if kind == "step":
            if "input" not in message:
                raise InputError('a step message needs an "input"')
            await self.send(await self.hub.step(self.session, model, message["input"], message.get("top"),
                                                message.get("state")), reply_id)
        elif kind == "stream":
            self.hub.check_extras(self.hub.model(model or self.session.default_model), message.get("top"),
                                  message.get("state"))
            self.hub.check_length(message.get("n", 0))
            self.streaming = asyncio.create_task(self.stream(message, reply_id))
        elif kind == "stop":
            self.stop_stream()
            await self.send({"type": "stopped"}, reply_id)
        elif kind == "reset":
            self.hub.reset(self.session, model)
            await self.send({"type": "reset"}, reply_id)
        elif kind == "set":
            self.session.configure({k: v for k, v in message.items() if k not in ("type", "id", "model")})
            await self.send({"type": "settings", **self.session.settings.live()}, reply_id)
        elif kind == "generate":
            settings = {k: message[k] for k in LIVE_SETTINGS if k in message}
            out = await self.hub.generate(model, message.get("prime"), message.get("length", 200), settings)
            await self.send({"type": "generated", **out}, reply_id)
        elif kind == "models":
            await self.send({"type": "models", "models": [m.describe() for m in self.hub.models.values()]}, reply_id)
        elif kind == "session":
            name = message.get("name")
            joined, created = (self.own, False) if name is None else self.hub.sessions.named(name)
            if self.session is not self.own:            # an open connection keeps its named session in use
                self.session.attached -= 1
            if joined is not self.own:
                joined.attached += 1
            self.session = joined
            await self.send({"type": "session", "name": name, "created": created,
                             "models": sorted(self.session.tracks), "snapshots": list(self.session.snapshots),
                             "settings": self.session.settings.live()}, reply_id)
        elif kind == "snapshot":
            dropped = self.session.snapshot(message.get("name"), self.hub.settings.max_snapshots)
            await self.send({"type": "snapshot", "name": message["name"], "dropped": dropped}, reply_id)
        elif kind == "restore":
            async with self.session.lock:
                self.session.restore(message.get("name"))
            await self.send({"type": "restored", "name": message["name"],
                             "settings": self.session.settings.live()}, reply_id)
        else:
            raise InputError(f"unknown message type {kind!r}; use step, stream, stop, reset, set, generate, models, "
                             "session, snapshot or restore")

    async def stream(self, message: dict, reply_id: dict | None) -> None:
        count = 0
        try:
            async for out in self.hub.stream(self.session, message.get("model"), message.get("n"),
                                             message.get("interval_ms", 0), message.get("top"), message.get("state")):
                count += 1
                await self.send(out, reply_id)
            await self.send({"type": "done", "n": count}, reply_id)
        except InputError as err:
            await self.send({"type": "error", "error": str(err)}, reply_id)
        except (WebSocketDisconnect, RuntimeError):
            pass

    def stop_stream(self) -> None:
        if self.streaming and not self.streaming.done():
            self.streaming.cancel()


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")
