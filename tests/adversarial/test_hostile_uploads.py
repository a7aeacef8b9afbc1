"""Hostile uploads, end to end through the real CLI (ATTACKS.md items 23-25).

Each test grades a batch of hostile sources with `autograde grade ... --backend local` in a
subprocess whose TMPDIR, HOME and working folder are fresh folders under tmp_path, and proves:
every hostile upload gets a rejected row (links never followed, nothing extracted), every
collision of student ids is reported, the good uploads are graded with the right totals,
every report escapes the names, and nothing changes outside the results folder (the whole
tmp_path tree, sources included, is snapshotted before and after; TMPDIR ends empty).
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import stat
import subprocess
import sys
import threading
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograde.batch.results_folder import LMS_DIR, MOODLE_FEEDBACK

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ex02_gradient_descent"
CLI = str(Path(sys.executable).with_name("autograde"))
ALICE = (EXAMPLES / "alice.ipynb").read_bytes()  # full marks: 10
BOB = (EXAMPLES / "bob.ipynb").read_bytes()  # 5
TOTAL = {ALICE: "10", BOB: "5"}
MOODLE = "_assignsubmission_file_/"
XSS = ("<script>alert(", "<img src=x onerror")  # payloads that must never reach a page raw
MiB = 2**20

Snapshot = dict[str, tuple[Any, ...]]


# ---------------------------------------------------------------- helpers


def snapshot(root: Path, skip: Path) -> Snapshot:
    """Every path under `root` but `skip`: files by size, mtime and sha256, links by target.
    Links are never followed and FIFOs never opened. Folders count by existence only (their
    mtime changes when the results folder is created inside them)."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d != skip]
        for name in [*dirs, *files]:
            path = here / name
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path), info.st_mtime_ns)
            elif stat.S_ISDIR(info.st_mode):
                found[key] = ("dir",)
            elif stat.S_ISREG(info.st_mode):
                found[key] = ("file", info.st_size, info.st_mtime_ns, sha256(path))
            else:
                found[key] = ("other", stat.S_IFMT(info.st_mode), info.st_mtime_ns)
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def disk_usage(*roots: Path) -> int:
    total = 0
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_size
                except OSError:  # removed while we looked
                    continue
    return total


@dataclass
class Run:
    out: Path
    stdout: str
    peak_bytes: int  # the most TMPDIR + HOME + results folder held at once during the run
    reports: list[dict[str, Any]]

    def graded_from(self, origin: str) -> dict[str, Any]:
        (found,) = [r for r in self.reports if r["file"] == origin]
        return found

    def rejected_naming(self, text: str) -> dict[str, Any]:
        """The one report whose verdict (its first note) names `text` (a member, a file, an
        archive); later notes may name other uploads, those of a collision."""
        found = [r for r in self.reports if r["notes"] and text in r["notes"][0]]
        assert len(found) == 1, (text, [(r["student"], r["notes"]) for r in found])
        return found[0]


def grade_isolated(tmp_path: Path, sources: list[Path], *extra: str) -> Run:
    """`autograde grade` in a fresh TMPDIR, HOME and cwd; asserts nothing outside the results
    folder changed (sources included) and TMPDIR is empty again."""
    out = tmp_path / "results"
    tmpdir, home, cwd = tmp_path / "tmpdir", tmp_path / "home", tmp_path / "cwd"
    for folder in (tmpdir, home, cwd):
        folder.mkdir()
    before = snapshot(tmp_path, out)
    env = {**os.environ, "TMPDIR": str(tmpdir), "HOME": str(home)}
    command = [CLI, "grade", *map(str, sources), "-a", "ex02_gradient_descent", "--out", str(out),
               "--backend", "local", "-j", "2", *extra]
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, disk_usage(tmpdir, home, out))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    finally:
        done.set()
        watcher.join()
    assert result.returncode == 0, result.stdout + result.stderr
    after = snapshot(tmp_path, out)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"written outside the results folder: {changed}"
    assert not any(tmpdir.iterdir()), f"TMPDIR not cleaned: {list(tmpdir.iterdir())}"
    assert not any(home.iterdir()) and not any(cwd.iterdir())
    reports = [json.loads(p.read_text()) for p in sorted(out.glob("students/*/report.json"))]
    return Run(out, result.stdout, peak, reports)


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    students = [row["student"] for row in rows]
    assert len(students) == len(set(students)), f"a student appears twice: {students}"
    return {row["student"]: row for row in rows}


