"""Paper fills' quotes, taken before the apply transaction so that no lock is ever held across the network.

An engine quotes the amount its unlocked snapshot decides, then applies in a short transaction that decides
again on fresh state. The fill looks its amount up here: a quote taken for another amount (the balance or the
position changed meanwhile) raises Requote, the transaction rolls back, the engine quotes the new amount with
no transaction open and applies again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.pricing.sources import PriceUnavailable, Quote

REQUOTES = 3  # re-quotes allowed when the amount keeps changing between quote and apply


class Requote(Exception):
    """The amount to fill changed between the quote and the apply: quote `amount` and apply again."""

    def __init__(self, amount: int) -> None:
        super().__init__(amount)
        self.amount = amount


@dataclass
class PaperQuotes:
    """Quotes by the raw amount they were taken for (a failure is kept, raised where the fill needs it)."""

    quote_of: Callable[[int], Quote]  # raw amount in -> quote (may raise PriceUnavailable)
    taken: dict[int, Quote | PriceUnavailable] = field(default_factory=dict)

    def take(self, amount: int) -> None:
        """Quote `amount` now (call it with no transaction open)."""
        try:
            self.taken[amount] = self.quote_of(amount)
        except PriceUnavailable as exc:
            self.taken[amount] = exc

    def for_fill(self, amount: int) -> Quote:
        """The quote taken for exactly `amount`; Requote when there is none, PriceUnavailable when it failed."""
        quote = self.taken.get(amount)
        if quote is None:
            raise Requote(amount)
        if isinstance(quote, PriceUnavailable):
            raise quote
        return quote
