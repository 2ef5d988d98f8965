"""Issue 14, the staff parts of items 5 and 6, as an attacker made them: a 1-byte SECRET_KEY
accepted, a signed token for a user that does not exist (with `role: admin`) accepted,
tokens valid after logout, ADMIN_PASSWORD=admin accepted, unlimited password guesses (each
check 64 MiB), and any staff member replying in a conversation a colleague had claimed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from app.settings import get_settings
from app.staff import throttle
from integrations.property import LocalPropertySystem
from integrations.property.services import staff as staff_service
from tests.conftest import ADMIN_PASSWORD
from tests.services import redis_url
from tests.wechat.fake_server import FakeWeChat, running_fake_wechat

SECRET = "test-secret-key-of-at-least-32-bytes-long"
LOCKED = "登录失败次数过多，请15分钟后再试。"
PASSWORD = "colleague-password-7"
TEMPLATE = "/cgi-bin/message/template/send"
Build = Callable[..., TestClient]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    with running_fake_wechat() as server:
        yield server


@pytest.fixture
def app_env(database_url: str, fake: FakeWeChat) -> dict[str, str]:
    return {
        "database_url": database_url,
        "secret_key": SECRET,
        "wechat_app_id": "wx-staff-auth",
        "wechat_app_secret": "s",
        "wechat_api_base": fake.url,
        "wechat_notice_template_id": "TPL-STAFF",
    }


@pytest.fixture
def workers(
    make_client: Build, app_env: dict[str, str], system: LocalPropertySystem
) -> Iterator[Callable[..., TestClient]]:
    """Clients of separately built apps on one database (and one Redis when given): the
    app workers of one deployment. `address` is the client address the app sees."""
    started: list[TestClient] = []

    def worker(address: str = "198.51.100.10", **env: str) -> TestClient:
        make_client(**{**app_env, **env})  # sets the environment for this worker
        from app.main import create_app

        client = TestClient(create_app(), client=(address, 50000))
        client.__enter__()
        started.append(client)
        return client

    yield worker
    for client in started:
        client.__exit__(None, None, None)


def token_of(client: TestClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def colleague(system: LocalPropertySystem, display_name: str = "客服小赵") -> str:
    username = f"zhao{uuid.uuid4().hex[:6]}"
    system.staff.create(username, PASSWORD, display_name=display_name, role="staff")
    return username


def forged(claims: dict[str, object], key: str = SECRET) -> str:
    expires = datetime.now(UTC) + timedelta(hours=1)
    return jwt.encode({"exp": expires, **claims}, key, algorithm="HS256")


# --- SECRET_KEY ---------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "k", "x" * 31])
def test_production_refuses_to_start_without_a_32_byte_secret_key(
    make_client: Build, database_url: str, key: str | None
) -> None:
    env = {"database_url": database_url, "app_env": "production", "rasa_token": SECRET}
    if key is not None:
        env["secret_key"] = key
    with pytest.raises(SystemExit, match="SECRET_KEY"):
        make_client(**env)


def test_production_with_a_good_key_signs_staff_in_without_a_500(
    make_client: Build, database_url: str, system: LocalPropertySystem
) -> None:
    env = {"app_env": "production", "rasa_token": SECRET, "secret_key": SECRET}
    with make_client(database_url=database_url, **env) as client:
        token = token_of(client)
        assert client.get("/api/repairs", headers=bearer(token)).status_code == 200
        assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "admin"


def test_a_token_signed_with_another_key_is_refused(workers: Callable[..., TestClient]) -> None:
    client = workers()
    token = token_of(client)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])

    assert client.get("/api/repairs", headers=bearer(forged(claims, key="k"))).status_code == 401


# --- every request checks the account and its current role ------------------------------


def test_a_signed_token_for_a_user_that_does_not_exist_is_refused(
    workers: Callable[..., TestClient],
) -> None:
    client = workers()
    ghost = forged({"sub": "ghost", "name": "幽灵", "role": "admin", "jti": uuid.uuid4().hex})

    assert client.get("/api/handoffs", headers=bearer(ghost)).status_code == 401
    client.cookies.set("wuye_staff", ghost)
    page = client.get("/console/staff", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")


def test_a_forged_admin_role_claim_gives_no_admin_rights(
    workers: Callable[..., TestClient], system: LocalPropertySystem
) -> None:
    client = workers()
    username = colleague(system)
    claims = jwt.decode(token_of(client, username, PASSWORD), SECRET, algorithms=["HS256"])
    promoted = forged({**claims, "role": "admin", "name": "物业管理员"})

    client.cookies.set("wuye_staff", promoted)
    assert client.get("/console/staff").status_code == 403
    created = client.post(
        "/console/staff",
        data={"username": "mole", "display_name": "内鬼", "password": "mole-password-1"},
    )
    assert created.status_code == 403
    assert "mole" not in [a.username for a in system.staff.accounts()]
    assert "客服小赵" in client.get("/console").text  # the name is the database's too


def test_a_disabled_account_is_out_at_its_next_request(
    workers: Callable[..., TestClient], system: LocalPropertySystem
) -> None:
    client = workers()
    username = colleague(system)
    token = token_of(client, username, PASSWORD)
    assert client.get("/api/repairs", headers=bearer(token)).status_code == 200

    system.staff.set_active(username, False)

    assert client.get("/api/repairs", headers=bearer(token)).status_code == 401


# --- logout revokes -----------------------------------------------------------------


def test_a_token_is_refused_after_logout_on_every_worker(
    workers: Callable[..., TestClient],
) -> None:
    first, second = workers(), workers()
    token = token_of(first)
    other = token_of(first)
    assert second.get("/api/repairs", headers=bearer(token)).status_code == 200

    assert first.post("/api/auth/logout", headers=bearer(token)).status_code == 204

    assert first.get("/api/repairs", headers=bearer(token)).status_code == 401
    assert second.get("/api/repairs", headers=bearer(token)).status_code == 401
    assert second.post("/api/auth/logout", headers=bearer(token)).status_code == 401
    assert second.get("/api/repairs", headers=bearer(other)).status_code == 200  # its own session


def test_a_copied_console_cookie_is_refused_after_signing_out(
    workers: Callable[..., TestClient],
) -> None:
    client = workers()
    signed_in = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    copied = client.cookies["wuye_staff"]
    assert client.get("/console").status_code == 200

    out = client.post("/console/logout", follow_redirects=False)
    assert out.status_code == 303

    client.cookies.set("wuye_staff", copied)
    again = client.get("/console", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    assert client.get("/api/handoffs", cookies={"wuye_staff": copied}).status_code == 401


# --- password rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "told"),
    [
        ("short-pw1", "密码至少10位。"),
        ("xiaozhao2024", "密码不能与用户名相同。"),
        ("XiaoZhao!!", "密码不能与用户名相同。"),
        ("1234567890", "密码太常见，容易被猜中，请换一个。"),
        ("qwertyuiop", "密码太常见，容易被猜中，请换一个。"),
        ("Admin123456", "密码太常见，容易被猜中，请换一个。"),
        ("aaaaaaaaaaaa", "密码太常见，容易被猜中，请换一个。"),
    ],
)
def test_an_account_with_a_weak_password_is_not_created(
    workers: Callable[..., TestClient], system: LocalPropertySystem, password: str, told: str
) -> None:
    client = workers()
    client.post("/console/login", data={"username": "admin", "password": ADMIN_PASSWORD})

    page = client.post(
        "/console/staff",
        data={"username": "xiaozhao", "display_name": "小赵", "password": password},
    )

    assert told in page.text
    assert "xiaozhao" not in [a.username for a in system.staff.accounts()]


def test_init_db_refuses_admin_password_admin(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import init_db

    url = f"sqlite:///{tmp_path / 'wuye.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    try:
        for weak, told in (
            ("admin", "密码至少10位。"),
            ("admin12345", "密码不能与用户名相同"),
            ("qwertyuiop", "密码太常见"),
        ):
            monkeypatch.setenv("ADMIN_PASSWORD", weak)
            get_settings.cache_clear()
            with pytest.raises(SystemExit, match=f"ADMIN_PASSWORD 不符合密码规则：{told}"):
                init_db(seed=True)
        monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-passphrase")
        get_settings.cache_clear()
        init_db(seed=True)  # the demo is seeded only now, with the good password
        system = LocalPropertySystem.from_url(url)
        assert system.staff.authenticate("admin", "admin") is None
        assert system.staff.authenticate("admin", "a-long-admin-passphrase") is not None
        assert "admin" not in capsys.readouterr().out.replace("admin-password", "")
    finally:
        get_settings.cache_clear()


def test_production_refuses_a_weak_admin_password(make_client: Build, database_url: str) -> None:
    env = {"app_env": "production", "rasa_token": SECRET, "secret_key": SECRET}
    with pytest.raises(SystemExit, match="ADMIN_PASSWORD"):
        make_client(database_url=database_url, admin_password="admin", **env)


# --- login throttling (real Redis, shared by the workers) -------------------------------


def unique_address() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def test_five_wrong_passwords_lock_the_username_on_every_worker_and_address(
    workers: Callable[..., TestClient], system: LocalPropertySystem
) -> None:
    redis = redis_url()
    first = workers(unique_address(), redis_url=redis)
    second = workers(unique_address(), redis_url=redis)
    username = colleague(system)
    wrong = {"username": username, "password": "guess-password-0"}

    answers = [first.post("/api/auth/token", data=wrong).status_code for _ in range(3)]
    answers += [second.post("/api/auth/token", data=wrong).status_code for _ in range(2)]
    assert answers == [401] * 5

    right = {"username": username, "password": PASSWORD}
    for client in (first, second, workers(unique_address(), redis_url=redis)):
        locked = client.post("/api/auth/token", data=right)
        assert locked.status_code == 429
        assert locked.json()["detail"] == LOCKED
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    page = first.post("/console/login", data=right, follow_redirects=False)
    assert page.status_code == 429 and LOCKED in page.text and "Retry-After" in page.headers
    assert "wuye_staff" not in page.cookies


def test_twenty_failures_from_one_address_lock_that_address_only(
    workers: Callable[..., TestClient], system: LocalPropertySystem
) -> None:
    redis = redis_url()
    address = unique_address()
    sprayer = workers(address, redis_url=redis)
    for n in range(20):
        guess = {"username": f"nobody{n}-{uuid.uuid4().hex[:4]}", "password": "guess-password-0"}
        assert sprayer.post("/api/auth/token", data=guess).status_code == 401

    locked = sprayer.post("/console/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert locked.status_code == 429 and LOCKED in locked.text
    assert (
        sprayer.post(
            "/api/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        ).status_code
        == 429
    )
    elsewhere = workers(unique_address(), redis_url=redis)
    token_of(elsewhere)


def test_a_success_clears_the_usernames_failures(
    workers: Callable[..., TestClient], system: LocalPropertySystem
) -> None:
    client = workers(unique_address(), redis_url=redis_url())
    username = colleague(system)
    wrong = {"username": username, "password": "guess-password-0"}

    for _ in range(2):
        assert [client.post("/api/auth/token", data=wrong).status_code for _ in range(4)] == [
            401
        ] * 4
        token_of(client, username, PASSWORD)


class Gate:
    """Holds every password check until opened, counting how many run at once."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.inside = 0
        self.most = 0
        self.opened = False
        self.real = staff_service.hasher

    def verify(self, password: str, hashed: str) -> bool:
        with self.condition:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.opened, timeout=30)
            self.inside -= 1
        return self.real.verify(password, hashed)

    def hash(self, password: str) -> str:
        return self.real.hash(password)


