"""Capped capture of the runner's console (stdout + stderr, which the kernel's stderr joins).

A student can print gigabytes to `sys.__stderr__`: a thread drains the pipe as fast as it
fills and keeps at most `limit` bytes on disk, the first part and the last part with a line
between them saying how much was dropped, plus the last bytes in memory for `log_tail`.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from pathlib import Path

LOG_LIMIT = 1 * 2**20  # runner.log keeps at most this much (plus one marker line)
TAIL_KEEP = 256 * 2**10  # of which the last part
RECENT = 16 * 2**10  # kept in memory for the outcome's tail
TAIL_CHARS = 4000
CHUNK = 64 * 2**10


class LogCapture:
    def __init__(self, read_fd: int, path: Path, limit: int = LOG_LIMIT, tail: int = TAIL_KEEP) -> None:
        self.fd = read_fd
        self.path = path
        self.tail_keep = min(tail, limit // 2)
        self.head_limit = limit - self.tail_keep
        self.total = 0  # bytes read from the pipe
        self.kept = 0  # bytes in the file, marker line aside
        self._head = 0
        self._tail = bytearray()  # the last bytes after the head was full
        self._recent = bytearray()
        self._stop = threading.Event()
        self._stop_by = float("inf")
        self._thread = threading.Thread(target=self._run, name="autograde-log", daemon=True)
        self._out = open(path, "wb")  # noqa: SIM115  (closed by the thread)

    @property
    def dropped(self) -> int:
        return self.total - self.kept

    def start(self) -> LogCapture:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            poller = select.poll()
            poller.register(self.fd, select.POLLIN | select.POLLHUP | select.POLLERR)
            while True:
                stopping = self._stop.is_set()
                if stopping and time.monotonic() > self._stop_by:
                    break
                if not poller.poll(100):
                    if stopping:  # nothing more is coming now: whatever still holds the pipe
                        break
                    continue
                try:
                    chunk = os.read(self.fd, CHUNK)
                except OSError:
                    break
                if not chunk:
                    break
                self._take(chunk)
        finally:
            self._close_file()

    def _take(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._recent += chunk
        del self._recent[:-RECENT]
        room = self.head_limit - self._head
        if room > 0:
            self._out.write(chunk[:room])
            self._head += min(room, len(chunk))
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            del self._tail[: -self.tail_keep or len(self._tail)]

    def _close_file(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            dropped = self.total - self._head - len(self._tail)
            if dropped > 0:
                self._out.write(
                    f"\n[autograde: {dropped} bytes of console output dropped here; "
                    f"{self.total} in all]\n".encode()
                )
            self._out.write(self._tail)
            self.kept = self._head + len(self._tail)
            self._out.close()

    def finish(self, timeout: float = 1.5) -> str:
        """Stop once the pipe is drained (or after `timeout`: a survivor may hold it open and
        keep writing); the last characters of the output."""
        self._stop_by = time.monotonic() + timeout
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout + 1.0)
        elif not self._out.closed:  # never started
            self._close_file()
        if not self._thread.is_alive():
            with contextlib.suppress(OSError):
                os.close(self.fd)
        return self.tail()

    def tail(self) -> str:
        return bytes(self._recent).decode("utf-8", "replace")[-TAIL_CHARS:]
