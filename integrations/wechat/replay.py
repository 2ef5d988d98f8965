"""A signed callback URL carries one message: its (timestamp, nonce) is remembered for the
signature window, in the app's key-value store (Redis when REDIS_URL is set, so every worker
shares it).

Why a nonce seen before is not simply refused: WeChat retries a message it got no answer to
within 5 s (three times) and tells servers to dedupe the retries by MsgId (events by
FromUserName+CreateTime); its documentation does not promise a fresh timestamp/nonce per retry,
and a safe-mode retry may be encrypted afresh (a new random prefix, a new ciphertext). So the
memory keeps a digest of the *opened* message (the decrypted fields): the same message under a
used nonce is let through — the router dedupes it and gives the first answer, so a replay is
harmless — while another message under a used nonce is refused. In plain mode, whose signature
does not cover the body, this is what keeps a copied callback URL from carrying forged messages.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from integrations.wechat.api import Store
from integrations.wechat.errors import ReplayedRequest


def digest(message: Mapping[str, Any]) -> str:
    canonical = json.dumps(message, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class NonceMemory:
    def __init__(
        self, kv: Store, max_age_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.kv = kv
        self.max_age_seconds = max_age_seconds
        self.clock = clock

    async def admit(
        self, channel: str, query: Mapping[str, str], message: Mapping[str, Any]
    ) -> None:
        """Call once the request's signature and freshness are checked (so `timestamp` and
        `nonce` are WeChat's); raises ReplayedRequest for another message under a used nonce."""
        timestamp, nonce = query["timestamp"], query["nonce"]
        key = f"wechat-nonce:{channel}:{timestamp}:{nonce}"
        mine = digest(message)
        # Remembered for as long as this timestamp passes the freshness check, and a second more.
        ttl = max(1.0, int(timestamp) + self.max_age_seconds - self.clock() + 1)
        if await self.kv.set_if_absent(key, mine, ttl):
            return
        first = await self.kv.get(key)
        if first is not None and first != mine:
            raise ReplayedRequest(f"nonce {nonce} at {timestamp} already carried another message")
