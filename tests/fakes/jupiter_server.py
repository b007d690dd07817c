"""A local Jupiter-shaped quote server for tests: exact Decimal prices, injectable failures and delays.

Only SOL <-> token pairs are routed; token <-> token answers COULD_NOT_FIND_ANY_ROUTE. `/price/v3?ids=…` answers
Price API v3's shape: every known, priced mint keyed by itself with its `usdPrice` (SOL at `sol_usd`).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.pricing.jupiter import SOL_MINT
from tests.fakes.loopback import LoopbackServer

API_PREFIX = "/swap/v1"
PRICE_PATH = "/price/v3"
LAMPORTS_PER_SOL = 10**9
MALFORMED_BODY = b'{"inputMint": "So1111, "outAmount": '

Answer = tuple[int, bytes, dict[str, str]]
Received = tuple[str, dict[str, str], dict[str, str]]


@dataclass(frozen=True)
class _Token:
    price_sol: Decimal
    decimals: int


def _json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return status, json.dumps(body).encode(), dict(headers or {})


def _floor(value_of: Any) -> int:
    """floor() of a Decimal expression computed with 100 significant digits (exact for test-sized numbers)."""
    with localcontext() as ctx:
        ctx.prec = 100
        ctx.rounding = ROUND_FLOOR
        return int(value_of().to_integral_value(rounding=ROUND_FLOOR))


def tokens_out(lamports: int, price_sol: Decimal, decimals: int) -> int:
    """Raw token units bought with `lamports` when one whole token costs `price_sol` SOL, rounded down."""
    return _floor(lambda: Decimal(lamports) * 10**decimals / (LAMPORTS_PER_SOL * price_sol))


def lamports_out(raw_tokens: int, price_sol: Decimal, decimals: int) -> int:
    """Lamports received for `raw_tokens` when one whole token costs `price_sol` SOL, rounded down."""
    return _floor(lambda: Decimal(raw_tokens) / 10**decimals * price_sol * LAMPORTS_PER_SOL)


class FakeJupiter(LoopbackServer):
    """A Jupiter quote API on 127.0.0.1 whose prices and failures the test controls while it runs."""

    handler_class: type[BaseHTTPRequestHandler]  # set below the handler's definition
    thread_name = "fake-jupiter"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._no_route: set[str] = set()
        self._canned: deque[Answer] = deque()
        self._delays: deque[tuple[float, threading.Event]] = deque()  # (at most seconds, the event ending the wait)
        self._api_key: str | None = None
        self._unpriced: set[str] = set()
        self.sol_usd = Decimal("150")
        self.requests: list[Received] = []

    @property
    def base_url(self) -> str:
        """The API root to give the client, like https://api.jup.ag/swap/v1."""
        return self.origin + API_PREFIX

    def set_price(self, mint: str, price_sol: Decimal, decimals: int) -> None:
        """Make `mint` tradable against SOL: one whole token costs `price_sol` SOL."""
        if not isinstance(price_sol, Decimal) or price_sol <= 0:
            raise ValueError("price_sol must be a positive Decimal")
        with self._lock:
            self._tokens[mint] = _Token(price_sol, decimals)
            self._no_route.discard(mint)

    @property
    def price_url(self) -> str:
        """The Price API v3 URL to give the client, like https://api.jup.ag/price/v3."""
        return self.origin + PRICE_PATH

    def set_unpriced(self, mint: str) -> None:
        """Leave `mint` out of Price API answers (Jupiter's "no reliable price"), quotes unchanged."""
        with self._lock:
            self._unpriced.add(mint)

    def set_no_route(self, mint: str) -> None:
        """Answer COULD_NOT_FIND_ANY_ROUTE for every quote involving `mint`."""
        with self._lock:
            self._no_route.add(mint)

    def fail_next(self, status: int, body: dict[str, Any] | None = None, times: int = 1,
                  headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` requests with `status` and `body` (a generic error body by default)."""
        answer = _json_answer(status, body if body is not None else {"error": f"injected HTTP {status}"}, headers)
        with self._lock:
            self._canned.extend([answer] * times)

    def malformed_next(self, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP 200 and truncated JSON."""
        with self._lock:
            self._canned.extend([(200, MALFORMED_BODY, {})] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before answering each of the next `times` requests."""
        with self._lock:
            self._delays.extend((seconds, threading.Event()) for _ in range(times))

    def hold_next(self, seconds: float) -> threading.Event:
        """Hold the next request until the returned event is set, at most `seconds`; then answer it as usual."""
        release = threading.Event()
        with self._lock:
            self._delays.append((seconds, release))
        return release

    def require_api_key(self, key: str | None) -> None:
        """Answer 401 unless the request carries `x-api-key: key` (None: no key needed)."""
        with self._lock:
            self._api_key = key

    def answer(self, raw_path: str, headers: dict[str, str]) -> Answer:
        """The response to one GET: recorded, delayed, canned or computed from the prices."""
        parts = urlsplit(raw_path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        injected = self.injected_answer(parts.path, query, headers)
        if injected is not None:
            return injected
        if parts.path == PRICE_PATH:
            return self._prices(query.get("ids", ""))
        if parts.path != f"{API_PREFIX}/quote":
            return _json_answer(404, {"error": f"Route GET:{parts.path} not found"})
        return self._quote(query)

    def _prices(self, ids: str) -> Answer:
        mints = [mint for mint in ids.split(",") if mint]
        if not mints or len(mints) > 50:
            return _json_answer(400, {"error": "ids: between 1 and 50 mints"})
        with self._lock:
            known = {mint: self._tokens[mint] for mint in mints
                     if mint in self._tokens and mint not in self._unpriced}
            sol_usd = self.sol_usd
        body: dict[str, Any] = {mint: {"usdPrice": float(token.price_sol * sol_usd), "decimals": token.decimals,
                                       "blockId": 348004023, "liquidity": 1_000_000.0, "priceChange24h": 0.0}
                                for mint, token in known.items()}
        if SOL_MINT in mints:
            body[SOL_MINT] = {"usdPrice": float(sol_usd), "decimals": 9, "blockId": 348004023}
        return _json_answer(200, body)

    def injected_answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer | None:
        """Record a request, wait out its injected delay or hold; the canned or 401 answer it gets, if any."""
        with self._lock:
            self.requests.append((path, query, headers))
            delay, release = self._delays.popleft() if self._delays else (0.0, None)
            canned = self._canned.popleft() if self._canned else None
            api_key = self._api_key
        if release is not None:
            release.wait(delay)
        if canned is not None:
            return canned
        if api_key is not None and headers.get("x-api-key") != api_key:
            return _json_answer(401, {"error": "Unauthorized: missing or invalid x-api-key"})
        return None

    def _quote(self, query: dict[str, str]) -> Answer:
        amount, slippage = query.get("amount", ""), query.get("slippageBps", "50")
        if not (amount.isdecimal() and int(amount) > 0 and slippage.isdecimal()):
            return _json_answer(400, {"error": "amount and slippageBps must be positive integers",
                                      "errorCode": "INVALID_REQUEST"})
        input_mint, output_mint = query.get("inputMint", ""), query.get("outputMint", "")
        refusal = self._refusal(input_mint, output_mint)
        if refusal is not None:
            return refusal
        with self._lock:
            token = self._tokens[output_mint if input_mint == SOL_MINT else input_mint]
        if input_mint == SOL_MINT:
            out = tokens_out(int(amount), token.price_sol, token.decimals)
        else:
            out = lamports_out(int(amount), token.price_sol, token.decimals)
        return _json_answer(200, _quote_body(input_mint, output_mint, int(amount), out, int(slippage)))

    def _refusal(self, input_mint: str, output_mint: str) -> Answer | None:
        with self._lock:
            no_route = {input_mint, output_mint} & self._no_route
            unknown = [m for m in (input_mint, output_mint) if m != SOL_MINT and m not in self._tokens]
        if no_route:
            return _json_answer(400, {"error": "Could not find any route", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"})
        if unknown:
            return _json_answer(400, {"error": f"The token {unknown[0]} is not tradable",
                                      "errorCode": "TOKEN_NOT_TRADABLE"})
        if (input_mint == SOL_MINT) == (output_mint == SOL_MINT):
            return _json_answer(400, {"error": "Could not find any route", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"})
        return None


def _quote_body(input_mint: str, output_mint: str, in_amount: int, out_amount: int, slippage: int) -> dict[str, Any]:
    threshold = out_amount * (10_000 - slippage) // 10_000
    return {
        "inputMint": input_mint, "inAmount": str(in_amount), "outputMint": output_mint, "outAmount": str(out_amount),
        "otherAmountThreshold": str(threshold), "swapMode": "ExactIn", "slippageBps": slippage,
        "platformFee": None, "priceImpactPct": "0",
        "routePlan": [{"swapInfo": {"ammKey": "FakeAmm111", "label": "FakeJupiter", "inputMint": input_mint,
                                    "outputMint": output_mint, "inAmount": str(in_amount),
                                    "outAmount": str(out_amount), "feeAmount": "0", "feeMint": input_mint},
                       "percent": 100}],
        "contextSlot": 1, "timeTaken": 0.001,
    }


class _Handler(BaseHTTPRequestHandler):
    """Hands each GET to the FakeJupiter attached to the server."""

    def do_GET(self) -> None:
        """Answer one request."""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, body, extra = self.server.fake.answer(self.path, headers)  # type: ignore[attr-defined]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (timeout tests)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


FakeJupiter.handler_class = _Handler
