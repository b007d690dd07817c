"""The live demo feeder (`make run` on an empty database): a simulated market and model server over HTTP.

Sets the demo up through the real API on first run (wallet, trained models, workflows), then every
few seconds posts coin metrics for the demo mints and, like a model server, a prediction for each
mint whose trigger model says >= 50 %. Prints a compact status line. Resumes on the next start.
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests

from app.demo import market, scenario
from app.demo.training import demo_models

TICK_SECONDS = 5
STATUS_EVERY_SECONDS = 10
_RULE_SHORT = {"stop_loss": "SL", "trailing_stop": "TS", "take_profit": "TP", "timeout": "TO", "manual": "manual"}


class Feeder:
    """Talks to the running service like a user, a market data feed and a model server would."""

    def __init__(self, base_url: str, seed: int, api_key: str):
        self.base = base_url.rstrip("/")
        self.seed = seed
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {api_key}"
        self.mints = market.demo_mints(seed)
        self.trigger_id: int | None = None

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; raises with the API's message on an error status."""
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the web process answers /readyz."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.http.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the web process did not become ready at {self.base}")

    def set_up(self) -> None:
        """Create the demo on first run, or find it again."""
        wallets = {w["alias"] for w in self.call("GET", "/api/wallets")}
        if scenario.WALLET not in wallets:
            print("demo: training the demo models on the simulated market ...", flush=True)
            self.call("POST", "/api/wallets", json=scenario.wallet_body())
            trigger, condition = (self.call("POST", "/api/models", json=scenario.model_body(model))
                                  for model in demo_models(self.seed))
            self.call("POST", "/api/buy/workflows", json=scenario.buy_workflow_body(trigger["id"], condition["id"]))
            self.call("POST", "/api/buy/workflows", json=scenario.sell_workflow_body())
        workflows = self.call("GET", f"/api/buy/workflows?wallet_alias={scenario.WALLET}&type=BUY")
        self.trigger_id = workflows[-1]["chain"]["trigger"]["model_id"]
        now = datetime.now(UTC)
        for mint in self.mints:
            points = [market.as_json(p) for p in market.history(mint, now, self.seed)]
            self.call("POST", f"/api/coins/{mint}/metrics", json={"decimals": market.DEMO_DECIMALS, "metrics": points})

    def tick(self) -> None:
        """Post the market's metrics now, then a prediction for each mint the trigger model likes."""
        now = datetime.now(UTC)
        alerts = []
        for mint in self.mints:
            point = market.as_json(market.metric_point(mint, now, self.seed))
            self.call("POST", f"/api/coins/{mint}/metrics", json={"metrics": [point]})
            probability = self.call("POST", f"/api/models/{self.trigger_id}/predict",
                                    json={"mint": mint, "timestamp": now.isoformat()})["probability"]
            if probability >= scenario.ALERT_MIN_PROBABILITY:
                alerts.append({"mint": mint, "model_id": self.trigger_id, "probability": probability,
                               "timestamp": now.isoformat(), "tag": "demo"})
        if alerts:
            self.call("POST", "/api/predictions", json=alerts)

    def status_line(self) -> str:
        """positions open, buys, sells by rule, realised P&L, and where to look."""
        open_positions = self.call("GET", f"/api/positions?wallet_alias={scenario.WALLET}&status=OPEN&limit=5000")
        trades = self.call("GET", f"/api/trades?wallet_alias={scenario.WALLET}&limit=5000")
        sells = Counter(_RULE_SHORT.get(t["rule"], t["rule"]) for t in trades if t["action"] == "SELL")
        realized = sum((Decimal(t["realized_pnl_sol"]) for t in trades if t["action"] == "SELL"), Decimal(0))
        by_rule = " ".join(f"{rule} {sells.get(rule, 0)}" for rule in ("SL", "TS", "TP", "TO"))
        return (f"{datetime.now().strftime('%H:%M:%S')}  open {len(open_positions)} | "
                f"buys {sum(1 for t in trades if t['action'] == 'BUY')} | sells {by_rule} | "
                f"realized {realized:+.6f} SOL | docs {self.base}/docs | rq {self.base}/rq")


def run(base_url: str, seed: int, api_key: str) -> int:
    """Feed the market until stopped (SIGTERM or Ctrl-C)."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    feeder = Feeder(base_url, seed, api_key)
    try:
        feeder.wait_ready()
        feeder.set_up()
        print(f"demo: market of {len(feeder.mints)} simulated mints running (seed {seed}); "
              f"status every {STATUS_EVERY_SECONDS}s", flush=True)
        last_status = 0.0
        while not stopping:
            started = time.monotonic()
            feeder.tick()
            if started - last_status >= STATUS_EVERY_SECONDS:
                print(feeder.status_line(), flush=True)
                last_status = started
            time.sleep(max(0.0, TICK_SECONDS - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    except (RuntimeError, requests.RequestException) as exc:
        print(f"demo: stopped: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0
