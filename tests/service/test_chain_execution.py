"""Quote, swap, sign, send until final, read the fill: the chain library end to end on the local LiteSVM chain.

Every case checks the ChainFill against the chain's own balances, to the lamport and raw unit.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from app.chain.fills import ChainFill, fetch_fill
from app.chain.rpc import ChainRefused, ChainUnavailable, SolanaRpcClient
from app.chain.sender import Landing, SendResult, look, send_until_final
from app.chain.signing import SignedTransaction, sign_transaction
from app.pricing.jupiter import SOL_MINT, JupiterClient, JupiterQuote, SwapTransaction
from tests.fakes.chain_world import (
    ATA_RENT,
    DECIMALS,
    PRICE,
    SIGNATURE_FEE,
    WALLET_LAMPORTS,
    ChainWorld,
    FakeClock,
    chain_world,
)
from tests.fakes.solana_chain import FINALIZED_AFTER

BUY_LAMPORTS = 10**8
MAX_PRIORITY = 50_000
ON_CHAIN_ERROR = {"InstructionError": [5, {"Custom": 1}]}


@pytest.fixture
def world() -> Iterator[ChainWorld]:
    """A local chain whose RPC node makes one block per send and per status poll."""
    with chain_world() as built:
        yield built


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def rpc_of(world: ChainWorld, commitment: str = "confirmed") -> SolanaRpcClient:
    return SolanaRpcClient(world.rpc.url, commitment=commitment, timeout=5)


def jupiter_of(world: ChainWorld) -> JupiterClient:
    return JupiterClient(world.jupiter.base_url, None, timeout=5, sleep=lambda _: None)


def prepare(world: ChainWorld, input_mint: str, output_mint: str, amount: int,
            slippage_bps: int = 50) -> tuple[JupiterQuote, SwapTransaction, SignedTransaction]:
    """Quote, swap and sign one trade for the world's wallet."""
    jupiter = jupiter_of(world)
    quote = jupiter.quote(input_mint, output_mint, amount, slippage_bps)
    swap = jupiter.swap(quote, world.address, "veryHigh", MAX_PRIORITY)
    return quote, swap, sign_transaction(swap.transaction, world.key)


def send(world: ChainWorld, clock: FakeClock, signed: SignedTransaction, swap: SwapTransaction,
         **options) -> SendResult:
    return send_until_final(rpc_of(world), signed, swap.last_valid_block_height, sleep=clock.sleep,
                            monotonic=clock.monotonic, **options)


def buy(world: ChainWorld, clock: FakeClock, lamports: int = BUY_LAMPORTS) -> tuple[SendResult, ChainFill]:
    """A whole buy: prepared, sent until final, its fill read back."""
    _, swap, signed = prepare(world, SOL_MINT, world.mint, lamports)
    result = send(world, clock, signed, swap)
    return result, fetch_fill(rpc_of(world), signed.signature, world.address, world.mint)


def assert_identity(fill: ChainFill, buying: bool) -> None:
    """The documented identity between the fill's SOL fields."""
    side = -1 if buying else 1
    assert fill.sol_change_lamports == side * fill.swap_lamports - fill.fee_lamports - fill.rent_lamports \
        + fill.rent_reclaimed_lamports


# --- fills at actual amounts --------------------------------------------------------------------------------


def test_a_first_buy_fills_at_actual_amounts_with_the_ata_rent_apart(world, clock):
    result, fill = buy(world, clock)

    assert result.landing is Landing.LANDED and result.error is None and result.slot == fill.slot
    assert fill.sol_change_lamports == world.lamports() - WALLET_LAMPORTS
    assert fill.fee_lamports == SIGNATURE_FEE + MAX_PRIORITY
    assert fill.rent_lamports == ATA_RENT == world.chain.balance(world.token_account)
    assert fill.swap_lamports == BUY_LAMPORTS
    assert -fill.sol_change_lamports == fill.swap_lamports + fill.fee_lamports + fill.rent_lamports
    assert fill.token_change_raw == world.tokens() == BUY_LAMPORTS * 10**DECIMALS // int(PRICE * 10**9)
    assert fill.decimals == DECIMALS and fill.error is None and fill.rent_reclaimed_lamports == 0
    assert_identity(fill, buying=True)


def test_a_second_buy_pays_no_rent(world, clock):
    buy(world, clock)
    lamports, tokens = world.lamports(), world.tokens()

    _, fill = buy(world, clock, lamports=3 * BUY_LAMPORTS)

    assert fill.rent_lamports == 0 and fill.swap_lamports == 3 * BUY_LAMPORTS
    assert fill.sol_change_lamports == world.lamports() - lamports == -(3 * BUY_LAMPORTS + fill.fee_lamports)
    assert fill.token_change_raw == world.tokens() - tokens


