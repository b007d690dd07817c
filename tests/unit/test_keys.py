"""Signing keys (pure): a base58 64-byte keypair parsed, its public key derived, bad keys named without echoing."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair

from app.core.keys import (
    KeyProblem,
    generate_key,
    parse_secret_key,
    public_key_mismatch,
    secret_key_problem,
)
from app.core.solana import b58encode, is_address

KEYPAIR = Keypair.from_seed(bytes([9]) * 32)
SECRET = b58encode(bytes(KEYPAIR))
PUBLIC = str(KEYPAIR.pubkey())
OTHER_PUBLIC = str(Keypair.from_seed(bytes([8]) * 32).pubkey())
INCONSISTENT = b58encode(bytes(KEYPAIR)[:32] + bytes(Keypair.from_seed(bytes([8]) * 32).pubkey()))


def test_a_valid_keypair_derives_its_public_key():
    key = parse_secret_key(SECRET)
    assert key.public_key == PUBLIC and key.secret_b58 == SECRET
    assert SECRET not in repr(key)


@pytest.mark.parametrize("text, words", [
    (b58encode(bytes(KEYPAIR)[:32]), "decodes to 32"),  # only the seed: wrong length
    (b58encode(bytes(KEYPAIR) + b"\x01"), "decodes to 65"),
    (SECRET[:-1] + "0", "Not base58"),  # '0' is not in the alphabet
    (SECRET[:10] + "l" + SECRET[11:], "Not base58"),
    ("", "decodes to 0"),
    (INCONSISTENT, "Not a valid keypair"),
])
def test_bad_secret_keys_are_named_without_echoing_them(text, words):
    with pytest.raises(KeyProblem, match=words) as raised:
        parse_secret_key(text)
    assert (text and text not in str(raised.value)) or not text
    assert secret_key_problem(text) == str(raised.value)


def test_a_good_key_has_no_problem():
    assert secret_key_problem(SECRET) is None


@pytest.mark.parametrize("given, problem", [(None, False), (PUBLIC, False), (OTHER_PUBLIC, True)])
def test_a_given_public_key_must_match(given, problem):
    assert (public_key_mismatch(parse_secret_key(SECRET), given) is not None) is problem


def test_generated_keys_are_new_valid_keypairs():
    first, second = generate_key(), generate_key()
    assert first.public_key != second.public_key and is_address(first.public_key)
    assert parse_secret_key(first.secret_b58) == first
