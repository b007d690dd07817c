"""The local chain harness the real-execution tests run against: LiteSVM behind a JSON-RPC node and a Jupiter /swap.

Everything goes over HTTP on 127.0.0.1 the way a client would: quote, swap, sign with solders, send with
maxRetries 0, poll statuses, read the fill from getTransaction.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

from app.pricing.jupiter import SOL_MINT
from tests.fakes import spl_token
from tests.fakes.jupiter_swap import FakeJupiterSwap
from tests.fakes.solana_chain import BLOCKHASH_WINDOW, FIRST_BLOCK_HEIGHT, LocalChain, Pool
from tests.fakes.solana_rpc import SolanaRpc

ATA_RENT = 2_039_280
SIGNATURE_FEE = 5_000
DECIMALS = 6
PRICE = Decimal("0.0005")  # SOL per whole token
WALLET_LAMPORTS = 10 * 10**9
BUY_LAMPORTS = 10**8
MAX_PRIORITY_LAMPORTS = 50_000


@dataclass
class Harness:
    """A chain, its RPC node, a Jupiter stand-in with one listed token, and a funded wallet."""

    chain: LocalChain
    rpc: SolanaRpc
    jupiter: FakeJupiterSwap
    pool: Pool
    wallet: Keypair

    @property
    def mint(self) -> str:
        """The listed token's mint."""
        return str(self.pool.mint)

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        """One JSON-RPC call; the whole JSON answer (result or error)."""
        response = requests.post(self.rpc.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                     "params": list(params)}, timeout=5)
        response.raise_for_status()
        return response.json()

    def result(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call's result (fails the test on an RPC error)."""
        answer = self.call(method, *params)
        assert "error" not in answer, answer
        return answer["result"]

    def quote(self, input_mint: str, output_mint: str, amount: int, slippage_bps: int = 50) -> dict[str, Any]:
        """GET /quote."""
        response = requests.get(f"{self.jupiter.base_url}/quote", timeout=5, params={
            "inputMint": input_mint, "outputMint": output_mint, "amount": amount, "slippageBps": slippage_bps,
            "swapMode": "ExactIn"})
        assert response.status_code == 200, response.text
        return response.json()

    def swap(self, quote: dict[str, Any]) -> dict[str, Any]:
        """POST /swap for the wallet."""
        response = requests.post(f"{self.jupiter.base_url}/swap", timeout=5, json={
            "quoteResponse": quote, "userPublicKey": str(self.wallet.pubkey()), "wrapAndUnwrapSol": True,
            "dynamicComputeUnitLimit": True,
            "prioritizationFeeLamports": {"priorityLevelWithMaxLamports": {
                "maxLamports": MAX_PRIORITY_LAMPORTS, "priorityLevel": "veryHigh"}}})
        assert response.status_code == 200, response.text
        return response.json()

    def signed(self, swap: dict[str, Any]) -> str:
        """The swap transaction signed by the wallet, base64 (as sendTransaction takes it)."""
        unsigned = VersionedTransaction.from_bytes(base64.b64decode(swap["swapTransaction"]))
        return base64.b64encode(bytes(VersionedTransaction(unsigned.message, [self.wallet]))).decode()

    def send(self, signed: str, skip_preflight: bool = True) -> dict[str, Any]:
        """sendTransaction with maxRetries 0; the whole answer."""
        return self.call("sendTransaction", signed, {"encoding": "base64", "skipPreflight": skip_preflight,
                                                     "maxRetries": 0, "preflightCommitment": "confirmed"})

    def status(self, signature: str) -> dict[str, Any] | None:
        """getSignatureStatuses for one signature, searching the history."""
        return self.result("getSignatureStatuses", [signature], {"searchTransactionHistory": True})["value"][0]

    def wait_landed(self, signature: str, polls: int = 10) -> dict[str, Any]:
        """Poll until the signature has a status (each poll is one block)."""
        for _ in range(polls):
            status = self.status(signature)
            if status is not None:
                return status
        raise AssertionError(f"{signature} did not land in {polls} polls")

    def transaction(self, signature: str, encoding: str = "json") -> dict[str, Any]:
        """getTransaction as a v0-aware client asks for it."""
        return self.result("getTransaction", signature, {"encoding": encoding, "commitment": "confirmed",
                                                         "maxSupportedTransactionVersion": 0})

    def token_balance(self, owner: str, entries: list[dict[str, Any]]) -> int:
        """The owner's raw balance of the listed token in pre/postTokenBalances (0 when absent)."""
        return sum(int(e["uiTokenAmount"]["amount"]) for e in entries if e["owner"] == owner and e["mint"] == self.mint)

    def buy(self, lamports: int = BUY_LAMPORTS) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Quote, swap, sign and send a buy; (quote, swap answer, signature)."""
        quote = self.quote(SOL_MINT, self.mint, lamports)
        swap = self.swap(quote)
        answer = self.send(self.signed(swap))
        return quote, swap, answer["result"]


@pytest.fixture
def harness() -> Iterator[Harness]:
    """A fresh chain with a pool of 10^6 whole tokens and 1,000 SOL, and a wallet holding 10 SOL."""
    chain = LocalChain()
    mint = chain.create_mint(DECIMALS)
    pool = chain.create_pool(mint, tokens=10**6 * 10**DECIMALS, lamports=1_000 * 10**9)
    wallet = Keypair()
    chain.fund(wallet.pubkey(), WALLET_LAMPORTS)
    with SolanaRpc(chain) as rpc, FakeJupiterSwap(chain) as jupiter:
        jupiter.list_token(pool, PRICE)
        yield Harness(chain, rpc, jupiter, pool, wallet)


def test_buy_lands_and_the_balances_move_by_what_get_transaction_reports(harness):
    wallet = str(harness.wallet.pubkey())
    quote, swap, signature = harness.buy()

    assert harness.wait_landed(signature)["err"] is None
    meta = harness.transaction(signature)["meta"]

    assert meta["err"] is None
    assert meta["fee"] == SIGNATURE_FEE + swap["prioritizationFeeLamports"]
    assert swap["prioritizationFeeLamports"] == MAX_PRIORITY_LAMPORTS
    assert meta["preBalances"][0] == WALLET_LAMPORTS
    assert meta["preBalances"][0] - meta["postBalances"][0] == BUY_LAMPORTS + meta["fee"] + ATA_RENT
    assert harness.result("getBalance", wallet)["value"] == meta["postBalances"][0]
    bought = harness.token_balance(wallet, meta["postTokenBalances"]) - harness.token_balance(
        wallet, meta["preTokenBalances"])
    assert bought == int(quote["outAmount"]) == 200 * 10**DECIMALS
    wallet_ata = str(spl_token.ata(harness.wallet.pubkey(), harness.pool.mint))
    assert harness.result("getTokenAccountBalance", wallet_ata)["value"] == {
        "amount": str(bought), "decimals": DECIMALS, "uiAmount": 200.0, "uiAmountString": "200"}


def test_the_swap_transaction_has_the_wallet_as_its_only_signer_and_a_150_block_window(harness):
    _, swap, signature = harness.buy()
    harness.wait_landed(signature)
    tx = harness.transaction(signature, encoding="jsonParsed")

    assert swap["lastValidBlockHeight"] == FIRST_BLOCK_HEIGHT + BLOCKHASH_WINDOW  # issued at the swap
    assert tx["version"] == 0 and tx["transaction"]["message"]["header"]["numRequiredSignatures"] == 1
    signers = [key["pubkey"] for key in tx["transaction"]["message"]["accountKeys"] if key["signer"]]
    assert signers == [str(harness.wallet.pubkey())]
    assert tx["blockTime"] > 0 and tx["slot"] > FIRST_BLOCK_HEIGHT


def test_a_wallet_that_cannot_pay_the_fee_never_lands(harness):
    poor = Keypair()
    harness.chain.fund(poor.pubkey(), 10_000)
    harness.wallet = poor
    _, _, signature = harness.buy()

    for _ in range(3):
        assert harness.status(signature) is None
    assert harness.chain.balance(poor.pubkey()) == 10_000


def test_a_wallet_short_of_the_swap_amount_lands_failed_and_pays_the_fee(harness):
    short = Keypair()
    harness.chain.fund(short.pubkey(), 10**6)
    harness.wallet = short
    _, _, signature = harness.buy()

    assert harness.wait_landed(signature)["err"] == {"InstructionError": [2, {"Custom": 1}]}
    meta = harness.transaction(signature)["meta"]
    assert harness.chain.balance(short.pubkey()) == 10**6 - meta["fee"]


def test_sell_lands_the_wrapped_sol_is_unwrapped_and_balances_match(harness):
    wallet = str(harness.wallet.pubkey())
    _, _, bought_signature = harness.buy()
    harness.wait_landed(bought_signature)
    held = harness.chain.token_amount(spl_token.ata(harness.wallet.pubkey(), harness.pool.mint))

    quote = harness.quote(harness.mint, SOL_MINT, held)
    swap = harness.swap(quote)
    signature = harness.send(harness.signed(swap))["result"]
    harness.wait_landed(signature)
    meta = harness.transaction(signature)["meta"]

    assert meta["err"] is None
    received = meta["postBalances"][0] - meta["preBalances"][0]
    assert received == int(quote["outAmount"]) - meta["fee"]  # the wSOL ATA's rent was paid and refunded
    assert int(quote["outAmount"]) == held * PRICE / 10**DECIMALS * 10**9
    assert harness.token_balance(wallet, meta["preTokenBalances"]) == held
    assert harness.token_balance(wallet, meta["postTokenBalances"]) == 0
    assert harness.result("getBalance", wallet)["value"] == meta["postBalances"][0]
    wsol_ata = str(spl_token.ata(harness.wallet.pubkey(), spl_token.NATIVE_MINT))
    assert harness.result("getAccountInfo", wsol_ata, {"encoding": "base64"})["value"] is None


def test_a_dropped_send_never_lands_until_it_is_rebroadcast(harness):
    harness.chain.drop_next_sends(1)
    quote = harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS)
    signed = harness.signed(harness.swap(quote))

    signature = harness.send(signed)["result"]
    for _ in range(5):
        assert harness.status(signature) is None
    assert harness.chain.balance(harness.wallet.pubkey()) == WALLET_LAMPORTS

    assert harness.send(signed)["result"] == signature
    assert harness.wait_landed(signature)["err"] is None
    assert harness.send(signed)["result"] == signature  # a third copy does not land twice
    assert harness.chain.balance(harness.wallet.pubkey()) == harness.transaction(signature)["meta"]["postBalances"][0]


def test_a_blockhash_past_its_150_block_window_is_rejected(harness):
    swap = harness.swap(harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS))
    signed = harness.signed(swap)
    harness.chain.advance_blocks(BLOCKHASH_WINDOW + 1)
    assert harness.result("getBlockHeight") == swap["lastValidBlockHeight"] + 1

    refused = harness.send(signed, skip_preflight=False)
    assert refused["error"]["code"] == -32002
    assert refused["error"]["data"]["err"] == "BlockhashNotFound"
    signature = harness.send(signed, skip_preflight=True)["result"]  # accepted for relay, then never lands
    for _ in range(3):
        assert harness.status(signature) is None
    assert harness.result("getTransaction", signature, {"maxSupportedTransactionVersion": 0}) is None
    assert harness.chain.balance(harness.wallet.pubkey()) == WALLET_LAMPORTS


def test_a_blockhash_still_lands_at_its_last_valid_block_height(harness):
    swap = harness.swap(harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS))
    harness.chain.advance_blocks(BLOCKHASH_WINDOW)
    assert harness.result("getBlockHeight") == swap["lastValidBlockHeight"]

    assert harness.wait_landed(harness.send(harness.signed(swap))["result"])["err"] is None


def test_a_swap_failing_on_chain_shows_meta_err_and_charges_only_the_fee(harness):
    wallet = str(harness.wallet.pubkey())
    harness.jupiter.fail_next_swap_on_chain()
    _, swap, signature = harness.buy()

    status = harness.wait_landed(signature)
    meta = harness.transaction(signature, encoding="jsonParsed")["meta"]

    assert status["err"] == meta["err"] == {"InstructionError": [5, {"Custom": 1}]}
    assert meta["status"] == {"Err": meta["err"]}
    assert meta["fee"] == SIGNATURE_FEE + swap["prioritizationFeeLamports"]
    assert meta["preBalances"][0] - meta["postBalances"][0] == meta["fee"]
    assert harness.result("getBalance", wallet)["value"] == WALLET_LAMPORTS - meta["fee"]
    assert harness.token_balance(wallet, meta["postTokenBalances"]) == 0


def test_preflight_reports_the_on_chain_failure_without_landing(harness):
    harness.jupiter.fail_next_swap_on_chain()
    swap = harness.swap(harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS))

    refused = harness.send(harness.signed(swap), skip_preflight=False)

    assert refused["error"]["code"] == -32002
    assert refused["error"]["data"]["err"] == {"InstructionError": [5, {"Custom": 1}]}
    assert harness.chain.balance(harness.wallet.pubkey()) == WALLET_LAMPORTS


def test_a_503_after_landing_still_leaves_the_transaction_findable(harness):
    harness.rpc.fail_after_landing_with_503(1)
    swap = harness.swap(harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS))
    signed = harness.signed(swap)
    signature = str(VersionedTransaction.from_bytes(base64.b64decode(signed)).signatures[0])

    response = requests.post(harness.rpc.url, timeout=5, json={
        "jsonrpc": "2.0", "id": 1, "method": "sendTransaction",
        "params": [signed, {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}]})

    assert response.status_code == 503
    assert harness.status(signature)["err"] is None
    assert harness.transaction(signature)["meta"]["err"] is None


def test_delayed_landing_waits_the_given_number_of_blocks(harness):
    harness.rpc.blocks_per_call = 0
    harness.chain.delay_landing(3)
    _, _, signature = harness.buy()

    harness.chain.advance_blocks(2)
    assert harness.status(signature) is None
    harness.chain.advance_blocks(1)
    status = harness.status(signature)
    assert status["slot"] == harness.result("getSlot") and status["confirmations"] == 0
    harness.chain.advance_blocks(40)
    assert harness.status(signature)["confirmationStatus"] == "finalized"


def test_a_price_move_between_quote_and_swap_moves_the_fill(harness):
    wallet = str(harness.wallet.pubkey())
    quote = harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS, slippage_bps=500)
    harness.jupiter.move_price(harness.mint, PRICE * Decimal("1.04"))  # 4 % dearer, inside 5 % slippage
    signature = harness.send(harness.signed(harness.swap(quote)))["result"]
    harness.wait_landed(signature)
    meta = harness.transaction(signature)["meta"]

    got = harness.token_balance(wallet, meta["postTokenBalances"])
    assert got == harness.jupiter.swaps[-1].out_amount < int(quote["outAmount"])
    assert got >= int(quote["otherAmountThreshold"])


def test_a_price_move_beyond_the_slippage_fails_on_chain(harness):
    quote = harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS, slippage_bps=50)
    harness.jupiter.move_price(harness.mint, PRICE * 2)
    signature = harness.send(harness.signed(harness.swap(quote)))["result"]

    assert harness.wait_landed(signature)["err"] is not None
    assert harness.jupiter.swaps[-1].fails_on_chain


def test_swap_answers_can_carry_a_simulation_error(harness):
    harness.jupiter.simulation_error_next_swap()
    quote = harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS)

    assert harness.swap(quote)["simulationError"]["errorCode"] == "TRANSACTION_ERROR"
    assert harness.swap(quote)["simulationError"] is None


def test_a_transaction_signed_by_another_key_is_refused(harness):
    swap = harness.swap(harness.quote(SOL_MINT, harness.mint, BUY_LAMPORTS))
    unsigned = VersionedTransaction.from_bytes(base64.b64decode(swap["swapTransaction"]))
    forged = VersionedTransaction.populate(unsigned.message, [Keypair().sign_message(bytes(unsigned.message))])

    refused = harness.send(base64.b64encode(bytes(forged)).decode())

    assert refused["error"]["code"] == -32003


def test_reads_the_node_answers(harness):
    mint_info = harness.result("getAccountInfo", harness.mint, {"encoding": "jsonParsed"})["value"]
    assert mint_info["data"]["parsed"]["type"] == "mint"
    assert mint_info["data"]["parsed"]["info"]["decimals"] == DECIMALS
    latest = harness.result("getLatestBlockhash", {"commitment": "confirmed"})["value"]
    assert latest["lastValidBlockHeight"] == harness.result("getBlockHeight") + BLOCKHASH_WINDOW
    assert harness.call("getTokenAccountBalance", str(harness.wallet.pubkey()))["error"]["code"] == -32602
    _, _, signature = harness.buy()
    harness.wait_landed(signature)
    assert harness.call("getTransaction", signature, {"encoding": "json"})["error"]["code"] == -32015
    assert harness.transaction(signature, encoding="base64")["transaction"][1] == "base64"
