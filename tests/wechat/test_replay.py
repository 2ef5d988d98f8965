"""The nonce memory on real Redis: one message per signed (timestamp, nonce), shared by workers."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.kv import RedisKV
from integrations.wechat.errors import ReplayedRequest
from integrations.wechat.replay import NonceMemory


def query(nonce: str = "1597212914") -> dict[str, str]:
    return {"timestamp": str(int(time.time())), "nonce": nonce}


async def test_the_same_message_passes_again_and_another_is_refused(kv: RedisKV) -> None:
    first_worker, second_worker = NonceMemory(kv, 300), NonceMemory(kv, 300)
    signed = query()
    message = {"FromUserName": "o-1", "MsgId": "42", "Content": "物业费"}

    await first_worker.admit("oa", signed, message)
    await second_worker.admit("oa", signed, dict(reversed(message.items())))  # same fields

    with pytest.raises(ReplayedRequest):
        await second_worker.admit("oa", signed, {**message, "FromUserName": "o-victim"})
    await second_worker.admit("wecom-app", signed, {"other": "channel"})  # its own nonces
    await second_worker.admit("oa", query("1597212915"), {"a": "fresh nonce"})


async def test_of_two_messages_racing_under_one_nonce_exactly_one_is_admitted(kv: RedisKV) -> None:
    memory = NonceMemory(kv, 300)
    signed = query()

    outcomes = await asyncio.gather(
        *(memory.admit("oa", signed, {"MsgId": str(n)}) for n in range(8)),
        return_exceptions=True,
    )

    assert sum(outcome is None for outcome in outcomes) == 1
    assert all(isinstance(o, ReplayedRequest) for o in outcomes if o is not None)
