"""The demo: a seeded simulated market, demo models trained on it, and a scenario that trades on paper."""
