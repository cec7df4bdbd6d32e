"""Who may use the server: the token (HTTP `Authorization: Bearer TOKEN` or `?token=`, WebSocket
`?token=`); the Host a request names, which keeps a page on a rebinding DNS name (one that points
at 127.0.0.1 once loaded) away from a server that has no token; and the addresses OSC is taken from
(OSC senders cannot send a token: loopback, and the networks given with --osc-allow)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from rnnlab.errors import RnnlabError

# The same files on every server, nothing about its models or sessions: served without the token, so
# that the page's scripts and the API's documentation load before the page has read its token.
PUBLIC = ("/rnnlab.js", "/static/", "/docs", "/openapi.json")
TOKEN = re.compile(r"[A-Za-z0-9_.~-]{16,128}")       # URL-safe: it goes into ?token= as it is


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def host_name(header: str | None) -> str | None:
    """The name in a Host header, lower case, without its port or IPv6 brackets; None if malformed."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):                   # [::1]:8765
        name, _, port = header[1:].partition("]")
        port = port.removeprefix(":") if port.startswith(":") else port
    else:
        name, _, port = header.partition(":")
    return name if name and (not port or port.isdigit()) else None


def choose_token(option: str | None, off: bool, host: str) -> str | None:
    """The token to require: --token TOKEN as given, `auto` (or no option off loopback) a new one, --no-token none."""
    if off:
        if option is not None:
            raise RnnlabError("--token and --no-token contradict each other; give one")
        return None
    if option is None:
        return None if is_loopback(host) else secrets.token_urlsafe(32)
    if option == "auto":
        return secrets.token_urlsafe(32)
    if not TOKEN.fullmatch(option):
        raise RnnlabError("--token: give 16 to 128 characters among A-Z a-z 0-9 _ - . ~ (or auto for a new one)")
    return option


def networks(values: list[str]) -> list:
    """--osc-allow values (an address or a network such as 192.168.1.0/24), checked at start."""
    parsed = []
    for value in values:
        try:
            parsed.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise RnnlabError(f"--osc-allow {value!r}: give an address (192.168.1.20) or a network "
                              "(192.168.1.0/24)") from None
    return parsed


@dataclass
class Access:
    """The token (None: none needed) and the Host names answered: localhost and any address always, the
    --host the server was started with, and --allow-host names (* for any). With a token, any Host is
    answered: a page that does not know the token gets nothing, whatever name it came by. OSC is taken
    from loopback and the --osc-allow networks only."""

    token: str | None = None
    allow_hosts: list[str] = field(default_factory=list)
    bind_host: str = "127.0.0.1"
    osc_allow: list = field(default_factory=list)       # networks whose OSC is taken besides loopback

    def osc_sender_allowed(self, address: str) -> bool:
        try:
            sender = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if getattr(sender, "ipv4_mapped", None) is not None:       # ::ffff:a.b.c.d on a dual-stack socket
            sender = sender.ipv4_mapped
        return sender.is_loopback or any(sender in network for network in self.osc_allow)

    def host_allowed(self, header: str | None) -> bool:
        if self.token is not None or "*" in self.allow_hosts:
            return True
        name = host_name(header)
        if name is None:
            return False
        if name in ("localhost", self.bind_host.lower().strip("[]")) or name in (h.lower() for h in self.allow_hosts):
            return True
        try:                                     # an address: no DNS name to rebind
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False

    def token_given(self, scope) -> bool:
        given = None
        authorization = Headers(scope=scope).get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            given = authorization[7:].strip()
        else:
            given = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [None])[0]
        return given is not None and secrets.compare_digest(given.encode("utf-8", "replace"),
                                                            self.token.encode("utf-8"))

    def needs_token(self, scope) -> bool:
        if self.token is None:
            return False
        public = scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"].startswith(PUBLIC)
        return not public and not self.token_given(scope)


class AccessGuard:
    """ASGI middleware: a Host not answered gets 400 (a WebSocket: refused at the handshake, 403); a
    missing or wrong token gets 401 (a WebSocket: accepted, then closed with 1008, policy violation, so
    that a browser's client can tell why)."""

    def __init__(self, app, access: Access):
        self.app, self.access = app, access

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        websocket = scope["type"] == "websocket"
        host = Headers(scope=scope).get("host")
        if not self.access.host_allowed(host):
            if websocket:
                return await send({"type": "websocket.close", "code": 1008})
            reason = (f"this server does not answer to Host {str(host)[:100]!r}; start it with --allow-host NAME "
                      "to allow that name (or with a token)")
            return await JSONResponse({"detail": reason}, 400)(scope, receive, send)
        if self.access.needs_token(scope):
            if websocket:
                await receive()                                        # websocket.connect
                await send({"type": "websocket.accept"})
                return await send({"type": "websocket.close", "code": 1008,
                                   "reason": "this server needs its token: /ws?token=..."})
            reason = ("this server needs its token: `Authorization: Bearer TOKEN`, or ?token=TOKEN in the URL "
                      "(`rnnlab serve` printed it at start)")
            return await JSONResponse({"detail": reason}, 401, headers={"www-authenticate": "Bearer"})(
                scope, receive, send)
        await self.app(scope, receive, send)
