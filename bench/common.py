"""Shared benchmark helpers: a load loop over keep-alive HTTP connections and latency figures."""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_load(base_url: str, make_request: Callable[[int], tuple[str, str, bytes | None]], total: int,
             concurrency: int, expect_status: int, auth: dict[str, str] | None = None) -> dict:
    """Send `total` requests (with the `auth` headers) from `concurrency` threads; returns req/s and latency ms."""
    host = urlsplit(base_url)
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            method, path, body = make_request(index)
            headers = {**(auth or {}), **({"Content-Type": "application/json"} if body else {})}
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed * 1000)
                if response.status != expect_status:
                    errors.append(f"{response.status}")
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "requests": total, "concurrency": concurrency, "errors": len(errors),
        "requests_per_s": round(total / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


def write_results(name: str, results: dict) -> Path:
    """Save results as bench/results/<name>.json and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


# Benchmarks measure the service, not its rate limits: the stacks they start lift them.
UNLIMITED = {"RATE_LIMIT_READ": "1000000/minute", "RATE_LIMIT_WRITE": "1000000/minute"}
