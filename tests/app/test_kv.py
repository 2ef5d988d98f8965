from __future__ import annotations

import asyncio

from app.kv import FallbackKV, MemoryKV, RedisKV


async def test_redis_and_memory_stores_agree_on_set_if_absent_and_expiry(kv: RedisKV) -> None:
    for store in (kv, MemoryKV()):
        assert await store.set_if_absent("k", "first", 0.2) is True
        assert await store.set_if_absent("k", "second", 0.2) is False
        assert await store.get("k") == "first"
        await asyncio.sleep(0.3)
        assert await store.get("k") is None
        assert await store.set_if_absent("k", "third", 5) is True
        await store.delete("k")
        assert await store.get("k") is None


async def test_an_unreachable_redis_degrades_to_memory_and_says_so() -> None:
    errors: list[Exception] = []
    store = FallbackKV(RedisKV("redis://127.0.0.1:9/0"), errors.append)

    assert await store.set_if_absent("dedupe:x", "1", 60) is True
    assert await store.set_if_absent("dedupe:x", "1", 60) is False
    assert await store.get("dedupe:x") == "1"
    assert errors and all("Connection" in type(e).__name__ for e in errors)
