"""The Solana JSON-RPC client (reads, sends, statuses, transactions) against the local chain harness."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from app.chain.rpc import ChainRefused, ChainUnavailable, SolanaRpcClient
from tests.fakes.solana_chain import LocalChain
from tests.fakes.solana_rpc import SolanaRpc


@pytest.fixture
def node() -> Iterator[SolanaRpc]:
    """A local chain behind its RPC node."""
    with SolanaRpc(LocalChain(), blocks_per_call=0) as rpc:
        yield rpc


def closed_port_url() -> str:
    """An http URL on a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_balance_is_the_exact_lamports_at_the_commitment(node):
    owner = Keypair().pubkey()
    node.chain.fund(owner, 1_234_567_891)
    client = SolanaRpcClient(node.url, commitment="finalized")
    assert client.get_balance(str(owner)) == 1_234_567_891
    assert client.get_balance(str(Keypair().pubkey())) == 0
    assert node.calls[0] == ("getBalance", [str(owner), {"commitment": "finalized"}])


def test_block_height_and_latest_blockhash(node):
    client = SolanaRpcClient(node.url)
    height = client.get_block_height()
    node.chain.advance_blocks(3)
    assert client.get_block_height() == height + 3
    blockhash, last_valid = client.get_latest_blockhash()
    assert blockhash == str(node.chain.latest_blockhash()[0]) and last_valid > height


def test_token_account_balance(node):
    mint = node.chain.create_mint(6)
    pool = node.chain.create_pool(mint, tokens=5_000_000, lamports=10**9)
    assert SolanaRpcClient(node.url).get_token_account_balance(str(pool.token_vault)) == (5_000_000, 6)


def test_a_refusal_is_chain_refused(node):
    client = SolanaRpcClient(node.url)
    with pytest.raises(ChainRefused, match="-32602"):
        client.get_balance("not-a-key")
    with pytest.raises(ChainRefused):
        client.get_token_account_balance(str(Keypair().pubkey()))


def test_an_unreachable_node_is_chain_unavailable():
    with pytest.raises(ChainUnavailable, match="unreachable"):
        SolanaRpcClient(closed_port_url(), timeout=2).get_balance(str(Keypair().pubkey()))


# --- sending and looking up transactions -------------------------------------------------------------------


def signed_transfer(chain: LocalChain, payer: Keypair, lamports: int = 1_000_000) -> tuple[bytes, str]:
    """A signed v0 transfer from a funded payer on the chain's latest blockhash: (wire bytes, signature)."""
    chain.fund(payer.pubkey(), 10**9)
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=lamports))
    tx = VersionedTransaction(MessageV0.try_compile(payer.pubkey(), [ix], [], chain.latest_blockhash()[0]), [payer])
    return bytes(tx), str(tx.signatures[0])


def test_send_transaction_sends_base64_without_preflight_or_node_retries(node):
    raw, signature = signed_transfer(node.chain, Keypair())
    client = SolanaRpcClient(node.url, commitment="finalized")

    assert client.send_transaction(raw) == signature
    method, params = node.calls[-1]
    assert method == "sendTransaction"
    assert params[1] == {"encoding": "base64", "skipPreflight": True, "maxRetries": 0,
                         "preflightCommitment": "finalized"}
    assert node.chain.landed(signature) is not None


def test_a_send_of_bad_bytes_is_refused(node):
    with pytest.raises(ChainRefused) as caught:
        SolanaRpcClient(node.url).send_transaction(b"\x01not a transaction")
    assert caught.value.code == -32602 and not caught.value.already_processed


def test_signature_status_searches_history_and_is_none_when_unknown(node):
    raw, signature = signed_transfer(node.chain, Keypair())
    client = SolanaRpcClient(node.url)
    assert client.signature_status(signature) is None

    client.send_transaction(raw)
    status = client.signature_status(signature)

    assert status["err"] is None and status["slot"] == node.chain.slot
    assert node.calls[-1] == ("getSignatureStatuses", [[signature], {"searchTransactionHistory": True}])


def test_get_transaction_is_v0_aware_json_and_none_when_not_found(node):
    raw, signature = signed_transfer(node.chain, Keypair())
    client = SolanaRpcClient(node.url)
    assert client.get_transaction(signature) is None

    client.send_transaction(raw)
    tx = client.get_transaction(signature)

    assert tx["meta"]["err"] is None and tx["transaction"]["signatures"] == [signature]
    assert node.calls[-1] == ("getTransaction", [signature, {"encoding": "json", "commitment": "confirmed",
                                                             "maxSupportedTransactionVersion": 0}])


def test_get_transaction_reads_processed_as_confirmed(node):
    SolanaRpcClient(node.url, commitment="processed").get_transaction(str(Keypair().pubkey()))
    assert node.calls[-1][1][1]["commitment"] == "confirmed"


def test_already_processed_is_recognised_from_the_error_data():
    refused = ChainRefused(-32002, "Transaction simulation failed: This transaction has already been processed",
                           {"err": "AlreadyProcessed", "logs": []})
    assert refused.already_processed and refused.data["err"] == "AlreadyProcessed"
    assert not ChainRefused(-32002, "Transaction simulation failed: Blockhash not found",
                            {"err": "BlockhashNotFound"}).already_processed


def test_a_503_on_send_is_unavailable(node):
    raw, signature = signed_transfer(node.chain, Keypair())
    node.fail_after_landing_with_503()
    with pytest.raises(ChainUnavailable, match="503"):
        SolanaRpcClient(node.url).send_transaction(raw)
    assert node.chain.landed(signature) is not None
