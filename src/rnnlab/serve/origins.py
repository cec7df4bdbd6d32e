"""Which web pages may call the server (CORS) and open its WebSocket: localhost pages, the server's
own page, and the origins given with --allow-origin."""

from __future__ import annotations

import ipaddress
import re

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from rnnlab.errors import RnnlabError
from rnnlab.serve.access import host_name

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
        name = host_name(host)
        if name is None:
            return False
        try:                                       # the server's own page, by address (a name could be a
            ipaddress.ip_address(name)             # DNS-rebinding page) or by the name it was started with
            return True
        except ValueError:
            return name == self.bind_host

    def middleware(self, app: FastAPI) -> None:
        app.add_middleware(CORSMiddleware, allow_origins=["*"] if self.any else self.listed,
                           allow_origin_regex=None if self.any else LOCAL_PAGES, allow_methods=["GET", "POST"],
                           allow_headers=["content-type", "authorization"], allow_private_network=True)
