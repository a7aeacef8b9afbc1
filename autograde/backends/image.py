"""The grading image: its content-addressed tag, the wheelhouse, the build and `info`.

The tag is ``autograde-sandbox:<variant>-<hash>`` where the hash covers everything that
goes into the image: the Dockerfile, the pinned requirements, the runner's sources, the
variant and the base image's id. A changed runner or dependency set therefore never runs
on a stale image. Rubrics, reference code and hidden data are not part of the image (they
never enter a sandbox), so changing them needs no rebuild.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import autograde
from autograde.errors import AutogradeError, EngineUnavailable

REPOSITORY = "autograde-sandbox"
DEFAULT_BASE = "autograde-base:bookworm"
VARIANTS = ("cpu", "gpu")
PYTHON_VERSION = "3.11"
# glibc of Debian bookworm (the default base) is 2.36: no wheel may need a newer one
MANYLINUX_MAX = 36
PACKAGE_DIR = Path(autograde.__file__).resolve().parent
POOL_SIZE = 64  # connections of a client: each running sandbox holds one while it waits on the engine


def sandbox_dir() -> Path:
    """The repository's sandbox/ folder (Dockerfile, requirements, base-image script)."""
    configured = os.environ.get("AUTOGRADE_SANDBOX_DIR")
    folder = Path(configured) if configured else PACKAGE_DIR.parent / "sandbox"
    if not (folder / "Dockerfile").is_file():
        raise AutogradeError(
            f"no sandbox/Dockerfile at {folder}: build the image from a source checkout of autograde "
            "(or set AUTOGRADE_SANDBOX_DIR)"
        )
    return folder


def runner_sources() -> list[Path]:
    """The package files copied into the image: the package marker and the runner."""
    runner = sorted((PACKAGE_DIR / "runner").glob("*.py"))
    return [PACKAGE_DIR / "__init__.py", *runner]


def content_hash(variant: str, base_id: str, folder: Path | None = None) -> str:
    folder = folder or sandbox_dir()
    digest = hashlib.sha256()
    digest.update(f"variant={variant}\nbase={base_id}\n".encode())
    for path in [folder / "Dockerfile", folder / "requirements.txt"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in runner_sources():
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def image_tag(variant: str, base_id: str, folder: Path | None = None) -> str:
    if variant not in VARIANTS:
        raise AutogradeError(f"unknown image variant {variant!r}; expected one of {VARIANTS}")
    return f"{REPOSITORY}:{variant}-{content_hash(variant, base_id, folder)}"


def docker_client() -> Any:
    """A docker SDK client, or an AutogradeError that says what to do."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        raise AutogradeError(f"the docker SDK is not installed: {exc}") from exc
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not os.path.exists(host.removeprefix("unix://")):
        raise EngineUnavailable(
            f"cannot reach the Docker daemon (no socket at {host}); start it (e.g. "
            "`sandbox/start-docker.sh` as root, or `systemctl start docker`) or grade with --backend local"
        )
    client = None
    try:
        client = docker.from_env(timeout=120, max_pool_size=POOL_SIZE)
        client.ping()
    except Exception as exc:
        if client is not None:
            client.close()
        raise EngineUnavailable(
            f"cannot reach the Docker daemon ({exc.__class__.__name__}: {str(exc)[:200]}); start it (e.g. "
            "`sandbox/start-docker.sh` as root, or `systemctl start docker`) or grade with --backend local"
        ) from exc
    return client


_SHARED: dict[str, Any] = {}  # DOCKER_HOST -> this process's client
_SHARED_LOCK = threading.Lock()


def shared_client(make: bool = True) -> Any:
    """The process's one client of the engine at DOCKER_HOST (`docker_client`, made on first
    use; a connection pool serves every thread). `make=False`: None when none was made."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    with _SHARED_LOCK:
        client = _SHARED.get(host)
        if client is None and make:
            client = _SHARED[host] = docker_client()
        return client


def base_image_id(client: Any, base: str) -> str:
    import docker.errors

    try:
        return str(client.images.get(base).id)
    except docker.errors.ImageNotFound:
        raise AutogradeError(
            f"base image {base!r} not found: build it with `autograde sandbox build` (which runs "
            f"sandbox/base-image.sh for {DEFAULT_BASE}) or pass --base-image with an image that has "
            "Python 3.11 and venv"
        ) from None


