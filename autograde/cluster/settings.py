"""Where `grade --cluster` sends its jobs, and the cluster file (`--cluster-config`).

`--cluster` names the cluster: `tcp://HOST:8786` (or `tls://...`) an existing Dask
scheduler, `local:N` a LocalCluster of N worker processes on this machine, `slurm` worker
jobs through dask-jobqueue's SLURMCluster. The cluster file (YAML) holds what the command
line should not: the TLS certificates, the SLURM job settings, and how the course library
reaches the workers. Errors name the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autograde.errors import ClusterError

__all__ = ["ClusterError", "ClusterSettings", "ClusterSpec", "SlurmSettings", "TlsSettings", "parse_cluster",
           "read_settings"]

ADDRESS = re.compile(r"^(tcp|tls)://[^\s/]+:\d+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsSettings(_Strict):
    """Dask's TLS settings: the CA that signs the scheduler's and workers' certificates, and
    this coordinator's certificate and key (PEM files; relative paths are the cluster file's)."""

    ca_file: Path
    cert: Path
    key: Path | None = None  # none: the key is in `cert`


class SlurmSettings(_Strict):
    """The SLURM jobs that run Dask workers (dask-jobqueue's SLURMCluster)."""

    jobs: int = Field(default=2, ge=1, le=1000)  # SLURM jobs started, one Dask worker each
    queue: str | None = None  # the partition
    account: str | None = None
    cores: int = Field(default=1, ge=1)  # per job: the worker grades this many uploads at a time
    memory: str = "4GiB"  # per job
    walltime: str = "01:00:00"
    gpus_per_job: int = Field(default=0, ge=0)  # a worker with GPUs declares them as its GPU resource
    python: str | None = None  # the Python of the worker's environment (default: this one)
    env: list[str] = Field(default_factory=list)  # lines run before the worker: `source .../activate`
    directives: list[str] = Field(default_factory=list)  # more `#SBATCH` options, e.g. --constraint=v100
    local_directory: str | None = None  # the worker's scratch folder on the node
    interface: str | None = None  # the network interface the workers and scheduler listen on


class ClusterSettings(_Strict):
    tls: TlsSettings | None = None
    slurm: SlurmSettings = Field(default_factory=SlurmSettings)
    # how the course library reaches the workers: `archive` (sent with the batch, its digest
    # checked by each worker) or a folder every worker sees at the same path (a shared file system)
    library: Literal["archive"] | Path = "archive"
    wait_for_workers: float = Field(default=120.0, gt=0)  # seconds the first worker may take to join

    @field_validator("library", mode="before")
    @classmethod
    def _library(cls, value: object) -> object:
        return value if value == "archive" or not isinstance(value, str) else Path(value)


@dataclass(frozen=True)
class ClusterSpec:
    """What `--cluster` names: an address, `local` with a worker count, or `slurm`."""

    kind: Literal["address", "local", "slurm"]
    address: str = ""
    workers: int = 0

    def describe(self) -> str:
        if self.kind == "address":
            return f"the Dask scheduler at {self.address}"
        if self.kind == "local":
            return f"a local Dask cluster of {self.workers} worker processes"
        return "Dask workers in SLURM jobs"


def parse_cluster(value: str) -> ClusterSpec:
    """`--cluster`'s value; a ValueError that says what is expected."""
    if ADDRESS.match(value):
        return ClusterSpec("address", address=value)
    if value == "slurm":
        return ClusterSpec("slurm")
    kind, sep, count = value.partition(":")
    if kind == "local" and sep and count.isdigit() and 1 <= int(count) <= 256:
        return ClusterSpec("local", workers=int(count))
    raise ValueError(f"{value!r}: expected tcp://HOST:PORT, tls://HOST:PORT, local:N (1 to 256) or slurm")


def read_settings(path: Path | None) -> ClusterSettings:
    """The cluster file, its relative paths made the file's; none given: the defaults."""
    if path is None:
        return ClusterSettings()
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClusterError(f"{path}: cannot read the cluster file ({exc.strerror})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ClusterError(f"{path}: not valid YAML ({exc})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ClusterError(
            f"{path}: a cluster file is a mapping (keys tls, slurm, library, wait_for_workers)"
        )
    try:
        settings = ClusterSettings.model_validate(data)
    except ValidationError as exc:
        problems = [f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ClusterError("\n".join([f"{path}: invalid cluster file", *problems])) from None
    return _relative_to(settings, path)


def _relative_to(settings: ClusterSettings, path: Path) -> ClusterSettings:
    base = path.parent

    def here(p: Path) -> Path:
        return p if p.is_absolute() else (base / p)

    tls = settings.tls
    if tls is not None:
        key = here(tls.key) if tls.key else None
        tls = TlsSettings(ca_file=here(tls.ca_file), cert=here(tls.cert), key=key)
        for name, file in (("ca_file", tls.ca_file), ("cert", tls.cert), ("key", tls.key)):
            if file is not None and not file.is_file():
                raise ClusterError(f"{path}: tls.{name}: {file} is not a file")
    library = settings.library if isinstance(settings.library, str) else here(settings.library)
    return settings.model_copy(update={"tls": tls, "library": library})
