"""Request pacing shared by threads (a lock) and by processes (``flock`` on a timestamp file)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

#: Requests per second NCBI allows without and with an API key.
RPS_WITHOUT_KEY = 3.0
RPS_WITH_KEY = 10.0
#: Spacing is stretched by this factor: a request that reaches NCBI up to 0.2 s late (network,
#: a busy CPU) still cannot make one second hold more requests than the limit.
SAFETY = 1.2


def default_rps(api_key: str | None) -> float:
    """NCBI's published limit for a client with or without an API key."""
    return RPS_WITH_KEY if api_key else RPS_WITHOUT_KEY


class RateLimiter:
    """Keep consecutive requests at least ``SAFETY / max_rps`` seconds apart.

    With ``lock_path`` the time of the last request lives in that file, held under an exclusive
    ``flock`` while waiting, so every process that shares the file shares one budget.
    """

    def __init__(self, max_rps: float, lock_path: Path | None = None):
        if max_rps <= 0:
            raise ValueError("max_rps must be positive")
        self.interval = SAFETY / max_rps
        self.lock_path = lock_path
        self._thread_lock = threading.Lock()
        self._last = 0.0

    def wait(self) -> None:
        """Block until a request may be sent, and book that moment as the last request."""
        with self._thread_lock:
            if self.lock_path is None:
                self._last = self._pace(self._last)
                return
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                raw = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
                try:
                    last = float(raw)
                except ValueError:
                    last = 0.0
                stamp = f"{self._pace(last):.6f}\n".encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, stamp, 0)
            finally:
                os.close(fd)  # closing releases the flock

    def _pace(self, last: float) -> float:
        delay = min(last + self.interval - time.time(), self.interval)  # a clock step back waits once
        if delay > 0:
            time.sleep(delay)
        return time.time()
