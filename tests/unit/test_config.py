"""Configuration from the environment: defaults, accepted forms, and failing fast on bad values."""

from __future__ import annotations

import pytest

from app.config import ConfigError, PriceSourceName, load_config


def test_defaults():
    config = load_config({})
    assert (config.database_url, config.redis_url, config.embedded) == (None, None, True)
    assert (config.port, config.sell_check_interval_seconds, config.price_source) == (5000, 15, PriceSourceName.JUPITER)
    assert config.jupiter_base_url == "https://api.jup.ag/swap/v1"
    assert config.jupiter_price_url == "https://api.jup.ag/price/v3"
    assert (config.jupiter_rate_limit_per_min, config.paper_fee_bps, config.worker_processes) == (60, 30, 2)
    assert config.demo is True and config.price_source_explicit is False


@pytest.mark.parametrize("env, attribute, expected", [
    ({"DATABASE_URL": "postgres://u:p@h:5432/d"}, "database_url", "postgresql://u:p@h:5432/d"),
    ({"DATABASE_URL": "postgresql://u@h/d"}, "database_url", "postgresql://u@h/d"),
    ({"REDIS_URL": "unix:///tmp/r.sock"}, "redis_url", "unix:///tmp/r.sock"),
    ({"PRICE_SOURCE": "SIM"}, "price_source", PriceSourceName.SIM),
    ({"PRICE_SOURCE": "metrics"}, "price_source", PriceSourceName.METRICS),
    ({"JUPITER_BASE_URL": "http://127.0.0.1:9/swap/v1/"}, "jupiter_base_url", "http://127.0.0.1:9/swap/v1"),
    ({"JUPITER_PRICE_URL": "http://127.0.0.1:9/price/v3/"}, "jupiter_price_url", "http://127.0.0.1:9/price/v3"),
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
    ({"TRADING_HALTED": "sells"}, "TRADING_HALTED"),
])
def test_bad_values_fail_fast_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load_config(env)


def test_chain_settings_defaults():
    from app.config import Commitment, PriorityLevel

    config = load_config({})
    assert config.solana_rpc_url is None and config.slippage_bps == 50 and config.sol_reserve == "0.01"
    assert config.priority_fee_level is PriorityLevel.MEDIUM and config.solana_commitment is Commitment.CONFIRMED


def test_chain_settings_read():
    config = load_config({"SOLANA_RPC_URL": "https://rpc.example.com/?api-key=x", "SLIPPAGE_BPS": "10000",
                          "PRIORITY_FEE_LEVEL": "veryHigh", "PRIORITY_FEE_MAX_LAMPORTS": "5000",
                          "SOLANA_COMMITMENT": "finalized", "SOL_RESERVE": "0.000000001"})
    assert (config.solana_rpc_url, config.slippage_bps, config.priority_fee_level, config.priority_fee_max_lamports,
            config.solana_commitment, config.sol_reserve) == ("https://rpc.example.com/?api-key=x", 10000,
                                                             "veryHigh", 5000, "finalized", "0.000000001")


@pytest.mark.parametrize("env, named", [
    ({"SOLANA_RPC_URL": "api.mainnet-beta.solana.com"}, "SOLANA_RPC_URL"),
    ({"SOLANA_RPC_URL": "ws://127.0.0.1:8900"}, "SOLANA_RPC_URL"),
    ({"SOLANA_RPC_URL": "https://"}, "SOLANA_RPC_URL"),
    ({"SLIPPAGE_BPS": "10001"}, "SLIPPAGE_BPS"),
    ({"SLIPPAGE_BPS": "-1"}, "SLIPPAGE_BPS"),
    ({"PRIORITY_FEE_LEVEL": "extreme"}, "PRIORITY_FEE_LEVEL"),
    ({"PRIORITY_FEE_MAX_LAMPORTS": "lots"}, "PRIORITY_FEE_MAX_LAMPORTS"),
    ({"SOLANA_COMMITMENT": "max"}, "SOLANA_COMMITMENT"),
    ({"SOL_RESERVE": "0.0000000001"}, "SOL_RESERVE"),
    ({"SOL_RESERVE": "-1"}, "SOL_RESERVE"),
])
def test_bad_chain_settings_fail_fast_naming_them(env, named):
    with pytest.raises(ConfigError, match=named):
        load_config(env)


def test_the_rpc_client_needs_solana_rpc_url():
    from app.bootstrap import Process

    with pytest.raises(ConfigError, match="SOLANA_RPC_URL is not set"):
        Process(load_config({})).chain  # noqa: B018 - the property builds the client
    assert Process(load_config({"SOLANA_RPC_URL": "http://127.0.0.1:8899"})).chain.url == "http://127.0.0.1:8899"


@pytest.mark.parametrize("balance, reserve, spendable", [
    (10**9, "0.01", 990_000_000), (10_000_000, "0.01", 0), (5, "0.01", 0), (10**9, "0", 10**9),
    (10**9, "0.000000001", 10**9 - 1),
])
def test_percent_sizing_of_a_real_wallet_leaves_the_sol_reserve(balance, reserve, spendable):
    from app.services.wallets import spendable_lamports

    assert spendable_lamports(balance, load_config({"SOL_RESERVE": reserve})) == spendable


@pytest.mark.parametrize("value, buys, sells", [
    ("", False, False), ("0", False, False), ("1", True, False), ("buys", True, False), ("true", True, False),
    ("all", True, True), (" ALL ", True, True),
])
def test_trading_halted_halts_buys_or_buys_and_sells(value, buys, sells):
    config = load_config({"TRADING_HALTED": value})
    assert (config.trading_halted, config.trading_halted_sells) == (buys, sells)
