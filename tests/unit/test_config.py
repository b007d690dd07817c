"""Configuration from the environment: defaults, accepted forms, and failing fast on bad values."""

from __future__ import annotations

import pytest

from app.config import ConfigError, PriceSourceName, load_config


def test_defaults():
    config = load_config({})
    assert (config.database_url, config.redis_url, config.embedded) == (None, None, True)
    assert (config.port, config.sell_check_interval_seconds, config.price_source) == (5000, 15, PriceSourceName.JUPITER)
    assert config.jupiter_base_url == "https://api.jup.ag/swap/v1"
    assert (config.jupiter_rate_limit_per_min, config.paper_fee_bps, config.worker_processes) == (60, 30, 2)
    assert config.demo is True and config.price_source_explicit is False


@pytest.mark.parametrize("env, attribute, expected", [
    ({"DATABASE_URL": "postgres://u:p@h:5432/d"}, "database_url", "postgresql://u:p@h:5432/d"),
    ({"DATABASE_URL": "postgresql://u@h/d"}, "database_url", "postgresql://u@h/d"),
    ({"REDIS_URL": "unix:///tmp/r.sock"}, "redis_url", "unix:///tmp/r.sock"),
    ({"PRICE_SOURCE": "SIM"}, "price_source", PriceSourceName.SIM),
    ({"PRICE_SOURCE": "metrics"}, "price_source", PriceSourceName.METRICS),
    ({"JUPITER_BASE_URL": "http://127.0.0.1:9/swap/v1/"}, "jupiter_base_url", "http://127.0.0.1:9/swap/v1"),
    ({"SELL_CHECK_INTERVAL_SECONDS": "5"}, "sell_check_interval_seconds", 5),
    ({"DEMO": "off"}, "demo", False),
    ({"DEMO": "YES"}, "demo", True),
    ({"DEFAULT_VIRTUAL_BALANCE_SOL": "2.5"}, "default_virtual_balance_sol", "2.5"),
    ({"PRICE_SOURCE": "sim"}, "price_source_explicit", True),
])
def test_accepted_values(env, attribute, expected):
    assert getattr(load_config(env), attribute) == expected


@pytest.mark.parametrize("env, named", [
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://x"}, "REDIS_URL"),
    ({"PORT": "http"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"SELL_CHECK_INTERVAL_SECONDS": "0"}, "SELL_CHECK_INTERVAL_SECONDS"),
    ({"PRICE_SOURCE": "coingecko"}, "PRICE_SOURCE"),
    ({"JUPITER_BASE_URL": "ftp://x"}, "JUPITER_BASE_URL"),
    ({"JUPITER_RATE_LIMIT_PER_MIN": "0"}, "JUPITER_RATE_LIMIT_PER_MIN"),
    ({"PAPER_FEE_BPS": "-1"}, "PAPER_FEE_BPS"),
    ({"DEFAULT_VIRTUAL_BALANCE_SOL": "0.0000000001"}, "DEFAULT_VIRTUAL_BALANCE_SOL"),
    ({"DEFAULT_VIRTUAL_BALANCE_SOL": "lots"}, "DEFAULT_VIRTUAL_BALANCE_SOL"),
    ({"WALLET_ENCRYPTION_KEY": "not-a-fernet-key"}, "WALLET_ENCRYPTION_KEY"),
    ({"WORKER_PROCESSES": "0"}, "WORKER_PROCESSES"),
    ({"DEMO": "maybe"}, "DEMO"),
])
def test_bad_values_fail_fast_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load_config(env)
