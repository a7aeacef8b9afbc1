"""How the host writes what enters the sandbox and reads back, safely, what leaves it
(the file names are the protocol's, `autograde.runner.protocol`).

Nothing that comes back is unpickled: ``np.load(..., allow_pickle=False)``, JSON with a size
cap, and object/structured dtypes rejected.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from autograde.errors import WireError

MAX_JSON_BYTES = 4 * 2**20
MAX_NPZ_BYTES = 256 * 2**20
MAX_NPZ_MEMBERS = 10_000
ALLOWED_KINDS = "biuf"  # bool, signed, unsigned, float


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write next to its final place, then rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, default=str))


def read_json(path: Path, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read a JSON file from the sandbox; over-size or malformed files are WireError."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise WireError(f"{path.name}: missing ({exc.strerror})") from exc
    if size > max_bytes:
        raise WireError(f"{path.name}: {size} bytes, over the cap of {max_bytes}")
    try:
        return json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise WireError(f"{path.name}: not valid JSON ({exc})") from exc


def read_arrays(path: Path, max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """Load an .npz from the sandbox without pickle; only numeric and bool arrays pass."""
    if not path.exists():
        return {}
    if path.is_symlink() or not path.is_file():
        raise WireError(f"{path.name}: not a regular file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_NPZ_MEMBERS:
                raise WireError(f"{path.name}: {len(infos)} arrays, over the cap")
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise WireError(f"{path.name}: {total} bytes uncompressed, over {max_bytes}")
            declared = sum(_declared_bytes(archive, info, path.name) for info in infos)
            if declared > max_bytes:
                raise WireError(f"{path.name}: headers declare {declared} bytes, over {max_bytes}")
        arrays: dict[str, np.ndarray] = {}
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                array = np.asarray(npz[key])
                if array.dtype.kind not in ALLOWED_KINDS:
                    raise WireError(f"{path.name}: array {key!r} has forbidden dtype {array.dtype}")
                arrays[key] = array
        return arrays
    except WireError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, MemoryError) as exc:
        raise WireError(f"{path.name}: unreadable array file ({exc!r})") from exc


def _declared_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> int:
    """What a member's .npy header claims: checked before numpy allocates anything."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    if dtype.kind not in ALLOWED_KINDS:
        raise WireError(f"{name}: array {info.filename!r} has forbidden dtype {dtype}")
    count = 1
    for dim in shape:
        count *= int(dim)
    return count * int(dtype.itemsize)


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    for key, array in arrays.items():
        if array.dtype.kind not in ALLOWED_KINDS:
            raise WireError(f"input {key!r} has dtype {array.dtype}; only numbers cross the wire")
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, path)
