"""Issue 14, item 6's console parts: no CSP / X-Frame-Options / nosniff, `/docs` public in
production, a 4,000-character word widening the console queue to 63,755 px, and `make run`
printing the admin password."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from app.settings import get_settings
from integrations.property import LocalPropertySystem
from tests.conftest import ADMIN_PASSWORD
from tests.services import IN_CI

SECRET = "test-secret-key-of-at-least-32-bytes-long"
PRODUCTION = {"app_env": "production", "secret_key": SECRET, "rasa_token": SECRET}
CHROMIUM = Path("/usr/bin/chromium")
LONG_WORD = "啊" * 2000 + "x" * 2000  # one "word": no space, no punctuation
Build = Callable[..., TestClient]


@pytest.fixture
def client(
    make_client: Build, database_url: str, system: LocalPropertySystem
) -> Iterator[TestClient]:
    with make_client(database_url=database_url) as built:
        yield built


def sign_in(client: TestClient) -> None:
    response = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


# --- security headers ---------------------------------------------------------------


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/console/login", "/console", "/healthz", "/api/repairs", "/nowhere"):
        headers = client.get(path, follow_redirects=False).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in headers, path  # development: plain HTTP


def test_production_adds_hsts(make_client: Build, database_url: str) -> None:
    with make_client(database_url=database_url, **PRODUCTION) as client:
        hsts = client.get("/console/login").headers["strict-transport-security"]
    assert hsts.startswith("max-age=31536000")


def test_the_console_has_no_inline_script_or_style_for_the_csp_to_block(
    client: TestClient, system: LocalPropertySystem
) -> None:
    sign_in(client)
    handoff = system.handoffs.open("demo-resident-1", channel="oa", reason="住户要求人工")
    number = system.complaints.create(
        "demo-resident-1", complaint_type="噪音", description="半夜装修"
    ).number
    pages = ["/console", f"/console/handoffs/{handoff.id}", "/console/complaints"]
    pages += [f"/console/complaints/{number}", "/console/repairs", "/console/bookings"]
    pages += ["/console/staff"]
    for path in pages:
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        for asset in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset
    client.cookies.clear()
    assert "<style" not in client.get("/console/login").text
    assert client.get("/console/static/../../settings.py").status_code == 404


# --- API docs -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_api_docs_are_off_in_production_unless_enabled(
    make_client: Build, database_url: str, path: str
) -> None:
    with make_client(database_url=database_url, **PRODUCTION) as production:
        assert production.get(path).status_code == 404
    with make_client(database_url=database_url, api_docs="true", **PRODUCTION) as enabled:
        assert enabled.get(path).status_code == 200
    with make_client(database_url=database_url) as development:
        assert development.get(path).status_code == 200


# --- a resident's 4,000-character word ----------------------------------------------------


@pytest.fixture
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (`make browser` installs it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def test_a_4000_character_word_does_not_widen_the_console(
    client: TestClient, system: LocalPropertySystem, chromium: object
) -> None:
    from playwright.sync_api import Browser, Route

    assert isinstance(chromium, Browser)
    sign_in(client)
    waiting = system.handoffs.open(f"o-{uuid.uuid4().hex[:8]}", channel="oa", reason="住户要求人工")
    system.handoffs.append(waiting.id, speaker="resident", text=LONG_WORD)
    ended = system.handoffs.open(f"o-{uuid.uuid4().hex[:8]}", channel="oa", reason="住户要求人工")
    system.handoffs.append(ended.id, speaker="resident", text=LONG_WORD)
    system.handoffs.close(ended.id, staff="物业管理员")  # no live stream to keep open

    def through_the_app(route: Route) -> None:
        """The browser's requests are answered by the app itself (its headers, its CSP)."""
        path = route.request.url.removeprefix("http://console.test")
        answer = client.get(path, follow_redirects=False)
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text))
    page.route("http://console.test/**", through_the_app)
    for path in ("/console", f"/console/handoffs/{ended.id}"):
        page.goto(f"http://console.test{path}")
        assert LONG_WORD[:50] in page.inner_text("main"), path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, (path, width)
    assert not [text for text in complaints if "Content Security Policy" in text]
    page.close()


# --- `make run` does not print the admin password ----------------------------------------


def test_the_run_banner_points_to_the_password_file_and_never_prints_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from scripts.run import banner

    password = "generated-admin-password"
    (tmp_path / "admin-password.txt").write_text(password + "\n")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    get_settings.cache_clear()
    stack = SimpleNamespace(
        app_url="http://127.0.0.1:8000",
        rasa_url="http://127.0.0.1:5005",
        action_url="http://127.0.0.1:5055/rasa/webhook",
    )
    try:
        printed = banner(stack)  # type: ignore[arg-type]
    finally:
        get_settings.cache_clear()

    assert password not in printed
    assert f"admin / 密码见 / password in {tmp_path / 'admin-password.txt'} (0600)" in printed
