"""Process-wide singletons, built once from the settings."""

from __future__ import annotations

from functools import lru_cache

import redis

from app.settings import get_settings
from integrations.property import LocalPropertySystem
from integrations.property.interface import PropertySystem


@lru_cache
def local_property_system() -> LocalPropertySystem:
    return LocalPropertySystem.from_url(get_settings().database_url)


def property_system() -> PropertySystem:
    return local_property_system()


@lru_cache
def redis_client() -> redis.Redis | None:
    url = get_settings().redis_url
    if not url:
        return None
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
