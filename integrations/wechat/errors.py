"""What can be wrong with a callback; each maps to one 4xx answer and one log line."""

from __future__ import annotations


class ChannelError(Exception):
    status_code = 400
    reason = "bad_request"


class MalformedMessage(ChannelError):
    reason = "malformed_message"


class OversizeBody(ChannelError):
    status_code = 413
    reason = "oversize_body"


class BadSignature(ChannelError):
    status_code = 403
    reason = "bad_signature"


class StaleRequest(ChannelError):
    status_code = 403
    reason = "stale_timestamp"


class WrongReceiver(ChannelError):
    """Decrypted fine, but for another AppID / CorpID."""

    status_code = 403
    reason = "wrong_receiver"


class NotConfigured(ChannelError):
    status_code = 404
    reason = "channel_not_configured"


class StoreUnavailable(ChannelError):
    """The message cannot be written down now (the database is restarting): 503, and
    WeChat sends it again a few seconds later — nothing is answered that was not kept."""

    status_code = 503
    reason = "store_unavailable"