def test_a_sell_fills_at_actual_amounts_and_the_wrapped_sol_rent_nets_out(world, clock):
    buy(world, clock)
    held, lamports = world.tokens(), world.lamports()
    quote, swap, signed = prepare(world, world.mint, SOL_MINT, held)

    result = send(world, clock, signed, swap)
    fill = fetch_fill(rpc_of(world), signed.signature, world.address, world.mint)

    assert result.landing is Landing.LANDED
    assert fill.token_change_raw == -held and world.tokens() == 0
    assert fill.sol_change_lamports == world.lamports() - lamports
    assert fill.swap_lamports == quote.out_amount == world.jupiter.swaps[-1].out_amount
    assert fill.sol_change_lamports == fill.swap_lamports - fill.fee_lamports
    assert fill.rent_lamports == fill.rent_reclaimed_lamports == 0
    assert_identity(fill, buying=False)


def test_a_price_move_between_quote_and_swap_shows_in_the_fill_not_the_quote(world, clock):
    quote = jupiter_of(world).quote(SOL_MINT, world.mint, BUY_LAMPORTS, 500)
    world.jupiter.move_price(world.mint, PRICE * Decimal("1.04"))
    swap = jupiter_of(world).swap(quote, world.address, "veryHigh", MAX_PRIORITY)
    signed = sign_transaction(swap.transaction, world.key)

    assert send(world, clock, signed, swap).landing is Landing.LANDED
    fill = fetch_fill(rpc_of(world), signed.signature, world.address, world.mint)

    assert fill.token_change_raw == world.tokens() == world.jupiter.swaps[-1].out_amount
    assert quote.other_amount_threshold <= fill.token_change_raw < quote.out_amount
    assert fill.sol_change_lamports == world.lamports() - WALLET_LAMPORTS


def test_a_simulation_error_is_seen_before_anything_is_sent(world):
    world.jupiter.simulation_error_next_swap()
    _, swap, _ = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)

    assert json.loads(swap.simulation_error)["errorCode"] == "TRANSACTION_ERROR"
    assert world.chain.sends_received == 0 and world.lamports() == WALLET_LAMPORTS


# --- sending until final ------------------------------------------------------------------------------------


def test_dropped_sends_land_on_rebroadcast_of_the_same_bytes(world, clock):
    world.chain.drop_next_sends(2)
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)

    result = send(world, clock, signed, swap)

    assert result.landing is Landing.LANDED
    assert world.chain.sends_received == 3
    assert 4.0 <= clock.now < 4.0 + 2 * 0.4  # sends at 0, ~2 and ~4 s
    sent = [params[0] for method, params in world.rpc.calls if method == "sendTransaction"]
    assert len(set(sent)) == 1
    fill = fetch_fill(rpc_of(world), signed.signature, world.address, world.mint)
    assert fill.sol_change_lamports == world.lamports() - WALLET_LAMPORTS
    assert fill.token_change_raw == world.tokens() > 0


def test_every_send_dropped_expires_once_the_height_passes_and_nothing_moves(world, clock):
    world.chain.drop_next_sends(10**6)
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)

    result = send(world, clock, signed, swap, max_seconds=600)

    assert result == SendResult(Landing.EXPIRED)
    assert world.chain.block_height > swap.last_valid_block_height
    assert world.chain.sends_received > 1
    assert world.lamports() == WALLET_LAMPORTS and world.tokens() == 0
    assert fetch_fill(rpc_of(world), signed.signature, world.address, world.mint) is None


def test_an_on_chain_failure_is_failed_with_the_program_error_and_the_fee_charged(world, clock):
    world.jupiter.fail_next_swap_on_chain()
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)

    result = send(world, clock, signed, swap)
    fill = fetch_fill(rpc_of(world), signed.signature, world.address, world.mint)

    assert result.landing is Landing.FAILED and json.loads(result.error) == ON_CHAIN_ERROR
    assert json.loads(fill.error) == ON_CHAIN_ERROR
    assert fill.fee_lamports == SIGNATURE_FEE + MAX_PRIORITY
    assert world.lamports() == WALLET_LAMPORTS - fill.fee_lamports
    assert fill.sol_change_lamports == -fill.fee_lamports
    assert fill.swap_lamports == fill.rent_lamports == fill.token_change_raw == world.tokens() == 0


def test_a_503_after_landing_is_landed_found_by_signature(world, clock):
    world.rpc.fail_after_landing_with_503(1)
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)

    result = send(world, clock, signed, swap)

    assert result.landing is Landing.LANDED
    assert world.chain.sends_received == 1
    fill = fetch_fill(rpc_of(world), signed.signature, world.address, world.mint)
    assert fill.sol_change_lamports == world.lamports() - WALLET_LAMPORTS
    assert fill.token_change_raw == world.tokens() > 0


def test_a_rebroadcast_refused_as_already_processed_keeps_polling(world, clock):
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
    world.chain.send(signed.raw)  # it landed before this process sent it (e.g. a worker restarted)

    result = send_until_final(PreflightRpc(world.rpc.url), signed, swap.last_valid_block_height,
                              sleep=clock.sleep, monotonic=clock.monotonic)

    assert result.landing is Landing.LANDED
    assert world.lamports() == WALLET_LAMPORTS - BUY_LAMPORTS - ATA_RENT - SIGNATURE_FEE - MAX_PRIORITY