def lms_ids(out: Path) -> list[str]:
    with open(out / "lms.csv", newline="", encoding="utf-8") as handle:
        return [unquote(row[0]) for row in list(csv.reader(handle))[1:]]


def unquote(cell: str) -> str:
    """A CSV cell as written for spreadsheets: a leading `-` (a formula) is quoted with `'`."""
    return cell[1:] if cell[:2] in ("'-", "'=", "'+", "'@") else cell


def row_of(book: dict[str, dict[str, str]], student: str) -> dict[str, str]:
    """The gradebook row of a student id."""
    (row,) = [row for cell, row in book.items() if unquote(cell) == student]
    return row


def assert_reports_are_consistent(run: Run, expected_rows: int) -> dict[str, dict[str, str]]:
    """One row per upload in grades.csv, lms.csv and students/; ids safe as folder names;
    no HTML payload raw in any page; no link and no notebook or archive in the results."""
    book = gradebook(run.out)
    assert len(book) == len(run.reports) == expected_rows, sorted(book)
    assert sorted(lms_ids(run.out)) == sorted(r["student"] for r in run.reports)
    for report in run.reports:
        student = report["student"]
        assert student.isascii() and student.isprintable() and len(student) <= 128
        assert "/" not in student and student not in (".", "..")
        assert row_of(book, student)["total"] == f"{report['score']:g}"
    for cell in (c for row in book.values() for c in row.values()):
        assert cell[:1] not in ("=", "+", "-", "@"), f"a formula in the gradebook: {cell!r}"
    for name in ("grades.csv", "lms.csv"):
        assert "<" not in (run.out / name).read_text(encoding="utf-8")
    pages = [run.out / "class.html", *run.out.glob("students/*/feedback.html")]
    assert len(pages) == expected_rows + 1
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for payload in XSS:
            assert payload not in text, f"{page.relative_to(run.out)} shows {payload!r} unescaped"
    feedback_zip = run.out / LMS_DIR / MOODLE_FEEDBACK  # the grader's own zip: feedback pages only
    if feedback_zip.exists():
        with zipfile.ZipFile(feedback_zip) as archive:
            assert all(member.endswith("/feedback.html") for member in archive.namelist()), archive.namelist()
    for folder, dirs, files in os.walk(run.out):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            assert not path.is_symlink(), path
            if path == feedback_zip:
                continue
            assert name in dirs or not name.endswith((".ipynb", ".zip")), f"an upload was extracted: {path}"
    return book


