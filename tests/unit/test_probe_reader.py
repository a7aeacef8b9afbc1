"""The probe reader (pipeline/judge.py ProbeReader), through `grade_submission` on the fake
backend: what a probe left in out/probes is read as data, and anything unusable (malformed
or oversize JSON, a pickled or broken .npz) is that check's error, never the report's."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograde.backends import fake
from autograde.pipeline.judge import ProbeReader
from autograde.pipeline.wire import MAX_JSON_BYTES
from autograde.runner import protocol
from autograde.status import CheckStatus, SubmissionStatus
from tests.unit.fake_grading import checks, grade, responder


def _ratio_check(tmp_path: Path, probe: fake.FakeProbe):
    """The ratio check when its probe left `probe`; the other checks must still pass."""
    report = grade(tmp_path, fake.Script(respond=responder(ratio=probe)))
    found = checks(report)
    assert found["value answer"].status == found["exists helper"].status == CheckStatus.PASS
    assert report.status == SubmissionStatus.GRADED, report.notes
    return found["value ratio"]


def _pickled_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([{"evil": 1}], dtype=object))  # an object array: pickled
    return buffer.getvalue()


def _huge_header_npz() -> bytes:
    """A small file whose array header claims 8 TB."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**12,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a0.npy", header.getvalue() + b"\0" * 64)
    return buffer.getvalue()


OK_RECORD = {"status": "ok", "results": [{"array": "a0", "was": "float"}]}


@pytest.mark.parametrize(
    ("probe", "said"),
    [
        (fake.FakeProbe(b'{"status": "ok", "results": [', None), "not valid JSON"),
        (fake.FakeProbe(b"[1, 2, 3]"), "not a JSON object"),
        (fake.FakeProbe(b" " * (MAX_JSON_BYTES + 1) + b"{}"), "over the cap"),
        (fake.FakeProbe(OK_RECORD, _pickled_npz()), "forbidden dtype object"),
        (fake.FakeProbe(OK_RECORD, b"PK\x03\x04 not a zip file"), "unreadable array file"),
        (fake.FakeProbe(OK_RECORD, _huge_header_npz()), "headers declare"),
    ],
    ids=["malformed-json", "json-not-an-object", "oversize-json", "pickled-npz", "broken-npz", "huge-header"],
)
def test_an_unusable_probe_file_is_that_checks_error(tmp_path: Path, probe, said):
    check = _ratio_check(tmp_path, probe)
    assert check.status == CheckStatus.ERROR, check
    assert check.message.startswith("unusable result:") and said in check.message, check.message


def test_a_record_without_its_arrays_file_is_read_as_having_no_arrays(tmp_path: Path):
    check = _ratio_check(tmp_path, fake.FakeProbe(OK_RECORD, None))
    assert check.status != CheckStatus.PASS  # the value it names is not there


@pytest.mark.parametrize(
    ("probe", "status"),
    [
        (fake.failed("timeout", "did not finish within 4s"), CheckStatus.TIMEOUT),
        (fake.failed("crashed", "the kernel died while this was being checked"), CheckStatus.CRASHED),
        (fake.failed("error", "ZeroDivisionError: division by zero"), CheckStatus.ERROR),
        (fake.failed("missing", "`ratio` is not defined"), CheckStatus.FAIL),
        (fake.FakeProbe({"message": "no status at all"}), CheckStatus.ERROR),
    ],
)
def test_a_probes_own_status_becomes_the_checks(tmp_path: Path, probe, status):
    check = _ratio_check(tmp_path, probe)
    assert check.status == status
    assert check.message.startswith(str(probe.record["message"]))  # type: ignore[index]


def test_a_wrong_value_fails_and_a_right_one_passes(tmp_path: Path):
    assert _ratio_check(tmp_path, fake.value(2.5)).status == CheckStatus.FAIL
    assert _ratio_check(tmp_path, fake.value(np.float64(1.5))).status == CheckStatus.PASS


def test_the_reader_reads_each_probe_once_and_caps_the_message(tmp_path: Path):
    probes = tmp_path / protocol.PROBES
    probes.mkdir()
    protocol.probe_record(tmp_path, "p0").write_text('{"status": "error", "message": "' + "x" * 5000 + '"}')
    reader = ProbeReader(tmp_path, "the reason")
    first = reader("p0")
    assert first.status == "error" and len(first.message) == 2000
    protocol.probe_record(tmp_path, "p0").unlink()
    assert reader("p0") is first
    assert reader("p1").status == "not-run" and reader("p1").message == "the reason"
