"""A thread that stops a sandbox whose folder grows past its cap (disk-filling submissions)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

POLL_SECONDS = 0.5


def folder_bytes(path: Path) -> int:
    """Bytes in regular files below `path` (links not followed, vanishing files skipped)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


class FolderWatch(threading.Thread):
    """Calls `kill` once when the folder holds more than `cap` bytes; `tripped` says so."""

    def __init__(self, path: Path, cap: int, kill: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.path, self.cap, self.kill = path, cap, kill
        self.tripped = False
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(POLL_SECONDS):
            if folder_bytes(self.path) > self.cap:
                self.tripped = True
                with contextlib.suppress(Exception):
                    self.kill()
                return
