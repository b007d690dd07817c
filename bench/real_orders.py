"""Benchmark REAL orders on the local chain: prediction → signed transaction sent / FILLED, and fills per second.

Builds a local LiteSVM chain behind its JSON-RPC node and a Jupiter stand-in with /swap (tests/fakes), with
--tokens listed tokens (one pool each) and one funded wallet, then starts the real stack (`python -m app run`,
PRICE_SOURCE=jupiter) against them with one and then two workers. Through the API it creates the REAL wallet
(its secret key), a trigger model and one active BUY workflow (0.01 SOL, cooldown 0, 100 open positions), so
every prediction on a new mint buys once on chain:
  * latency: single predictions POSTed at a steady rate; "sent" = orders.sent_at (the PENDING → SENT update,
    just before the first send) − the POST's start, "filled" = orders.finished_at − the POST's start;
  * throughput: a batch of predictions (new mints) posted at once, as concurrent POSTs of --batch-size each
    (a POST is one evaluation job, so a single POST would keep the second worker idle); FILLED orders per
    second from the first prediction's receipt to the last order's finished_at.
Each run ends with the exactly-once check: the wallet's SOL on chain = its funding + Σ orders.sol_change_lamports,
and its token balance of every listed mint = the tokens of its OPEN positions; any mismatch exits non-zero.
Sell checks are pushed out to 1 h so they do not compete. Writes bench/results/real_orders.json.

    .venv/bin/python bench/real_orders.py [--latency-count 40] [--rate 2] [--throughput-count 60] [--batch-size 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import requests
from cryptography.fernet import Fernet
from solders.keypair import Keypair

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.keys import SigningKey
from app.core.solana import b58encode
from bench.common import UNLIMITED, percentile, progress, write_results
from tests.e2e.stack import Stack
from tests.factories import buy_body, model_body, train_booster
from tests.fakes import spl_token
from tests.fakes.jupiter_swap import FakeJupiterSwap
from tests.fakes.solana_chain import LocalChain, Pool
from tests.fakes.solana_rpc import SolanaRpc

ALIAS = "bench-real"
DECIMALS = 6
PRICE = Decimal("0.0005")  # SOL per whole token
WALLET_LAMPORTS = 100 * 10**9
BUY_SOL = 0.01
MAX_OPEN_POSITIONS = 100
FINAL_STATES = ("FILLED", "FAILED", "EXPIRED")
AUTH: dict[str, str] = {}  # the stack's local admin key, set once it is up


@dataclass
class Market:
    """A local chain with its RPC node, a Jupiter stand-in listing one pool per token, and one funded wallet."""

    chain: LocalChain
    rpc: SolanaRpc
    jupiter: FakeJupiterSwap
    pools: list[Pool]
    wallet: Keypair

    @property
    def mints(self) -> list[str]:
        """The listed tokens' mints."""
        return [str(pool.mint) for pool in self.pools]

    @property
    def key(self) -> SigningKey:
        """The wallet's keypair as the service stores it."""
        return SigningKey(b58encode(bytes(self.wallet)), str(self.wallet.pubkey()))

    def lamports(self) -> int:
        """The wallet's SOL on the chain."""
        return self.chain.balance(self.wallet.pubkey())

    def tokens(self, pool: Pool) -> int:
        """The wallet's raw balance of one pool's token (0 without a token account)."""
        return self.chain.token_amount(spl_token.ata(self.wallet.pubkey(), pool.mint)) or 0


@contextmanager
def market(tokens: int, landing_blocks: int) -> Iterator[Market]:
    """`tokens` listed tokens (pools of 10^6 tokens and 1,000 SOL at PRICE) and a wallet holding WALLET_LAMPORTS."""
    chain = LocalChain()
    pools = [chain.create_pool(chain.create_mint(DECIMALS), tokens=10**6 * 10**DECIMALS, lamports=1_000 * 10**9)
             for _ in range(tokens)]
    wallet = Keypair()
    chain.fund(wallet.pubkey(), WALLET_LAMPORTS)
    chain.delay_landing(landing_blocks)
    with SolanaRpc(chain) as rpc, FakeJupiterSwap(chain) as jupiter:
        for pool in pools:
            jupiter.list_token(pool, PRICE)
        yield Market(chain, rpc, jupiter, pools, wallet)


