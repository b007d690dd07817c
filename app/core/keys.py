"""Solana signing keys (pure): parse a base58 64-byte keypair, derive its public key, generate a new one.

Messages never contain the key itself: they are shown to clients and may reach logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.keypair import Keypair

from app.core.solana import b58decode, b58encode

KEYPAIR_BYTES = 64


class KeyProblem(ValueError):
    """A secret key the service cannot use; the message is safe to show (it never echoes the key)."""


@dataclass(frozen=True)
class SigningKey:
    """A keypair as stored: base58 of its 64 bytes, and its base58 public key."""

    secret_b58: str
    public_key: str

    def __repr__(self) -> str:  # never print the secret
        return f"SigningKey(public_key={self.public_key!r})"


def parse_secret_key(text: str) -> SigningKey:
    """The keypair a base58 64-byte secret key holds; raises KeyProblem (without the key in its message)."""
    try:
        raw = b58decode(text.strip())
    except (ValueError, AttributeError):
        raise KeyProblem("Not base58: give the 64-byte keypair in base58.") from None
    if len(raw) != KEYPAIR_BYTES:
        raise KeyProblem(f"A keypair is {KEYPAIR_BYTES} bytes in base58; this decodes to {len(raw)}.")
    try:
        keypair = Keypair.from_bytes(raw)
    except ValueError:  # the last 32 bytes are not the public key of the first 32
        raise KeyProblem("Not a valid keypair: its last 32 bytes must be the public key of its first 32.") from None
    return SigningKey(b58encode(bytes(keypair)), str(keypair.pubkey()))


def secret_key_problem(text: str) -> str | None:
    """Why text is not a usable base58 64-byte keypair, or None."""
    try:
        parse_secret_key(text)
    except KeyProblem as problem:
        return str(problem)
    return None


def public_key_mismatch(key: SigningKey, public_key: str | None) -> str | None:
    """Why a given public_key does not belong to key (None when it matches or none was given)."""
    if public_key is None or public_key == key.public_key:
        return None
    return "Does not match the public key of secret_key."


def generate_key() -> SigningKey:
    """A new random keypair."""
    keypair = Keypair()
    return SigningKey(b58encode(bytes(keypair)), str(keypair.pubkey()))
