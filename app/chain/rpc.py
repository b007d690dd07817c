"""A small Solana JSON-RPC client over `requests`, with errors named by what the caller does.

ChainUnavailable: the node could not answer (network, timeout, 5xx, 429, garbage) — try again later.
ChainRefused: the node answered with a JSON-RPC error (bad params, unknown account) — retrying will not help.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import requests

DEFAULT_TIMEOUT_SECONDS = 10.0


class ChainError(Exception):
    """A chain call that did not produce a result."""


class ChainUnavailable(ChainError):
    """The RPC node could not be reached or did not answer properly: retry later."""


class ChainRefused(ChainError):
    """The RPC node refused the request (a JSON-RPC error): retrying the same call will not help."""

    def __init__(self, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(f"RPC error {code}: {message}")
        self.code = code
        self.data = data

    @property
    def already_processed(self) -> bool:
        """Whether the node refused a send because it already processed that very transaction."""
        err = self.data.get("err") if isinstance(self.data, dict) else None
        return err == "AlreadyProcessed" or "already been processed" in str(self).lower()


class SolanaRpcClient:
    """JSON-RPC calls to one Solana node at `url`, read at `commitment`."""

    def __init__(self, url: str, commitment: str = "confirmed", timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 session: requests.Session | None = None) -> None:
        self.url = url
        self.commitment = commitment
        self.timeout = timeout
        self._session = session or requests.Session()
        self._ids = itertools.count(1)

    def call(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call's result; ChainUnavailable or ChainRefused otherwise."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        try:
            response = self._session.post(self.url, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            raise ChainUnavailable(f"{method}: RPC node unreachable ({type(error).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise ChainUnavailable(f"{method}: RPC node answered HTTP {response.status_code}")
        return _result(method, response)

    def get_balance(self, pubkey: str) -> int:
        """The account's SOL balance in lamports."""
        value = _value(self.call("getBalance", pubkey, {"commitment": self.commitment}), "getBalance")
        return _int(value, "getBalance")

    def get_block_height(self) -> int:
        """The node's current block height."""
        return _int(self.call("getBlockHeight", {"commitment": self.commitment}), "getBlockHeight")

    def get_latest_blockhash(self) -> tuple[str, int]:
        """(blockhash, last valid block height) of the latest block."""
        value = _value(self.call("getLatestBlockhash", {"commitment": self.commitment}), "getLatestBlockhash")
        if not isinstance(value, dict) or not isinstance(value.get("blockhash"), str):
            raise ChainUnavailable("getLatestBlockhash: RPC node answered an unexpected shape")
        return value["blockhash"], _int(value.get("lastValidBlockHeight"), "getLatestBlockhash")

    def get_token_account_balance(self, token_account: str) -> tuple[int, int]:
        """(raw amount, decimals) of an SPL token account."""
        method = "getTokenAccountBalance"
        value = _value(self.call(method, token_account, {"commitment": self.commitment}), method)
        amount = value.get("amount") if isinstance(value, dict) else None
        if not isinstance(amount, str) or not amount.isdigit():
            raise ChainUnavailable(f"{method}: RPC node answered an unexpected shape")
        return int(amount), _int(value.get("decimals"), method)

    def send_transaction(self, raw: bytes) -> str:
        """Hand signed wire bytes to the node once (no preflight, no node retries); the signature it reports.

        ChainUnavailable does not mean the transaction was not received: look for its signature before giving up.
        """
        options = {"encoding": "base64", "skipPreflight": True, "maxRetries": 0,
                   "preflightCommitment": self.commitment}
        signature = self.call("sendTransaction", base64.b64encode(raw).decode(), options)
        if not isinstance(signature, str) or not signature:
            raise ChainUnavailable("sendTransaction: RPC node answered an unexpected shape")
        return signature

    def signature_status(self, signature: str) -> dict[str, Any] | None:
        """The signature's status (slot, err, confirmationStatus...) searching history; None when unknown."""
        method = "getSignatureStatuses"
        value = _value(self.call(method, [signature], {"searchTransactionHistory": True}), method)
        if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict | None):
            raise ChainUnavailable(f"{method}: RPC node answered an unexpected shape")
        return value[0]

    def get_transaction(self, signature: str) -> dict[str, Any] | None:
        """The landed transaction with its meta (json encoding, v0 aware) at the commitment; None when not found."""
        commitment = "confirmed" if self.commitment == "processed" else self.commitment  # the node refuses processed
        result = self.call("getTransaction", signature, {"encoding": "json", "commitment": commitment,
                                                         "maxSupportedTransactionVersion": 0})
        if result is not None and not isinstance(result, dict):
            raise ChainUnavailable("getTransaction: RPC node answered an unexpected shape")
        return result


def _result(method: str, response: requests.Response) -> Any:
    """The result of a JSON-RPC answer; its error as ChainRefused; anything else ChainUnavailable."""
    try:
        answer = response.json()
    except ValueError:
        raise ChainUnavailable(f"{method}: RPC node answered HTTP {response.status_code} without JSON") from None
    if not isinstance(answer, dict):
        raise ChainUnavailable(f"{method}: RPC node answered an unexpected JSON shape")
    if "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        raise ChainRefused(error.get("code"), str(error.get("message", "unknown error"))[:300], error.get("data"))
    if "result" not in answer:
        raise ChainUnavailable(f"{method}: RPC node answered without a result")
    return answer["result"]


def _value(result: Any, method: str) -> Any:
    """The `value` of an RPC answer with a context."""
    if not isinstance(result, dict) or "value" not in result:
        raise ChainUnavailable(f"{method}: RPC node answered an unexpected shape")
    return result["value"]


def _int(value: Any, method: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ChainUnavailable(f"{method}: RPC node answered a non-integer")
    return value
