"""Operator commands.

python -m app.cli init-db      # migrate, and seed the demo community if empty
python -m app.cli migrate      # migrate only (production)
"""

from __future__ import annotations

import argparse
import secrets

from app.settings import get_settings
from integrations.property.db import make_engine, migrate, session_factory
from integrations.property.seed import seed_demo
from integrations.property.services.staff import password_problem


def init_db(*, seed: bool) -> None:
    settings = get_settings()
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    if seed and given is not None and (problem := password_problem("admin", given)):
        raise SystemExit(
            f"ADMIN_PASSWORD 不符合密码规则：{problem}"
            "（至少10位，不能与用户名相同，不能是常见密码；不设置则自动生成）"
        )
    engine = make_engine(settings.database_url)
    migrate(engine)
    if not seed:
        return
    password = given or secrets.token_urlsafe(12)
    with session_factory(engine).begin() as session:
        created = seed_demo(session, admin_password=password)
    if created and given is None:
        path = settings.admin_password_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password + "\n")
        path.chmod(0o600)
    print("数据库已就绪 / database ready" + ("，已写入演示小区 (demo seeded)" if created else ""))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    parser.add_argument("command", choices=["init-db", "migrate"])
    args = parser.parse_args()
    init_db(seed=args.command == "init-db")


if __name__ == "__main__":
    main()
