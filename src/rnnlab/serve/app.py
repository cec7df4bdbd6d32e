"""`rnnlab serve`: one process, HTTP JSON + WebSocket (FastAPI on uvicorn) and OSC over UDP.

HTTP: GET /models, POST /generate, POST /step, POST /reset, OpenAPI docs at /docs, the p5.js
page at /, the browser client at /rnnlab.js. WebSocket /ws: JSON messages, one recurrent state per
connection, freed when it closes, or a named session that outlives it. OSC: see serve/osc.py. Only the run directories named at start are served; 127.0.0.1
unless --host says otherwise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import re
import secrets
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import LIVE_SETTINGS, SETTING_TYPES, SamplingConfig
from rnnlab.serve.hub import Hub
from rnnlab.serve.protocol import CapacityError, InputError, check_text
from rnnlab.serve.sessions import EngineFailed, ServeSettings, load_models

STATIC = Path(__file__).with_name("static")


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


LOCAL_PAGES = r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"     # allowed without --allow-origin


def origin_of(text: str) -> str:
    """An --allow-origin value as browsers send it in Origin: scheme://host[:port], no path; or * or null."""
    origin = text.strip().rstrip("/")
    if origin in ("*", "null"):
        return origin
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/\s?#@]+)", origin)
    if not match:
        raise RnnlabError(f"--allow-origin {text!r}: give a page's origin, scheme://host[:port] such as "
                          "https://editor.p5js.org (or * for any page)")
    return f"{match.group(1).lower()}://{match.group(2).lower()}"


class Origins:
    """Which web pages may call the server from a browser: pages on this machine's loopback (any port),
    the server's own page, and the origins given with --allow-origin (* for any)."""

    def __init__(self, extra: list[str] | None = None, bind_host: str = "127.0.0.1"):
        self.listed = [origin_of(o) for o in extra or []]
        self.any = "*" in self.listed
        self.bind_host = bind_host.lower()

    def allows(self, origin: str | None, host: str | None = None) -> bool:
        if origin is None:                         # not a browser page (Processing, Python, curl): fine
            return True
        if self.any or origin in self.listed or re.fullmatch(LOCAL_PAGES, origin):
            return True
        if host is None or origin.split("://", 1)[-1] != host.lower():
            return False
        name = host.lower().rsplit(":", 1)[0] if not host.endswith("]") else host.lower()
        name = name.strip("[]")
        try:                                       # the server's own page, by address (a name could be a
            ipaddress.ip_address(name)             # DNS-rebinding page) or by the name it was started with
            return True
        except ValueError:
            return name == self.bind_host

    def middleware(self, app: FastAPI) -> None:
        app.add_middleware(CORSMiddleware, allow_origins=["*"] if self.any else self.listed,
                           allow_origin_regex=None if self.any else LOCAL_PAGES, allow_methods=["GET", "POST"],
                           allow_headers=["content-type"], allow_private_network=True)