def setup(base: str, world: Market) -> int:
    """The REAL wallet, a trigger model and one active BUY workflow; returns the trigger model's id."""
    session = requests.Session()
    session.headers.update(AUTH)
    session.post(base + "/api/wallets", json={"alias": ALIAS, "type": "REAL", "secret_key": world.key.secret_b58},
                 timeout=30).raise_for_status()
    trigger = session.post(base + "/api/models", json=model_body(train_booster(seed=1), "trigger-real"),
                           timeout=30).json()["id"]
    workflow = session.post(base + "/api/buy/workflows", json=buy_body(
        trigger, wallet_alias=ALIAS, name="bench-real-buy", buy_amount_value=BUY_SOL, cooldown_seconds=0,
        max_open_positions=MAX_OPEN_POSITIONS), timeout=30)
    workflow.raise_for_status()
    session.patch(f"{base}/api/buy/workflows/{workflow.json()['id']}/toggle?active=true",
                  timeout=30).raise_for_status()
    return trigger


def prediction(trigger: int, mint: str, client_id: str) -> dict:
    """A prediction that triggers the workflow on `mint`."""
    return {"id": client_id, "model_id": trigger, "mint": mint, "probability": 0.9,
            "timestamp": datetime.now(UTC).isoformat()}


def measure_latency(base: str, db_url: str, trigger: int, mints: list[str], rate: float) -> dict:
    """One POST per mint at `rate`/s; ms from each POST's start to its order's sent_at and finished_at."""
    started: dict[str, float] = {}
    lock = threading.Lock()

    def post(k: int) -> None:
        body = prediction(trigger, mints[k], f"lat-{k}")
        with lock:
            started[body["id"]] = time.time()
        requests.post(base + "/api/predictions", json=body, timeout=30, headers=AUTH).raise_for_status()

    threads = []
    for k in range(len(mints)):
        thread = threading.Thread(target=post, args=(k,))
        thread.start()
        threads.append(thread)
        time.sleep(1 / rate)
    for thread in threads:
        thread.join()
    rows = wait_all_final(db_url, "lat-%", len(mints))
    filled = [row for row in rows if row["state"] == "FILLED"]
    sent = [(row["sent_at"].timestamp() - started[row["client_id"]]) * 1000 for row in filled]
    done = [(row["finished_at"].timestamp() - started[row["client_id"]]) * 1000 for row in filled]
    if not filled:
        raise RuntimeError(f"no order FILLED: {rows[:3]}")
    return {"predictions": len(mints), "rate_per_s": rate, "filled": len(filled),
            "sent_p50_ms": round(percentile(sent, 50), 1), "sent_p99_ms": round(percentile(sent, 99), 1),
            "sent_max_ms": round(max(sent), 1), "filled_p50_ms": round(percentile(done, 50), 1),
            "filled_p99_ms": round(percentile(done, 99), 1), "phases_p50_ms": phases(filled, started)}


def phases(filled: list[dict], started: dict[str, float]) -> dict:
    """Median ms of each leg: POST → order reserved (PENDING), reserved → SENT, SENT → FILLED."""
    def p50(pairs: list[float]) -> float:
        return round(percentile(pairs, 50), 1)
    return {"post_to_reserved": p50([(r["created_at"].timestamp() - started[r["client_id"]]) * 1000 for r in filled]),
            "reserved_to_sent": p50([(r["sent_at"] - r["created_at"]).total_seconds() * 1000 for r in filled]),
            "sent_to_filled": p50([(r["finished_at"] - r["sent_at"]).total_seconds() * 1000 for r in filled])}


ROWS = """SELECT p.client_id, p.status AS prediction_status, p.received_at, o.state, o.created_at, o.sent_at,
                 o.finished_at, o.error
          FROM predictions p LEFT JOIN orders o ON o.prediction_id = p.id
          WHERE p.client_id LIKE %s"""


