"""The coordinator's side of `grade --cluster`: jobs out to Dask workers, reports back as data.

One Dask task per upload (`autograde.cluster.job.grade_job`), with a key of its own and never
cached (`pure=False`). The library part travels with each job (a large one once to each
worker, scattered; sent again if its holders die). A worker that answers `unfit` (no Docker,
no image, another autograde, a library or data folder that does not match) gets no more jobs
of this batch, and its job goes to another worker with a note saying so. GPU jobs go only to
workers that declare a `GPU` resource, one GPU each.
A worker that dies mid-job is Dask's to handle: the scheduler runs the job again elsewhere
(up to `distributed.scheduler.allowed-failures`), and each upload still has one future, so
one row. The scheduler lost, the command stops with a ClusterError; what was graded is
journaled by then (the caller saves each report as it comes). Ctrl-C cancels the jobs and
kills every sandbox running on every worker before it returns.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograde.cluster.job import REPORT, STOPPED, UNFIT, Job, close_sandboxes, grade_job, stop_batch
from autograde.cluster.library import LibraryPart
from autograde.cluster.settings import ClusterSettings, ClusterSpec
from autograde.errors import ClusterError
from autograde.results import GradeReport

if TYPE_CHECKING:
    from distributed import Client, Future
    from distributed.security import Security

POLL_SECONDS = 0.2
SCATTER_BYTES = 1 << 20  # a larger library part goes to each worker once, not with every job
RESENDS = 3  # a job whose scattered library part was lost with its workers is sent again
IN_FLIGHT_PER_THREAD, MIN_IN_FLIGHT = 2, 4  # jobs sent ahead: each worker thread has its next one
STOP_SECONDS = 30.0  # how long Ctrl-C waits for the workers' running jobs to end
RESUME = "every grade that came back is journaled: rerun the same command to grade the rest"


@dataclass
class Outcome:
    """What came back for one job: a report, or the reason there is none (a fault)."""

    index: int
    report: GradeReport | None
    worker: str  # who graded it ("" when nobody did)
    fault: str = ""


@dataclass
class _Entry:
    index: int
    job: Job
    unfit: dict[str, str] = field(default_factory=dict)  # worker -> why it could not grade this
    resent: int = 0


def security(settings: ClusterSettings) -> Security | None:
    """Dask's TLS settings from the cluster file (None: plain TCP)."""
    tls = settings.tls
    if tls is None:
        return None
    from distributed.security import Security

    cert, key = str(tls.cert), str(tls.key) if tls.key else None
    return Security(
        tls_ca_file=str(tls.ca_file),
        tls_client_cert=cert, tls_client_key=key,
        tls_scheduler_cert=cert, tls_scheduler_key=key,
        tls_worker_cert=cert, tls_worker_key=key,
        require_encryption=True,
    )


@contextlib.contextmanager
def connect(spec: ClusterSpec, settings: ClusterSettings) -> Iterator[Client]:
    """A client of the cluster `spec` names, with at least one worker; closed (and a cluster
    started here stopped) on the way out."""
    from distributed import Client

    sec = security(settings)
    cluster: Any = None
    if spec.kind == "address":
        if spec.address.startswith("tls://") and sec is None:
            raise ClusterError(f"{spec.address}: a tls:// scheduler needs the certificates of a "
                               "cluster file's tls: section (--cluster-config)")
        if spec.address.startswith("tcp://") and sec is not None:
            raise ClusterError(f"{spec.address}: the cluster file asks for TLS; name the scheduler as tls://")
        target: Any = spec.address
    elif spec.kind == "local":
        from distributed import LocalCluster

        sec = None  # this machine's loopback only: no TLS
        cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR)
        target = cluster
    else:
        from autograde.cluster.slurm import slurm_cluster

        cluster = slurm_cluster(settings.slurm, sec)
        target = cluster
    try:
        try:
            client = Client(target, security=sec, timeout=min(30.0, settings.wait_for_workers))
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach {spec.describe()} ({exc})") from exc
        try:
            try:
                client.wait_for_workers(1, timeout=settings.wait_for_workers)
            except TimeoutError as exc:
                raise ClusterError(
                    f"no Dask worker joined {spec.describe()} within {settings.wait_for_workers:g} s "
                    "(wait_for_workers in the cluster file)"
                ) from exc
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
    finally:
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=30)


