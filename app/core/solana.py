"""Solana value checks: base58 addresses, SOL amounts and unit conversions (pure).

The `*_problem` checks return the message a client sees, or None when the value is fine; the API schemas
and the services both use them, so each rule and its wording exist once.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

LAMPORTS_PER_SOL = 1_000_000_000
SOL_DECIMALS = 9
SOL_INTEGER_DIGITS = 21
MAX_SOL_AMOUNT = Decimal("9" * SOL_INTEGER_DIGITS + "." + "9" * SOL_DECIMALS)  # the most NUMERIC(30, 9) holds
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet); raises ValueError on a bad character."""
    number = 0
    for ch in text:
        if ch not in _INDEX:
            raise ValueError(f"invalid base58 character {ch!r}")
        number = number * 58 + _INDEX[ch]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading + body


def b58encode(data: bytes) -> str:
    """Encode bytes as base58 (Bitcoin alphabet)."""
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, remainder = divmod(number, 58)
        text = _ALPHABET[remainder] + text
    leading = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading + text


def is_address(text: str) -> bool:
    """True for a base58 string that decodes to a 32-byte public key (wallets and mints)."""
    if not isinstance(text, str) or not 32 <= len(text) <= 44:
        return False
    try:
        return len(b58decode(text)) == 32
    except ValueError:
        return False


def mint_address_problem(text: str) -> str | None:
    """Why text is not a mint address (a base58 32-byte key), or None when it is one."""
    return None if is_address(text) else "Not a Solana mint address (base58, 32 bytes)."


def decimal_places(value: Decimal) -> int:
    """Digits after the decimal point of an exact decimal, ignoring trailing zeros (1.50 -> 1, 1E+3 -> 0)."""
    return max(0, -value.normalize().as_tuple().exponent)


def sol_amount_problem(value: Decimal) -> str | None:
    """Why value is not a storable SOL amount (sub-lamport digits, or too large), or None."""
    if decimal_places(value) > SOL_DECIMALS:
        return f"SOL amounts have at most {SOL_DECIMALS} decimals (lamports)."
    if abs(value) > MAX_SOL_AMOUNT:
        return "Too large for a SOL amount."
    return None


def credit_problem(balance: Decimal, amount: Decimal) -> str | None:
    """Why crediting amount to balance would not leave a storable SOL amount, or None."""
    with localcontext(prec=2 * (SOL_INTEGER_DIGITS + SOL_DECIMALS)):  # exact: no rounding at the edge
        total = balance + amount
    if total > MAX_SOL_AMOUNT:
        return f"The balance would reach 1e{SOL_INTEGER_DIGITS} SOL, more than a balance holds."
    return None


def sol_to_lamports(sol: Decimal) -> int:
    """Exact SOL -> lamports; raises ValueError if sol has sub-lamport digits."""
    lamports = sol * LAMPORTS_PER_SOL
    if lamports != lamports.to_integral_value():
        raise ValueError(f"{sol} SOL is not a whole number of lamports")
    return int(lamports)


def lamports_to_sol(lamports: int) -> Decimal:
    """Lamports -> SOL as an exact Decimal."""
    return Decimal(lamports) / LAMPORTS_PER_SOL
