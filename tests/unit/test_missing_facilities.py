"""The local backend where confinement facilities are missing (macOS, Windows, an
unprivileged container): it imports, leaves out what is missing, and says so in a note."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.backends.base import Job, SandboxLimits
from autograde.backends.local import backend, facilities
from autograde.backends.local.backend import LocalSandbox, isolation_notes
from autograde.runner.confine import PID_INIT_ENV

ROOT = Path(__file__).resolve().parents[2]
LIMITS = SandboxLimits(total_timeout=100.0, memory=2**31, pids=128, cpus=1.0)
EVERYTHING = facilities.Facilities(rlimits=True, namespaces=True, cgroups=True, prctl=True, why="test")


def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **missing: bool) -> LocalSandbox:
    have = dataclasses.replace(EVERYTHING, **missing)
    monkeypatch.setattr(facilities, "available", lambda: have)
    made: list[str] = []
    # never a real cgroup from a unit test: record that one was asked for
    monkeypatch.setattr(
        backend, "create_job_cgroup", lambda name, *a: made.append(name) or backend.CgroupResult(None)
    )
    for sub in ("in", "out", "work", "home"):
        (tmp_path / sub).mkdir()
    box = LocalSandbox(Job(tmp_path, None, LIMITS))
    box.made_cgroups = made  # type: ignore[attr-defined]
    return box


def notes(box: LocalSandbox) -> list[str]:
    return [*box.unavailable, *isolation_notes(box.job, box.rlimits, box.cgroups, {})]


def test_with_everything_nothing_is_left_out(tmp_path, monkeypatch):
    box = sandbox(tmp_path, monkeypatch)
    assert box.unavailable == [] and box.rlimits and box.setup.rlimits
    assert box.setup.fs is not None and box.setup.isolate_network and box.made_cgroups
    box.setup.close()


def test_without_rlimits(tmp_path, monkeypatch):
    box = sandbox(tmp_path, monkeypatch, rlimits=False)
    assert box.rlimits == {} and box.setup.rlimits == []
    assert "resource limits not set: rlimits are not available here (test)" in notes(box)
    assert box.setup.fs is not None  # the rest stays
    box.setup.close()


def test_without_namespaces(tmp_path, monkeypatch):
    box = sandbox(tmp_path, monkeypatch, namespaces=False)
    assert box.setup.fs is None and not box.setup.isolate_network and PID_INIT_ENV not in box.env
    assert "network not isolated: namespaces are not available here (test)" in notes(box)
    assert "file system not protected: namespaces are not available here (test)" in notes(box)
    assert box.rlimits and box.made_cgroups
    box.setup.close()


def test_without_cgroups(tmp_path, monkeypatch):
    box = sandbox(tmp_path, monkeypatch, cgroups=False)
    assert box.group is None and not box.made_cgroups and box.setup.procs_files == []
    said = notes(box)
    memory = "memory not limited by a cgroup: cgroups are not available here (test)"
    assert any(n.startswith(memory) for n in said)
    assert "number of processes not limited: cgroups are not available here (test)" in said
    box.setup.close()


def test_without_prctl(tmp_path, monkeypatch):
    box = sandbox(tmp_path, monkeypatch, prctl=False)
    prctl = "the notebook runs unconfined: prctl is not available here (test)"
    assert any(n.startswith(prctl) for n in notes(box))
    box.setup.close()


def test_the_setting_turns_every_facility_off(monkeypatch):
    monkeypatch.setenv(facilities.CONFINEMENT_ENV, "off")
    have = facilities.available()
    assert not (have.rlimits or have.namespaces or have.cgroups or have.prctl)
    assert have.why == "AUTOGRADE_CONFINEMENT=off"
    monkeypatch.delenv(facilities.CONFINEMENT_ENV)
    assert facilities.available().rlimits


# macOS and Windows, as far as this Linux can play them: no resource or fcntl module, a
# platform that is not linux, none of Linux's statvfs flags, for the package's own modules
# (the libraries first: they may read the real platform as they load)
ELSEWHERE = """
import json, os, sys
import click, jupyter_client, nbclient, nbformat, numpy, pydantic, rich, yaml
sys.modules["resource"] = None
sys.modules["fcntl"] = None
for name in ("ST_NODEV", "ST_NOEXEC", "ST_NOATIME", "ST_NODIRATIME", "ST_RELATIME"):
    delattr(os, name)
sys.platform = sys.argv[1]
import autograde.backends.local.backend
import autograde.runner.__main__
from autograde.backends.local import facilities, rlimits
from autograde.runner import confine, procs
have = facilities.available()
print(json.dumps({"facilities": [have.rlimits, have.namespaces, have.cgroups, have.prctl],
                  "prctl": confine.PRCTL is not None, "mount": confine.MOUNT is not None,
                  "rlimits": rlimits.effective_rlimits({"RLIMIT_CPU": (1, 2)}),
                  "subreaper": procs.become_subreaper(), "shield": confine.shield_grader()}))
"""


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_imports_without_linux_modules(platform):
    done = subprocess.run(
        [sys.executable, "-c", ELSEWHERE, platform], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"facilities": [False, False, False, False], "prctl": False, "mount": False,
                     "rlimits": {}, "subreaper": False, "shield": False}