def wait_all_final(db_url: str, pattern: str, count: int, timeout: float = 180) -> list[dict]:
    """The predictions matching `pattern` with their orders, once all are evaluated and every order is final."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row, autocommit=True) as conn:
        while True:
            rows = conn.execute(ROWS, (pattern,)).fetchall()
            done = [r for r in rows if r["prediction_status"] != "PENDING"
                    and (r["state"] is None or r["state"] in FINAL_STATES)]
            if len(done) >= count:
                return rows
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(done)}/{count} predictions with final orders in {timeout}s")
            time.sleep(0.1)


def measure_throughput(base: str, db_url: str, trigger: int, mints: list[str], batch_size: int) -> dict:
    """All predictions at once, as concurrent POSTs of `batch_size` (each POST is one evaluation job);
    FILLED orders per second from the first receipt to the last finished_at."""
    bodies = [prediction(trigger, mint, f"tp-{k}") for k, mint in enumerate(mints)]
    threads = [threading.Thread(target=lambda batch: requests.post(
        base + "/api/predictions", json=batch, timeout=60, headers=AUTH).raise_for_status(),
        args=(bodies[start:start + batch_size],)) for start in range(0, len(bodies), batch_size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = wait_all_final(db_url, "tp-%", len(mints))
    filled = [row for row in rows if row["state"] == "FILLED"]
    if not filled:
        raise RuntimeError(f"no order FILLED: {rows[:3]}")
    seconds = (max(r["finished_at"] for r in filled) - min(r["received_at"] for r in rows)).total_seconds()
    return {"predictions": len(mints), "batch_size": batch_size, "filled": len(filled),
            "all_filled": len(filled) == len(mints),
            "not_filled": sorted({f"{r['state']}: {r['error']}" for r in rows if r["state"] != "FILLED"})[:5],
            "seconds": round(seconds, 2), "filled_per_s": round(len(filled) / seconds, 1),
            "mean_orders_in_flight": round(sum((r["finished_at"] - r["created_at"]).total_seconds()
                                               for r in filled) / seconds, 2)}


def chain_calls(world: Market, orders: int) -> dict:
    """RPC calls per method and Jupiter requests, per order."""
    methods: dict[str, int] = {}
    for method, _ in list(world.rpc.calls):
        methods[method] = methods.get(method, 0) + 1
    return {"rpc_per_order": {m: round(n / orders, 2) for m, n in sorted(methods.items())},
            "jupiter_gets_per_order": round(len(world.jupiter.requests) / orders, 2),
            "jupiter_swaps": len(world.jupiter.swaps)}


def exactly_once(db_url: str, world: Market) -> dict:
    """The wallet's SOL and tokens on chain against its orders and OPEN positions."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        wallet_id = conn.execute("SELECT id FROM wallets WHERE alias = %s", (ALIAS,)).fetchone()[0]
        change, orders = conn.execute("SELECT coalesce(sum(sol_change_lamports), 0), count(*) FROM orders "
                                      "WHERE wallet_id = %s", (wallet_id,)).fetchone()
        held = dict(conn.execute("SELECT mint, sum(tokens_raw) FROM positions WHERE wallet_id = %s "
                                 "AND status = 'OPEN' GROUP BY mint", (wallet_id,)).fetchall())
    mismatches = [f"{pool.mint}: chain {world.tokens(pool)} != positions {int(held.get(str(pool.mint), 0))}"
                  for pool in world.pools if world.tokens(pool) != int(held.get(str(pool.mint), 0))]
    expected = WALLET_LAMPORTS + int(change)
    return {"orders": orders, "open_positions_mints": len(held), "chain_lamports": world.lamports(),
            "expected_lamports": expected, "token_mismatches": mismatches,
            "ok": world.lamports() == expected and not mismatches}


