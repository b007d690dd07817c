"""The Solana JSON-RPC client against the local chain harness (LiteSVM behind a real HTTP JSON-RPC node)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from solders.keypair import Keypair

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
