"""A local HTTP endpoint for notification tests: records every POST, fails the first N per event, can be slow."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as the endpoint saw it, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> dict:
        """The body as JSON."""
        return json.loads(self.body)


class WebhookServer:
    """Answers 500 to the first `fail_first` requests of each event (by body `id`, else per path), then 200;
    waits `delay_seconds` before answering (only the first `slow_first` requests when set)."""

    def __init__(self, fail_first: int = 0, delay_seconds: float = 0.0, slow_first: int = 0):
        self.fail_first = fail_first
        self.delay_seconds = delay_seconds
        self.slow_first = slow_first  # only the first N requests wait delay_seconds (0: every request)
        self._requests = 0
        self.received: list[Received] = []
        self._seen: Counter = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> WebhookServer:
        """Start serving in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def delivered(self) -> list[Received]:
        """The requests answered 200."""
        return [r for r in self.received if r.status == 200]

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        try:
            key = json.loads(body).get("id") or path
        except ValueError:
            key = path
        with self._lock:
            self._seen[key] += 1
            status = 500 if self._seen[key] <= self.fail_first else 200
            self.received.append(Received(path, headers, body, status))
        return status

    def _delay(self) -> float:
        with self._lock:
            self._requests += 1
            slow = not self.slow_first or self._requests <= self.slow_first
        return self.delay_seconds if slow else 0.0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(server._delay())
                status = server._answer(self.path, dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status == 200 else b'{"error": "try again"}')

            def log_message(self, *args):
                pass

        return Handler
