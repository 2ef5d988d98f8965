"""Opening an <Encrypt> / echostr ciphertext (Official Account and WeCom alike) without ever
turning a hostile one into a 500: wechatpy does the AES, this checks what it assumes."""

from __future__ import annotations

import base64
import binascii
import struct

from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.work.crypto import PrpCrypto as WorkPrpCrypto
from wechatpy.work.exceptions import InvalidCorpIdException

from integrations.wechat.errors import MalformedMessage, WrongReceiver

# 16 random bytes, a 4-byte length, the message and the receive id, PKCS#7-padded to AES blocks:
# anything shorter than two blocks cannot hold even an empty message.
BLOCK = 16
SHORTEST = 2 * BLOCK


def decrypt(crypto: PrpCrypto | WorkPrpCrypto, encrypted: object, receive_id: str) -> str:
    """The plaintext; MalformedMessage (400) for what is not a ciphertext of this key,
    WrongReceiver (403) for one addressed to another AppID / CorpID."""
    if not isinstance(encrypted, str) or not encrypted:
        raise MalformedMessage("no ciphertext")
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedMessage("ciphertext is not base64") from None
    if len(raw) < SHORTEST or len(raw) % BLOCK:
        raise MalformedMessage(f"ciphertext of {len(raw)} bytes is not whole AES blocks")
    try:
        return crypto.decrypt(encrypted, receive_id)
    except (InvalidAppIdException, InvalidCorpIdException):
        # Not InvalidSignatureException: the signature was right, the receiver is not us.
        raise WrongReceiver("message is for another receiver") from None
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as error:
        raise MalformedMessage(f"cannot decrypt: {type(error).__name__}") from None
