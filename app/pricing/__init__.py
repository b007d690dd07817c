"""Price sources and external price APIs."""
