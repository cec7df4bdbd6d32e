"""`rnnlab serve`: one process, HTTP JSON + WebSocket (FastAPI on uvicorn) and OSC over UDP.

HTTP here: GET /models, POST /generate, POST /step, POST /reset, named sessions and snapshots (POST
/session, GET /sessions/NAME, POST /snapshot, POST /restore), OpenAPI docs at /docs, the p5.js page
at /, the browser client at /rnnlab.js; request bodies in requests.py, allowed pages in origins.py,
the WebSocket /ws in websocket.py, OSC in osc.py, who may call in access.py, the connections' bounds
in network.py. Only the run directories named at start are served; 127.0.0.1 unless --host says
otherwise, and then with a token unless --no-token.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from rnnlab.errors import RnnlabError

try:
    import pythonosc  # noqa: F401  (osc.py; checked here so that a missing one is the same line)
    import uvicorn  # noqa: F401
    from fastapi import FastAPI, HTTPException, Request, WebSocket
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles
except ImportError as missing:
    raise RnnlabError(f"rnnlab serve needs {missing.name or 'FastAPI'}: pip install 'rnnlab[serve]'") from None

from rnnlab.generate.sampling import LIVE_SETTINGS
from rnnlab.serve.access import Access, AccessGuard, choose_token, is_loopback, is_wildcard, networks
from rnnlab.serve.hub import Hub
from rnnlab.serve.protocol import CapacityError, InputError
from rnnlab.serve.loading import load_models
from rnnlab.serve.sessions import ServeSettings, Session, check_name
from rnnlab.serve.origins import Origins
from rnnlab.serve.requests import (
    GenerateRequest,
    ResetRequest,
    SafeJSONResponse,
    SessionRequest,
    SnapshotRequest,
    StepRequest,
    Target,
)
from rnnlab.serve.websocket import Connection

STATIC = Path(__file__).with_name("static")


def create_app(hub: Hub, osc_port: int | None = None, host: str = "127.0.0.1",
               allow_origins: list[str] | None = None, access: Access | None = None) -> FastAPI:
    access = access or Access(bind_host=host)
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        transport = None
        if osc_port is not None:
            from rnnlab.serve.osc import start_osc
            transport = await start_osc(hub, host, osc_port, access.osc_sender_allowed)
            app.state.osc = transport.get_protocol()
            app.state.osc_port = transport.get_extra_info("sockname")[1]
            app.state.osc_receive_buffer = osc_buffer(transport)
        yield
        if transport:
            transport.close()
        hub.close()

    # strict_content_type: a JSON body counts only under a JSON Content-Type. A body with none, or text/plain
    # (what any web page may POST without a CORS preflight: fetch with a Blob or a string), is refused (422).
    app = FastAPI(title="rnnlab serve", lifespan=lifespan, strict_content_type=True,
                  description="Recurrent models over HTTP, WebSocket (/ws) and OSC. See the README's Live section.")
    app.state.hub = hub
    limit = hub.settings.max_request_bytes

    app.add_middleware(BoundedBody, limit=limit, timeout=hub.settings.request_timeout_s)
    app.add_middleware(AccessGuard, access=access)
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

    def target(request: Target | None = None, name: str | None = None) -> tuple[Session, dict]:
        """The session a request names (an HTTP session's id or a session name) and how replies name it;
        404 when there is no such session."""
        name = request.name if request is not None else check_name(name)
        if name is not None:
            hub.sessions.expire()
            session = hub.sessions.get("name:" + name, "named")
            if session is None:
                raise HTTPException(404, f"no session named {name!r} (never made, idle too long, or forgotten "
                                         "as the least recently used when the named pool was full)")
            return session, {"name": name}
        session = hub.sessions.get(request.session, "http")
        if session is None:
            raise HTTPException(404, f"no session {request.session!r} (it expired or was closed)")
        return session, {"session": session.id}

    def held(session: Session) -> dict:
        return {"models": sorted(session.tracks), "snapshots": list(session.snapshots),
                "settings": session.settings.live()}

    @app.post("/step")
    async def step(request: StepRequest) -> dict:
        """Feed input to a session's model; answer with a sample of what comes next. A `name` steps that
        named session (made if new); neither `name` nor `session`: a new HTTP session."""
        fresh = request.session is None and request.name is None
        if fresh:
            session = hub.sessions.create()
            reply = {"session": session.id}
        elif request.name is not None:
            session, _ = hub.sessions.named(request.name)
            reply = {"name": request.name}
        else:
            session, reply = target(request)
        try:
            if request.settings:
                session.configure(request.settings)
            out = await hub.step(session, request.model, request.input, request.top, request.state)
        except Exception:
            if fresh:                              # a refused first step leaves no session behind
                hub.sessions.drop(session.id)
            raise
        return {**reply, **out}

    @app.post("/reset")
    async def reset(request: ResetRequest) -> dict:
        """Forget a session's recurrent state (one model, or all); `close` ends the session."""
        session, reply = target(request)
        if request.close:
            hub.sessions.drop(session.id)
        else:
            hub.reset(session, request.model)
        return {**reply, "reset": True, "closed": request.close}

    @app.post("/session")
    async def named_session(request: SessionRequest) -> dict:
        """Make or join a named session, the one WebSocket and OSC clients reach by the same name; answers
        which models it has a state for, its snapshots and its settings (`settings` changes them first)."""
        session, created = hub.sessions.named(request.name)
        if request.settings:
            try:
                session.configure(request.settings)
            except InputError:
                if created:
                    hub.sessions.drop(session.id)
                raise
        return {"name": request.name, "created": created, **held(session)}

    @app.get("/sessions/{name}")
    async def session_info(name: str) -> dict:
        """A named session's models, snapshots (oldest first) and settings; 404 if there is none."""
        session, reply = target(name=name)
        return {**reply, **held(session)}

    @app.post("/snapshot")
    async def snapshot(request: SnapshotRequest) -> dict:
        """Keep the session's moment as `snapshot`: per model its recurrent state, pending prediction and
        random stream, and its settings. A session keeps --max-snapshots; the oldest goes (`dropped`)."""
        session, reply = target(request)
        async with session.lock:
            dropped = session.snapshot(request.snapshot, hub.settings.max_snapshots)
        return {**reply, "snapshot": request.snapshot, "dropped": dropped, "snapshots": list(session.snapshots)}

    @app.post("/restore")
    async def restore(request: SnapshotRequest) -> dict:
        """Go back to a snapshot: the same greedy (or seeded) steps then repeat what followed it."""
        session, reply = target(request)
        if request.snapshot not in session.snapshots:
            holds = ", ".join(session.snapshots) or "none"
            raise HTTPException(404, f"no snapshot {request.snapshot!r} in this session (it holds: {holds[:300]})")
        async with session.lock:
            session.restore(request.snapshot)
        return {**reply, "restored": request.snapshot, "settings": session.settings.live()}

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
            connection.close()
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
    the limit, or a chunked body that grows past it, is answered 413 at once (the rest is never read);
    one not all there within `timeout` seconds, 408."""

    def __init__(self, app, limit: int, timeout: float = 10.0):
        self.app, self.limit, self.timeout = app, limit, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > self.limit:
            return await self.refuse(send, 413, f"request body of {int(declared)} bytes is over the limit of "
                                              f"{self.limit}")
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":       # the client went away before sending its body
                        return
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    if size > self.limit:
                        return await self.refuse(send, 413, f"request body over the limit of {self.limit} bytes")
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return await self.refuse(send, 408, f"the request body did not come within {self.timeout:g} s")
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def refuse(send, status: int, reason: str) -> None:
        content = json.dumps({"detail": reason}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": content})


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

    from rnnlab.serve.network import server_config

    check_ports(args.host, args.port, args.osc_port)
    pools = {"max_osc_sessions": getattr(args, "max_osc_sessions", None),       # None: as many as --max-sessions
             "max_named_sessions": getattr(args, "max_named_sessions", None),
             "max_snapshots": getattr(args, "max_snapshots", None)}
    small = [flag for flag, value in (("--max-sessions", args.max_sessions), ("--max-length", args.max_length),
                                      ("--max-request-bytes", args.max_request_bytes), ("--max-batch", args.max_batch),
                                      ("--max-connections", args.max_connections),
                                      *(("--" + key.replace("_", "-"), value) for key, value in pools.items()))
             if value is not None and value < 1]
    problems = [f"{', '.join(small)} must be at least 1"] if small else []
    problems += [f"{flag} must be a positive number of seconds" for flag, value in (
        ("--idle-seconds", args.idle_seconds), ("--request-timeout", args.request_timeout)) if not value > 0]
    if problems:
        raise RnnlabError("; ".join(problems))
    if args.threads < 0:
        raise RnnlabError("--threads must be 0 (timed) or a number of threads")
    allowed = getattr(args, "allow_origin", None) or []
    Origins(allowed)                                     # a malformed origin: one line, before loading models
    access = Access(choose_token(args.token, args.no_token, args.host), args.allow_host, args.host,
                    networks(args.osc_allow))
    settings = ServeSettings(max_sessions=args.max_sessions, max_length=args.max_length,
                             max_request_bytes=args.max_request_bytes, max_batch=args.max_batch,
                             threads=args.threads, idle_grace_s=args.idle_seconds,
                             max_connections=args.max_connections, request_timeout_s=args.request_timeout,
                             **{k: v for k, v in pools.items() if v is not None})
    server: uvicorn.Server | None = None
    failures: list[BaseException] = []

    def engine_failed(err: BaseException) -> None:       # on the engine's thread: stop serving, exit 1
        failures.append(err)
        print(f"rnnlab serve: the model engine failed ({err!r}); stopping the server", file=sys.stderr)
        if server is not None:
            server.should_exit = True

    hub = Hub(load_models(args.runs, args.device, args.quantize), settings, engine_failed)
    osc_port = args.osc_port or None
    app = create_app(hub, osc_port, args.host, allowed, access)
    announce(args, hub, access, osc_port)
    server = uvicorn.Server(server_config(app, args.host, args.port, settings))
    server.run()
    return 1 if failures else 0


def announce(args, hub: Hub, access: Access, osc_port: int | None) -> None:
    """Where the server is, and what guards it: the URL with its token (as Jupyter prints it) when it has one."""
    import socket

    shown = socket.gethostname() if is_wildcard(args.host) else args.host
    shown = f"[{shown}]" if ":" in shown else shown
    where = f"http://{shown}:{args.port}"
    query = f"?token={access.token}" if access.token else ""
    print(f"rnnlab serve: {', '.join(hub.models)} on {where} (page {where}/{query}, API {where}/docs, "
          f"WebSocket ws://{shown}:{args.port}/ws{query}" + (f", OSC udp {args.host}:{osc_port}" if osc_port else "")
          + ")", file=sys.stderr)
    if access.token:
        print(f"rnnlab serve: every HTTP and WebSocket call needs the token: open {where}/{query}, or send the "
              f"header `Authorization: Bearer {access.token}`", file=sys.stderr)
    if not is_loopback(args.host):
        guard = "a token" if access.token else "NO token (--no-token): anyone who can reach it can use it"
        senders = ", ".join(["loopback", *args.osc_allow])
        print(f"rnnlab serve: warning: listening on {args.host}, reachable from other machines, with {guard}; "
              f"OSC taken from {senders}", file=sys.stderr)
