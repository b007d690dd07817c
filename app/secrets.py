"""Encryption at rest for wallet signing keys (Fernet, key from WALLET_ENCRYPTION_KEY)."""

from __future__ import annotations

from cryptography.fernet import Fernet


def check_key(key: str) -> None:
    """Raise ValueError unless key is a valid Fernet key (32 url-safe base64 bytes)."""
    Fernet(key.encode())


def encrypt(key: str, plaintext: str) -> str:
    """Encrypt a secret for storage."""
    return Fernet(key.encode()).encrypt(plaintext.encode()).decode()


def decrypt(key: str, token: str) -> str:
    """Decrypt a stored secret."""
    return Fernet(key.encode()).decrypt(token.encode()).decode()
