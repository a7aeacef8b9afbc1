"""Collecting a batch: folders, files, LMS zips; ids, rosters; hostile names and zip bombs."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from autograde.batch.uploads import (
    MAX_ZIP_ENTRIES,
    MAX_ZIP_RATIO,
    IdRule,
    Roster,
    collect,
)
from autograde.errors import AutogradeError

NB = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def by_student(uploads):
    return {u.student: u for u in uploads}


def make_zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_folder_of_notebooks_is_staged_as_copies(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "alice.ipynb").write_bytes(NB)
    (uploads / "notes.txt").write_text("hi")
    (uploads / ".hidden.ipynb").write_bytes(NB)
    found = by_student(collect([uploads], tmp_path / "stage"))
    assert set(found) == {"alice", "notes.txt"}
    alice = found["alice"]
    assert alice.graded and alice.path is not None and alice.path.parent == tmp_path / "stage"
    assert alice.path.read_bytes() == NB and alice.origin == "uploads/alice.ipynb"
    assert found["notes.txt"].status == "not a notebook" and not found["notes.txt"].graded
    alice.path.write_bytes(b"changed")  # grading works on the copy; the upload is untouched
    assert (uploads / "alice.ipynb").read_bytes() == NB


def test_links_are_never_followed(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(NB)
    os.symlink(secret, uploads / "mallory.ipynb")
    os.symlink(tmp_path, uploads / "dirlink")
    found = collect([uploads], tmp_path / "stage")
    assert all(not u.graded and "symbolic link" in (u.problem or "") for u in found)
    assert len(found) == 2


def test_unicode_lookalikes_and_collisions_are_reported(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for name in ("alice.ipynb", "\uff41\uff4c\uff49\uff43\uff45.ipynb", "bob.ipynb"):  # fullwidth alice
        (uploads / name).write_bytes(NB)
    found = collect([uploads], tmp_path / "stage")
    ids = sorted(u.student for u in found)
    assert ids == ["alice", "alice~2", "bob"]
    second = by_student(found)["alice~2"]
    assert second.graded and any("'alice'" in note for note in second.notes)
    first = by_student(found)["alice"]  # the first row says so too, naming the other upload
    assert any("\uff41\uff4c\uff49\uff43\uff45.ipynb" in note for note in first.notes), first.notes
    assert not by_student(found)["bob"].notes


def test_moodle_style_folders_and_preset(tmp_path):
    export = tmp_path / "export"
    for folder in ("Jane Doe_1001_assignsubmission_file_", "Max Muster_1002_assignsubmission_file_"):
        (export / folder).mkdir(parents=True)
        (export / folder / "ex02.ipynb").write_bytes(NB)
    plain = by_student(collect([export], tmp_path / "s1"))
    assert set(plain) == {"Jane_Doe_1001_assignsubmission_file", "Max_Muster_1002_assignsubmission_file"}
    named = by_student(collect([export], tmp_path / "s2", IdRule("moodle")))
    assert set(named) == {"Jane_Doe", "Max_Muster"}


def test_custom_pattern_needs_an_id_group_and_reports_misses(tmp_path):
    with pytest.raises(AutogradeError, match=r"\(\?P<id>"):
        IdRule(r"\d+")
    with pytest.raises(AutogradeError, match="--id-pattern"):
        IdRule(r"(?P<id>[")
    uploads = tmp_path / "u"
    uploads.mkdir()
    (uploads / "hw_s123.ipynb").write_bytes(NB)
    (uploads / "random.ipynb").write_bytes(NB)
    found = by_student(collect([uploads], tmp_path / "s", IdRule(r"_(?P<id>s\d+)\.ipynb$")))
    assert set(found) == {"s123", "random"}
    assert any("did not match" in note for note in found["random"].notes)


def test_roster_maps_names_and_lists_missing_students(tmp_path):
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text("id,name,email\ns1,Jane Doe,jane@uni.example\ns2,Max Muster,max@uni.example\n"
                           "s3,Nobody Here,n@uni.example\n")
    roster = Roster.read(roster_file)
    export = tmp_path / "export"
    for folder in ("Jane Doe_1_assignsubmission_file_", "Max Muster_2_assignsubmission_file_",
                   "Eve Intruder_3_assignsubmission_file_"):
        (export / folder).mkdir(parents=True)
        (export / folder / "nb.ipynb").write_bytes(NB)
    found = by_student(collect([export], tmp_path / "s", IdRule("moodle"), roster))
    assert found["s1"].graded and found["s2"].graded
    assert found["s3"].status == "no submission" and not found["s3"].graded
    assert any("not on the roster" in note for note in found["Eve_Intruder"].notes)


@pytest.mark.parametrize("content", ["name\nx\n", "id\ns1\ns1\n", "id\n\n,\n"])
def test_bad_rosters_are_refused_with_the_file(tmp_path, content):
    path = tmp_path / "roster.csv"
    path.write_text(content)
    with pytest.raises(AutogradeError, match="roster"):
        Roster.read(path)


def test_lms_zip_with_hostile_members(tmp_path):
    archive = make_zip(tmp_path / "export.zip", {
        "Jane Doe_1_assignsubmission_file_/nb.ipynb": NB,
        "../../escape.ipynb": NB,
        "/abs/path.ipynb": NB,
        "inner.zip": b"PK\x03\x04",
        "__MACOSX/._nb.ipynb": b"junk",
        "readme.txt": b"hello",
    }, links={"link.ipynb": "/etc/passwd"})
    stage = tmp_path / "stage"
    found = collect([archive], stage, IdRule("moodle"))
    graded = [u for u in found if u.graded]
    assert [u.student for u in graded] == ["Jane_Doe"]
    problems = {u.origin.split("!")[1]: u.problem for u in found if not u.graded}
    assert "leaves the archive" in problems["../../escape.ipynb"]
    assert "absolute path" in problems["/abs/path.ipynb"]
    assert "nested archive" in problems["inner.zip"]
    assert "symbolic link" in problems["link.ipynb"]
    assert "not an .ipynb" in problems["readme.txt"]
    assert not any("MACOSX" in u.origin for u in found)
    # nothing was written outside the staging folder, and only generated names inside it
    assert not (tmp_path / "escape.ipynb").exists() and not Path("/abs/path.ipynb").exists()
    assert all(p.parent == stage for p in stage.iterdir())


def test_zip_bomb_by_ratio_is_rejected_without_inflating(tmp_path):
    bomb = b"0" * (5 * 2**20)  # 5 MiB of zeros compress ~1000:1
    archive = make_zip(tmp_path / "bomb.zip", {"a.ipynb": bomb, "b.ipynb": NB})
    found = by_student(collect([archive], tmp_path / "stage"))
    assert f"ratio over {MAX_ZIP_RATIO}" in (found["a"].problem or "")
    assert found["b"].graded


def test_zip_with_too_many_entries_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for index in range(MAX_ZIP_ENTRIES + 1):
            zf.writestr(f"f{index}.ipynb", NB)
    archive = tmp_path / "many.zip"
    archive.write_bytes(buffer.getvalue())
    single = tmp_path / "carol.ipynb"
    single.write_bytes(NB)
    # regression: the refused archive used to raise and stop the whole batch (nothing graded);
    # now it is one rejected row naming the archive, and the other sources are still graded
    found = collect([archive, single], tmp_path / "stage")
    assert [u.student for u in found] == ["many.zip", "carol"]
    refused, carol = found
    assert not refused.graded and refused.path is None and refused.status.startswith("rejected")
    assert str(archive) in (refused.problem or "") and "entries, over the limit" in (refused.problem or "")
    assert carol.graded
    assert [p.name for p in (tmp_path / "stage").iterdir()] == [carol.path.name if carol.path else ""]


def test_unreadable_zip_is_one_rejected_row(tmp_path):
    archive = make_zip(tmp_path / "cut.zip", {"a.ipynb": NB, "b.ipynb": NB})
    raw = archive.read_bytes()
    archive.write_bytes(raw[: raw.rfind(b"PK\x01\x02") - 5] + raw[raw.rfind(b"PK\x05\x06"):])
    found = collect([archive], tmp_path / "stage")
    assert len(found) == 1 and not found[0].graded
    assert str(archive) in (found[0].problem or "") and "not a readable zip" in (found[0].problem or "")


def test_ids_that_differ_only_in_case_are_a_collision(tmp_path):
    # regression: "Alice" and "alice" were two ids without a note; on macOS and Windows their
    # students/ folders are one folder, so one report silently overwrote the other
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for name in ("Alice.ipynb", "alice.ipynb", "ALICE.ipynb"):
        (uploads / name).write_bytes(NB)
    found = collect([uploads], tmp_path / "stage")
    ids = [u.student for u in found]
    assert len({i.casefold() for i in ids}) == 3
    assert ids == ["ALICE", "Alice~2", "alice~3"]  # sorted by file name: upper case first
    assert all(u.graded for u in found)
    assert found[0].notes == (  # the first row names each later one
        "another upload also maps to this student id (uploads/Alice.ipynb)",
        "another upload also maps to this student id (uploads/alice.ipynb)",
    )
    assert all(u.notes == ("another upload also maps to student id 'ALICE'",) for u in found[1:])


def test_zip_member_that_lies_about_its_size(tmp_path):
    archive = make_zip(tmp_path / "liar.zip", {"a.ipynb": NB * 50})
    raw = bytearray(archive.read_bytes())
    # shrink the declared uncompressed size in the central directory to 10 bytes
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    (upload,) = collect([archive], tmp_path / "stage")
    # never more than the declared size is inflated: the copy is cut short (and will be an
    # invalid notebook), not a bomb
    assert upload.path is None or upload.path.stat().st_size <= 10


def test_files_and_missing_sources(tmp_path):
    single = tmp_path / "carol.ipynb"
    single.write_bytes(NB)
    found = collect([single], tmp_path / "stage")
    assert found[0].student == "carol" and found[0].graded
    with pytest.raises(AutogradeError, match="no such file"):
        collect([tmp_path / "nope"], tmp_path / "stage")


def test_oversized_upload_is_not_copied(tmp_path, monkeypatch):
    import autograde.batch.uploads as uploads_module

    monkeypatch.setattr(uploads_module, "MAX_NOTEBOOK_BYTES", 100)
    big = tmp_path / "big.ipynb"
    big.write_bytes(b"x" * 1000)
    (upload,) = collect([big], tmp_path / "stage")
    assert upload.status == "rejected: too large" and upload.path is None
    assert not list((tmp_path / "stage").iterdir())