def default_image(client: Any, variant: str = "cpu", base: str = DEFAULT_BASE) -> str:
    """The tag this version of autograde grades with (the image need not exist yet)."""
    return image_tag(variant, base_image_id(client, base))


# ---------------------------------------------------------------- wheelhouse


def platform_args(max_minor: int = MANYLINUX_MAX) -> list[str]:
    tags = ["manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
    tags += [f"manylinux_2_{minor}_x86_64" for minor in range(5, max_minor + 1)]
    return [arg for tag in tags for arg in ("--platform", tag)]


def download_wheels(requirements: Path, dest: Path, log: Callable[[str], None] = print) -> None:
    """`pip download` of the pinned closure for CPython 3.11 on manylinux x86_64."""
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
        *platform_args(), "-d", str(dest), "-r", str(requirements),
    ]  # fmt: skip
    log(f"downloading wheels into {dest} ...")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if not line.startswith("WARNING: Location")]
        raise AutogradeError("pip download failed:\n" + "\n".join(lines[-15:]))


def lock_lines(wheelhouse: Path) -> list[str]:
    """`name==version` for every wheel in a folder (the closure pip resolved)."""
    found: dict[str, str] = {}
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        found[name.lower().replace("_", "-")] = version
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def lock(log: Callable[[str], None] = print) -> Path:
    """Resolve sandbox/requirements.in and pin the whole closure in sandbox/requirements.txt."""
    folder = sandbox_dir()
    with tempfile.TemporaryDirectory(prefix="autograde-lock-") as tmp:
        download_wheels(folder / "requirements.in", Path(tmp), log)
        pins = lock_lines(Path(tmp))
    header = [
        "# The grading image's complete, pinned package set (generated from requirements.in",
        "# by `autograde sandbox lock`; edit requirements.in, not this file).",
    ]
    target = folder / "requirements.txt"
    target.write_text("\n".join(header + pins) + "\n", encoding="utf-8")
    return target


def default_wheelhouse(requirements: Path) -> Path:
    from autograde.rubric.datasets import cache_root

    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    return cache_root() / "wheelhouse" / key


# A fixed port keeps the wheel URL, and so Docker's cache key of the large package layer,
# the same from build to build: a runner change then rebuilds only the small layers on top.
WHEEL_PORT = 38111


