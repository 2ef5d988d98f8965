from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.services import redis_url


def test_health_reports_each_dependency_and_503_when_rasa_is_down(
    make_client: Callable[..., TestClient], database_url: str
) -> None:
    client = make_client(database_url=database_url, redis_url=redis_url())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["redis"] == {"status": "ok"}
    assert body["checks"]["rasa"]["status"] == "error"
    assert "ConnectError" in body["checks"]["rasa"]["error"]


def test_health_says_redis_is_optional_and_reports_it_when_unreachable(
    make_client: Callable[..., TestClient], tmp_path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'empty.db'}"
    without = make_client(database_url=database_url).get("/healthz").json()
    assert without["checks"]["redis"] == {"status": "not_configured"}

    broken = make_client(database_url=database_url, redis_url="redis://127.0.0.1:9/0")
    assert broken.get("/healthz").json()["checks"]["redis"]["status"] == "error"


def test_health_reports_a_database_that_cannot_be_reached(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(database_url="postgresql://nobody@127.0.0.1:9/none")

    body = client.get("/healthz").json()

    assert body["checks"]["database"]["status"] == "error"
    assert "OperationalError" in body["checks"]["database"]["error"]
