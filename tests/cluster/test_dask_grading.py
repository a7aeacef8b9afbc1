"""`grade --cluster` against a real Dask scheduler and real `dask worker` processes on loopback:
the same gradebook as this machine's threads, a worker killed mid-batch, the scheduler lost,
a worker whose data folder differs, Ctrl-C, and TLS with certificates made here."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.batch_tools import grade, gradebook, journal_students, kernels_of
from tests.cluster.dask_processes import (
    dask_cluster,
    start_grade,
    start_scheduler,
    start_worker,
    worker_pids,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"


def reports(out: Path) -> dict[str, dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in sorted((out / "students").glob("*/report.json"))]
    return {r["student"]: r for r in found}


def checks_of(report: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    return [(c["name"], c["status"], c["message"], c["earned"]) for t in report["tasks"] for c in t["checks"]]


def copies(folder: Path, count: int, extra_cell: str | None = None, source: Path = EXAMPLES) -> Path:
    """`count` copies of each example upload (or of `source`, a notebook), optionally with a
    cell put first."""
    folder.mkdir(parents=True)
    notebooks = [source] if source.is_file() else sorted(source.glob("*.ipynb"))
    for path in notebooks:
        for index in range(count):
            data = path.read_text()
            if extra_cell is not None:
                nb = json.loads(data)
                nb["cells"].insert(
                    0,
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": extra_cell,
                    },
                )
                data = json.dumps(nb)
            (folder / f"{path.stem}_{index}.ipynb").write_text(data)
    return folder


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory):
    with dask_cluster(tmp_path_factory.mktemp("dask"), {"w1": {}, "w2": {}}) as cluster:
        yield cluster


def test_the_cluster_gives_the_threads_gradebook(tmp_path, two_workers):
    uploads = copies(tmp_path / "uploads", 2)
    common = ["-a", "ex02_gradient_descent", "--seed", "11"]
    threads = grade(str(uploads), *common, "--out", str(tmp_path / "threads"), "-j", "2")
    cluster = grade(
        str(uploads), *common, "--out", str(tmp_path / "cluster"), "--cluster", two_workers.address
    )
    assert gradebook(tmp_path / "cluster") == gradebook(tmp_path / "threads")
    by_threads, by_cluster = reports(tmp_path / "threads"), reports(tmp_path / "cluster")
    assert by_cluster.keys() == by_threads.keys() and len(by_cluster) == 12
    for student, report in by_cluster.items():
        assert checks_of(report) == checks_of(by_threads[student]), student
        assert report["grading_seed"] == by_threads[student]["grading_seed"]
        assert report["file"] == by_threads[student]["file"]
    assert sorted(journal_students(tmp_path / "cluster")) == sorted(by_cluster)
    graded_on = {
        line.rpartition(" on ")[2].split()[0] for line in cluster.stdout.splitlines() if " on tcp://" in line
    }
    assert graded_on == set(worker_pids_of(two_workers)), cluster.stdout  # both workers graded, and said so
    assert "grading on" not in threads.stdout and "grading on the Dask scheduler at" in cluster.stdout
    run = json.loads(next((tmp_path / "cluster" / "runs").glob("*.json")).read_text())
    assert run["options"]["cluster"] == f"the Dask scheduler at {two_workers.address}"
    # a rerun on this machine's threads finds everything in the journal: the same config digest
    again = grade(str(uploads), *common, "--out", str(tmp_path / "cluster"), "-j", "2")
    assert "12 already graded (journal)" in again.stdout


def worker_pids_of(cluster: Any) -> dict[str, int]:
    with cluster.client() as client:
        return worker_pids(client)


def test_a_worker_killed_mid_job_costs_no_upload_and_grades_none_twice(tmp_path, two_workers):
    uploads = copies(tmp_path / "uploads", 3, "import time\ntime.sleep(2)", EXAMPLES / "alice.ipynb")
    out = tmp_path / "out"
    process = start_grade(
        str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "--cluster", two_workers.address
    )
    with two_workers.client() as client:
        deadline = time.monotonic() + 120
        busy: list[str] = []
        while not busy:
            assert time.monotonic() < deadline and process.poll() is None, "no job started"
            busy = [
                w
                for w, keys in client.processing().items()
                if any(str(k).startswith("autograde-") for k in keys)
            ]
            time.sleep(0.1)
        time.sleep(1.0)  # mid-job: its kernel runs the sleep
        pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
        client.wait_for_workers(2, timeout=60)  # the nanny started it again
    rows = gradebook(out)
    assert sorted(rows) == [f"alice_{i}" for i in range(3)]
    assert all(row["status"] == "graded" and row["total"] == "10" for row in rows.values()), rows
    assert sorted(journal_students(out)) == sorted(rows), "an upload was journaled twice or not at all"


def test_a_lost_scheduler_stops_the_command_and_the_rerun_resumes(tmp_path):
    uploads = copies(tmp_path / "uploads", 4, "import time\ntime.sleep(1.5)", EXAMPLES / "alice.ipynb")
    out = tmp_path / "out"
    folder = tmp_path / "dask"
    scheduler, address = start_scheduler(folder)
    worker = start_worker(folder, address, "w1")
    try:
        process = start_grade(
            str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "--cluster", address
        )
        deadline = time.monotonic() + 180
        while not (out / "journal.jsonl").is_file() or not journal_students(out):
            assert time.monotonic() < deadline and process.poll() is None, process.stdout
            time.sleep(0.1)
        scheduler.kill()
        scheduler.wait()
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 2, output
        assert f"lost the connection to the Dask scheduler at {address}" in output
        assert "rerun the same command" in output
        graded = journal_students(out)
        assert 1 <= len(graded) < 4
    finally:
        for proc in (worker, scheduler):
            proc.kill()
            proc.wait()
    with dask_cluster(tmp_path / "dask2", {"w1": {}}) as cluster:
        again = grade(
            str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "--cluster", cluster.address
        )
    assert f"{len(graded)} already graded (journal)" in again.stdout
    rows = gradebook(out)
    assert len(rows) == 4 and all(row["total"] == "10" for row in rows.values())
    assert sorted(journal_students(out)) == sorted(rows)


def _tamper_data(worker_home: Path, assignment: str) -> Path:
    """Make, as a worker would (its own process and cache), the data folder a worker makes
    from the library archive, then change one of its files; returns the folder."""
    from autograde.cluster.library import pack
    from autograde.rubric import load_assignment

    part_file = worker_home / "part.pickle"
    worker_home.mkdir(parents=True, exist_ok=True)
    part_file.write_bytes(pickle.dumps(pack(load_assignment(assignment))))
    code = (
        "import pickle, sys\nfrom autograde.cluster import job\nfrom autograde.rubric.datasets import "
        "prepare_data_dir\npart = pickle.loads(open(sys.argv[1], 'rb').read())\na = job._assignment(part)\n"
        "print(prepare_data_dir(a.id, a.rubric.data_dir))\n"
    )
    env = {**os.environ, "AUTOGRADE_CACHE": str(worker_home / "cache")}
    env.pop("AUTOGRADE_LIBRARY", None)
    made = subprocess.run(
        [sys.executable, "-c", code, str(part_file)],
        capture_output=True,
        text=True,
        env=env,
        cwd=worker_home,
        check=True,
    )
    folder = Path(made.stdout.strip().splitlines()[-1])
    victim = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"\0")
    return folder


def test_a_worker_with_another_data_folder_is_named_and_its_jobs_go_elsewhere(tmp_path):
    folder = tmp_path / "dask"
    tampered = _tamper_data(folder / "bad", "ex01_perceptron")
    solution = ROOT / "rubrics" / "ex01_perceptron" / "solution.ipynb"
    uploads = copies(tmp_path / "uploads", 4, None, solution)
    out = tmp_path / "out"
    with dask_cluster(folder, {"good": {}, "bad": {}}) as cluster:
        addresses = {name: address for address, name in _names(cluster).items()}
        grade(str(uploads), "-a", "ex01_perceptron", "--out", str(out), "--cluster", cluster.address)
        rows = gradebook(out)
        assert len(rows) == 4 and {row["status"] for row in rows.values()} == {"graded"}
        assert len({row["total"] for row in rows.values()}) == 1 and rows["solution_0"]["total"] != "0"
        notes = [note for report in reports(out).values() for note in report["notes"]]
        moved = [n for n in notes if n.startswith(f"graded on worker {addresses['good']}: ")]
        assert moved, notes  # at least one job went to the bad worker first
        assert all(f"{addresses['bad']} could not (its data folder {tampered}" in n for n in moved), moved
        cluster.workers["good"].send_signal(signal.SIGTERM)
        cluster.workers["good"].wait(timeout=30)
        grade(
            str(uploads),
            "-a",
            "ex01_perceptron",
            "--out",
            str(out),
            "--cluster",
            cluster.address,
            "--regrade",
        )
    rows = gradebook(out)
    assert {row["status"] for row in rows.values()} == {"grader error"}, rows
    for report in reports(out).values():
        assert any(
            f"no worker of the cluster could grade it ({addresses['bad']}: its data folder" in n
            and "graded again on the next run" in n
            for n in report["notes"]
        ), report["notes"]


def _names(cluster: Any) -> dict[str, str]:
    with cluster.client() as client:
        return {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}


def test_ctrl_c_leaves_no_kernel_on_any_worker(tmp_path, two_workers):
    uploads = copies(tmp_path / "uploads", 3, "import time\ntime.sleep(3600)", EXAMPLES / "alice.ipynb")
    out = tmp_path / "out"
    graders = set(worker_pids_of(two_workers).values())
    process = start_grade(
        str(uploads), "-a", "ex02_gradient_descent", "--out", str(out), "--cluster", two_workers.address
    )
    deadline = time.monotonic() + 120
    while kernels_of(graders) < 2:
        assert time.monotonic() < deadline and process.poll() is None, (
            "the jobs did not start on both workers"
        )
        time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 130, output
    deadline = time.monotonic() + 10
    while kernels_of(graders) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels_of(graders) == 0, "a kernel kept running on a worker after Ctrl-C"
    assert not journal_students(out) if (out / "journal.jsonl").is_file() else True
    with two_workers.client() as client:  # the workers are free for the next batch
        assert not [k for keys in client.processing().values() for k in keys]


@pytest.fixture
def certificates(tmp_path):
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files = {"ca_file": tmp_path / "ca.pem", "cert": tmp_path / "cert.pem", "key": tmp_path / "key.pem"}
    ca.cert_pem.write_to_path(str(files["ca_file"]))
    cert.cert_chain_pems[0].write_to_path(str(files["cert"]))
    cert.private_key_pem.write_to_path(str(files["key"]))
    other = trustme.CA().issue_cert("127.0.0.1")
    strange = {
        "ca_file": tmp_path / "other-ca.pem",
        "cert": tmp_path / "other.pem",
        "key": tmp_path / "other-key.pem",
    }
    trustme.CA().cert_pem.write_to_path(str(strange["ca_file"]))
    other.cert_chain_pems[0].write_to_path(str(strange["cert"]))
    other.private_key_pem.write_to_path(str(strange["key"]))
    return {k: str(v) for k, v in files.items()}, {k: str(v) for k, v in strange.items()}


def test_tls_with_certificates_and_no_plain_or_strange_connection(tmp_path, certificates):
    tls, strange = certificates
    uploads = copies(tmp_path / "uploads", 1, None, EXAMPLES / "alice.ipynb")
    config = tmp_path / "cluster.yaml"
    config.write_text(
        yaml.safe_dump(
            {"tls": {"ca_file": "ca.pem", "cert": "cert.pem", "key": "key.pem"}, "wait_for_workers": 10}
        )
    )
    with dask_cluster(tmp_path / "dask", {"w1": {}}, tls=tls, security=_security(tls)) as cluster:
        assert cluster.address.startswith("tls://")
        grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "out"),
            "--cluster",
            cluster.address,
            "--cluster-config",
            str(config),
        )
        assert gradebook(tmp_path / "out")["alice_0"]["total"] == "10"
        plain = cluster.address.replace("tls://", "tcp://")
        refused = grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "plain"),
            "--cluster",
            plain,
            check=False,
        )
        assert refused.returncode == 2 and f"cannot reach the Dask scheduler at {plain}" in refused.stderr
        bad = tmp_path / "strange.yaml"
        bad.write_text(yaml.safe_dump({"tls": strange, "wait_for_workers": 5}))
        refused = grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "strange"),
            "--cluster",
            cluster.address,
            "--cluster-config",
            str(bad),
            check=False,
        )
        assert refused.returncode == 2 and "cannot reach the Dask scheduler" in refused.stderr, refused.stderr
        no_tls = grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "none"),
            "--cluster",
            cluster.address,
            check=False,
        )
        assert (
            no_tls.returncode == 2
            and "needs the certificates of a cluster file's tls: section" in no_tls.stderr
        )
    for folder in ("plain", "strange", "none"):
        assert not (tmp_path / folder / "journal.jsonl").is_file() or not journal_students(tmp_path / folder)


def _security(tls: dict[str, str]) -> Any:
    from distributed.security import Security

    return Security(
        tls_ca_file=tls["ca_file"],
        tls_client_cert=tls["cert"],
        tls_client_key=tls["key"],
        require_encryption=True,
    )


def test_local_cluster_grades_like_the_threads(tmp_path):
    uploads = copies(tmp_path / "uploads", 1)
    common = ["-a", "ex02_gradient_descent", "--seed", "4"]
    grade(str(uploads), *common, "--out", str(tmp_path / "threads"), "-j", "2")
    grade(str(uploads), *common, "--out", str(tmp_path / "local"), "--cluster", "local:2")
    assert gradebook(tmp_path / "local") == gradebook(tmp_path / "threads")
    shutil.rmtree(tmp_path / "uploads")


def test_gpu_jobs_go_only_to_workers_that_declare_a_gpu(tmp_path):
    uploads = copies(tmp_path / "uploads", 1)
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump({"wait_for_workers": 3}))
    folder = tmp_path / "dask"
    with dask_cluster(folder, {"cpu": {}, "gpu": {}}, resources={"gpu": "GPU=1"}) as cluster:
        names = {name: address for address, name in _names(cluster).items()}
        done = grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "out"),
            "--cluster",
            cluster.address,
            "--gpus",
            "all",
        )
        graded_on = [
            line.rpartition(" on ")[2].split()[0] for line in done.stdout.splitlines() if " on tcp://" in line
        ]
        assert len(graded_on) == 6 and set(graded_on) == {names["gpu"]}, done.stdout
        assert len(gradebook(tmp_path / "out")) == 6
    with dask_cluster(tmp_path / "dask2", {"cpu": {}}) as cluster:
        refused = grade(
            str(uploads),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "none"),
            "--cluster",
            cluster.address,
            "--gpus",
            "all",
            "--cluster-config",
            str(config),
            check=False,
        )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "declares a GPU resource (dask worker --resources GPU=1) for 3 s" in refused.stderr


PUBLIC = b"visible to the notebook"


def _snooping_notebook(path: Path, reads: dict[str, Path]) -> Path:
    import nbformat

    code = "def size(path):\n    try:\n        with open(path, 'rb') as handle:\n"
    code += "            return len(handle.read())\n    except OSError:\n        return 0\n"
    code += "".join(f"{name} = size({str(file)!r})\n" for name, file in reads.items())
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nb, path)
    return path


def test_no_library_part_reaches_a_sandbox_on_a_worker(tmp_path):
    """A worker keeps each library part it was sent; a later batch's notebook, of another
    assignment, can read neither that part (ex02's solution_code.py) nor its own."""
    library = tmp_path / "library"
    (library / "rubrics" / "leak").mkdir(parents=True)
    checks = [{"kind": "value", "variable": v, "expect": 0} for v in ("other_part", "own_rubric")]
    checks.append({"kind": "value", "variable": "public", "expect": len(PUBLIC)})
    rubric = {
        "schema": 1,
        "assignment": "leak",
        "title": "reads what it must not",
        "limits": {"cell_timeout": "20s", "total_timeout": "120s"},
        "tasks": [{"id": "files", "title": "bytes read", "points": 3, "checks": checks}],
    }
    (library / "rubrics" / "leak" / "rubric.yaml").write_text(yaml.safe_dump(rubric))
    outside = Path(tempfile.mkdtemp(prefix="autograde-worker-", dir="/var/tmp"))  # not under /tmp,
    try:  # which every sandbox has a private one of anyway
        _snoop(tmp_path, library, outside)
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def _snoop(tmp_path: Path, library: Path, outside: Path) -> None:
    from autograde.cluster.library import pack
    from autograde.rubric import load_assignment

    public = outside / "public.txt"
    public.write_bytes(PUBLIC)
    cache = outside / "cache"
    folder = tmp_path / "dask"
    with dask_cluster(folder, {"w1": {"AUTOGRADE_CACHE": str(cache)}}) as cluster:
        grade(
            str(copies(tmp_path / "ex02", 1, None, EXAMPLES / "alice.ipynb")),
            "-a",
            "ex02_gradient_descent",
            "--out",
            str(tmp_path / "out-ex02"),
            "--cluster",
            cluster.address,
        )
        [other] = (cache / "libraries").glob("*/rubrics/ex02_gradient_descent/solution_code.py")
        own = pack(load_assignment("leak", library / "rubrics")).digest
        own_rubric = cache / "libraries" / own / "rubrics" / "leak" / "rubric.yaml"
        uploads = tmp_path / "uploads"
        uploads.mkdir()
        _snooping_notebook(
            uploads / "snoop.ipynb", {"other_part": other, "own_rubric": own_rubric, "public": public}
        )
        grade(
            str(uploads),
            "-a",
            "leak",
            "--library",
            str(library),
            "--out",
            str(tmp_path / "out"),
            "--cluster",
            cluster.address,
        )
    assert own_rubric.is_file() and other.stat().st_size > 0  # both were there, on the worker
    [report] = reports(tmp_path / "out").values()
    if any("file system not fully protected" in note for note in report["notes"]):
        pytest.skip(f"no mount namespace here: {report['notes']}")
    found = {c["name"]: c for c in report["tasks"][0]["checks"]}
    assert found["value public"]["status"] == "pass", found  # reading works in there
    assert found["value other_part"]["status"] == "pass", found["value other_part"]["message"]
    assert found["value own_rubric"]["status"] == "pass", found["value own_rubric"]["message"]


def test_a_scattered_library_lost_with_its_only_worker_is_sent_again(tmp_path, monkeypatch):
    """A large library part goes to the workers once (scattered); when the one worker holding
    it dies, the jobs waiting on it are sent again with the part, not taken for a lost scheduler."""
    import threading

    from autograde.batch.run import BatchOptions, grade_batch
    from autograde.cluster import dispatch
    from autograde.cluster.settings import parse_cluster
    from autograde.pipeline.grade import GradeOptions
    from autograde.rubric import load_assignment

    monkeypatch.setattr(dispatch, "SCATTER_BYTES", 0)
    uploads = copies(tmp_path / "uploads", 3, "import time\ntime.sleep(1)", EXAMPLES / "alice.ipynb")
    with dask_cluster(tmp_path / "dask", {"w1": {}}) as cluster:
        killed = threading.Event()

        def kill_when_busy() -> None:
            with cluster.client() as client:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    if any(
                        str(k).startswith("autograde-") for ks in client.processing().values() for k in ks
                    ):
                        time.sleep(0.5)
                        for pid in worker_pids(client).values():
                            os.kill(pid, signal.SIGKILL)
                        killed.set()
                        return
                    time.sleep(0.05)

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        batch = BatchOptions(cluster=parse_cluster(cluster.address))
        found = grade_batch(
            [uploads],
            load_assignment("ex02_gradient_descent"),
            tmp_path / "out",
            GradeOptions(grading_seed=3),
            batch,
        )
        killer.join()
    assert killed.is_set()
    assert [(r.student, r.status, r.score) for r in found] == [
        (f"alice_{i}", "graded", 10.0) for i in range(3)
    ]
    assert sorted(journal_students(tmp_path / "out")) == [f"alice_{i}" for i in range(3)]


def test_a_shared_library_is_read_where_it_is_and_checked(tmp_path, two_workers):
    uploads = copies(tmp_path / "uploads", 1, None, EXAMPLES / "alice.ipynb")
    config = tmp_path / "shared.yaml"
    config.write_text(yaml.safe_dump({"library": str(ROOT)}))  # the checkout is a course library
    args = [str(uploads), "-a", "ex02_gradient_descent", "--cluster", two_workers.address, "--cluster-config"]
    unpacked = [sorted((two_workers.folder / w / "cache").glob("libraries/*")) for w in ("w1", "w2")]
    grade(*args, str(config), "--out", str(tmp_path / "out"))
    assert gradebook(tmp_path / "out")["alice_0"]["total"] == "10"
    assert unpacked == [sorted((two_workers.folder / w / "cache").glob("libraries/*")) for w in ("w1", "w2")]
    other = tmp_path / "other"  # the same rubric, another solution_code.py: not the coordinator's library
    shutil.copytree(ROOT / "rubrics" / "ex02_gradient_descent", other / "rubrics" / "ex02_gradient_descent")
    code = other / "rubrics" / "ex02_gradient_descent" / "solution_code.py"
    code.write_text(code.read_text() + "\n# edited on the shared file system\n")
    config.write_text(yaml.safe_dump({"library": str(other)}))
    grade(*args, str(config), "--out", str(tmp_path / "differs"))
    [report] = reports(tmp_path / "differs").values()
    assert report["status"] == "grader error"
    assert any(
        f"the shared library {other} differs from the coordinator's for ex02_gradient_descent" in n
        for n in report["notes"]
    ), report["notes"]


def test_notebooks_are_read_only_as_their_jobs_are_sent(two_workers):
    """At most IN_FLIGHT_PER_THREAD jobs per worker thread (MIN_IN_FLIGHT at least) are out at
    a time, each notebook read when its job is sent; one that cannot be read is its own fault."""
    from autograde.cluster import dispatch
    from autograde.cluster.job import Job
    from autograde.cluster.library import pack
    from autograde.cluster.settings import parse_cluster
    from autograde.pipeline.grade import GradeOptions
    from autograde.rubric import load_assignment

    notebook = (EXAMPLES / "alice.ipynb").read_bytes()
    count, missing = 14, 5
    read: list[int] = []
    outcomes: list[dispatch.Outcome] = []
    most_out = 0

    def job_at(index: int) -> Job:
        nonlocal most_out
        if index == missing:
            raise FileNotFoundError(2, "No such file or directory", f"s{index}.ipynb")
        read.append(index)
        most_out = max(most_out, len(read) - len([o for o in outcomes if o.index != missing]))
        return Job(
            "inflight",
            f"s{index}",
            f"s{index}.ipynb",
            f"s{index}.ipynb",
            notebook,
            GradeOptions(grading_seed=1),
        )

    with two_workers.client() as client:
        dispatch.grade_jobs(
            client,
            parse_cluster(two_workers.address),
            "inflight",
            count,
            job_at,
            pack(load_assignment("ex02_gradient_descent")),
            outcomes.append,
        )
    limit = max(dispatch.MIN_IN_FLIGHT, dispatch.IN_FLIGHT_PER_THREAD * 2)  # two workers, one thread each
    assert sorted(read) == [i for i in range(count) if i != missing] and 1 <= most_out <= limit, most_out
    assert sorted(o.index for o in outcomes) == list(range(count))  # one outcome each
    [fault] = [o for o in outcomes if o.report is None]
    assert fault.index == missing and fault.fault.startswith(
        "the grader could not read it (FileNotFoundError"
    )
    assert {o.report.score for o in outcomes if o.report is not None} == {10.0}
