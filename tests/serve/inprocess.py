"""The app in the test process through FastAPI's TestClient, whose requests name the host `testserver`:
allowed here as `--allow-host testserver` would allow it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from rnnlab.serve.access import Access
from rnnlab.serve.app import create_app
from rnnlab.serve.hub import Hub


def in_process(hub: Hub, access: Access | None = None, **options) -> TestClient:
    return TestClient(create_app(hub, access=access or Access(allow_hosts=["testserver"]), **options))
