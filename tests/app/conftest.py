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


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Callable[..., TestClient]]:
    """A client of a freshly built app, configured through environment variables."""
    clients: list[TestClient] = []

    def build(**env: str) -> TestClient:
        monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
        for name, value in env.items():
            monkeypatch.setenv(name.upper(), value)
        _clear_caches()
        from app.main import create_app

        client = TestClient(create_app())
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
    monkeypatch.undo()
    _clear_caches()
