"""Send a signed transaction the way Solana's retry guidance says, and look at where it stands.

`send_until_final` sends with maxRetries 0 and rebroadcasts the same bytes every few seconds while polling
the signature's status, until it reaches the configured commitment (LANDED or FAILED) or the block height
passes the blockhash's lastValidBlockHeight without a status (EXPIRED). It never signs anything, so it can
never make a second transaction for the same order. `look` is one such poll without sending, for the reconciler.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.chain.rpc import ChainError, ChainRefused, ChainUnavailable, SolanaRpcClient
from app.chain.signing import SignedTransaction

log = logging.getLogger(__name__)

COMMITMENT_RANK = {"processed": 0, "confirmed": 1, "finalized": 2}


class Landing(StrEnum):
    """Where a sent transaction stands."""

    LANDED = "LANDED"  # in a block at the commitment, without error
    FAILED = "FAILED"  # in a block at the commitment with an error: the fee was charged, nothing else moved
    EXPIRED = "EXPIRED"  # no status and the block height passed lastValidBlockHeight: it can never land
    PENDING = "PENDING"  # not known yet: look again later


@dataclass(frozen=True)
class SendResult:
    """A transaction's landing; `error` is the on-chain error as JSON text (FAILED), `slot` its block's slot."""

    landing: Landing
    error: str | None = None
    slot: int | None = None


def look(rpc: SolanaRpcClient, signature: str, last_valid_block_height: int) -> SendResult:
    """Where the transaction stands now, without sending it; ChainUnavailable propagates (look again later).

    Its status at or above the client's commitment decides LANDED or FAILED. Without a status, once the block
    height passed `last_valid_block_height` the status is read once more (a landing racing the height read)
    and, still absent, the transaction is EXPIRED: its blockhash can no longer land anywhere.
    """
    landed = _settled(rpc, signature)
    if landed is not None:
        return landed
    if rpc.get_block_height() <= last_valid_block_height:
        return SendResult(Landing.PENDING)
    status = rpc.signature_status(signature)  # once more: it may have landed while the height was read
    if status is None:
        return SendResult(Landing.EXPIRED)
    return _from_status(status, rpc.commitment) or SendResult(Landing.PENDING)


def _settled(rpc: SolanaRpcClient, signature: str) -> SendResult | None:
    """LANDED or FAILED when the signature's status reached the commitment, else None."""
    return _from_status(rpc.signature_status(signature), rpc.commitment)


def _from_status(status: dict[str, Any] | None, commitment: str) -> SendResult | None:
    """LANDED or FAILED for a status at or above `commitment`; None for no status or a lower one."""
    if status is None or not _reached(status, commitment):
        return None
    slot = status.get("slot") if isinstance(status.get("slot"), int) else None
    err = status.get("err")
    if err is None:
        return SendResult(Landing.LANDED, slot=slot)
    return SendResult(Landing.FAILED, error=json.dumps(err, sort_keys=True), slot=slot)


def _reached(status: dict[str, Any], commitment: str) -> bool:
    """Whether a status is at least as final as `commitment` (no confirmationStatus and no confirmations: rooted)."""
    level = status.get("confirmationStatus")
    if level is None:
        level = "finalized" if status.get("confirmations") is None else "processed"
    return COMMITMENT_RANK.get(str(level), -1) >= COMMITMENT_RANK.get(commitment, 1)


def send_until_final(rpc: SolanaRpcClient, signed: SignedTransaction, last_valid_block_height: int, *,
                     rebroadcast_seconds: float = 2.0, poll_seconds: float = 0.4,
                     sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                     max_seconds: float = 120.0) -> SendResult:
    """Send `signed` and rebroadcast the same bytes until it is LANDED, FAILED or EXPIRED; PENDING after max_seconds.

    Sends use maxRetries 0. A send the node could not answer (ChainUnavailable, maybe received anyway), one
    refused because the transaction was already processed, and a failed poll do not stop the loop. Only a
    first send the node refuses outright (bad bytes or signature: they can never land) raises ChainRefused;
    the caller's order stays SENT and `look` expires it once the height passes.
    """
    started = last_sent = monotonic()
    _send(rpc, signed, first=True)
    while True:
        result = _poll(rpc, signed.signature, last_valid_block_height)
        now = monotonic()
        if result.landing is not Landing.PENDING or now - started >= max_seconds:
            return result
        if now - last_sent >= rebroadcast_seconds:
            _send(rpc, signed, first=False)
            last_sent = now
        sleep(poll_seconds)


def _send(rpc: SolanaRpcClient, signed: SignedTransaction, first: bool) -> None:
    """One send of the same bytes; only a first send refused for a reason other than 'already processed' raises."""
    try:
        rpc.send_transaction(signed.raw)
    except ChainUnavailable as error:
        log.warning("send of %s not answered (%s): polling its signature", signed.signature, error)
    except ChainRefused as error:
        if first and not error.already_processed:
            raise
        log.info("rebroadcast of %s refused (%s): polling its signature", signed.signature, error)


def _poll(rpc: SolanaRpcClient, signature: str, last_valid_block_height: int) -> SendResult:
    """`look`, with a node that cannot answer or refuses the poll counted as PENDING."""
    try:
        return look(rpc, signature, last_valid_block_height)
    except ChainError as error:
        log.warning("status of %s unavailable (%s): polling again", signature, error)
        return SendResult(Landing.PENDING)
