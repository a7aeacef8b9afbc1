"""Check bundles: the codec (no pickle, only check kinds' dataclasses), the file's integrity
(each damage a BundleError naming the file and what to do) and what a bundle leaves out."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from autograde.checks.base import HiddenSet
from autograde.checks.calculus import GradientPlan
from autograde.checks.targets import Call
from autograde.rubric import load_assignment
from autograde.selfcheck import bundle as fmt
from autograde.selfcheck.build import build_bundle
from autograde.selfcheck.bundle import BundleError, read_bundle
from autograde.selfcheck.codec import CodecError, Encoder, decode


def roundtrip(value):
    enc = Encoder()
    data = json.loads(json.dumps(enc.encode(value)))
    return decode(data, {k: np.array(v) for k, v in enc.arrays.items()})


def test_codec_keeps_shapes_dtypes_and_structure():
    value = {
        "scalar0d": np.array(3.5),
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "np_scalar": np.float64(2.25),
        "tuple": (1, None, "a", [True, 2.5]),
    }
    back = roundtrip(value)
    assert back["scalar0d"].shape == () and float(back["scalar0d"]) == 3.5
    assert back["f32"].dtype == np.float32 and back["f32"].shape == (2, 3)
    assert back["np_scalar"] == 2.25 and back["tuple"] == (1, None, "a", [True, 2.5])


def test_codec_reads_tensors_back_as_arrays_and_rebuilds_check_dataclasses():
    call = Call("t0c1p0", [[torch.ones(2, requires_grad=True), 3]], [{"k": np.zeros(1)}])
    back = roundtrip(call)
    assert isinstance(back, Call) and back.probe_id == "t0c1p0"
    assert isinstance(back.args[0][0], np.ndarray) and back.args[0][0].tolist() == [1.0, 1.0]
    assert back.args[0][1] == 3 and back.kwargs[0]["k"].shape == (1,)
    plan = roundtrip(GradientPlan("a", "b", [np.array([1.0, 2.0])]))
    assert isinstance(plan, GradientPlan) and plan.points[0].tolist() == [1.0, 2.0]


def test_codec_refuses_hidden_labels_objects_and_foreign_classes():
    with pytest.raises(CodecError, match="hidden set"):
        Encoder().encode(HiddenSet("i0", np.zeros(3)))
    with pytest.raises(CodecError, match="dtype object"):
        Encoder().encode(np.array([object()], dtype=object))
    with pytest.raises(CodecError, match="cannot go into a bundle"):
        Encoder().encode({1, 2})
    forged = {"$": "dataclass", "type": "subprocess:CompletedProcess", "fields": {}}
    with pytest.raises(CodecError, match="not a check kind's class"):
        decode(forged, {})
    with pytest.raises(CodecError, match="missing array"):
        decode({"$": "array", "key": "x9"}, {})


@pytest.fixture(scope="module")
def ex02_bundle(tmp_path_factory) -> Path:
    return build_bundle(load_assignment("ex02_gradient_descent"), tmp_path_factory.mktemp("b")).bundle


def _rewrite(source: Path, dest: Path, change) -> Path:
    with zipfile.ZipFile(source) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    change(files)
    with zipfile.ZipFile(dest, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return dest


def test_a_published_bundle_reads_back(ex02_bundle):
    bundle = read_bundle(ex02_bundle, assignment="ex02_gradient_descent")
    assert bundle.manifest.assignment == "ex02_gradient_descent"
    assert {t.id: t.visible for t in bundle.manifest.tasks}["regression"] == "hidden"
    assert bundle.manifest.task("regression").checks == []


def test_missing_truncated_and_foreign_bundles_are_named_errors(ex02_bundle, tmp_path):
    with pytest.raises(BundleError, match=r"nope\.check: no such check bundle"):
        read_bundle(tmp_path / "nope.check")
    cut = tmp_path / "cut.check"
    cut.write_bytes(ex02_bundle.read_bytes()[:300])
    with pytest.raises(BundleError, match=r"cut\.check: not a readable check bundle .*download the bundle"):
        read_bundle(cut)
    text = tmp_path / "text.check"
    text.write_text("hello")
    with pytest.raises(BundleError, match="not a readable check bundle"):
        read_bundle(text)
    with pytest.raises(BundleError, match="checks assignment ex02_gradient_descent, not ex05_classification"):
        read_bundle(ex02_bundle, assignment="ex05_classification")


def test_tampered_members_and_manifests_are_refused(ex02_bundle, tmp_path):
    def new_inputs(files):
        files[fmt.INPUTS] = fmt.npz_bytes({"i0": np.zeros(2)})

    with pytest.raises(BundleError, match=r"inputs\.npz was changed after the bundle was published"):
        read_bundle(_rewrite(ex02_bundle, tmp_path / "a.check", new_inputs))

    def edit_manifest(files):
        manifest = json.loads(files[fmt.MANIFEST])
        manifest["tasks"][0]["points"] = 99
        files[fmt.MANIFEST] = json.dumps(manifest).encode()

    with pytest.raises(BundleError, match=r"changed after it was published \(its digest does not match\)"):
        read_bundle(_rewrite(ex02_bundle, tmp_path / "b.check", edit_manifest))

    def extra_member(files):
        files["extra.py"] = b"print('hi')"

    with pytest.raises(BundleError, match="members missing or added"):
        read_bundle(_rewrite(ex02_bundle, tmp_path / "c.check", extra_member))


def test_another_format_version_says_to_upgrade(ex02_bundle, tmp_path):
    def future(files):
        manifest = json.loads(files[fmt.MANIFEST])
        manifest["version"] = fmt.FORMAT_VERSION + 1
        files[fmt.MANIFEST] = json.dumps(manifest).encode()
        files[fmt.DIGEST] = fmt.sha256(files[fmt.MANIFEST]).encode()

    with pytest.raises(BundleError, match=r"version 2, .* reads version 1: upgrade autograde-notebooks"):
        read_bundle(_rewrite(ex02_bundle, tmp_path / "v.check", future))


def test_choice_answers_and_variable_values_stay_out_of_the_exam_bundle(tmp_path):
    exam = load_assignment("exam")
    bundle = read_bundle(build_bundle(exam, tmp_path).bundle)
    rubric_choices = [c for t in exam.rubric.tasks for c in t.checks if c.kind == "choice"]
    entries = [e for t in bundle.manifest.tasks for e in t.checks]
    choices = [e for e in entries if e.kind == "choice"]
    assert choices and len(choices) <= len(rubric_choices)
    for entry in choices:
        assert entry.mode == "answered" and entry.model is not None and "correct" not in entry.model
    for entry in entries:
        if entry.kind == "value" and entry.mode == "after-submission":
            assert entry.model is None and entry.expected is None and entry.state is None


def test_a_data_member_that_escapes_its_folder_is_refused(ex02_bundle, tmp_path):
    """A bundle re-signed by hand with a data member `data/../escaped`: nothing is written
    outside the folder the data goes to."""

    def escaping(files):
        files["data/../escaped.txt"] = b"x"
        manifest = json.loads(files[fmt.MANIFEST])
        manifest["members"]["data/../escaped.txt"] = fmt.sha256(b"x")
        manifest["data"] = True
        files[fmt.MANIFEST] = json.dumps(manifest).encode()
        files[fmt.DIGEST] = fmt.sha256(files[fmt.MANIFEST]).encode()

    bundle = read_bundle(_rewrite(ex02_bundle, tmp_path / "e.check", escaping))
    with pytest.raises(BundleError, match=r"data member '\.\./escaped\.txt' escapes its folder"):
        bundle.extract_data(tmp_path / "data")
    assert not (tmp_path / "escaped.txt").exists()