def grade_jobs(
    client: Client,
    spec: ClusterSpec,
    batch: str,
    count: int,
    job_at: Callable[[int], Job],
    part: LibraryPart,
    done: Callable[[Outcome], None],
    *,
    gpu: bool = False,
    patience: float = 120.0,
) -> None:
    """Run jobs 0..count-1 of `batch` on the cluster; `done` is called here, in this thread,
    once per job. `job_at(i)` makes job i (reading its notebook) only when it is sent: at most
    IN_FLIGHT_PER_THREAD jobs per worker thread are out at a time, so neither this process
    nor the scheduler holds a whole class's notebooks. With no worker that could take the jobs
    left for `patience` seconds, a ClusterError."""
    if not count:
        return
    watch = _Workers(client, spec, gpu, patience)
    watch.wait()
    library: list[Any] = [part]

    def scatter() -> None:  # a small part (every library here) travels with each job
        held = library[0] is not part and library[0].status == "finished"
        if not held and part.archive is not None and len(part.archive) > SCATTER_BYTES:
            library[0] = client.scatter(part, broadcast=True, hash=False)

    scatter()
    unfit: dict[str, str] = {}
    waiting: dict[Future[str], _Entry] = {}
    counter = itertools.count()

    def submit(entry: _Entry, workers: list[str] | None = None) -> None:
        key = f"autograde-{batch}-{entry.index}-{next(counter)}"
        future = client.submit(grade_job, entry.job, library[0], key=key, pure=False,
                               resources={"GPU": 1} if entry.job.gpu else None,
                               workers=workers, allow_other_workers=False)
        waiting[future] = entry

    unsent = iter(range(count))

    def fill() -> None:
        limit = max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * watch.threads)
        while len(waiting) < limit and (index := next(unsent, None)) is not None:
            try:
                job = job_at(index)
            except OSError as exc:  # the staged copy went missing: that upload's row says so
                done(Outcome(index, None, "", f"the grader could not read it ({exc!r})"))
                continue
            submit(_Entry(index, job))

    try:
        fill()
        while waiting:
            finished = [future for future in waiting if future.done()]
            if not finished:
                if client.status not in ("running", "connecting"):
                    raise _lost(spec)
                watch.check()
                time.sleep(POLL_SECONDS)
                continue
            for future in finished:
                entry = waiting.pop(future)
                if future.status == "cancelled":
                    if client.status != "running":
                        raise _lost(spec)
                    if entry.resent >= RESENDS:  # cancelled by someone else, or lost again and again
                        done(Outcome(entry.index, None, "", "its job was cancelled on the cluster"))
                        continue
                    entry.resent += 1  # the scattered library part was lost with its workers
                    scatter()
                    submit(entry)
                    continue
                outcome = _outcome(future, entry, unfit)
                if outcome is not None:
                    done(outcome)
                    continue
                fit = [w for w in watch.able() if w not in unfit]
                if fit:
                    submit(entry, fit)
                else:
                    reasons = "; ".join(f"{w}: {why}" for w, why in sorted(unfit.items()))
                    why = f"no worker of the cluster could grade it ({reasons})"
                    done(Outcome(entry.index, None, "", why))
            fill()
        with contextlib.suppress(Exception):
            client.run(close_sandboxes)
    except BaseException:
        _stop(client, batch, list(waiting))
        raise


class _Workers:
    """The workers that can take this batch's jobs (a GPU job: those declaring a GPU): none for
    `patience` seconds, and the batch cannot go on."""

    EVERY = 2.0  # seconds between two looks in `check`

    def __init__(self, client: Client, spec: ClusterSpec, gpu: bool, patience: float) -> None:
        self.client, self.spec, self.gpu, self.patience = client, spec, gpu, patience
        self.last = 0.0
        self.none_since: float | None = None
        self.threads = 0  # of the able workers, when last looked at

    def able(self) -> list[str]:
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        able = {address: info for address, info in workers.items()
                if not self.gpu or float((info.get("resources") or {}).get("GPU", 0)) >= 1}
        self.threads = sum(int(info.get("nthreads", 1)) for info in able.values())
        return list(able)

    def wait(self) -> None:
        """Before the first job: one able worker, waited for as for the cluster's first."""
        deadline = time.monotonic() + self.patience
        while not self.able():
            if time.monotonic() > deadline:
                raise self._none()
            time.sleep(POLL_SECONDS)

    def check(self) -> None:
        """While jobs wait: every few seconds, whether an able worker is still there."""
        now = time.monotonic()
        if now - self.last < self.EVERY:
            return
        self.last = now
        if self.able():
            self.none_since = None
        elif self.none_since is None:
            self.none_since = now
        elif now - self.none_since > self.patience:
            raise self._none()

    def _none(self) -> ClusterError:
        what = "declares a GPU resource (dask worker --resources GPU=1)" if self.gpu else "is left"
        return ClusterError(f"no worker of {self.spec.describe()} {what} for {self.patience:g} s; {RESUME}")


def new_batch_id() -> str:
    return secrets.token_hex(8)


def _lost(spec: ClusterSpec) -> ClusterError:
    return ClusterError(f"lost the connection to {spec.describe()}; {RESUME}")


def _outcome(future: Future[str], entry: _Entry, unfit: dict[str, str]) -> Outcome | None:
    """The job's outcome; None when its worker was unfit and it should go elsewhere."""
    if future.status == "error":
        exc = future.exception()
        reason = f"the cluster could not run it ({type(exc).__name__}: {exc})"
        return Outcome(entry.index, None, "", reason)
    try:
        answer = json.loads(future.result())
        kind, worker = answer["kind"], str(answer.get("worker") or answer.get("host") or "?")
        if kind == UNFIT:
            unfit[worker] = entry.unfit[worker] = str(answer["reason"])
            return None
        if kind == STOPPED:
            return Outcome(entry.index, None, "", "the batch was stopped before it ran")
        if kind != REPORT:
            raise ValueError(f"unknown answer {kind!r}")
        report = GradeReport.from_json(answer["report"])
        if report.student != entry.job.student:
            raise ValueError(f"a report for {report.student!r}, not {entry.job.student!r}")
    except Exception as exc:
        return Outcome(entry.index, None, "", f"the worker's answer could not be read ({exc!r})")
    if entry.unfit:
        others = "; ".join(f"{w} could not ({why})" for w, why in entry.unfit.items())
        report.notes.append(f"graded on worker {worker}: {others}")
    return Outcome(entry.index, report, worker)


def _stop(client: Client, batch: str, futures: list[Future[str]]) -> None:
    """No job of `batch` starts any more, and none is left running on any worker."""
    with contextlib.suppress(Exception):
        client.cancel(futures)
    deadline = time.monotonic() + STOP_SECONDS
    with contextlib.suppress(Exception):
        while True:
            running = client.run(stop_batch, batch, on_error="ignore")
            busy = [worker for worker, count in running.items() if isinstance(count, int) and count]
            if not busy or time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        client.run(close_sandboxes, on_error="ignore")