def write_zip(path: Path, members: list[tuple[str, bytes]], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16  # a unix symlink entry
            zf.writestr(info, target)
    return path


def collided(first: dict[str, Any], second: dict[str, Any]) -> None:
    """Two uploads that map to one student: two ids, each row names the other upload."""
    assert first["student"] != second["student"]
    reports_naming_other = [
        r for r, other in ((first, second), (second, first))
        if any(repr(other["student"]) in note for note in r["notes"])
    ]
    assert len(reports_naming_other) == 1, (first["notes"], second["notes"])
    later = reports_naming_other[0]
    base = first if later is second else second
    assert later["student"].casefold().startswith(base["student"].casefold())
    # and the earlier one names the later upload: both rows say there was a collision
    assert any(later["file"] in note for note in base["notes"]), base["notes"]


# ---------------------------------------------------------------- tests


def test_lms_zip_with_hostile_members(tmp_path: Path) -> None:
    inner = tmp_path / "inner.zip"
    write_zip(inner, [("nested_1010" + MOODLE + "ex02.ipynb", ALICE)])
    target = tmp_path / "target.ipynb"  # what the link member points at
    target.write_bytes(ALICE)
    nfc = unicodedata.normalize("NFC", "Ren\u00e9e")
    nfd = unicodedata.normalize("NFD", "Ren\u00e9e")
    assert nfc != nfd
    good = [
        ("alice_1001" + MOODLE + "ex02.ipynb", ALICE),
        ("\uff41lice_1003" + MOODLE + "ex02.ipynb", BOB),  # full-width a: looks like alice
        ("bob_1002" + MOODLE + "ex02.ipynb", BOB),
        ("bob_1002" + MOODLE + "ex02_v2.ipynb", ALICE),  # a second upload of the same student
        (nfc + "_1004" + MOODLE + "ex02.ipynb", ALICE),
        (nfd + "_1005" + MOODLE + "ex02.ipynb", BOB),
        ("eve_1007" + MOODLE + "<script>alert(1)</script>.ipynb", BOB),
        ("<img src=x onerror=alert(2)>_1009" + MOODLE + "ex02.ipynb", ALICE),
    ]
    hostile = [
        ("../../evil.ipynb", ALICE),
        ("/abs/evil.ipynb", ALICE),
        ("..\\..\\winevil.ipynb", ALICE),
        ("mallory_1006" + MOODLE + "inner.zip", inner.read_bytes()),
    ]
    link = "trudy_1008" + MOODLE + "link.ipynb"
    archive = write_zip(tmp_path / "export.zip", good + hostile, links={link: str(target)})
    digest = sha256(archive)

    run = grade_isolated(tmp_path, [archive], "--id-pattern", "moodle")

    assert sha256(archive) == digest
    book = assert_reports_are_consistent(run, expected_rows=len(good) + len(hostile) + 1)
    graded = {name: run.graded_from(f"export.zip!{name}") for name, _ in good}
    for (name, data), report in zip(good, graded.values(), strict=True):
        assert report["status"] == "graded", (name, report["notes"])
        assert row_of(book, report["student"])["total"] == TOTAL[data], name
    for name, _data in [*hostile, (link, b"")]:
        report = run.rejected_naming(f"export.zip!{name}")
        assert report["status"] == "rejected" and report["score"] == 0, (name, report["status"])
        assert report["file"] == f"export.zip!{name}", report["file"]  # the whole origin
        assert row_of(book, report["student"])["total"] == "0"
    # the nested archive's notebook was not graded: no row came from inside it
    assert not [r for r in run.reports if "nested" in r["student"] or "nested" in r["file"]]
    # look-alikes fold to one id and collide; two uploads of one student collide
    ids = {name: report["student"] for name, report in graded.items()}
    assert ids["alice_1001" + MOODLE + "ex02.ipynb"] == "alice"
    assert ids["bob_1002" + MOODLE + "ex02.ipynb"] == "bob"
    assert ids["eve_1007" + MOODLE + "<script>alert(1)</script>.ipynb"] == "eve"
    names = [name for name, _ in good]
    for one, two in ((0, 1), (2, 3), (4, 5)):  # alice and its look-alike, bob twice, NFC and NFD
        collided(graded[names[one]], graded[names[two]])
    # nothing escaped the archive, on disk or as a link
    for name in ("evil.ipynb", "winevil.ipynb"):
        assert not (tmp_path.parent / name).exists() and not (tmp_path.parent.parent / name).exists()
    assert not Path("/abs/evil.ipynb").exists()
    # the HTML name is shown, escaped, in eve's page
    eve = run.out / "students" / "eve" / "feedback.html"
    assert "&lt;script&gt;alert(1)&lt;" in eve.read_text(encoding="utf-8")


def test_folder_with_hostile_names_and_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    marker = outside / "FOLLOWED"
    secret = json.loads(ALICE)  # full marks, and leaves a marker if it is ever run
    secret["cells"].insert(0, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                               "source": f"open({str(marker)!r}, 'w').close()"})
    (outside / "secret.ipynb").write_text(json.dumps(secret))
    (outside / "dir" / "inside.ipynb").write_text(json.dumps(secret))
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    long_name = "l" * 244 + ".ipynb"
    assert len(long_name.encode()) == 250
    good = {
        "bob.ipynb": BOB,
        "new\nline.ipynb": ALICE,
        "<img src=x onerror=alert(1)>.ipynb": BOB,
        "<script>alert(1)<.ipynb": ALICE,
        "-rf.ipynb": ALICE,
        long_name: BOB,
        "carol.ipynb": ALICE,
        "CAROL.ipynb": BOB,  # differs only in case: one folder on macOS and Windows
    }
    for name, data in good.items():
        (uploads / name).write_bytes(data)
    os.symlink(outside / "secret.ipynb", uploads / "mallory.ipynb")
    os.symlink(outside / "dir", uploads / "dirlink")
    os.symlink(outside / "dir", uploads / "linkdir.ipynb")
    os.mkfifo(uploads / "pipe.ipynb")  # reading it would hang the grader
    digest = {name: sha256(uploads / name) for name in good}

    run = grade_isolated(tmp_path, [uploads])

    assert {name: sha256(uploads / name) for name in good} == digest
    book = assert_reports_are_consistent(run, expected_rows=len(good) + 4)
    graded = {name: run.graded_from(f"uploads/{name}") for name in good}
    for name, report in graded.items():
        assert report["status"] == "graded", (name, report["notes"])
        assert row_of(book, report["student"])["total"] == TOTAL[good[name]], name
    for name in ("mallory.ipynb", "dirlink", "linkdir.ipynb"):
        report = run.rejected_naming(f"uploads/{name}")
        assert report["status"] == "rejected" and report["score"] == 0
        assert any("link" in note for note in report["notes"]), report["notes"]
    pipe = run.rejected_naming("uploads/pipe.ipynb")
    assert pipe["status"] == "rejected" and pipe["score"] == 0
    # links were not followed: the targets were never read into a report or run
    assert not marker.exists()
    assert not [r for r in run.reports if "secret" in r["file"] or "inside" in r["file"]]
    collided(graded["CAROL.ipynb"], graded["carol.ipynb"])
    assert len({r["student"].casefold() for r in run.reports}) == len(run.reports)
    assert "\n" not in graded["new\nline.ipynb"]["student"]
    assert graded["-rf.ipynb"]["student"].lstrip("-") == "rf"
    for name in ("<img src=x onerror=alert(1)>.ipynb", "<script>alert(1)<.ipynb"):
        page = (run.out / "students" / graded[name]["student"] / "feedback.html").read_text(encoding="utf-8")
        assert html.escape(name) in page  # shown, escaped


