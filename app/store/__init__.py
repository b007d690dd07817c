"""The trading store port and its adapters (PostgreSQL, memory): see app/store/port.py."""

from app.store.port import Row, SlotTaken, TradingStore

__all__ = ["Row", "SlotTaken", "TradingStore"]