def test_a_first_send_refused_outright_raises(world, clock):
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
    tx = VersionedTransaction.from_bytes(signed.raw)
    forged = VersionedTransaction.populate(tx.message, [Signature.new_unique()])

    with pytest.raises(ChainRefused):
        send(world, clock, SignedTransaction(str(forged.signatures[0]), bytes(forged)), swap)

    assert world.lamports() == WALLET_LAMPORTS


def test_unanswered_polls_do_not_stop_the_loop(world, clock):
    _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
    flaky = FlakyStatusRpc(world.rpc.url, failures=3)

    result = send_until_final(flaky, signed, swap.last_valid_block_height, sleep=clock.sleep,
                              monotonic=clock.monotonic)

    assert result.landing is Landing.LANDED and flaky.failures == 0


def test_it_gives_up_pending_after_max_seconds(clock):
    with chain_world(blocks_per_call=0) as world:
        world.chain.delay_landing(5)
        _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)

        result = send(world, clock, signed, swap, max_seconds=10)

        assert result == SendResult(Landing.PENDING)
        assert 10 <= clock.now < 10.5
        assert world.chain.sends_received == 5  # at 0, 2, 4, 6 and 8 s: at 10 s it gives up first
        world.chain.advance_blocks(5)
        assert look(rpc_of(world), signed.signature, swap.last_valid_block_height).landing is Landing.LANDED


# --- one look, for the reconciler ---------------------------------------------------------------------------


def test_look_is_pending_until_the_transaction_lands_then_landed(clock):
    with chain_world(blocks_per_call=0) as world:
        world.chain.delay_landing(2)
        _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
        rpc_of(world).send_transaction(signed.raw)

        assert look(rpc_of(world), signed.signature, swap.last_valid_block_height) == SendResult(Landing.PENDING)
        world.chain.advance_blocks(2)
        result = look(rpc_of(world), signed.signature, swap.last_valid_block_height)

        assert result == SendResult(Landing.LANDED, slot=world.chain.slot)


def test_look_waits_for_the_configured_commitment(clock):
    with chain_world(blocks_per_call=0) as world:
        _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
        rpc_of(world).send_transaction(signed.raw)
        finalized = rpc_of(world, "finalized")

        assert look(finalized, signed.signature, swap.last_valid_block_height).landing is Landing.PENDING
        world.chain.advance_blocks(FINALIZED_AFTER)
        assert look(finalized, signed.signature, swap.last_valid_block_height).landing is Landing.LANDED


def test_look_expires_a_never_seen_signature_only_past_the_last_valid_height():
    with chain_world(blocks_per_call=0) as world:
        _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
        height_left = swap.last_valid_block_height - world.chain.block_height

        world.chain.advance_blocks(height_left)
        assert look(rpc_of(world), signed.signature, swap.last_valid_block_height).landing is Landing.PENDING
        world.chain.advance_blocks(1)
        assert look(rpc_of(world), signed.signature, swap.last_valid_block_height).landing is Landing.EXPIRED


def test_look_rechecks_the_status_after_seeing_the_height_passed():
    with chain_world(blocks_per_call=0) as world:
        _, swap, signed = prepare(world, SOL_MINT, world.mint, BUY_LAMPORTS)
        world.chain.delay_landing(1)
        world.chain.send(signed.raw)
        racing = LandsDuringHeightRead(world.rpc.url, world)

        result = look(racing, signed.signature, swap.last_valid_block_height)

        assert result.landing is Landing.LANDED


def test_look_propagates_an_unreachable_node():
    with chain_world() as world:
        url = world.rpc.url
    with pytest.raises(ChainUnavailable):
        look(SolanaRpcClient(url, timeout=2), str(Signature.new_unique()), 1)


# --- RPC clients that misbehave in one precise way -----------------------------------------------------------


class PreflightRpc(SolanaRpcClient):
    """Sends with preflight, so a node that already processed the transaction refuses it (AlreadyProcessed)."""

    def send_transaction(self, raw: bytes) -> str:
        return self.call("sendTransaction", base64.b64encode(raw).decode(),
                         {"encoding": "base64", "skipPreflight": False, "maxRetries": 0})


class FlakyStatusRpc(SolanaRpcClient):
    """The first `failures` status polls are not answered."""

    def __init__(self, url: str, failures: int) -> None:
        super().__init__(url, timeout=5)
        self.failures = failures

    def signature_status(self, signature: str):
        if self.failures:
            self.failures -= 1
            raise ChainUnavailable("getSignatureStatuses: RPC node answered HTTP 503")
        return super().signature_status(signature)


class LandsDuringHeightRead(SolanaRpcClient):
    """The block height read jumps past expiry, and the pending transaction lands in those blocks."""

    def __init__(self, url: str, world: ChainWorld) -> None:
        super().__init__(url, timeout=5)
        self.world = world

    def get_block_height(self) -> int:
        self.world.chain.advance_blocks(1)  # the transaction, sent with a landing delay of 1 block, lands
        return 10**12
