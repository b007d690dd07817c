"""Pure core: decisions over frozen values. No database, HTTP or clock in here."""
