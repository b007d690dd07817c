"""A Solana JSON-RPC node on 127.0.0.1 in front of a LocalChain: the subset a swap client uses, in real RPC shapes.

Methods: getLatestBlockhash, getBlockHeight, getSlot, sendTransaction, getSignatureStatuses, getTransaction
(json, jsonParsed, base64), getBalance, getTokenAccountBalance, getAccountInfo (base64, jsonParsed).
By default each sendTransaction and getSignatureStatuses call produces one block after answering (time passes
while a client polls); `blocks_per_call=0` leaves the height to `chain.advance_blocks`.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from solders.pubkey import Pubkey
from solders.token import ID as TOKEN_PROGRAM_ID

from tests.fakes import spl_token
from tests.fakes.loopback import LoopbackServer
from tests.fakes.solana_chain import Landed, LocalChain, RpcError, ui_token_amount

ADVANCING_METHODS = frozenset({"sendTransaction", "getSignatureStatuses"})


class SolanaRpc(LoopbackServer):
    """JSON-RPC over HTTP for a LocalChain, with an injectable 503 after a send has been processed."""

    thread_name = "fake-solana-rpc"

    def __init__(self, chain: LocalChain, blocks_per_call: int = 1) -> None:
        self.chain = chain
        self.blocks_per_call = blocks_per_call
        self.calls: list[tuple[str, list[Any]]] = []
        self._lock = threading.Lock()
        self._fail_503 = 0

    @property
    def url(self) -> str:
        """The RPC endpoint to give the client."""
        return self.origin

    def fail_after_landing_with_503(self, count: int = 1) -> None:
        """The next `count` sendTransaction calls are processed (the transaction lands) but answer HTTP 503."""
        with self._lock:
            self._fail_503 += count

    def handle(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one JSON-RPC request."""
        try:
            request = json.loads(body)
            method, params, request_id = request["method"], request.get("params", []), request.get("id")
        except (ValueError, KeyError, TypeError):
            return 200, {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
        with self._lock:
            self.calls.append((method, params))
        try:
            result = self._dispatch(method, params)
            answer = {"jsonrpc": "2.0", "result": result, "id": request_id}
        except RpcError as error:
            answer = {"jsonrpc": "2.0", "id": request_id,
                      "error": {"code": error.code, "message": error.message,
                                **({"data": error.data} if error.data is not None else {})}}
        if method in ADVANCING_METHODS and self.blocks_per_call:
            self.chain.advance_blocks(self.blocks_per_call)
        return self._status_for(method, answer), answer

    def _status_for(self, method: str, answer: dict[str, Any]) -> int:
        with self._lock:
            if method == "sendTransaction" and "result" in answer and self._fail_503:
                self._fail_503 -= 1
                return 503
        return 200

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        handler = _METHODS.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found")
        try:
            return handler(self.chain, params)
        except (IndexError, KeyError, TypeError, ValueError) as error:
            raise RpcError(-32602, f"Invalid params: {error}") from None


def _context(chain: LocalChain, value: Any) -> dict[str, Any]:
    return {"context": {"apiVersion": "2.2.0", "slot": chain.slot}, "value": value}


def _pubkey(text: Any) -> Pubkey:
    try:
        return Pubkey.from_string(text)
    except (ValueError, TypeError):
        raise RpcError(-32602, "Invalid param: Invalid") from None


def _config(params: list[Any], index: int = 1) -> dict[str, Any]:
    return params[index] if len(params) > index and isinstance(params[index], dict) else {}


def _send_transaction(chain: LocalChain, params: list[Any]) -> str:
    config = _config(params)
    if config.get("encoding", "base58") != "base64":
        raise RpcError(-32602, "this fake node only accepts base64-encoded transactions")
    try:
        raw = base64.b64decode(params[0], validate=True)
    except (ValueError, TypeError):
        raise RpcError(-32602, "invalid transaction: base64 decode failed") from None
    return chain.send(raw, skip_preflight=bool(config.get("skipPreflight", False)))


def _latest_blockhash(chain: LocalChain, params: list[Any]) -> dict[str, Any]:
    blockhash, last_valid = chain.latest_blockhash()
    return _context(chain, {"blockhash": str(blockhash), "lastValidBlockHeight": last_valid})


def _signature_statuses(chain: LocalChain, params: list[Any]) -> dict[str, Any]:
    return _context(chain, [chain.status(signature) for signature in params[0]])


def _balance(chain: LocalChain, params: list[Any]) -> dict[str, Any]:
    return _context(chain, chain.balance(_pubkey(params[0])))


def _token_account_balance(chain: LocalChain, params: list[Any]) -> dict[str, Any]:
    account = chain.account(_pubkey(params[0]))
    state = spl_token.parse_token_account(account.data) if account is not None else None
    if state is None or account.owner != TOKEN_PROGRAM_ID:
        raise RpcError(-32602, "Invalid param: could not find account")
    return _context(chain, ui_token_amount(state.amount, chain.mint_decimals(state.mint)))


def _account_info(chain: LocalChain, params: list[Any]) -> dict[str, Any]:
    account = chain.account(_pubkey(params[0]))
    if account is None:
        return _context(chain, None)
    parsed = _parsed_token_data(chain, account) if _config(params).get("encoding") == "jsonParsed" else None
    data = parsed or [base64.b64encode(account.data).decode(), "base64"]
    return _context(chain, {"lamports": account.lamports, "owner": str(account.owner), "data": data,
                            "executable": account.executable, "rentEpoch": 18446744073709551615,
                            "space": len(account.data)})


def _parsed_token_data(chain: LocalChain, account: Any) -> dict[str, Any] | None:
    if account.owner != TOKEN_PROGRAM_ID:
        return None
    mint, holding = spl_token.parse_mint(account.data), spl_token.parse_token_account(account.data)
    if mint is not None:
        info = {"decimals": mint.decimals, "supply": str(mint.supply), "isInitialized": mint.is_initialized,
                "mintAuthority": _optional(mint.mint_authority), "freezeAuthority": _optional(mint.freeze_authority)}
        kind = "mint"
    elif holding is not None:
        info = {"mint": str(holding.mint), "owner": str(holding.owner), "state": "initialized",
                "isNative": holding.is_native is not None,
                "tokenAmount": ui_token_amount(holding.amount, chain.mint_decimals(holding.mint))}
        kind = "account"
    else:
        return None
    return {"program": "spl-token", "parsed": {"type": kind, "info": info}, "space": len(account.data)}


def _optional(pubkey: Pubkey | None) -> str | None:
    return None if pubkey is None else str(pubkey)


def _transaction(chain: LocalChain, params: list[Any]) -> dict[str, Any] | None:
    config = _config(params)
    landed = chain.landed(params[0])
    if landed is None:
        return None
    if config.get("maxSupportedTransactionVersion") is None:
        raise RpcError(-32015, "Transaction version (0) is not supported by the requesting client. Please try the "
                               "request again with the following configuration parameter: "
                               '"maxSupportedTransactionVersion": 0')
    encoding = config.get("encoding", "json")
    return {"slot": landed.slot, "blockTime": landed.block_time, "version": 0, "meta": _meta(landed),
            "transaction": _encoded_transaction(landed, encoding)}


def _meta(landed: Landed) -> dict[str, Any]:
    return {"err": landed.err, "status": {"Ok": None} if landed.err is None else {"Err": landed.err},
            "fee": landed.fee, "preBalances": landed.pre_balances, "postBalances": landed.post_balances,
            "preTokenBalances": landed.pre_token_balances, "postTokenBalances": landed.post_token_balances,
            "innerInstructions": [], "logMessages": landed.logs, "rewards": [],
            "loadedAddresses": {"writable": [], "readonly": []}, "computeUnitsConsumed": landed.compute_units}


def _encoded_transaction(landed: Landed, encoding: str) -> Any:
    if encoding == "base64":
        return [base64.b64encode(bytes(landed.tx)).decode(), "base64"]
    if encoding not in ("json", "jsonParsed"):
        raise RpcError(-32602, f"Invalid params: unsupported encoding {encoding}")
    message = landed.tx.message
    keys = [str(key) for key in message.account_keys]
    header = message.header
    return {"signatures": [str(s) for s in landed.tx.signatures],
            "message": {"accountKeys": _parsed_keys(message, keys) if encoding == "jsonParsed" else keys,
                        "header": {"numRequiredSignatures": header.num_required_signatures,
                                   "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                                   "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts},
                        "recentBlockhash": str(message.recent_blockhash),
                        "instructions": [_instruction(ix, keys, encoding) for ix in message.instructions],
                        "addressTableLookups": []}}


def _parsed_keys(message: Any, keys: list[str]) -> list[dict[str, Any]]:
    return [{"pubkey": key, "signer": message.is_signer(index), "writable": message.is_maybe_writable(index),
             "source": "transaction"} for index, key in enumerate(keys)]


def _instruction(ix: Any, keys: list[str], encoding: str) -> dict[str, Any]:
    data = _base58(bytes(ix.data))
    if encoding == "jsonParsed":  # "partially decoded", as the RPC shows programs it does not parse
        return {"programId": keys[ix.program_id_index], "accounts": [keys[i] for i in bytes(ix.accounts)],
                "data": data, "stackHeight": None}
    return {"programIdIndex": ix.program_id_index, "accounts": list(bytes(ix.accounts)), "data": data,
            "stackHeight": None}


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58(raw: bytes) -> str:
    number, text = int.from_bytes(raw, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = _B58[digit] + text
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + text


_METHODS = {
    "sendTransaction": _send_transaction,
    "getLatestBlockhash": _latest_blockhash,
    "getBlockHeight": lambda chain, params: chain.block_height,
    "getSlot": lambda chain, params: chain.slot,
    "getSignatureStatuses": _signature_statuses,
    "getTransaction": _transaction,
    "getBalance": _balance,
    "getTokenAccountBalance": _token_account_balance,
    "getAccountInfo": _account_info,
}


class _Handler(BaseHTTPRequestHandler):
    """Hands each POST to the SolanaRpc attached to the server."""

    def do_POST(self) -> None:
        """Answer one JSON-RPC request."""
        length = int(self.headers.get("Content-Length") or 0)
        status, answer = self.server.fake.handle(self.rfile.read(length))  # type: ignore[attr-defined]
        body = json.dumps(answer).encode() if status == 200 else b"Service Unavailable"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


SolanaRpc.handler_class = _Handler