@contextlib.contextmanager
def serve_folder(folder: Path, port: int = WHEEL_PORT) -> Iterator[str]:
    """Serve `folder` read-only on 127.0.0.1 for the build's pip (any free port if `port` is taken)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


# ---------------------------------------------------------------- build


def build_context(dest: Path, folder: Path) -> None:
    """Dockerfile, requirements and the runner sources; nothing else enters the image."""
    shutil.copy2(folder / "Dockerfile", dest / "Dockerfile")
    shutil.copy2(folder / "requirements.txt", dest / "requirements.txt")
    for source in runner_sources():
        target = dest / "autograde" / source.relative_to(PACKAGE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def ensure_base(client: Any, base: str, folder: Path, log: Callable[[str], None]) -> None:
    import docker.errors

    try:
        client.images.get(base)
        return
    except docker.errors.ImageNotFound:
        pass
    if base != DEFAULT_BASE:
        raise AutogradeError(f"base image {base!r} not found; pull or build it first")
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        raise AutogradeError(
            f"base image {base!r} is missing and cannot be made here (needs root and debootstrap); "
            "use --base-image python:3.11-slim where a registry is reachable"
        )
    log(f"building the base image {base} with debootstrap ...")
    done = subprocess.run(["bash", str(folder / "base-image.sh"), base], capture_output=True, text=True)
    if done.returncode != 0:
        raise AutogradeError(f"sandbox/base-image.sh failed:\n{done.stderr[-2000:]}")


@dataclass
class BuildResult:
    tag: str
    built: bool  # False: an image with this tag existed and was reused


def build(
    variant: str = "cpu",
    base: str = DEFAULT_BASE,
    wheelhouse: Path | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> BuildResult:
    import docker.errors

    folder = sandbox_dir()
    client = docker_client()
    ensure_base(client, base, folder, log)
    tag = image_tag(variant, base_image_id(client, base), folder)
    if not force:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.get(tag)
            log(f"image {tag} exists (same content hash): reused")
            return BuildResult(tag, built=False)
    requirements = folder / "requirements.txt"
    if wheelhouse is None:
        wheelhouse = default_wheelhouse(requirements)
        if not lock_satisfied(wheelhouse, requirements):
            download_wheels(requirements, wheelhouse, log)
    elif not wheelhouse.is_dir():
        raise AutogradeError(f"wheelhouse {wheelhouse} is not a folder")
    missing = missing_wheels(wheelhouse, requirements)
    if missing:
        raise AutogradeError(f"wheelhouse {wheelhouse} lacks pinned packages: {', '.join(missing[:10])}")
    with tempfile.TemporaryDirectory(prefix="autograde-build-") as tmp, serve_folder(wheelhouse) as url:
        build_context(Path(tmp), folder)
        log(f"building {tag} from {base} (wheels from {wheelhouse}) ...")
        args = {"BASE_IMAGE": base, "VARIANT": variant, "WHEELS_URL": url}
        args["NVIDIA_VISIBLE"] = "all" if variant == "gpu" else "void"
        _stream_build(client, tmp, tag, args, log)
    return BuildResult(tag, built=True)


def _stream_build(
    client: Any, context: str, tag: str, args: dict[str, str], log: Callable[[str], None]
) -> None:
    stream = client.api.build(
        path=context,
        tag=tag,
        buildargs=args,
        network_mode="host",  # only to reach the wheel server on 127.0.0.1
        rm=True,
        forcerm=True,
        decode=True,
        labels={"org.autograde.version": autograde.__version__},
    )
    tail: list[str] = []
    for chunk in stream:
        if "error" in chunk:
            raise AutogradeError(f"docker build failed: {chunk['error'].strip()}\n" + "".join(tail[-20:]))
        text = chunk.get("stream", "")
        if text:
            tail.append(text)
            if text.startswith("Step "):
                log(text.strip())


def prune(keep: str, log: Callable[[str], None] = print) -> list[str]:
    """Remove the other grading images of `keep`'s variant (older hashes); shared layers stay."""
    import docker.errors

    client = docker_client()
    repository, _, tag = keep.partition(":")
    variant = tag.split("-")[0]
    removed = []
    for found in client.images.list(name=repository):
        for other in found.tags:
            other_tag = other.partition(":")[2]
            if other != keep and other_tag.startswith(f"{variant}-"):
                try:
                    client.images.remove(other)
                except docker.errors.APIError as exc:  # in use by a container: keep it
                    log(f"kept {other}: {exc.explanation or exc}")
                    continue
                removed.append(other)
                log(f"removed {other}")
    return removed


def requirement_pins(requirements: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def missing_wheels(wheelhouse: Path, requirements: Path) -> list[str]:
    have = {line.split("==")[0]: line.split("==")[1] for line in lock_lines(wheelhouse)}
    return [f"{n}=={v}" for n, v in requirement_pins(requirements).items() if have.get(n) != v]


def lock_satisfied(wheelhouse: Path, requirements: Path) -> bool:
    return wheelhouse.is_dir() and not missing_wheels(wheelhouse, requirements)


# ---------------------------------------------------------------- info

_VERSIONS = (
    "import json, platform, importlib.metadata as m\n"
    "names = ['torch', 'torchvision', 'numpy', 'matplotlib', 'nbclient', 'ipykernel', 'jupyter_client']\n"
    "found = {'python': platform.python_version()}\n"
    "for n in names:\n"
    "    try: found[n] = m.version(n)\n"
    "    except m.PackageNotFoundError: found[n] = None\n"
    "print(json.dumps(found))\n"
)


def info(image: str | None = None, variant: str = "cpu", base: str = DEFAULT_BASE) -> dict[str, Any]:
    """The image, its id and repo digest, size, and the package versions inside it."""
    import docker.errors

    client = docker_client()
    tag = image or default_image(client, variant, base)
    try:
        found = client.images.get(tag)
    except docker.errors.ImageNotFound:
        raise AutogradeError(f"image {tag} not found: run `autograde sandbox build`") from None
    output = client.containers.run(
        tag, ["python", "-c", _VERSIONS], network_mode="none", remove=True, user="65534:65534"
    )
    return {
        "image": tag,
        "id": found.id,
        "digests": found.attrs.get("RepoDigests") or [],
        "created": found.attrs.get("Created"),
        "size_mb": round(found.attrs.get("Size", 0) / 2**20),
        "labels": found.labels,
        "packages": json.loads(output.decode("utf-8").strip().splitlines()[-1]),
    }
