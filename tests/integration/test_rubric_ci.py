"""CI for a rubric library, as a course's CI runs it (real subprocesses, real gradings): `autograde
rubric test --junit` and the pytest plugin (`pytest --autograde-library`) on a copy of ex02
whose rubric is wrong about one mutant, and the plugin on rubrics that do not load."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EX02 = "ex02_gradient_descent"
WRONG = "mutants/gradient_sign.ipynb"  # it loses gradient 3 and descent 2; the copy says gradient 3 only
WORKFLOW = ROOT / "examples" / "ci" / "rubric-library.yml"
AUTOGRADE = str(Path(sys.executable).with_name("autograde"))
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


def _env(cwd: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    keep = {k: v for k, v in os.environ.items() if k in ("TMPDIR", "LANG")}
    return {**keep, "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200"}


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course library folder whose rubrics/ holds ex02 with one wrong mutant entry."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "rubrics" / EX02, root / "rubrics" / EX02)
    rubric = root / "rubrics" / EX02 / "rubric.yaml"
    data = yaml.safe_load(rubric.read_text(encoding="utf-8"))
    next(m for m in data["mutants"] if m["notebook"] == WRONG)["loses"] = {"gradient": 3}
    rubric.write_text(yaml.safe_dump(data), encoding="utf-8")
    return root


def _cases(path: Path) -> dict[str, object]:
    return {case.name: case for suite in JUnitXml.fromfile(str(path)) for case in suite}


def test_rubric_test_writes_junit_xml_with_the_wrong_mutant_failed(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "ci" / "library.xml"
    done = _run([AUTOGRADE, "rubric", "test", "--rubrics", str(library / "rubrics"), "--junit", str(out)],
                tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"JUnit XML: {out}" in done.stdout
    xml = JUnitXml.fromfile(str(out))
    assert (xml.tests, xml.failures, xml.errors) == (6, 1, 0)
    cases = _cases(out)
    assert set(cases) == {"solution.ipynb", "template.ipynb", *(f"mutants/{p.name}" for p in
                          (library / "rubrics" / EX02 / "mutants").glob("*.ipynb"))}
    failed = [name for name, case in cases.items() if not case.is_passed]  # type: ignore[attr-defined]
    assert failed == [WRONG]
    text = cases[WRONG].result[0].text  # type: ignore[attr-defined]
    assert "task descent: 0 points, expected 2" in text


def test_the_pytest_plugin_fails_only_the_wrong_notebook(library: Path, tmp_path: Path) -> None:
    junit = tmp_path / "pytest.xml"
    done = _run([*PYTEST, "--autograde-library", str(library), "-q", f"--junit-xml={junit}"], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 5 passed" in done.stdout
    assert f"{EX02}/{WRONG} did not score as its rubric says" in done.stdout
    assert "task descent: 0 points, expected 2" in done.stdout
    names = {case.name for suite in JUnitXml.fromfile(str(junit)) for case in suite}
    assert names == {"solution.ipynb", "template.ipynb", *(f"mutants/{p.name}" for p in
                     (library / "rubrics" / EX02 / "mutants").glob("*.ipynb"))}
    # pytest's own selection picks items by notebook
    rubrics = str(library / "rubrics")
    chosen = _run([*PYTEST, "--autograde-library", rubrics, "-q", "-k", "solution"], tmp_path)
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "1 passed, 5 deselected" in chosen.stdout


def test_the_plugin_names_a_rubric_that_does_not_load_and_a_folder_that_is_not_there(tmp_path: Path) -> None:
    bad = tmp_path / "course" / "rubrics" / "broken"
    bad.mkdir(parents=True)
    (bad / "rubric.yaml").write_text("schema: 1\nassignment: broken\ntitle: t\ntasks:\n- id: a\n  pionts: 1\n"
                                     "  checks: [{kind: exists, target: f}]\n", encoding="utf-8")
    done = _run([*PYTEST, "--autograde-library", str(tmp_path / "course"), "-q"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr  # errors during collection
    assert str(bad / "rubric.yaml") in done.stdout
    assert "tasks.0.pionts" in done.stdout
    missing = _run([*PYTEST, "--autograde-library", str(tmp_path / "nowhere"), "-q"], tmp_path)
    assert missing.returncode == 4, missing.stdout + missing.stderr  # a usage error
    assert f"--autograde-library {tmp_path / 'nowhere'}: no such folder" in missing.stderr


def test_the_ci_workflow_runs_commands_that_exist() -> None:
    """The workflow README shows: each autograde or pytest command in it takes the options it uses."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    runs = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    commands = [line.strip() for run in runs for line in run.splitlines()
                if line.strip().startswith("autograde ")]
    # the pytest alternative it names in a comment
    text = WORKFLOW.read_text(encoding="utf-8")
    comments = [line.strip().lstrip("#").strip() for line in text.splitlines()]
    commands += [line for line in comments if line.startswith("pytest ")]
    assert any(c.startswith("autograde rubric test") and "--junit" in c for c in commands)
    assert any(c.startswith("pytest") and "--autograde-library" in c for c in commands)
    helps = {f"autograde rubric {name}": _run([AUTOGRADE, "rubric", name, "--help"], ROOT).stdout
             for name in ("test", "schema", "validate")}
    helps["pytest"] = _run([*PYTEST, "--help"], ROOT).stdout
    for command in commands:
        help_text = next(text for prefix, text in helps.items() if command.startswith(prefix))
        for option in (word.split("=")[0] for word in command.split() if word.startswith("--")):
            assert option in help_text, f"{command}: {option} is not an option"