def test_a_sign_in_flood_runs_two_password_checks_at_a_time_and_turns_the_rest_away(
    workers: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = workers(login_failures_per_username="100")
    gate = Gate()
    monkeypatch.setattr(staff_service, "hasher", gate)
    monkeypatch.setattr(throttle, "MAX_WAITING", 4)
    answers: list[int] = []

    def sign_in() -> None:
        response = client.post(
            "/api/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        answers.append(response.status_code)

    flood = [threading.Thread(target=sign_in) for _ in range(6)]
    for thread in flood:
        thread.start()

    def waiting() -> int:
        limiter = getattr(client.app.state, "argon2_limiter", None)  # type: ignore[attr-defined]
        return 0 if limiter is None else limiter.statistics().tasks_waiting

    deadline = time.monotonic() + 30
    try:
        with gate.condition:  # the end state, however the threads were scheduled
            while not (gate.inside > 2 or (gate.inside == 2 and waiting() == 4)):
                assert time.monotonic() < deadline, (gate.inside, waiting())
                gate.condition.wait(0.05)
            assert (gate.inside, waiting()) == (2, 4)
        busy = client.post(
            "/api/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert busy.status_code == 503 and busy.json()["detail"] == "登录的人太多，请稍后再试。"
        assert busy.headers["Retry-After"] == "5"
    finally:
        with gate.condition:
            gate.opened = True
            gate.condition.notify_all()
        for thread in flood:
            thread.join(timeout=60)
    assert answers == [200] * 6 and gate.most == 2


# --- claims -------------------------------------------------------------------------


def test_only_the_colleague_who_claimed_a_conversation_replies_in_it(
    workers: Callable[..., TestClient], system: LocalPropertySystem, fake: FakeWeChat
) -> None:
    fake.reset()
    client = workers()
    resident = f"o-claims-{uuid.uuid4().hex[:8]}"
    handoff = system.handoffs.open(resident, channel="oa", reason="住户要求人工")
    zhao = bearer(token_of(client, colleague(system, "客服小赵"), PASSWORD))
    qian = bearer(token_of(client, colleague(system, "客服小钱"), PASSWORD))
    admin = bearer(token_of(client))

    assert client.post(f"/api/handoffs/{handoff.id}/claim", headers=zhao).status_code == 200
    refused = client.post(
        f"/api/handoffs/{handoff.id}/reply", json={"text": "我来回答"}, headers=qian
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == "该会话已由 客服小赵 接手，只有接手人可以回复。"
    closing = client.post(f"/api/handoffs/{handoff.id}/close", headers=qian)
    assert closing.status_code == 409 and "客服小赵" in closing.json()["detail"]
    by_admin = client.post(
        f"/api/handoffs/{handoff.id}/reply", json={"text": "管理员插话"}, headers=admin
    )
    assert by_admin.status_code == 409 and "接管会话" in by_admin.json()["detail"]
    not_admin = client.post(f"/api/handoffs/{handoff.id}/claim?take_over=true", headers=qian)
    assert not_admin.status_code == 403

    taken = client.post(f"/api/handoffs/{handoff.id}/claim?take_over=true", headers=admin)
    assert taken.status_code == 200 and taken.json()["claimed_by"] == "物业管理员"
    answered = client.post(
        f"/api/handoffs/{handoff.id}/reply", json={"text": "您好，我是管理员。"}, headers=admin
    )
    assert answered.status_code == 200
    late = client.post(f"/api/handoffs/{handoff.id}/reply", json={"text": "还在吗"}, headers=zhao)
    assert late.status_code == 409 and "物业管理员" in late.json()["detail"]

    fake.wait_for(TEMPLATE, lambda body: body["touser"] == resident)
    said = [m["data"]["remark"]["value"] for m in fake.sent(TEMPLATE) if m["touser"] == resident]
    assert said == ["您好，我是管理员。"]
    speakers = [line["from"] for line in system.handoffs.get(handoff.id).transcript]
    assert "客服小钱" not in speakers and "客服小赵" not in speakers


def test_a_reply_to_a_waiting_conversation_claims_it_and_the_console_says_who_has_it(
    workers: Callable[..., TestClient], system: LocalPropertySystem
) -> None:
    client = workers()
    handoff = system.handoffs.open(f"o-{uuid.uuid4().hex[:8]}", channel="oa", reason="测试")
    zhao = bearer(token_of(client, colleague(system, "客服小赵"), PASSWORD))

    client.post(f"/api/handoffs/{handoff.id}/reply", json={"text": "您好"}, headers=zhao)
    assert system.handoffs.get(handoff.id).claimed_by == "客服小赵"

    client.post("/console/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    page = client.get(f"/console/handoffs/{handoff.id}")
    assert "该会话由 客服小赵 处理中" in page.text and "接管会话" in page.text
    taken = client.post(f"/console/handoffs/{handoff.id}/take-over")
    assert "已接管，之后由您回复住户。" in taken.text
    assert system.handoffs.get(handoff.id).claimed_by == "物业管理员"
