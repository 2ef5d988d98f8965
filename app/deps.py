"""Process-wide singletons, built once from the settings."""

from __future__ import annotations

from functools import lru_cache

import redis

from app.settings import get_settings
from integrations.property import LocalPropertySystem
from integrations.property.interface import PropertySystem


@lru_cache
def local_property_system() -> LocalPropertySystem:
    from app.staff.bindings import binding_policy  # it builds on this module

    settings = get_settings()
    system = LocalPropertySystem.from_url(settings.database_url)
    system.residents.policy = binding_policy(settings)  # BINDING_PROOFS, the SMS sender
    return system


def property_system() -> PropertySystem:
    return local_property_system()


@lru_cache
def redis_client() -> redis.Redis | None:
    url = get_settings().redis_url
    if not url:
        return None
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
