"""The docker backend against the real engine: limits enforced, nothing left behind."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.pipeline.grade import GradeOptions, grade_submission
from autograde.results import GradeReport
from autograde.rubric import Assignment, load_rubric_file
from tests.ex02_variant import ex02_variant

pytestmark = pytest.mark.docker

FULL = {"loss": 2.0, "gradient": 3.0, "descent": 2.0, "regression": 3.0}
EX02 = Path(__file__).resolve().parents[2] / "rubrics" / "ex02_gradient_descent"


def grade(path: Path, assignment: Assignment, keep: Path | None = None) -> GradeReport:
    return grade_submission(path, assignment, GradeOptions(backend="docker", grading_seed=7, keep_job=keep))


def points(report: GradeReport) -> dict[str, float]:
    return {task.id: task.points for task in report.tasks}


def printed(keep: Path, student: str) -> str:
    """Everything the executed notebook printed (the job folder kept by keep_job)."""
    nb = nbformat.read(keep / student / "out" / "executed.ipynb", as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts.append(str(output.get("evalue", "")))
    return "\n".join(texts)


def variant(tmp_path: Path, name: str, **limits: Any) -> Assignment:
    limits = {"cell_timeout": "20s", "probe_timeout": "10s", "total_timeout": "120s", **limits}
    return load_rubric_file(ex02_variant(tmp_path / name, limits))


def test_solution_gets_full_marks_in_a_container(docker_client, sandbox_image, make_nb, tmp_path):
    report = grade(make_nb("plain.ipynb"), variant(tmp_path, "plain"))
    assert report.status == "graded", report.notes
    assert report.backend == "docker"
    assert points(report) == FULL


def test_no_network_only_loopback(docker_client, sandbox_image, make_nb, tmp_path):
    probe = "import socket\nprint('IFACES', sorted(name for _, name in socket.if_nameindex()))"
    keep = tmp_path / "keep"
    report = grade(make_nb("net.ipynb", insert_before={"loss": probe}), variant(tmp_path, "n"), keep)
    assert points(report) == FULL
    assert "IFACES ['lo']" in printed(keep, report.student)


def test_read_only_root_non_root_user_and_writable_scratch(docker_client, sandbox_image, make_nb, tmp_path):
    probe = (
        "import os, errno\n"
        "for target in ['/opt/autograde/venv/owned', '/etc/owned', '/owned']:\n"
        "    try:\n"
        "        open(target, 'w').write('x')\n"
        "        print('WROTE', target)\n"
        "    except OSError as exc:\n"
        "        print('DENIED', target, errno.errorcode[exc.errno])\n"
        "open('/tmp/scratch', 'w').write('ok'); open(os.path.expanduser('~/s'), 'w').write('ok')\n"
        "print('UID', os.getuid(), 'SCRATCH OK')\n"
    )
    keep = tmp_path / "keep"
    report = grade(make_nb("ro.ipynb", insert_before={"loss": probe}), variant(tmp_path, "ro"), keep)
    assert points(report) == FULL
    text = printed(keep, report.student)
    assert "WROTE" not in text
    assert text.count("DENIED") == 3 and "EROFS" in text
    assert "SCRATCH OK" in text and "UID 0 " not in text


def test_memory_limit_kills_the_hog_and_keeps_the_rest(docker_client, sandbox_image, make_nb, tmp_path):
    hog = "import numpy as np\nblocks = [np.ones(2**27) for _ in range(16)]  # 16 GiB"
    rubric = variant(tmp_path, "mem", memory="1GiB")
    report = grade(make_nb("hog.ipynb", insert_before={"descent": hog}), rubric)
    assert points(report) == FULL  # the notebook is replayed without the cell that died
    crashed = [c for c in report.cells if c["status"] == "crashed"]
    assert crashed, report.cells
    assert any("out of memory" in note and "1 GiB" in note for note in report.notes), report.notes


def test_pids_limit_stops_a_fork_bomb(docker_client, sandbox_image, make_nb, tmp_path):
    bomb = (
        "import threading, time\n"
        "started = 0\n"
        "try:\n"
        "    for _ in range(5000):\n"
        "        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "        started += 1\n"
        "except RuntimeError as exc:\n"
        "    print('STOPPED AFTER', started, exc)\n"
    )
    keep = tmp_path / "keep"
    rubric = variant(tmp_path, "pids", pids=64)
    report = grade(make_nb("bomb.ipynb", insert_before={"loss": bomb}), rubric, keep)
    text = printed(keep, report.student)
    assert "STOPPED AFTER" in text
    started = int(text.split("STOPPED AFTER")[1].split()[0])
    assert started < 64
    assert points(report) == FULL


def test_wall_clock_kill_from_the_host(docker_client, sandbox_image, make_nb, tmp_path):
    hang = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(3600)"
    rubric = variant(tmp_path, "wall", cell_timeout="600s", total_timeout="10s")
    report = grade(make_nb("hang.ipynb", insert_before={"loss": hang}), rubric)
    assert any("total time limit (10s)" in note for note in report.notes), report.notes
    assert report.seconds < 10 + 15 + 30
    assert report.score == 0


def test_output_folder_is_capped(docker_client, sandbox_image, make_nb, tmp_path):
    flood = (
        "with open('/job/out/flood.bin', 'wb') as f:\n"
        "    for _ in range(64):\n"
        "        f.write(b'x' * 2**20)\n"
        "import time\n"
        "time.sleep(30)\n"
    )
    rubric = variant(tmp_path, "out", out_bytes="8MiB", cell_timeout="60s")
    report = grade(make_nb("flood.ipynb", insert_before={"loss": flood}), rubric)
    assert any("more than 8 MiB" in note for note in report.notes), report.notes
    assert report.score == 0


def test_gpu_job_without_a_gpu_fails_clearly(docker_client, sandbox_image, make_nb, tmp_path):
    rubric = variant(tmp_path, "gpu")
    opts = GradeOptions(backend="docker", grading_seed=7, gpu="0", image=sandbox_image)
    from autograde.backends.image import docker_client as connect

    try:  # on a machine with the NVIDIA runtime this test does not apply
        connect().info()["Runtimes"]["nvidia"]
        pytest.skip("this machine has the NVIDIA runtime")
    except KeyError:
        pass
    report = grade_submission(make_nb("gpu.ipynb"), rubric, opts)
    assert report.status == "grader error"
    assert any("cannot give the sandbox GPU 0" in note and "NVIDIA container toolkit" in note
               for note in report.notes), report.notes
    assert report.score == 0


def test_ctrl_c_mid_batch_leaves_no_container(docker_client, sandbox_image, make_nb, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from autograde.backends.docker import LABEL

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    hang = "import time\ntime.sleep(3600)"
    for name in ("a", "b"):
        make_nb(f"{name}.ipynb", insert_before={"loss": hang}).rename(uploads / f"{name}.ipynb")
    rubric = variant(tmp_path, "ctrlc", cell_timeout="600s", total_timeout="600s")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    cli = str(Path(sys.executable).with_name("autograde"))
    command = [cli, "grade", str(uploads), "-a", str(rubric.folder / "rubric.yaml"),
               "--out", str(tmp_path / "results"), "--backend", "docker"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not docker_client.containers.list(filters={"label": LABEL}):
        assert time.monotonic() < deadline and process.poll() is None, "no sandbox container started"
        time.sleep(0.5)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output.decode()
    assert "interrupted" in output.decode()
    assert not docker_client.containers.list(all=True, filters={"label": LABEL})
    assert not list(private_tmp.iterdir()), "temporary job folders left behind"


def test_missing_image_stops_the_batch_before_it_starts(docker_client, sandbox_image, make_nb, tmp_path):
    import subprocess
    import sys

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    make_nb("a.ipynb").rename(uploads / "a.ipynb")
    cli = str(Path(sys.executable).with_name("autograde"))
    done = subprocess.run(
        [cli, "grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(tmp_path / "r"),
         "--backend", "docker", "--image", "autograde-sandbox:no-such-tag"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "autograde-sandbox:no-such-tag not found" in done.stderr
    assert "autograde sandbox build" in done.stderr


def test_sandbox_info_names_the_image_and_versions_inside(docker_client, sandbox_image):
    import subprocess
    import sys

    cli = str(Path(sys.executable).with_name("autograde"))
    done = subprocess.run([cli, "sandbox", "info"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import torch

    assert sandbox_image in done.stdout
    assert "2.14.1" in done.stdout and torch.__version__.split("+")[0] == "2.14.1"
    assert "nbclient" in done.stdout and "0.11.0" in done.stdout


def test_prune_removes_older_images_of_the_variant_only(docker_client, sandbox_image):
    from autograde.backends.image import prune

    image = docker_client.images.get(sandbox_image)
    image.tag("autograde-sandbox", "cpu-0000prunetest")
    image.tag("autograde-sandbox", "gpu-0000prunetest")
    try:
        removed = prune(sandbox_image, lambda _line: None)
        assert "autograde-sandbox:cpu-0000prunetest" in removed
        tags = {t for found in docker_client.images.list(name="autograde-sandbox") for t in found.tags}
        assert sandbox_image in tags and "autograde-sandbox:cpu-0000prunetest" not in tags
        assert "autograde-sandbox:gpu-0000prunetest" in tags  # another variant is left alone
    finally:
        for tag in ("autograde-sandbox:cpu-0000prunetest", "autograde-sandbox:gpu-0000prunetest"):
            with contextlib.suppress(Exception):
                docker_client.images.remove(tag)
