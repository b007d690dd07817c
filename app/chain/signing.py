"""Sign a swap transaction someone else built, only when the wallet pays its fee and is its only signer.

Jupiter builds the transaction; the service signs it with the wallet's key. A transaction that would make the
wallet sign for another fee payer, or that needs other signatures, is refused before the key is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.transaction import VersionedTransaction

from app.core.keys import SigningKey
from app.core.solana import b58decode


class UnsafeTransaction(ValueError):
    """A transaction the wallet must not sign (not a transaction, another fee payer, or other signers)."""


@dataclass(frozen=True)
class SignedTransaction:
    """A transaction signed by the wallet: its signature (base58, the transaction's id) and its wire bytes."""

    signature: str
    raw: bytes

    def __repr__(self) -> str:
        return f"SignedTransaction(signature={self.signature!r}, {len(self.raw)} bytes)"


def sign_transaction(unsigned: bytes, key: SigningKey) -> SignedTransaction:
    """The transaction signed by `key`; UnsafeTransaction unless the key's wallet is its fee payer and only signer."""
    message = _decode(unsigned).message
    keypair = Keypair.from_bytes(b58decode(key.secret_b58))
    _check_only_signer(message, str(keypair.pubkey()))
    signed = VersionedTransaction(message, [keypair])
    return SignedTransaction(signature=str(signed.signatures[0]), raw=bytes(signed))


def _decode(unsigned: bytes) -> VersionedTransaction:
    """The transaction in `unsigned`; UnsafeTransaction when the bytes are not one."""
    try:
        return VersionedTransaction.from_bytes(unsigned)
    except (ValueError, TypeError):
        raise UnsafeTransaction("Not a Solana transaction: refusing to sign.") from None


def _check_only_signer(message: Message | MessageV0, wallet: str) -> None:
    """UnsafeTransaction unless `wallet` is the fee payer (first account) and the only required signer."""
    keys = [str(account) for account in message.account_keys]
    required = message.header.num_required_signatures
    if not keys or keys[0] != wallet:
        raise UnsafeTransaction(f"The wallet {wallet} is not the fee payer of this transaction: refusing to sign.")
    if required != 1:
        others = ", ".join(keys[1:required])
        raise UnsafeTransaction(f"This transaction needs signers other than the wallet ({others}): refusing to sign.")
