"""Sending verification codes by SMS: one small interface, one adapter per provider."""

from integrations.sms.base import SmsError, SmsSender

__all__ = ["SmsError", "SmsSender"]
