"""JupiterClient.swap over real HTTP against the Jupiter stand-in that builds real v0 transactions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from solders.transaction import VersionedTransaction

from app.pricing.jupiter import (
    SOL_MINT,
    JupiterClient,
    JupiterError,
    JupiterUnavailableError,
    RateLimitedError,
    SwapTransaction,
)
from app.pricing.ratelimit import SharedRateLimiter
from tests.fakes.chain_world import ChainWorld, chain_world
from tests.fakes.solana_chain import BLOCKHASH_WINDOW, FIRST_BLOCK_HEIGHT

BUY_LAMPORTS = 10**8


@pytest.fixture
def world() -> Iterator[ChainWorld]:
    """A local chain, RPC node, Jupiter stand-in and funded wallet."""
    with chain_world() as built:
        yield built


def client_for(world: ChainWorld, sleeps: list[float] | None = None, **overrides) -> JupiterClient:
    """A client of the world's Jupiter that records its backoff sleeps instead of sleeping."""
    options = {"api_key": "k-swap", "timeout": 2.0, "max_retries": 2, "backoff_seconds": 0.5,
               "sleep": (sleeps if sleeps is not None else []).append}
    return JupiterClient(world.jupiter.base_url, **(options | overrides))


def test_swap_posts_the_documented_body_and_returns_the_unsigned_transaction(world):
    client = client_for(world)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)

    swap = client.swap(quote, world.address, "veryHigh", 50_000)

    body = world.jupiter.swap_requests[-1]
    assert body == {"quoteResponse": quote.raw, "userPublicKey": world.address, "wrapAndUnwrapSol": True,
                    "dynamicComputeUnitLimit": True, "prioritizationFeeLamports": {
                        "priorityLevelWithMaxLamports": {"priorityLevel": "veryHigh", "maxLamports": 50_000}}}
    assert world.jupiter.requests[-1][2]["x-api-key"] == "k-swap"
    assert isinstance(swap, SwapTransaction)
    assert swap.last_valid_block_height == FIRST_BLOCK_HEIGHT + BLOCKHASH_WINDOW
    assert swap.priority_fee_lamports == 50_000 and swap.simulation_error is None
    unsigned = VersionedTransaction.from_bytes(swap.transaction)
    assert unsigned.message.account_keys[0] == world.wallet.pubkey()
    assert unsigned.message.header.num_required_signatures == 1


def test_a_simulation_error_is_visible_as_json_text(world):
    client = client_for(world)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)
    world.jupiter.simulation_error_next_swap({"errorCode": "TRANSACTION_ERROR", "error": "custom 0x1771"})

    swap = client.swap(quote, world.address, "medium", 1_000)

    assert json.loads(swap.simulation_error) == {"errorCode": "TRANSACTION_ERROR", "error": "custom 0x1771"}
    assert client.swap(quote, world.address, "medium", 1_000).simulation_error is None


def test_a_5xx_on_swap_is_retried_like_a_quote(world):
    sleeps: list[float] = []
    client = client_for(world, sleeps)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)
    world.jupiter.fail_next(503, times=2)

    swap = client.swap(quote, world.address, "medium", 1_000)

    assert swap.transaction and sleeps == [0.5, 1.0]
    assert len(world.jupiter.swap_requests) == 3


def test_a_5xx_forever_is_unavailable_after_the_retries(world):
    client = client_for(world)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)
    world.jupiter.fail_next(500, times=3)

    with pytest.raises(JupiterUnavailableError):
        client.swap(quote, world.address, "medium", 1_000)


def test_a_4xx_on_swap_is_a_jupiter_error_naming_the_swap(world):
    client = client_for(world)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)
    world.jupiter.fail_next(400, {"error": "bad quote", "errorCode": "INVALID_REQUEST"})

    with pytest.raises(JupiterError, match="refused the swap") as caught:
        client.swap(quote, world.address, "medium", 1_000)

    assert caught.value.status == 400 and caught.value.error_code == "INVALID_REQUEST"


@pytest.mark.parametrize("body", [{"swapTransaction": "not base64!", "lastValidBlockHeight": 1},
                                  {"swapTransaction": "AAAA"}, ["a list"]])
def test_a_malformed_swap_answer_is_unavailable(world, body):
    client = client_for(world)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)
    world.jupiter.fail_next(200, body)

    with pytest.raises(JupiterUnavailableError, match="swap answer"):
        client.swap(quote, world.address, "medium", 1_000)


def test_a_swap_takes_a_slot_of_the_shared_rate_limit(world, redis_conn):
    limiter = SharedRateLimiter(redis_conn, "jupiter:swap-test", 2)
    client = client_for(world, limiter=limiter, max_limiter_wait=0.0)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)
    client.swap(quote, world.address, "medium", 1_000)

    with pytest.raises(RateLimitedError, match="locally"):
        client.swap(quote, world.address, "medium", 1_000)

    assert len(world.jupiter.swap_requests) == 1


@pytest.mark.parametrize(("wallet", "max_lamports"), [("", 1_000), ("W", -1), ("W", True), ("W", 1.5)])
def test_swap_arguments_are_checked_before_any_request(world, wallet, max_lamports):
    client = client_for(world)
    quote = client.quote(SOL_MINT, world.mint, BUY_LAMPORTS)

    with pytest.raises(ValueError):
        client.swap(quote, wallet, "medium", max_lamports)

    assert world.jupiter.swap_requests == []
