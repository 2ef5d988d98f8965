from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app import deps
from app.settings import get_settings


def _clear_caches() -> None:
    get_settings.cache_clear()
    deps.local_property_system.cache_clear()
    deps.redis_client.cache_clear()


ACTION_TOKEN = "test-action-endpoint-token-of-32-bytes"
ACTION_PORT = 5055


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Callable[..., TestClient]]:
    """A client of a freshly built app, configured through environment variables.

    `listener="action"` gives a client of the action listener (Rasa's side): its requests
    reach the process as they would on ACTION_PORT; add `?token=ACTION_TOKEN` as Rasa does."""
    clients: list[TestClient] = []

    def build(listener: str = "public", **env: str) -> TestClient:
        monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
        monkeypatch.setenv("ACTION_ENDPOINT_TOKEN", ACTION_TOKEN)
        monkeypatch.setenv("ACTION_PORT", str(ACTION_PORT))
        for name, value in env.items():
            monkeypatch.setenv(name.upper(), value)
        _clear_caches()
        from app.main import create_app, create_server_app

        if listener == "action":
            client = TestClient(create_server_app(), base_url=f"http://127.0.0.1:{ACTION_PORT}")
        else:
            client = TestClient(create_app())
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
    monkeypatch.undo()
    _clear_caches()
