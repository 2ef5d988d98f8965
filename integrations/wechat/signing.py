"""WeChat's request signatures: SHA-1 of the sorted parameters, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import time

from integrations.wechat.errors import BadSignature, StaleRequest


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check(signature: str | None, *parts: str) -> None:
    if not signature or not hmac.compare_digest(signature.lower(), sign(*parts)):
        raise BadSignature("signature does not match")


def check_fresh(timestamp: str | None, max_age_seconds: int, now: float | None = None) -> None:
    """Refuse replays: a signed request is only good for a few minutes."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp or ""))
    except ValueError:
        raise BadSignature("timestamp is not a number") from None
    if age > max_age_seconds:
        raise StaleRequest(f"timestamp is {age:.0f} s away from now")
