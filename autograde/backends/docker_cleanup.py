"""How the docker backend's containers go: removed in the background once a run's result is
read (the grader does not wait for the engine's removal), again after an engine outage
(`PENDING_REMOVAL`), and, by their labels, when the grader that made them was killed hard.

Removals still queued when the grader exits are done before it exits (the worker thread is
joined at interpreter shutdown; after it, a removal runs in the caller).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from autograde.runner import procs

LABEL = "org.autograde.job"
OWNER_LABEL = "org.autograde.owner"

PENDING_REMOVAL: set[str] = set()  # containers whose removal failed while the engine was away


def remove_now(client: Any, container_id: str) -> None:
    """Remove a container and its anonymous volumes; kept for later when the engine is away."""
    import docker.errors

    try:
        client.api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except Exception:  # the engine is gone: removed by the next run, or its preflight
        PENDING_REMOVAL.add(container_id)


class BackgroundRemoval:
    """One thread that removes finished containers, in the order they finished."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._queued: set[Future[None]] = set()

    def submit(self, client: Any, container_id: str) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-docker-rm")
            future: Future[None] | None = None
            with contextlib.suppress(RuntimeError):  # the interpreter is shutting down: removed here
                future = self._executor.submit(remove_now, client, container_id)
                self._queued.add(future)
        if future is None:
            remove_now(client, container_id)
        else:
            future.add_done_callback(self._done)  # outside the lock: it may run at once

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._queued.discard(future)

    def drain(self, seconds: float = 60.0) -> None:
        """Wait until every queued removal is done (tests, and whoever counts containers)."""
        with self._lock:
            queued = list(self._queued)
        for future in queued:
            with contextlib.suppress(Exception):
                future.result(timeout=seconds)


REMOVAL = BackgroundRemoval()


def remove_pending(client: Any) -> None:
    """Retry the removals that failed while the engine was away."""
    import docker.errors

    for container_id in list(PENDING_REMOVAL):
        try:
            client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except Exception:  # still away: try again with the next run
            continue
        PENDING_REMOVAL.discard(container_id)


def _retry_pending_at_exit() -> None:
    """At the grader's exit: one more try at what the engine could not remove earlier."""
    if PENDING_REMOVAL:
        from autograde.backends.image import shared_client

        with contextlib.suppress(Exception):
            remove_pending(shared_client(make=False) or shared_client())


atexit.register(_retry_pending_at_exit)


def remove_orphans(client: Any) -> int:
    """Remove sandbox containers whose grader process on this host is gone (killed hard),
    idle warm ones included."""
    host = os.uname().nodename
    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = str(container.labels.get(OWNER_LABEL, ""))
        name, _, pid = owner.rpartition(":")
        if name == host and pid.isdigit() and not procs.alive(int(pid)):
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)
                removed += 1
    return removed
