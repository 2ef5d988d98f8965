"""WeChat's request signatures: SHA-1 of the sorted parameters, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from integrations.wechat.errors import BadSignature, MalformedMessage, StaleRequest

# WeChat's timestamps are Unix seconds and its nonces short digit/letter strings; anything
# longer is not WeChat (and would only bloat the nonce memory's keys).
TIMESTAMP = re.compile(r"\d{1,12}")
NONCE = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check(signature: str | None, *parts: str) -> None:
    if not signature or not hmac.compare_digest(signature.lower(), sign(*parts)):
        raise BadSignature("signature does not match")


def signed_request(query: Mapping[str, str], signature: str) -> None:
    """A request without any signature is unsigned (403); one that is signed but lacks its
    timestamp or nonce is malformed (400) — and neither is ever a 500."""
    if not query.get(signature):
        raise BadSignature(f"no {signature}")
    required(query, "timestamp", "nonce")


def required(query: Mapping[str, str], *names: str) -> None:
    """A callback without one of these parameters is malformed (400), not unsigned (403)."""
    missing = [name for name in names if not query.get(name)]
    if missing:
        raise MalformedMessage(f"missing query parameter: {', '.join(missing)}")
    if "timestamp" in names and not TIMESTAMP.fullmatch(query["timestamp"]):
        raise MalformedMessage("timestamp is not a number")
    if "nonce" in names and not NONCE.fullmatch(query["nonce"]):
        raise MalformedMessage("nonce is not WeChat's")


def check_fresh(timestamp: str | None, max_age_seconds: int, now: float | None = None) -> None:
    """Refuse replays: a signed request is only good for a few minutes."""
    if not timestamp or not TIMESTAMP.fullmatch(timestamp):
        raise MalformedMessage("timestamp is not a number")
    age = abs((now if now is not None else time.time()) - int(timestamp))
    if age > max_age_seconds:
        raise StaleRequest(f"timestamp is {age:.0f} s away from now")
