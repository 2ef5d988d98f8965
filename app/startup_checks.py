"""Settings production refuses to start with: each check names what is unsafe, in words an
operator can act on. `create_app` calls `refuse_unsafe_settings` before anything is served."""

from __future__ import annotations

import ipaddress

from app.settings import Settings
from integrations.property.services.staff import password_problem

MIN_SECRET_BYTES = 32


def _weak(value: object, name: str) -> list[str]:
    secret = getattr(value, "get_secret_value", lambda: None)()
    if not secret:
        return [f"{name} is not set"]
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return [f"{name} is shorter than {MIN_SECRET_BYTES} bytes"]
    return []


def unsafe_settings(settings: Settings) -> list[str]:
    """What is unsafe about these settings for production (nothing is checked in development)."""
    if settings.app_env != "production":
        return []
    problems: list[str] = []
    problems += _weak(settings.secret_key, "SECRET_KEY")
    problems += _weak(settings.action_endpoint_token, "ACTION_ENDPOINT_TOKEN")
    problems += _binding_problems(settings)
    problems += _weak(settings.rasa_token, "RASA_TOKEN")
    problems += _listeners(settings)
    problems += _admin_password(settings)
    return problems


def _admin_password(settings: Settings) -> list[str]:
    """A given ADMIN_PASSWORD follows the staff password rules (owner: staff accounts)."""
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    problem = given is not None and password_problem("admin", given)
    return [f"ADMIN_PASSWORD is too weak ({problem})"] if problem else []


def _listeners(settings: Settings) -> list[str]:
    """The action endpoint listens on loopback or a private address, apart from the public port."""
    problems = []
    if settings.action_port == settings.app_port:
        problems.append("ACTION_PORT must differ from APP_PORT (the action endpoint is private)")
    try:
        address = ipaddress.ip_address(settings.action_host)
    except ValueError:
        problems.append(f"ACTION_HOST must be an IP address, not {settings.action_host!r}")
    else:
        if address.is_unspecified or not (address.is_loopback or address.is_private):
            problems.append(
                f"ACTION_HOST {settings.action_host} is not a loopback or private address"
            )
    return problems


def refuse_unsafe_settings(settings: Settings) -> None:
    problems = unsafe_settings(settings)
    if problems:
        raise SystemExit(
            "生产环境配置不安全，拒绝启动 / refusing to start in production: " + "; ".join(problems)
        )


def _binding_problems(settings: Settings) -> list[str]:
    """BINDING_PROOFS names only known proofs; `sms` needs a provider's credentials."""
    from app.staff.bindings import missing_sms_settings
    from integrations.property.services.residents import BindingPolicy

    try:
        policy = BindingPolicy.parse(settings.binding_proofs)
    except ValueError as error:
        return [str(error)]
    missing = missing_sms_settings(settings)
    if any(proof.value == "sms" for proof in policy.proofs) and missing:
        return ["BINDING_PROOFS includes sms but these are not set: " + ", ".join(missing)]
    return []
