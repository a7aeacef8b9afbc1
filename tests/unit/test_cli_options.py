"""Bad command-line values fail before any grading starts, naming the option."""

from __future__ import annotations

from click.testing import CliRunner

from autograde.cli.main import main


def run(tmp_path, *extra: str):
    uploads = tmp_path / "uploads"
    uploads.mkdir(exist_ok=True)
    args = ["grade", str(uploads), "-a", "ex02_gradient_descent", "--out", str(tmp_path / "out"), *extra]
    return CliRunner().invoke(main, args)


def test_bad_memory_value_names_the_option(tmp_path):
    result = run(tmp_path, "--memory", "2 parsecs")
    assert result.exit_code == 2
    assert "--memory" in result.output and "parsecs" in result.output
    assert not (tmp_path / "out").exists()


def test_workers_must_be_positive(tmp_path):
    result = run(tmp_path, "-j", "0")
    assert result.exit_code == 2 and "--workers" in result.output


def test_bad_id_pattern_and_missing_roster(tmp_path):
    bad = run(tmp_path, "--id-pattern", "(?P<id>[")
    assert bad.exit_code == 2 and "--id-pattern" in bad.output
    assert not (tmp_path / "out").exists()  # refused before anything was written
    missing = run(tmp_path, "--roster", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "nope.csv" in missing.output


def test_unknown_backend_is_refused(tmp_path):
    result = run(tmp_path, "--backend", "kubernetes")
    assert result.exit_code == 2 and "kubernetes" in result.output
