"""Plain SQL, one module per aggregate. Functions take an open connection; callers own transactions."""
