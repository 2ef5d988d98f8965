from __future__ import annotations

from typing import Protocol


class SmsError(Exception):
    """The provider did not send the message; `code` is the provider's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None:
        """Send `code` to the mainland mobile `phone` (11 digits); raise SmsError if refused."""
        ...


def mainland(phone: str) -> str:
    """The 11-digit mainland number, whatever prefix or separators it was stored with."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