def run(workers: int, args) -> dict:
    """One chain world and one stack with `workers` worker processes: latency, throughput, exactly-once check."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-real-") as tmp, \
            market(args.tokens, args.landing_blocks) as world:
        stack = Stack({"DATA_DIR": str(Path(tmp) / "data"), "PRICE_SOURCE": "jupiter",
                       "JUPITER_BASE_URL": world.jupiter.base_url, "SOLANA_RPC_URL": world.rpc.url,
                       "WALLET_ENCRYPTION_KEY": Fernet.generate_key().decode(), "JUPITER_RATE_LIMIT_PER_MIN": "100000",
                       "WORKER_PROCESSES": str(workers), "SELL_CHECK_INTERVAL_SECONDS": "3600",
                       "LOG_LEVEL": "WARNING", **UNLIMITED}, Path(tmp) / "stack.log")
        try:
            stack.wait_ready()
            AUTH.update(stack.headers)
            trigger = setup(stack.base_url, world)
            mints = world.mints
            progress(f"[{workers} worker(s)] latency: {args.latency_count} predictions at {args.rate}/s ...")
            latency = measure_latency(stack.base_url, stack.db_url, trigger, mints[:args.latency_count], args.rate)
            progress(f"[{workers} worker(s)] throughput: {args.throughput_count} predictions at once "
                     f"(POSTs of {args.batch_size}) ...")
            throughput = measure_throughput(stack.base_url, stack.db_url, trigger,
                                            mints[args.latency_count:args.latency_count + args.throughput_count],
                                            args.batch_size)
            check = exactly_once(stack.db_url, world)
            progress(f"[{workers} worker(s)] exactly once: {'OK' if check['ok'] else 'MISMATCH'} {check}")
            calls = chain_calls(world, max(1, check["orders"]))
        finally:
            stack.stop()
    return {"workers": workers, "latency": latency, "throughput": throughput, "exactly_once": check, "calls": calls}


def print_table(runs: list[dict]) -> None:
    """The markdown table of the runs."""
    print("\n| workers | → sent p50 ms | → sent p99 ms | → sent max ms | → FILLED p50 ms | → FILLED p99 ms "
          "| (at rate/s) | FILLED orders/s (batch, POSTs of n) | filled | exactly once |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        lat, thr = r["latency"], r["throughput"]
        print(f"| {r['workers']} | {lat['sent_p50_ms']} | {lat['sent_p99_ms']} | {lat['sent_max_ms']} | "
              f"{lat['filled_p50_ms']} | {lat['filled_p99_ms']} | {lat['rate_per_s']} | "
              f"{thr['filled_per_s']} ({thr['predictions']}, n={thr['batch_size']}) | "
              f"{lat['filled'] + thr['filled']}/{lat['predictions'] + thr['predictions']} | "
              f"{'OK' if r['exactly_once']['ok'] else 'MISMATCH'} |")


def main() -> None:
    """Run with one and with two workers; print the table; exit non-zero unless every run passed its checks."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=120, help="listed tokens (pools) on the local chain")
    parser.add_argument("--latency-count", type=int, default=40)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--throughput-count", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=10,
                        help="predictions per POST in the throughput batch (one evaluation job per POST)")
    parser.add_argument("--landing-blocks", type=int, default=0,
                        help="a sent transaction lands this many blocks later (each RPC send/status call is a block)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    needed = args.latency_count + args.throughput_count
    if needed > min(args.tokens, MAX_OPEN_POSITIONS):
        sys.exit(f"at most {min(args.tokens, MAX_OPEN_POSITIONS)} predictions (each buys a new mint once)")
    load = os.getloadavg()
    runs = [run(workers, args) for workers in args.workers]
    results = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
               "load_average_at_start": [round(x, 2) for x in load], "tokens": args.tokens,
               "buy_sol": BUY_SOL, "landing_blocks": args.landing_blocks, "price_source": "jupiter (local fake)",
               "chain": "LiteSVM LocalChain behind a local JSON-RPC node (1 block per send/status call)",
               "runs": runs}
    path = write_results("real_orders", results)
    print_table(runs)
    print(f"\nwritten to {path}")
    failed = [r["workers"] for r in runs if not (r["exactly_once"]["ok"] and r["throughput"]["all_filled"]
                                                and r["latency"]["filled"] == r["latency"]["predictions"])]
    if failed:
        sys.exit(f"checks failed for workers={failed}: see {path}")


if __name__ == "__main__":
    main()
