"""What can be wrong with a callback; each maps to one 4xx answer and one log line.

`reason` is the stable machine word (logs, tests); `message` is the short Chinese line in the
response body. Neither ever carries a token, key or message content.
"""

from __future__ import annotations


class ChannelError(Exception):
    status_code = 400
    reason = "bad_request"
    message = "请求格式不正确"


class MalformedMessage(ChannelError):
    """Not a well-formed callback: a missing parameter, bad XML/JSON, undecryptable <Encrypt>."""

    reason = "malformed_message"
    message = "消息格式不正确"


class OversizeBody(ChannelError):
    status_code = 413
    reason = "oversize_body"
    message = "消息过大"


class BadSignature(ChannelError):
    status_code = 403
    reason = "bad_signature"
    message = "签名校验失败"


class StaleRequest(ChannelError):
    status_code = 403
    reason = "stale_timestamp"
    message = "请求已过期"


class PlainModeRefused(ChannelError):
    """An EncodingAESKey is configured, so only safe-mode (msg_signature) callbacks count: the
    plain `signature` covers timestamp and nonce only, never the body."""

    status_code = 403
    reason = "plain_mode_refused"
    message = "已启用消息加密，不接受明文模式的回调"


class ReplayedRequest(ChannelError):
    """This signed (timestamp, nonce) already carried another message."""

    status_code = 403
    reason = "replayed_request"
    message = "该签名请求已被使用"


class WrongReceiver(ChannelError):
    """Decrypted fine, but for another AppID / CorpID."""

    status_code = 403
    reason = "wrong_receiver"
    message = "消息的接收方不是本账号"


class NotConfigured(ChannelError):
    status_code = 404
    reason = "channel_not_configured"
    message = "该渠道未配置"


class StoreUnavailable(ChannelError):
    """The message cannot be written down now (the database is restarting): 503, and
    WeChat sends it again a few seconds later — nothing is answered that was not kept."""

    status_code = 503
    reason = "store_unavailable"
    message = "系统繁忙，请稍后重试"
