"""Two per-turn costs of Rasa 3.6 made cheap by caching what never changes after start-up.

Rasa 3.6.21 is the last open-source release, so these internals will not move under us.
Found with py-spy while `make bench` ran (see README, "Performance"):

- `Event.resolve_by_type` walks every subclass of `Event` for each stored event read back
  from the tracker store: a fifth of a turn's CPU, and more the longer the conversation.
- The action server's answer is checked with `jsonschema.validate`, which also checks the
  (constant) schema against the meta-schema on every call.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

_resolve_uncached = Event.resolve_by_type


@cache
def _resolve(type_name: str, default: type[Event] | None) -> type[Event] | None:
    return _resolve_uncached(type_name, default)


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    return _resolve(type_name, default)


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    return jsonschema.validators.validator_for(spec)(spec)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """As Rasa's own (an invalid answer raises `ValidationError`), the validator built once."""
    try:
        _action_result_validator().validate(result)
    except jsonschema.ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise
    return True


Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
