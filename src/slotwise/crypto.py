"""Secrets kept at rest (calendar passwords, secret feed addresses), encrypted.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) with the keys of
``settings.SLOTWISE_ENCRYPTION_KEYS``: the first encrypts, all of them
decrypt, so a key is rotated by putting a new one first and keeping the old
one until :func:`reencrypt` has run over the stored values. Without
``SLOTWISE_ENCRYPTION_KEYS`` the key is derived from the secret key (both
come from the environment; a separate key lets the secret key be rotated
without losing what was encrypted).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["CannotDecrypt", "decrypt", "derived_key", "encrypt", "reencrypt"]


class CannotDecrypt(Exception):
    """A value none of the configured keys decrypts (a key was removed too soon)."""


def derived_key(secret_key: str) -> str:
    """A Fernet key derived from ``secret_key``, for deployments that set none of their own."""
    digest = hashlib.sha256(b"slotwise.crypto:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _box() -> MultiFernet:
    keys = settings.SLOTWISE_ENCRYPTION_KEYS or [derived_key(settings.SECRET_KEY)]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(text: str) -> str:
    """``text`` encrypted with the first key, as ASCII; ``""`` stays ``""``."""
    if not text:
        return ""
    return _box().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _box().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise CannotDecrypt(
            "A stored secret cannot be decrypted with SLOTWISE_ENCRYPTION_KEYS."
        ) from None


def reencrypt(token: str) -> str:
    """``token`` encrypted again with the first key (after a rotation)."""
    if not token:
        return ""
    try:
        return _box().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        raise CannotDecrypt("A stored secret cannot be decrypted.") from None
