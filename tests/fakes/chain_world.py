"""A ready trading world on the local chain: a LiteSVM chain behind its RPC node, a Jupiter stand-in with /swap,
one listed token with a pool, and a funded wallet whose key the service would hold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from app.core.keys import SigningKey
from app.core.solana import b58encode
from tests.fakes import spl_token
from tests.fakes.jupiter_swap import FakeJupiterSwap
from tests.fakes.solana_chain import LocalChain, Pool
from tests.fakes.solana_rpc import SolanaRpc

ATA_RENT = 2_039_280
SIGNATURE_FEE = 5_000
DECIMALS = 6
PRICE = Decimal("0.0005")  # SOL per whole token
WALLET_LAMPORTS = 10 * 10**9


@dataclass
class ChainWorld:
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

    @property
    def address(self) -> str:
        """The wallet's public key, base58."""
        return str(self.wallet.pubkey())

    @property
    def key(self) -> SigningKey:
        """The wallet's keypair as the service stores it."""
        return SigningKey(b58encode(bytes(self.wallet)), self.address)

    def lamports(self) -> int:
        """The wallet's SOL balance on the chain."""
        return self.chain.balance(self.wallet.pubkey())

    def tokens(self) -> int:
        """The wallet's raw balance of the listed token (0 without a token account)."""
        return self.chain.token_amount(self.token_account) or 0

    @property
    def token_account(self) -> Pubkey:
        """The wallet's associated token account for the listed token."""
        return spl_token.ata(self.wallet.pubkey(), self.pool.mint)


@contextmanager
def chain_world(blocks_per_call: int = 1, wallet_lamports: int = WALLET_LAMPORTS) -> Iterator[ChainWorld]:
    """A fresh chain with a pool of 10^6 whole tokens and 1,000 SOL at PRICE, and a funded wallet."""
    chain = LocalChain()
    mint = chain.create_mint(DECIMALS)
    pool = chain.create_pool(mint, tokens=10**6 * 10**DECIMALS, lamports=1_000 * 10**9)
    wallet = Keypair()
    chain.fund(wallet.pubkey(), wallet_lamports)
    with SolanaRpc(chain, blocks_per_call=blocks_per_call) as rpc, FakeJupiterSwap(chain) as jupiter:
        jupiter.list_token(pool, PRICE)
        yield ChainWorld(chain, rpc, jupiter, pool, wallet)


class FakeClock:
    """monotonic() and sleep() for send loops: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        """Seconds on this clock."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock on (no float drift: 10 x 0.4 s is 4 s)."""
        self.now = round(self.now + seconds, 6)