def create_app(hub: Hub, osc_port: int | None = None, host: str = "127.0.0.1",
               allow_origins: list[str] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        transport = None
        if osc_port is not None:
            from rnnlab.serve.osc import start_osc
            transport = await start_osc(hub, host, osc_port)
            app.state.osc_port = transport.get_extra_info("sockname")[1]
            app.state.osc_receive_buffer = osc_buffer(transport)
        yield
        if transport:
            transport.close()
        hub.close()

    app = FastAPI(title="rnnlab serve", lifespan=lifespan,
                  description="Recurrent models over HTTP, WebSocket (/ws) and OSC. See the README's Live section.")
    app.state.hub = hub
    limit = hub.settings.max_request_bytes

    app.add_middleware(BoundedBody, limit=limit)
    origins = Origins(allow_origins, host)
    origins.middleware(app)                       # outermost: even a 413 tells an allowed page why

    @app.exception_handler(InputError)
    async def input_error(request: Request, err: InputError):
        return SafeJSONResponse({"detail": str(err)}, status_code=503 if isinstance(err, CapacityError) else 422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError):
        detail = jsonable_encoder(err.errors())
        for error in detail:
            try:
                json.dumps(error.get("input"), allow_nan=False)
            except ValueError:                     # Infinity or NaN in the body: JSON cannot say it back
                error["input"] = repr(error["input"])[:200]
        return SafeJSONResponse({"detail": detail}, status_code=422)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/rnnlab.js", include_in_schema=False)
    async def client_script():
        """The browser client (see its header): rnnlab.connect(url) and the verbs ml5.js users know."""
        return FileResponse(STATIC / "rnnlab.js", media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/models")
    async def models() -> dict:
        """The served models: name, kind (tokens, series, strokes), what they take and give."""
        return {"models": [m.describe() for m in hub.models.values()], "default": next(iter(hub.models))}

    @app.post("/generate")
    async def generate(request: GenerateRequest) -> dict:
        """A whole continuation from a fresh state; nothing is kept between calls."""
        settings = {k: getattr(request, k) for k in LIVE_SETTINGS}
        return await hub.generate(request.model, request.prime, request.length, settings)

    @app.post("/step")
    async def step(request: StepRequest) -> dict:
        """Feed input to a session's model; answer with a sample of what comes next."""
        if request.session is None:
            session = hub.sessions.create()
        else:
            session = hub.sessions.get(request.session, "http")
            if session is None:
                raise HTTPException(404, f"no session {request.session!r} (it expired or was closed)")
        try:
            if request.settings:
                session.configure(request.settings)
            out = await hub.step(session, request.model, request.input, request.top, request.state)
        except Exception:
            if request.session is None:            # a refused first step leaves no session behind
                hub.sessions.drop(session.id)
            raise
        return {"session": session.id, **out}

    @app.post("/reset")
    async def reset(request: ResetRequest) -> dict:
        """Forget a session's recurrent state (one model, or all); `close` ends the session."""
        session = hub.sessions.get(request.session, "http")
        if session is None:
            raise HTTPException(404, f"no session {request.session!r}")
        if request.close:
            hub.sessions.drop(session.id)
        else:
            hub.reset(session, request.model)
        return {"session": session.id, "reset": True, "closed": request.close}

    @app.websocket("/ws")
    async def websocket(socket: WebSocket):
        if not origins.allows(socket.headers.get("origin"), socket.headers.get("host")):
            await socket.close(code=1008)             # a page from a disallowed origin: HTTP 403
            return
        await socket.accept()
        try:
            session = hub.sessions.create("ws:" + secrets.token_urlsafe(12))
        except CapacityError as err:
            await socket.send_json({"type": "error", "error": str(err)})
            await socket.close(code=1013)
            return
        connection = Connection(hub, socket, session)
        try:
            await connection.serve()
        finally:
            connection.stop_stream()
            hub.sessions.drop(session.id)          # a closed connection frees its own state (named ones stay)

    return app


def osc_buffer(transport) -> int:
    """The OSC socket's receive buffer as granted; says so once when the OS capped it well below the ask."""
    import socket

    from rnnlab.serve.osc import RECEIVE_BUFFER

    granted = transport.get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if granted < RECEIVE_BUFFER:
        print(f"rnnlab serve: the OSC receive buffer is {granted // 1024} KiB (asked {RECEIVE_BUFFER >> 20} MiB); "
              "a burst of small OSC messages beyond a few hundred may be dropped (Linux: raise "
              "net.core.rmem_max)", file=sys.stderr)
    return granted


class BoundedBody:
    """Every request body is read up to `limit` bytes and no further: a declared Content-Length over
    the limit, or a chunked body that grows past it, is answered 413 at once (the rest is never read)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > self.limit:
            return await self.too_large(send, f"request body of {int(declared)} bytes is over the limit of "
                                              f"{self.limit}")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":       # the client went away before sending its body
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self.too_large(send, f"request body over the limit of {self.limit} bytes")
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def too_large(send, reason: str) -> None:
        content = json.dumps({"detail": reason}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": content})


class Connection:
    """One WebSocket client: reads JSON messages in order, replies, runs at most one stream."""

    def __init__(self, hub: Hub, socket: WebSocket, session):
        self.hub, self.socket, self.session = hub, socket, session
        self.own = session                       # the connection's unnamed session, freed when it closes
        self.send_lock = asyncio.Lock()
        self.streaming: asyncio.Task | None = None

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
        self.session.last_used = time.monotonic()      # a named session in use does not expire
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
            if name is None:                            # back to this connection's own session
                self.session, created = self.own, False
            else:
                self.session, created = self.hub.sessions.named(name)
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


def check_ports(host: str, port: int, osc_port: int) -> None:
    """Refuse a port out of range or already taken before loading anything (one line, not uvicorn's log)."""
    import socket

    if not 1 <= port <= 65535 or not 0 <= osc_port <= 65535:
        raise RnnlabError(f"--port must be 1..65535 and --osc-port 0..65535 (0: no OSC), got {port} and {osc_port}")
    for number, kind, flag in ((port, socket.SOCK_STREAM, "--port"), (osc_port, socket.SOCK_DGRAM, "--osc-port")):
        if not number:
            continue
        try:
            family = socket.getaddrinfo(host, number, type=kind)[0][0]
            with socket.socket(family, kind) as probe:
                if kind == socket.SOCK_STREAM:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, number))
        except OSError as err:
            raise RnnlabError(f"{flag} {number} on {host}: cannot listen there ({err.strerror or err}); "
                              "is another server using it? pick another port") from None


def cmd_serve(args) -> int:
    """The `rnnlab serve` command: load the runs, then run uvicorn (and OSC) until interrupted."""
    import uvicorn

    check_ports(args.host, args.port, args.osc_port)
    small = [flag for flag, value in (("--max-sessions", args.max_sessions), ("--max-length", args.max_length),
                                      ("--max-request-bytes", args.max_request_bytes), ("--max-batch", args.max_batch))
             if value < 1]
    if small:
        raise RnnlabError(f"{', '.join(small)} must be at least 1")
    if args.threads < 0:
        raise RnnlabError("--threads must be 0 (timed) or a number of threads")
    allowed = getattr(args, "allow_origin", None) or []
    Origins(allowed)                                     # a malformed origin: one line, before loading models
    settings = ServeSettings(max_sessions=args.max_sessions, max_length=args.max_length,
                             max_request_bytes=args.max_request_bytes, max_batch=args.max_batch,
                             threads=args.threads)
    server: uvicorn.Server | None = None
    failures: list[BaseException] = []

    def engine_failed(err: BaseException) -> None:       # on the engine's thread: stop serving, exit 1
        failures.append(err)
        print(f"rnnlab serve: the model engine failed ({err!r}); stopping the server", file=sys.stderr)
        if server is not None:
            server.should_exit = True

    hub = Hub(load_models(args.runs, args.device, args.quantize), settings, engine_failed)
    osc_port = args.osc_port or None
    app = create_app(hub, osc_port, args.host, allowed)
    where = f"http://{args.host}:{args.port}"
    print(f"rnnlab serve: {', '.join(hub.models)} on {where} (page {where}/, API {where}/docs, "
          f"WebSocket ws://{args.host}:{args.port}/ws" + (f", OSC udp {args.host}:{osc_port}" if osc_port else "")
          + ")", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"rnnlab serve: warning: listening on {args.host}, reachable from other machines", file=sys.stderr)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                                           ws_max_size=4 * settings.max_request_bytes, timeout_graceful_shutdown=5))
    server.run()
    return 1 if failures else 0
