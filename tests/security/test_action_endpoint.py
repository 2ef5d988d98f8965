"""Issue 14, item 1 and the action-endpoint parts of 5 and 6: a forged tracker from the internet
used to read another resident's arrears, file and cancel repairs in their name, open handoffs
and bind houses. The action endpoint now has its own listener (loopback) and requires Rasa's
token; the body Rasa sends is capped, compressed or not."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from app.startup_checks import unsafe_settings
from integrations.property import LocalPropertySystem
from tests.app.conftest import ACTION_TOKEN
from tests.app.test_action_endpoint import action_call

# What an attacker sent: 李娜's bill, as if from her own conversation.
FORGED = action_call("action_query_bill", "demo-resident-2", "物业费多少", [])


def test_the_public_listener_does_not_serve_the_action_endpoint(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    public = make_client(database_url=database_url)

    for path in ("/rasa/webhook", f"/rasa/webhook?token={ACTION_TOKEN}"):
        response = public.post(path, json=FORGED)
        assert response.status_code == 404
        assert "¥" not in response.text
    assert public.get(f"/rasa/actions?token={ACTION_TOKEN}").status_code == 404


def test_the_action_listener_serves_nothing_but_the_action_endpoint(
    make_client: Callable[..., TestClient], database_url: str
) -> None:
    actions = make_client("action", database_url=database_url)

    assert actions.get("/console").status_code == 404
    assert actions.get("/api/handoffs").status_code == 404
    assert actions.get("/docs").status_code == 404


def test_a_forged_tracker_without_the_token_reads_nothing(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    actions = make_client("action", database_url=database_url)

    for path in ("/rasa/webhook", "/rasa/webhook?token=", "/rasa/webhook?token=wrong"):
        response = actions.post(path, json=FORGED)
        assert response.status_code == 401
        assert "¥" not in response.text
    assert actions.get("/rasa/actions").status_code == 401
    answered = actions.post(f"/rasa/webhook?token={ACTION_TOKEN}", json=FORGED)
    assert answered.status_code == 200 and "¥" in answered.text


def test_with_no_token_configured_nothing_is_served(
    make_client: Callable[..., TestClient], tmp_path
) -> None:
    actions = make_client(
        "action", database_url=f"sqlite:///{tmp_path / 'x.db'}", action_endpoint_token=""
    )

    assert actions.post("/rasa/webhook", json=FORGED).status_code == 401
    assert actions.post("/rasa/webhook?token=", json=FORGED).status_code == 401


def test_a_deflate_bomb_is_refused_without_being_expanded(
    make_client: Callable[..., TestClient], tmp_path
) -> None:
    actions = make_client(
        "action", database_url=f"sqlite:///{tmp_path / 'x.db'}", action_max_body_bytes="100000"
    )
    bomb = zlib.compress(b" " * 10_000_000, 9)  # ~10 KB that expands to 10 MB
    assert len(bomb) < 20_000

    response = actions.post(
        f"/rasa/webhook?token={ACTION_TOKEN}",
        content=bomb,
        headers={"content-encoding": "deflate", "content-type": "application/json"},
    )

    assert response.status_code == 413
    garbage = actions.post(
        f"/rasa/webhook?token={ACTION_TOKEN}",
        content=b"not deflate at all",
        headers={"content-encoding": "deflate"},
    )
    assert garbage.status_code == 400


def test_a_compressed_call_within_the_limit_is_served(
    make_client: Callable[..., TestClient], database_url: str, system: LocalPropertySystem
) -> None:
    import json

    actions = make_client("action", database_url=database_url)
    response = actions.post(
        f"/rasa/webhook?token={ACTION_TOKEN}",
        content=zlib.compress(json.dumps(FORGED).encode()),
        headers={"content-encoding": "deflate", "content-type": "application/json"},
    )
    assert response.status_code == 200 and "2栋1单元202" in response.text


@pytest.mark.parametrize("listener", ["public", "action"])
def test_huge_bodies_are_refused_on_every_route(
    make_client: Callable[..., TestClient], tmp_path, listener: str
) -> None:
    client = make_client(
        listener,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        max_body_bytes="1000",
        action_max_body_bytes="1000",
    )
    big = b"x" * 5000
    form = "application/x-www-form-urlencoded"
    paths = (
        {f"/rasa/webhook?token={ACTION_TOKEN}": "application/json"}
        if listener == "action"
        else {
            "/api/auth/token": form,
            "/console/login": form,
            "/api/handoffs/1/reply": "application/json",
        }
    )
    for path, kind in paths.items():
        declared = client.post(path, content=big, headers={"content-type": kind})
        assert declared.status_code == 413, path
        assert declared.json() == {"detail": "请求内容过大。"}

        def chunks():  # no Content-Length: the body is counted as it streams in
            for _ in range(5):
                yield b"x" * 1000

        streamed = client.post(path, content=chunks(), headers={"content-type": kind})
        assert streamed.status_code == 413, path


def production(**values: object) -> Settings:
    strong = "x" * 32
    base: dict[str, object] = {
        "app_env": "production",
        "secret_key": strong,
        "action_endpoint_token": strong,
        "rasa_token": strong,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type]


def test_production_refuses_to_start_without_the_tokens_or_with_a_public_action_listener() -> None:
    assert unsafe_settings(production()) == []
    assert any(
        "ACTION_ENDPOINT_TOKEN" in p
        for p in unsafe_settings(production(action_endpoint_token=None))
    )
    assert any(
        "ACTION_ENDPOINT_TOKEN" in p
        for p in unsafe_settings(production(action_endpoint_token="short"))
    )
    assert any("RASA_TOKEN" in p for p in unsafe_settings(production(rasa_token=None)))
    assert any("ACTION_HOST" in p for p in unsafe_settings(production(action_host="0.0.0.0")))
    assert any("ACTION_HOST" in p for p in unsafe_settings(production(action_host="8.8.8.8")))
    assert unsafe_settings(production(action_host="10.0.0.5")) == []
    assert any("ACTION_PORT" in p for p in unsafe_settings(production(action_port=8000)))


def test_the_app_does_not_start_in_production_with_unsafe_settings(
    make_client: Callable[..., TestClient], tmp_path
) -> None:
    with pytest.raises(SystemExit, match="ACTION_ENDPOINT_TOKEN"):
        make_client(
            app_env="production",
            database_url=f"sqlite:///{tmp_path / 'x.db'}",
            secret_key="k" * 40,
            rasa_token="r" * 40,
            action_endpoint_token="",
        )
