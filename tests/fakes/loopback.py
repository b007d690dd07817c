"""A local HTTP server for the test fakes: a free loopback port, served by a background thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Serves `handler_class` on 127.0.0.1 while started (`with` starts and stops it); handlers reach the fake
    as `self.server.fake`."""

    handler_class: type[BaseHTTPRequestHandler]
    thread_name = "fake-server"
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Self:
        """Listen on a free loopback port in a background thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class)
        server.fake = self  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, args=(0.02,), name=self.thread_name, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop listening (requests still being answered are abandoned)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        """http://127.0.0.1:<port> of the running server."""
        assert self._server is not None, f"{type(self).__name__} is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
