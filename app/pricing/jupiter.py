"""Jupiter Swap API v1 quotes and swap transactions, and Price API v3 batched prices: typed results and typed
errors, rate limited (one shared budget) and retried."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import requests

from app.pricing.ratelimit import RateLimitWaitTooLong, SharedRateLimiter

if TYPE_CHECKING:
    from app.config import Config

SOL_MINT = "So11111111111111111111111111111111111111112"
DEFAULT_BASE_URL = "https://api.jup.ag/swap/v1"
DEFAULT_PRICE_URL = "https://api.jup.ag/price/v3"
PRICE_BATCH = 50  # ids per Price API request (SOL's own included, to convert USD prices to SOL)
LIMITER_KEY = "jupiter:ratelimit"
MAX_RETRY_AFTER_SECONDS = 60.0
MAX_SLIPPAGE_BPS = 10_000


class JupiterErrorCode(StrEnum):
    """`errorCode` values the client maps to typed errors."""

    COULD_NOT_FIND_ANY_ROUTE = "COULD_NOT_FIND_ANY_ROUTE"
    NO_ROUTES_FOUND = "NO_ROUTES_FOUND"
    ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT = "ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT"
    TOKEN_NOT_TRADABLE = "TOKEN_NOT_TRADABLE"


class JupiterError(Exception):
    """Jupiter refused the quote: do not trade on it; `error_code` and `status` say why when known."""

    def __init__(self, message: str, error_code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.error_code = error_code
        self.status = status


class NoRouteError(JupiterError):
    """No swap route exists for this pair and amount right now: skip it, maybe try later or smaller."""


class NotTradableError(JupiterError):
    """Jupiter does not trade this token: stop quoting it."""


class RateLimitedError(JupiterError):
    """Out of request budget (HTTP 429 after retries, or the local limiter): try again after `retry_after`."""

    def __init__(self, message: str, error_code: str | None = None, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message, error_code, status)
        self.retry_after = retry_after


class JupiterUnavailableError(JupiterError):
    """Jupiter could not be reached or answered nonsense (timeout, 5xx, bad JSON): try again later."""


_CODE_ERRORS: dict[str, type[JupiterError]] = {
    JupiterErrorCode.COULD_NOT_FIND_ANY_ROUTE: NoRouteError,
    JupiterErrorCode.NO_ROUTES_FOUND: NoRouteError,
    JupiterErrorCode.ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT: NoRouteError,
    JupiterErrorCode.TOKEN_NOT_TRADABLE: NotTradableError,
}


@dataclass(frozen=True)
class JupiterQuote:
    """An ExactIn quote in raw units (lamports for SOL), with Jupiter's whole answer in `raw`."""

    input_mint: str
    output_mint: str
    in_amount: int
    out_amount: int
    other_amount_threshold: int
    slippage_bps: int
    price_impact_pct: Decimal
    raw: dict[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class SwapTransaction:
    """Jupiter's unsigned swap transaction for a quote, and what it said about it.

    `simulation_error` is Jupiter's simulationError as JSON text when it set one: do not send the transaction.
    """

    transaction: bytes
    last_valid_block_height: int
    priority_fee_lamports: int
    simulation_error: str | None
    compute_unit_limit: int | None = None


class _Retry(Exception):
    """An attempt failed in a way worth retrying; `error` is raised when retries run out."""

    def __init__(self, error: JupiterError, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class JupiterClient:
    """Swap quotes from Jupiter, within a shared rate limit, retrying 429s and transient failures."""

    def __init__(self, base_url: str, api_key: str | None, limiter: SharedRateLimiter | None = None,
                 session: requests.Session | None = None, timeout: float = 5.0, max_retries: int = 3,
                 backoff_seconds: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 max_limiter_wait: float = 10.0, price_url: str = DEFAULT_PRICE_URL):
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self._base_url = base_url.rstrip("/")
        self._price_url = price_url.rstrip("/")
        self._headers = {"Accept": "application/json", **({"x-api-key": api_key} if api_key else {})}
        self._limiter = limiter
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._max_limiter_wait = max_limiter_wait

    def quote(self, input_mint: str, output_mint: str, amount: int, slippage_bps: int = 50) -> JupiterQuote:
        """The ExactIn quote for swapping `amount` raw units of input_mint into output_mint."""
        params = _quote_params(input_mint, output_mint, amount, slippage_bps)
        return _parse_quote(self._request_json("GET", "/quote", params=params))

    def prices(self, mints: Sequence[str]) -> dict[str, Decimal]:
        """SOL per whole token of each mint with a reliable price (Price API v3, at most 49 mints and SOL a request,
        each request within the shared rate limit); mints without one are absent."""
        wanted = list(dict.fromkeys(mint for mint in mints if mint != SOL_MINT))
        found: dict[str, Decimal] = {SOL_MINT: Decimal(1)} if SOL_MINT in mints else {}
        for start in range(0, len(wanted), PRICE_BATCH - 1):
            batch = wanted[start:start + PRICE_BATCH - 1]
            answer = self._request_json("GET", "", params={"ids": ",".join([*batch, SOL_MINT])},
                                        url=self._price_url)
            found.update(sol_prices(answer, batch))
        return found

    def swap(self, quote: JupiterQuote, user_public_key: str, priority_level: str,
             max_priority_lamports: int) -> SwapTransaction:
        """The unsigned swap transaction for `quote`, paid and signed by `user_public_key`.

        Asking for it sends nothing on chain, so it is retried like a quote. The priority fee is Jupiter's
        estimate at `priority_level`, capped at `max_priority_lamports`.
        """
        if not user_public_key:
            raise ValueError("user_public_key is required")
        if isinstance(max_priority_lamports, bool) or not isinstance(max_priority_lamports, int) \
                or max_priority_lamports < 0:
            raise ValueError(f"max_priority_lamports must be a non-negative integer, got {max_priority_lamports!r}")
        body = {"quoteResponse": quote.raw, "userPublicKey": user_public_key, "wrapAndUnwrapSol": True,
                "dynamicComputeUnitLimit": True,
                "prioritizationFeeLamports": {"priorityLevelWithMaxLamports": {
                    "priorityLevel": str(priority_level), "maxLamports": max_priority_lamports}}}
        return _parse_swap(self._request_json("POST", "/swap", body=body))

    def _request_json(self, method: str, path: str, params: dict[str, str] | None = None,
                      body: dict[str, Any] | None = None, url: str | None = None) -> Any:
        """The JSON answer to a request (to `url` + path, default the Swap API's root), after taking a rate-limit
        slot for each attempt and retrying."""
        retry: _Retry | None = None
        for attempt in range(self._max_retries + 1):
            if retry is not None:
                self._sleep(self._backoff(attempt, retry.retry_after))
            self._take_slot()
            try:
                return self._attempt(method, (url or self._base_url) + path, params, body)
            except _Retry as exc:
                retry = exc
        assert retry is not None
        raise retry.error

    def _attempt(self, method: str, url: str, params: dict[str, str] | None, body: dict[str, Any] | None) -> Any:
        """One HTTP request; _Retry for failures worth retrying, JupiterError for final ones."""
        try:
            response = self._session.request(method, url, params=params, json=body,
                                             headers=self._headers, timeout=self._timeout)
        except requests.Timeout as exc:
            raise _Retry(JupiterUnavailableError(f"Jupiter did not answer within {self._timeout}s")) from exc
        except requests.RequestException as exc:
            raise _Retry(JupiterUnavailableError(f"cannot reach Jupiter: {exc}")) from exc
        return _read_response(response)

    def _take_slot(self) -> None:
        """Wait for the shared rate limiter, if any; RateLimitedError when the wait would be too long."""
        if self._limiter is None:
            return
        try:
            self._limiter.acquire(self._max_limiter_wait)
        except RateLimitWaitTooLong as exc:
            raise RateLimitedError(f"Jupiter request budget used up locally: next slot in {exc.wait_seconds:.1f}s",
                                   retry_after=exc.wait_seconds) from exc

    def _backoff(self, retry_number: int, retry_after: float | None) -> float:
        """Seconds to sleep before retry number `retry_number` (1-based)."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_SECONDS)
        return self._backoff_seconds * 2 ** (retry_number - 1)


def sol_prices(answer: Any, mints: Sequence[str]) -> dict[str, Decimal]:
    """SOL per whole token from a Price API v3 answer (keyed by mint, `usdPrice` in USD): usdPrice(mint) /
    usdPrice(SOL). A mint absent from the answer, or with a missing, zero or unreadable price, is left out; without
    SOL's own price nothing can be converted and every mint is left out."""
    sol = _usd_price(answer, SOL_MINT)
    if sol is None:
        return {}
    prices = {mint: _usd_price(answer, mint) for mint in mints}
    return {mint: usd / sol for mint, usd in prices.items() if usd is not None}


def _usd_price(answer: Any, mint: str) -> Decimal | None:
    """A mint's positive usdPrice from the answer, as an exact Decimal (None: absent or not a positive number)."""
    entry = answer.get(mint) if isinstance(answer, dict) else None
    value = entry.get("usdPrice") if isinstance(entry, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        return None
    return price if price.is_finite() and price > 0 else None


def _quote_params(input_mint: str, output_mint: str, amount: int, slippage_bps: int) -> dict[str, str]:
    """Query parameters of a quote request, refusing amounts and slippage Jupiter would reject."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"amount must be a positive integer of raw units, got {amount!r}")
    if isinstance(slippage_bps, bool) or not isinstance(slippage_bps, int) or not 0 <= slippage_bps <= MAX_SLIPPAGE_BPS:
        raise ValueError(f"slippage_bps must be an integer between 0 and {MAX_SLIPPAGE_BPS}, got {slippage_bps!r}")
    if not input_mint or not output_mint:
        raise ValueError("input_mint and output_mint are required")
    return {"inputMint": input_mint, "outputMint": output_mint, "amount": str(amount),
            "slippageBps": str(slippage_bps), "swapMode": "ExactIn", "restrictIntermediateTokens": "true"}


def _read_response(response: requests.Response) -> Any:
    """The JSON of a 200 answer; _Retry for 429 and 5xx; a typed JupiterError otherwise."""
    status = response.status_code
    if status == 429:
        retry_after = _retry_after(response)
        error = RateLimitedError("Jupiter rate limit hit (HTTP 429) and retries ran out",
                                 status=status, retry_after=retry_after)
        raise _Retry(error, retry_after)
    if status >= 500:
        raise _Retry(JupiterUnavailableError(f"Jupiter server error HTTP {status}", status=status))
    if status != 200:
        raise _client_error(response)
    try:
        return response.json()
    except ValueError:
        raise JupiterUnavailableError("Jupiter answered with malformed JSON", status=status) from None


def _client_error(response: requests.Response) -> JupiterError:
    """The typed error for a 4xx answer, from its `errorCode`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    code = body.get("errorCode")
    code = str(code) if code is not None else None
    message = body.get("error") or body.get("message") or response.text[:200] or response.reason
    error_class = _CODE_ERRORS.get(code or "", JupiterError)
    suffix = f" [{code}]" if code else ""
    request = getattr(response, "request", None)
    what = "swap" if getattr(request, "method", None) == "POST" else "quote"
    return error_class(f"Jupiter refused the {what} (HTTP {response.status_code}){suffix}: {message}",
                       error_code=code, status=response.status_code)


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None when absent or unreadable."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if seconds == seconds else None


def _parse_quote(data: Any) -> JupiterQuote:
    """A JupiterQuote from Jupiter's JSON; JupiterUnavailableError when a field is missing or not a number."""
    if not isinstance(data, dict):
        raise JupiterUnavailableError(f"Jupiter quote is not a JSON object: {str(data)[:100]}")
    try:
        impact = Decimal(str(data.get("priceImpactPct") or "0"))
        if not impact.is_finite():
            raise ValueError(f"priceImpactPct={impact}")
        return JupiterQuote(input_mint=str(data["inputMint"]), output_mint=str(data["outputMint"]),
                     in_amount=_raw_units(data["inAmount"]), out_amount=_raw_units(data["outAmount"]),
                     other_amount_threshold=_raw_units(data["otherAmountThreshold"]),
                     slippage_bps=_raw_units(data["slippageBps"]), price_impact_pct=impact, raw=data)
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise JupiterUnavailableError(f"Jupiter quote is malformed: {exc!r}") from exc


def _parse_swap(data: Any) -> SwapTransaction:
    """A SwapTransaction from Jupiter's /swap JSON; JupiterUnavailableError when it is malformed."""
    if not isinstance(data, dict):
        raise JupiterUnavailableError(f"Jupiter swap answer is not a JSON object: {str(data)[:100]}")
    try:
        transaction = base64.b64decode(data["swapTransaction"], validate=True)
        if not transaction:
            raise ValueError("empty swapTransaction")
        limit = data.get("computeUnitLimit")
        return SwapTransaction(transaction=transaction,
                               last_valid_block_height=_raw_units(data["lastValidBlockHeight"]),
                               priority_fee_lamports=_raw_units(data.get("prioritizationFeeLamports") or 0),
                               simulation_error=_simulation_error(data.get("simulationError")),
                               compute_unit_limit=None if limit is None else _raw_units(limit))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:  # binascii.Error: bad base64
        raise JupiterUnavailableError(f"Jupiter swap answer is malformed: {exc!r}") from exc


def _simulation_error(value: Any) -> str | None:
    """Jupiter's simulationError as JSON text, or None when it did not set one."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True)


def _raw_units(value: Any) -> int:
    """A non-negative integer from a decimal-digit string (Jupiter's format) or a JSON integer."""
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"not a non-negative integer amount: {value!r}")


def from_config(config: Config, redis_client: Any) -> JupiterClient:
    """A client for the configured Jupiter URL and key, limited through Redis when a client is given."""
    limiter = None
    if redis_client is not None:
        limiter = SharedRateLimiter(redis_client, LIMITER_KEY, config.jupiter_rate_limit_per_min)
    return JupiterClient(config.jupiter_base_url, config.jupiter_api_key, limiter=limiter,
                         price_url=config.jupiter_price_url)
