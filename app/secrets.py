"""Encryption at rest for wallet signing keys (Fernet; WALLET_ENCRYPTION_KEY holds one key or several).

WALLET_ENCRYPTION_KEY="<new>,<old>" during a rotation: new secrets are encrypted under the first key,
stored ones decrypt under any of them, and `python -m app rotate-wallet-key` re-encrypts every stored
secret under the first (MultiFernet), after which the old key can be dropped.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet


def _keys(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",") if key.strip()]


def check_key(keys: str) -> None:
    """Raise ValueError unless every comma-separated key is a valid Fernet key (32 url-safe base64 bytes)."""
    if not _keys(keys):
        raise ValueError("no key")
    for key in _keys(keys):
        Fernet(key.encode())


def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in _keys(keys)])


def encrypt(keys: str, plaintext: str) -> str:
    """Encrypt a secret for storage (under the first key)."""
    return _fernet(keys).encrypt(plaintext.encode()).decode()


def decrypt(keys: str, token: str) -> str:
    """Decrypt a stored secret (under whichever key encrypted it)."""
    return _fernet(keys).decrypt(token.encode()).decode()


def rotate(keys: str, token: str) -> str:
    """The same secret re-encrypted under the first key."""
    return _fernet(keys).rotate(token.encode()).decode()
