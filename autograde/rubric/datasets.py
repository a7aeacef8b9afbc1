"""Data sets made on the host by the rubric's generators.

`data_dir`: a public folder the notebook reads (made once, cached by content of its spec).
Hidden sets: drawn from the run's secret seed; only their inputs enter the sandbox.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np

from autograde.checks.base import load_reference
from autograde.errors import RubricError
from autograde.rubric.schema import DataSource


def cache_root() -> Path:
    base = os.environ.get("AUTOGRADE_CACHE") or os.path.join(Path.home(), ".cache", "autograde")
    return Path(base)


def unpacked_libraries() -> Path:
    """Where a cluster worker unpacks the library parts it is sent (one folder per digest);
    a grading host hides all of it from every sandbox, whichever part a job came with."""
    return cache_root() / "libraries"


def _generator_source(spec: str) -> str:
    """A digest of the generator's code: its module and, when that sits in a package (as the
    `reference` modules do), every module of that package, since generators import each other."""
    module_name = spec.partition(":")[0]
    top = module_name.partition(".")[0]
    found = importlib.util.find_spec(top)
    if found is None:
        raise RubricError(f"data_dir generator {spec!r}: module {module_name!r} cannot be found")
    if found.submodule_search_locations:
        files = sorted(f for d in found.submodule_search_locations for f in Path(d).rglob("*.py"))
    elif found.origin is not None and os.path.isfile(found.origin):
        files = [Path(found.origin)]
    else:
        raise RubricError(f"data_dir generator {spec!r}: module {module_name!r} has no source")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare_data_dir(assignment_id: str, source: DataSource) -> Path:
    """The folder for `data_dir`, generated on first use; generation is atomic (rename).

    It is cached under a key made of the generator, its options and its package's source.
    """
    key = hashlib.sha256(
        json.dumps(
            [source.generator, source.options, _generator_source(source.generator)], sort_keys=True
        ).encode()
    )
    target = cache_root() / "data" / f"{assignment_id}-{key.hexdigest()[:12]}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        load_reference(source.generator)(staging, **source.options)
        for path in [staging, *staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        try:
            staging.rename(target)
        except OSError:  # another grader made it first
            if not target.is_dir():
                raise
    except RubricError:
        raise
    except Exception as exc:
        raise RubricError(f"data_dir generator {source.generator} failed: {exc!r}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def hidden_set(name: str, source: DataSource, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    try:
        inputs, labels = load_reference(source.generator)(rng, **source.options)
    except RubricError:
        raise
    except Exception as exc:
        raise RubricError(f"hidden data set {name!r}: generator {source.generator} failed: {exc!r}") from exc
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if len(inputs) != len(labels):
        raise RubricError(f"hidden data set {name!r}: {len(inputs)} inputs but {len(labels)} labels")
    return inputs, labels
