"""Rotating WALLET_ENCRYPTION_KEY: every stored signing key re-encrypted under the new key, readable without the old."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.fernet import Fernet, InvalidToken

from app import secrets
from app.errors import Invalid
from app.services.wallets import create_wallet, rotate_signing_keys
from tests.factories import signing_key

(SECRET_1, _), (SECRET_2, _), (SECRET_3, _) = signing_key(1), signing_key(2), signing_key(3)


def stored(conn) -> list[str]:
    rows = conn.execute("SELECT encrypted_secret_key FROM wallets ORDER BY alias").fetchall()
    return [row["encrypted_secret_key"] for row in rows]


def test_rotation_re_encrypts_every_key_under_the_first(conn, config):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    for alias, secret in (("r1", SECRET_1), ("r2", SECRET_2)):
        create_wallet(conn, {"alias": alias, "type": "REAL", "secret_key": secret},
                      replace(config, wallet_encryption_key=old))
    assert rotate_signing_keys(conn, replace(config, wallet_encryption_key=f"{new},{old}")) == 2
    assert [secrets.decrypt(new, token) for token in stored(conn)] == [SECRET_1, SECRET_2]
    with pytest.raises(InvalidToken):
        secrets.decrypt(old, stored(conn)[0])


def test_during_rotation_new_keys_use_the_first_and_old_ones_still_decrypt(conn, config):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    create_wallet(conn, {"alias": "r1", "type": "REAL", "secret_key": SECRET_3},
                  replace(config, wallet_encryption_key=old))
    both = f"{new},{old}"
    assert secrets.decrypt(both, stored(conn)[0]) == SECRET_3
    assert secrets.decrypt(new, secrets.encrypt(both, "x")) == "x"


def test_rotation_needs_the_setting(conn, config):
    with pytest.raises(Invalid, match="WALLET_ENCRYPTION_KEY"):
        rotate_signing_keys(conn, replace(config, wallet_encryption_key=None))
