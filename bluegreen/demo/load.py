"""The demo's load generator: keeps calling production (``/``, a path every app serves, and
the one a failing version fails) and counts the responses by the version that served them."""

from __future__ import annotations

import collections
import threading
import time

import attrs

_LOAD_LIMIT = 2_000_000
"""Requests the load generator sends at most (it normally stops long before)."""


@attrs.define
class Load:
    """Keeps calling production and counts the responses by the version that served them:
    every answer in ``served``, the 5xx among them in ``failed``, and a request no version
    answered (no healthy target, no connection) in ``errors``."""

    url: str
    pause: float = 0.0
    """Real seconds between requests; none by default: the faster the simulator runs, the
    fewer requests a simulated minute, and v4's analysis needs a sample even at 300x."""
    served: collections.Counter[str] = attrs.Factory(collections.Counter)
    failed: collections.Counter[str] = attrs.Factory(collections.Counter)
    errors: int = 0
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _stop: threading.Event = attrs.Factory(threading.Event)
    _thread: threading.Thread | None = None
    _sent: int = 0

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._run, name="bluegreen-demo-load", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=5.0) as client:
            for _ in range(_LOAD_LIMIT):
                if self._stop.is_set():
                    return
                try:
                    response = client.get(f"{self.url}/")
                    version = response.headers.get("X-Bluegreen-Version", "none")
                    status = response.status_code
                except httpx.HTTPError:
                    version, status = "none", 0
                with self._lock:
                    self._sent += 1
                    if version == "none" or not status:
                        self.errors += 1
                    else:
                        self.served[version] += 1
                        if status >= 500:
                            self.failed[version] += 1
                self._stop.wait(self.pause)

    def counts(self) -> tuple[collections.Counter[str], int, int]:
        """(responses by version, errors, requests sent) so far."""
        with self._lock:
            return collections.Counter(self.served), self.errors, self._sent

    def failures(self) -> collections.Counter[str]:
        """The 5xx answers so far, by version."""
        with self._lock:
            return +self.failed

    def see_more(self, requests: int, *, timeout: float = 10.0) -> None:
        """Return once ``requests`` more have been sent (or ``timeout`` real seconds passed)."""
        target = self.counts()[2] + requests
        deadline = time.monotonic() + timeout
        while self.counts()[2] < target and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