def test_zip_bombs_are_refused_and_the_rest_is_graded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice_1" + MOODLE + "ex02.ipynb", ALICE)
        with zf.open("zed_2" + MOODLE + "zeros.ipynb", "w", force_zip64=True) as handle:
            zeros = bytes(MiB)
            for _ in range(300):  # 300 MiB inflated, streamed: never held in memory
                handle.write(zeros)
        zf.writestr("rat_3" + MOODLE + "ratio.ipynb", bytes(10 * MiB))  # under the size cap, ratio ~1000
    assert bomb.stat().st_size < 2 * MiB
    liar = write_zip(tmp_path / "liar.zip", [("liar_4" + MOODLE + "ex02.ipynb", bytes(30 * MiB))])
    raw = bytearray(liar.read_bytes())
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")  # declares 1000 bytes uncompressed
    liar.write_bytes(bytes(raw))
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for index in range(5001):
            zf.writestr(f"s{index}_{index}" + MOODLE + "ex02.ipynb", b"{}")
    plain = tmp_path / "bob.ipynb"
    plain.write_bytes(BOB)
    digests = {path: sha256(path) for path in (bomb, liar, many, plain)}

    run = grade_isolated(tmp_path, [bomb, liar, many, plain], "--id-pattern", "moodle")

    assert {path: sha256(path) for path in digests} == digests
    assert run.peak_bytes < 2 * MiB, f"{run.peak_bytes} bytes on disk during the run: something was inflated"
    assert disk_usage(run.out) < MiB
    book = assert_reports_are_consistent(run, expected_rows=6)
    assert row_of(book, run.graded_from(str(plain))["student"])["total"] == "5"
    alice = run.graded_from("bomb.zip!alice_1" + MOODLE + "ex02.ipynb")
    assert row_of(book, alice["student"])["total"] == "10"
    for member in ("zed_2" + MOODLE + "zeros.ipynb", "rat_3" + MOODLE + "ratio.ipynb"):
        report = run.rejected_naming(f"bomb.zip!{member}")
        assert report["status"].startswith("rejected") and report["score"] == 0
    liar_report = next(r for r in run.reports if "liar.zip!" in r["file"] + "".join(r["notes"]))
    assert liar_report["status"] != "graded" and liar_report["score"] == 0
    refused = run.rejected_naming("many.zip")
    assert refused["status"].startswith("rejected") and refused["score"] == 0
    assert any("5001" in note for note in refused["notes"]), refused["notes"]
