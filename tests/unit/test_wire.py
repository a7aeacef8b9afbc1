"""Reading what comes back from the sandbox: no pickles, size caps, clear WireErrors."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograde.errors import WireError
from autograde.pipeline.wire import read_arrays, read_json, save_arrays, write_json_atomic


class Booby:
    """Unpickling this object creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_roundtrip_numeric_arrays(tmp_path: Path) -> None:
    arrays: dict[str, np.ndarray] = {
        "f": np.linspace(0, 1, 6).reshape(2, 3),
        "i": np.arange(5, dtype=np.int32),
        "u": np.array([1, 255], dtype=np.uint8),
        "b": np.array([True, False]),
        "s": np.array(3.5, dtype=np.float32),
    }
    path = tmp_path / "inputs.npz"
    save_arrays(path, arrays)
    back = read_arrays(path)
    assert set(back) == set(arrays)
    for key, value in arrays.items():
        assert back[key].dtype == value.dtype
        np.testing.assert_array_equal(back[key], value)
    assert [p.name for p in tmp_path.iterdir()] == ["inputs.npz"]  # no temporary left


def test_object_array_rejected_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "UNPICKLED"
    path = tmp_path / "probe.npz"
    np.savez(path, ok=np.arange(3), evil=np.array([Booby(marker)], dtype=object))
    assert not marker.exists()
    with pytest.raises(WireError) as info:
        read_arrays(path)
    assert "probe.npz" in str(info.value)
    assert not marker.exists()


def test_plain_object_array_rejected(tmp_path: Path) -> None:
    path = tmp_path / "probe.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(WireError):
        read_arrays(path)


@pytest.mark.parametrize(
    "array",
    [np.zeros(2, dtype=complex), np.array(["ab", "cd"]), np.zeros(2, dtype=[("a", "f8")]),
     np.array([b"xy"]), np.array(["2020-01-01"], dtype="datetime64[D]")],
    ids=["complex", "unicode", "structured", "bytes", "datetime"],
)
def test_non_numeric_dtypes_rejected(tmp_path: Path, array: np.ndarray) -> None:
    path = tmp_path / "probe.npz"
    np.savez(path, x=array)
    with pytest.raises(WireError, match="forbidden dtype"):
        read_arrays(path)


def test_oversize_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.npz"
    np.savez(path, x=np.zeros(1000))  # 8000 bytes uncompressed
    with pytest.raises(WireError, match="over"):
        read_arrays(path, max_bytes=1000)
    assert read_arrays(path, max_bytes=10_000)["x"].shape == (1000,)


def test_compressed_oversize_rejected(tmp_path: Path) -> None:
    # 8 MB of zeros compresses to a few kB: the cap is on the uncompressed size
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros(2**20))
    assert path.stat().st_size < 100_000
    with pytest.raises(WireError):
        read_arrays(path, max_bytes=2**20)


def test_header_declaring_a_huge_array_is_a_wire_error(tmp_path: Path) -> None:
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        member, {"descr": "<f8", "fortran_order": False, "shape": (2**45,)}
    )
    member.write(b"\0" * 64)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", member.getvalue())
    with pytest.raises(WireError):
        read_arrays(path)


def test_non_zip_rejected(tmp_path: Path) -> None:
    path = tmp_path / "probe.npz"
    path.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(WireError, match=r"probe\.npz"):
        read_arrays(path)


def test_zip_with_garbage_member_rejected(tmp_path: Path) -> None:
    path = tmp_path / "probe.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY garbage")
    with pytest.raises(WireError):
        read_arrays(path)


def test_missing_file_gives_no_arrays(tmp_path: Path) -> None:
    assert read_arrays(tmp_path / "absent.npz") == {}


def test_symlink_rejected(tmp_path: Path) -> None:
    target = tmp_path / "real.npz"
    np.savez(target, x=np.arange(2))
    link = tmp_path / "probe.npz"
    link.symlink_to(target)
    with pytest.raises(WireError, match="not a regular file"):
        read_arrays(link)


def test_directory_rejected(tmp_path: Path) -> None:
    (tmp_path / "probe.npz").mkdir()
    with pytest.raises(WireError):
        read_arrays(tmp_path / "probe.npz")


# ---------------------------------------------------------------- JSON


def test_read_json_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    write_json_atomic(path, {"status": "ok", "cells": [1, 2]})
    assert read_json(path) == {"status": "ok", "cells": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_read_json_cap(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"x": "y" * 200}))
    with pytest.raises(WireError) as info:
        read_json(path, max_bytes=100)
    assert "run.json" in str(info.value)
    assert "100" in str(info.value)
    assert read_json(path, max_bytes=1000)["x"] == "y" * 200


@pytest.mark.parametrize("text", ['{"a": 1', "", "nan nan", "\x00\x01"],
                         ids=["truncated", "empty", "words", "binary"])
def test_read_json_malformed(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cells.json"
    path.write_text(text)
    with pytest.raises(WireError, match=r"cells\.json: not valid JSON"):
        read_json(path)


def test_read_json_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cells.json"
    path.write_bytes(b'{"a": "\xff\xfe"}')
    with pytest.raises(WireError):
        read_json(path)


def test_read_json_deeply_nested(tmp_path: Path) -> None:
    path = tmp_path / "cells.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(WireError):
        read_json(path)


def test_read_json_missing(tmp_path: Path) -> None:
    with pytest.raises(WireError, match="missing"):
        read_json(tmp_path / "nothing.json")


# ---------------------------------------------------------------- save_arrays


def test_save_arrays_refuses_object_dtype(tmp_path: Path) -> None:
    path = tmp_path / "inputs.npz"
    with pytest.raises(WireError) as info:
        save_arrays(path, {"good": np.arange(3), "bad": np.array([1, None], dtype=object)})
    assert "'bad'" in str(info.value)
    assert "object" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_save_arrays_refuses_strings(tmp_path: Path) -> None:
    with pytest.raises(WireError):
        save_arrays(tmp_path / "inputs.npz", {"s": np.array(["a"])})
