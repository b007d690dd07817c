"""Signing a transaction someone else built: only as its fee payer and only signer."""

from __future__ import annotations

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from app.chain.signing import SignedTransaction, UnsafeTransaction, sign_transaction
from app.core.keys import SigningKey
from app.core.solana import b58encode


def key_of(keypair: Keypair) -> SigningKey:
    return SigningKey(b58encode(bytes(keypair)), str(keypair.pubkey()))


def unsigned(payer: Keypair, *movers: Keypair) -> bytes:
    """An unsigned v0 transaction paid by `payer` moving 1 lamport out of each of `movers` (signers too)."""
    instructions = [transfer(TransferParams(from_pubkey=m.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))
                    for m in (movers or (payer,))]
    message = MessageV0.try_compile(payer.pubkey(), instructions, [], Hash.new_unique())
    return bytes(VersionedTransaction.populate(message, [Signature.default()] * message.header.num_required_signatures))


def test_the_wallet_signs_as_fee_payer_and_only_signer():
    wallet = Keypair()

    signed = sign_transaction(unsigned(wallet), key_of(wallet))

    tx = VersionedTransaction.from_bytes(signed.raw)
    assert isinstance(signed, SignedTransaction)
    assert signed.signature == str(tx.signatures[0]) != str(Signature.default())
    assert tx.verify_with_results() == [True]
    assert tx.message.account_keys[0] == wallet.pubkey()
    assert key_of(wallet).secret_b58 not in repr(signed)


def test_the_signed_message_is_the_unsigned_one():
    wallet = Keypair()
    raw = unsigned(wallet)
    assert bytes(VersionedTransaction.from_bytes(sign_transaction(raw, key_of(wallet)).raw).message) == bytes(
        VersionedTransaction.from_bytes(raw).message)


def test_an_empty_transaction_is_refused():
    with pytest.raises(UnsafeTransaction):
        sign_transaction(bytes(64), key_of(Keypair()))


def test_signing_twice_gives_the_same_signature():
    wallet = Keypair()
    raw = unsigned(wallet)
    assert sign_transaction(raw, key_of(wallet)) == sign_transaction(raw, key_of(wallet))


def test_a_legacy_message_signs_too():
    wallet = Keypair()
    ix = transfer(TransferParams(from_pubkey=wallet.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))
    legacy = VersionedTransaction.populate(Message.new_with_blockhash([ix], wallet.pubkey(), Hash.new_unique()),
                                           [Signature.default()])
    signed = sign_transaction(bytes(legacy), key_of(wallet))
    assert VersionedTransaction.from_bytes(signed.raw).verify_with_results() == [True]


def test_another_fee_payer_is_refused():
    wallet, attacker = Keypair(), Keypair()

    with pytest.raises(UnsafeTransaction, match="not the fee payer"):
        sign_transaction(unsigned(attacker, wallet), key_of(wallet))


def test_another_required_signer_is_refused():
    wallet, other = Keypair(), Keypair()

    with pytest.raises(UnsafeTransaction, match="signers other than the wallet") as caught:
        sign_transaction(unsigned(wallet, wallet, other), key_of(wallet))

    assert str(other.pubkey()) in str(caught.value)


@pytest.mark.parametrize("raw", [b"", b"\x01garbage", b"\xff" * 10])
def test_bytes_that_are_not_a_transaction_are_refused(raw):
    wallet = Keypair()
    with pytest.raises(UnsafeTransaction, match="Not a Solana transaction"):
        sign_transaction(raw, key_of(wallet))


def test_unsafe_transaction_is_a_value_error_and_never_shows_the_key():
    wallet = Keypair()
    with pytest.raises(ValueError) as caught:
        sign_transaction(unsigned(Keypair(), wallet), key_of(wallet))
    assert key_of(wallet).secret_b58 not in str(caught.value)
