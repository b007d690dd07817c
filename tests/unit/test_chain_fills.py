"""ChainFill from getTransaction answers shaped by hand: the identities, loaded addresses, closed accounts."""

from __future__ import annotations

from typing import Any

import pytest

from app.chain.fills import NATIVE_MINT, ChainFill, FillUnreadable, account_keys, fill_from_transaction

WALLET, POOL, ATA, WSOL_ATA, PROGRAM = "Wallet111", "Pool111", "Ata111", "WsolAta111", "Program111"
MINT = "Mint111"
RENT = 2_039_280
FEE = 55_000


def token(index: int, amount: int, mint: str = MINT, owner: str = WALLET, decimals: int = 6) -> dict[str, Any]:
    return {"accountIndex": index, "mint": mint, "owner": owner, "programId": PROGRAM,
            "uiTokenAmount": {"amount": str(amount), "decimals": decimals, "uiAmount": None, "uiAmountString": ""}}


def answer(keys: list[Any], pre: list[int], post: list[int], pre_tokens: list[dict[str, Any]],
           post_tokens: list[dict[str, Any]], err: Any = None, loaded: dict[str, list[str]] | None = None,
           fee: int = FEE) -> dict[str, Any]:
    """A getTransaction (json encoding) answer with the given balances."""
    return {"slot": 42, "blockTime": 1_800_000_000, "version": 0,
            "transaction": {"signatures": ["Sig111"], "message": {"accountKeys": keys}},
            "meta": {"err": err, "fee": fee, "preBalances": pre, "postBalances": post,
                     "preTokenBalances": pre_tokens, "postTokenBalances": post_tokens,
                     "loadedAddresses": loaded or {"writable": [], "readonly": []}}}


def test_a_first_buy_records_the_new_account_rent_apart():
    tx = answer([WALLET, POOL, ATA], [10**9, 5 * 10**9, 0], [10**9 - 10**8 - FEE - RENT, 5 * 10**9 + 10**8, RENT],
                [token(1, 10**12, owner=POOL)], [token(1, 10**12 - 777, owner=POOL), token(2, 777)])

    fill = fill_from_transaction(tx, WALLET, MINT)

    assert fill == ChainFill(signature="Sig111", slot=42, error=None, fee_lamports=FEE,
                             sol_change_lamports=-(10**8 + FEE + RENT), rent_lamports=RENT, swap_lamports=10**8,
                             token_change_raw=777, decimals=6, rent_reclaimed_lamports=0, block_time=1_800_000_000)


def test_a_sell_that_closes_the_token_account_records_the_reclaimed_rent():
    received = 3 * 10**7
    tx = answer([WALLET, ATA, POOL], [10**9, RENT, 0], [10**9 + received - FEE + RENT, 0, 0],
                [token(1, 500)], [])

    fill = fill_from_transaction(tx, WALLET, MINT)

    assert fill.token_change_raw == -500 and fill.rent_reclaimed_lamports == RENT and fill.rent_lamports == 0
    assert fill.swap_lamports == received
    assert fill.sol_change_lamports == fill.swap_lamports - fill.fee_lamports + fill.rent_reclaimed_lamports


def test_a_wrapped_sol_account_left_open_counts_only_its_rent():
    wrapped = 4_000
    tx = answer([WALLET, WSOL_ATA, ATA], [10**9, 0, RENT], [10**9 - FEE - RENT - wrapped + 1_000, RENT + wrapped, RENT],
                [token(2, 100)], [token(1, wrapped, mint=NATIVE_MINT, decimals=9), token(2, 0)])

    fill = fill_from_transaction(tx, WALLET, MINT)

    assert fill.rent_lamports == RENT and fill.token_change_raw == -100
    assert fill.sol_change_lamports + fill.fee_lamports + fill.rent_lamports == -(wrapped - 1_000)


def test_accounts_from_lookup_tables_follow_the_static_keys():
    tx = answer([WALLET, POOL], [10**9, 0, 0, 7], [10**9 - FEE - RENT - 10**8, 10**8, RENT, 7],
                [], [token(2, 9)], loaded={"writable": [ATA], "readonly": [PROGRAM]})

    assert account_keys(tx) == [WALLET, POOL, ATA, PROGRAM]
    fill = fill_from_transaction(tx, WALLET, MINT)
    assert fill.rent_lamports == RENT and fill.swap_lamports == 10**8 and fill.token_change_raw == 9


def test_json_parsed_account_keys_are_read_too():
    keys = [{"pubkey": WALLET, "signer": True, "writable": True, "source": "transaction"},
            {"pubkey": ATA, "signer": False, "writable": True, "source": "lookupTable"}]
    tx = answer(keys, [10**9, RENT], [10**9 - FEE, RENT], [token(1, 5)], [token(1, 5)])

    assert account_keys(tx) == [WALLET, ATA]
    assert fill_from_transaction(tx, WALLET, MINT).sol_change_lamports == -FEE


def test_a_wallet_that_did_not_pay_the_fee_is_charged_none():
    tx = answer([POOL, WALLET], [10**9, 10**9], [10**9 - FEE - 10**6, 10**9 + 10**6], [], [])

    fill = fill_from_transaction(tx, WALLET, MINT)

    assert fill.fee_lamports == 0 and fill.swap_lamports == 10**6 and fill.decimals is None


def test_a_failed_transaction_moves_only_the_fee():
    tx = answer([WALLET, POOL, ATA], [10**9, 0, 0], [10**9 - FEE, 0, 0], [], [],
                err={"InstructionError": [5, {"Custom": 1}]})

    fill = fill_from_transaction(tx, WALLET, MINT)

    assert fill.error == '{"InstructionError": [5, {"Custom": 1}]}'
    assert (fill.sol_change_lamports, fill.swap_lamports, fill.rent_lamports, fill.token_change_raw) == (-FEE, 0, 0, 0)


def test_another_owners_token_balance_is_not_the_wallets():
    tx = answer([WALLET, ATA], [10**9, RENT], [10**9 - FEE, RENT], [token(1, 5, owner=POOL)], [token(1, 9, owner=POOL)])
    assert fill_from_transaction(tx, WALLET, MINT).token_change_raw == 0


def test_an_answer_without_the_wallet_is_unreadable():
    with pytest.raises(FillUnreadable, match="not among"):
        fill_from_transaction(answer([POOL], [1], [1], [], []), WALLET, MINT)


@pytest.mark.parametrize("broken", [{}, {"slot": 1, "transaction": {}, "meta": {}}, {"meta": None}])
def test_a_malformed_answer_is_unreadable(broken):
    with pytest.raises(FillUnreadable):
        fill_from_transaction(broken, WALLET, MINT)


def test_lamports_already_at_a_new_account_address_are_not_rent_the_wallet_paid():
    gift = 1_000
    tx = answer([WALLET, POOL, ATA], [10**9, 0, gift], [10**9 - FEE - (RENT - gift) - 10**8, 10**8, RENT],
                [], [token(2, 3)])

    fill = fill_from_transaction(tx, WALLET, MINT)

    assert fill.rent_lamports == RENT - gift and fill.swap_lamports == 10**8
