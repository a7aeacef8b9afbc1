"""Ingest: uploaded files become normalised notebooks, or a clear verdict; safe student ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograde.errors import NotANotebook, SubmissionError, SubmissionTooLarge
from autograde.pipeline.ingest import parameterize, read_notebook, student_id, tagged_source


def make_nb(kernelspec: dict[str, Any] | None = None, parameters_cell: bool = True) -> Any:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seed = 0\nepochs = 1")
    if parameters_cell:
        params.metadata["tags"] = ["parameters"]
    done = nbformat.v4.new_code_cell("print(seed)")
    done.outputs = [nbformat.v4.new_output("stream", text="0\n")]
    done.execution_count = 7
    nb.cells = [nbformat.v4.new_markdown_cell("# Exercise"), params, done]
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec
    return nb


def save(tmp_path: Path, content: Any, name: str = "alice.ipynb") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(nbformat.writes(content), encoding="utf-8")
    return path


def text(cell: Any) -> str:
    """A cell's source as one string (JSON on disk may hold a list of lines)."""
    source = cell.source
    return "".join(source) if isinstance(source, list) else str(source)


def rejected(path: Path, **kwargs: Any) -> SubmissionError:
    with pytest.raises(SubmissionError) as info:
        read_notebook(path, **kwargs)
    assert path.name in str(info.value)
    return info.value


# ---------------------------------------------------------------- rejections


def test_truncated_json(tmp_path: Path) -> None:
    text = nbformat.writes(make_nb())
    error = rejected(save(tmp_path, text[: len(text) // 2]))
    assert isinstance(error, NotANotebook)
    assert "JSON" in str(error)
    assert error.status == "invalid notebook"


def test_binary_garbage(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, bytes(range(256)) * 8))
    assert isinstance(error, NotANotebook)


def test_binary_zip_upload(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, b"PK\x03\x04" + b"\x00" * 100))
    assert isinstance(error, NotANotebook)


def test_json_list(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, "[1, 2, 3]"))
    assert isinstance(error, NotANotebook)
    assert "not a Jupyter notebook" in str(error)


def test_json_object_without_cells(tmp_path: Path) -> None:
    assert isinstance(rejected(save(tmp_path, '{"hello": "world"}')), NotANotebook)


def test_nbformat_3(tmp_path: Path) -> None:
    data = json.loads(nbformat.writes(make_nb()))
    data["nbformat"] = 3
    error = rejected(save(tmp_path, json.dumps(data)))
    assert isinstance(error, NotANotebook)
    assert "nbformat 3" in str(error)


V3 = {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
      "worksheets": [{"cells": [
          {"cell_type": "heading", "level": 1, "metadata": {}, "source": "Exercise"},
          {"cell_type": "code", "input": ["x = 1\n", "y = 2"], "language": "python",
           "metadata": {}, "prompt_number": 3,
           "outputs": [{"output_type": "pyout", "prompt_number": 3, "text": "1"}]}],
          "metadata": {}}]}


def test_real_nbformat_3_layout_is_converted(tmp_path: Path) -> None:
    # policy of issue 11: version 3 (cells in worksheets) is converted as Jupyter does, not refused
    sub = read_notebook(save(tmp_path, json.dumps(V3)))
    assert [c.cell_type for c in sub.nb.cells] == ["markdown", "code"]
    assert sub.nb.cells[0].source == "# Exercise"
    assert sub.nb.cells[1].source == "x = 1\ny = 2"
    assert sub.nb.cells[1].outputs == []
    assert sub.nb.nbformat == 4
    nbformat.validate(sub.nb)
    assert any("nbformat 3" in note and "converted" in note for note in sub.notes), sub.notes


def test_real_nbformat_3_layout_names_the_version(tmp_path: Path) -> None:
    v3 = {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
          "worksheets": [{"cells": [], "metadata": {}}]}
    sub = read_notebook(save(tmp_path, json.dumps(v3)))
    assert sub.nb.cells == []
    assert any("nbformat 3" in note for note in sub.notes)


def test_nbformat_3_outputs_never_stop_the_conversion(tmp_path: Path) -> None:
    data = json.loads(json.dumps(V3))
    data["worksheets"][0]["cells"][1]["outputs"] = [{"output_type": "future", "png": 5}, 7]
    assert read_notebook(save(tmp_path, json.dumps(data))).nb.cells[1].source == "x = 1\ny = 2"


def test_nbformat_3_that_nbformat_cannot_convert(tmp_path: Path) -> None:
    data = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [5]}]}
    error = rejected(save(tmp_path, json.dumps(data)))
    assert isinstance(error, NotANotebook)
    assert "nbformat 3" in str(error) and "convert" in str(error)


def test_cells_not_a_list_is_not_a_notebook(tmp_path: Path) -> None:
    data = {"cells": {"0": "x = 1"}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    assert isinstance(rejected(save(tmp_path, json.dumps(data))), NotANotebook)


def test_unknown_cell_type_is_kept_as_a_raw_cell(tmp_path: Path) -> None:
    # policy of issue 11: an unknown cell type cannot be run; it is kept as non-code, with a note
    data = {"cells": [{"cell_type": "banana", "source": "x"}], "metadata": {}, "nbformat": 4,
            "nbformat_minor": 5}
    sub = read_notebook(save(tmp_path, json.dumps(data)))
    assert sub.nb.cells[0].cell_type == "raw"
    assert sub.nb.cells[0].source == "x"
    assert any("cell 1" in note and "'banana'" in note and "never run" in note for note in sub.notes)


def test_source_that_is_no_text_is_rejected(tmp_path: Path) -> None:
    data = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "ok"},
                      {"cell_type": "code", "metadata": {}, "source": {"x": 1}, "outputs": []}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    error = rejected(save(tmp_path, json.dumps(data)))
    assert isinstance(error, NotANotebook)
    assert "cell 2" in str(error) and "source" in str(error)


def test_over_size(tmp_path: Path) -> None:
    path = save(tmp_path, make_nb())
    size = path.stat().st_size
    error = rejected(path, max_bytes=100)
    assert isinstance(error, SubmissionTooLarge)
    assert str(size) in str(error)
    assert error.status.startswith("rejected")
    read_notebook(path, max_bytes=size)  # exactly at the limit is fine


def test_too_many_cells(tmp_path: Path) -> None:
    nb = make_nb()
    nb.cells = [nbformat.v4.new_code_cell("pass") for _ in range(2001)]
    assert isinstance(rejected(save(tmp_path, nb)), SubmissionTooLarge)


def test_deeply_nested_json(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, "[" * 100_000))
    assert isinstance(error, NotANotebook)


def test_deeply_nested_inside_a_notebook(tmp_path: Path) -> None:
    text = '{"cells": [], "nbformat": 4, "metadata": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    assert isinstance(rejected(save(tmp_path, text)), NotANotebook)


def test_symlink_is_not_followed(tmp_path: Path) -> None:
    target = save(tmp_path, make_nb(), name="real.ipynb")
    link = tmp_path / "bob.ipynb"
    link.symlink_to(target)
    error = rejected(link)
    assert isinstance(error, NotANotebook)
    assert "link" in str(error)


def test_directory_is_not_a_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "carol.ipynb"
    folder.mkdir()
    assert isinstance(rejected(folder), NotANotebook)


# ---------------------------------------------------------------- normalisation


def test_no_kernelspec_forces_python3(tmp_path: Path) -> None:
    sub = read_notebook(save(tmp_path, make_nb()))
    assert sub.student == "alice"
    assert len(sub.notes) == 1
    assert "no kernel" in sub.notes[0]
    assert "Python 3 kernel" in sub.notes[0]
    assert sub.nb.metadata.kernelspec["name"] == "python3"
    assert sub.nb.metadata.kernelspec["language"] == "python"


def test_python_kernel_gives_no_note(tmp_path: Path) -> None:
    spec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    sub = read_notebook(save(tmp_path, make_nb(spec)))
    assert sub.notes == []
    assert sub.nb.metadata.kernelspec["name"] == "python3"


@pytest.mark.parametrize(
    ("spec", "named"),
    [({"name": "ir", "display_name": "R", "language": "R"}, "'ir'"),
     ({"name": "julia-1.10", "display_name": "Julia 1.10", "language": "julia"}, "'julia-1.10'"),
     ({"name": "my-env", "display_name": "Python (my-env)", "language": "python"}, "'my-env'")],
)
def test_foreign_kernel_is_reported_and_replaced(tmp_path: Path, spec: dict[str, str],
                                                 named: str) -> None:
    sub = read_notebook(save(tmp_path, make_nb(spec)))
    assert len(sub.notes) == 1
    assert named in sub.notes[0]
    assert "Python 3 kernel" in sub.notes[0]
    assert sub.nb.metadata.kernelspec["name"] == "python3"
    assert sub.nb.metadata.language_info["name"] == "python"


def test_outputs_cleared_and_cells_numbered(tmp_path: Path) -> None:
    sub = read_notebook(save(tmp_path, make_nb()))
    cells = sub.nb.cells
    assert [c.metadata["autograde"]["cell"] for c in cells] == [1, 2, 3]
    assert cells[2].outputs == []
    assert cells[2].execution_count is None
    assert cells[1].metadata["tags"] == ["parameters"]
    assert cells[0].metadata["tags"] == []
    assert text(cells[2]) == "print(seed)"  # sources untouched


def test_tagged_source_missing_tag(tmp_path: Path) -> None:
    sub = read_notebook(save(tmp_path, make_nb()))
    assert tagged_source(sub.nb, "essay") is None


def test_tagged_source_of_a_jupyter_saved_notebook(tmp_path: Path) -> None:
    nb = make_nb()
    essay = nbformat.v4.new_markdown_cell("Because the loss\nis convex.")
    essay.metadata["tags"] = ["essay"]
    nb.cells.append(essay)
    path = save(tmp_path, nb)
    assert '"Because the loss\\n",' in path.read_text()  # on disk: a list of lines
    sub = read_notebook(path)
    assert tagged_source(sub.nb, "essay") == "Because the loss\nis convex."


# ---------------------------------------------------------------- parameters


def test_parameterize_after_parameters_cell(tmp_path: Path) -> None:
    sub = read_notebook(save(tmp_path, make_nb()))
    nb = parameterize(sub, {"seed": 42, "epochs": 3, "data_dir": "/data"})
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert len(nb.cells) == 4
    assert "parameters" in tags[1]
    assert "injected-parameters" in tags[2]
    injected = text(nb.cells[2])
    assert "seed = 42" in injected
    assert "epochs = 3" in injected
    assert "data_dir = \"/data\"" in injected or "data_dir = '/data'" in injected
    assert text(nb.cells[3]) == "print(seed)"
    assert not any("parameters" in note for note in sub.notes)


def test_parameterize_without_parameters_cell(tmp_path: Path) -> None:
    sub = read_notebook(save(tmp_path, make_nb(parameters_cell=False)))
    before = len(sub.notes)
    nb = parameterize(sub, {"seed": 5})
    assert "injected-parameters" in nb.cells[0].metadata["tags"]
    assert "seed = 5" in text(nb.cells[0])
    assert text(nb.cells[1]) == "# Exercise"
    assert len(nb.cells) == 4
    assert len(sub.notes) == before + 1
    assert "parameters" in sub.notes[-1]
    assert "top" in sub.notes[-1]


# ---------------------------------------------------------------- student ids


@pytest.mark.parametrize(
    ("name", "expected"),
    [("alice.ipynb", "alice"),
     ("../../x.ipynb", "x"),
     ("Bob Smith.IPYNB", "Bob_Smith"),
     ("\uff4a\uff4f\uff48\uff4e.ipynb", "john"),  # fullwidth letters: NFKC
     ("my file (1).ipynb", "my_file_1"),
     ("a.b@uni-x.ipynb", "a.b@uni-x")],
)
def test_student_id(name: str, expected: str) -> None:
    assert student_id(Path(name)) == expected


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1).ipynb", "..ipynb", "../../../etc/passwd", "名前.ipynb", " ", "a" * 500,
     "x\x00y.ipynb", "<img src=x onerror=alert(1)>.ipynb", "..", ".hidden.ipynb"],
)
def test_student_id_is_safe(name: str) -> None:
    sid = student_id(Path(name))
    assert sid
    assert "/" not in sid and "\\" not in sid
    assert "<" not in sid and ">" not in sid
    assert " " not in sid and "\x00" not in sid
    assert sid not in {".", ".."}
    assert not sid.startswith(".")
    assert len(sid) <= 100
    assert all(c.isascii() and (c.isalnum() or c in "_.@-") for c in sid)


def test_script_name_keeps_only_safe_text() -> None:
    assert student_id(Path("<script>alert(1).ipynb")) == "script_alert_1"


# ---------------------------------------------------------------- repairs (issue 11)


def raw_nb(cells: list[Any], minor: Any = 5, **top: Any) -> dict[str, Any]:
    return {"cells": cells, "metadata": top.pop("metadata", {}), "nbformat": 4, "nbformat_minor": minor,
            **top}


def code(source: Any = "x = 1", **keys: Any) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None,
            **keys}


def read_raw(tmp_path: Path, data: Any) -> Any:
    sub = read_notebook(save(tmp_path, json.dumps(data)))
    nbformat.validate(sub.nb)  # whatever was repaired, the result is a valid notebook
    return sub


def notes_about(sub: Any, *words: str) -> list[str]:
    return [note for note in sub.notes if all(word in note for word in words)]


def test_saved_outputs_never_cost_a_grade(tmp_path: Path) -> None:
    deep: Any = []
    for _ in range(500):
        deep = [deep]
    junk = [{"output_type": "future output", "data": 5}, {"output_type": "stream"}, "text", deep]
    cells = [code("a = 1", outputs=junk, execution_count="seven"),
             code("b = 2", outputs={"not": "a list"}, execution_count=-3),
             code("c = 3", outputs=None, execution_count=1.5)]
    sub = read_raw(tmp_path, raw_nb(cells, minor=4))
    assert [c.source for c in sub.nb.cells] == ["a = 1", "b = 2", "c = 3"]
    assert all(c.outputs == [] and c.execution_count is None for c in sub.nb.cells)
    assert sub.notes == ["the notebook declares no kernel; it was run on the grader's Python 3 kernel"]


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = save(tmp_path, b"\xef\xbb\xbf" + nbformat.writes(make_nb()).encode("utf-8"))
    sub = read_notebook(path)
    assert text(sub.nb.cells[1]) == "seed = 0\nepochs = 1"
    assert notes_about(sub, "byte-order mark")


def test_missing_source_is_read_as_empty(tmp_path: Path) -> None:
    cell = code()
    del cell["source"]
    sub = read_raw(tmp_path, raw_nb([code("y = 2"), cell]))
    assert sub.nb.cells[1].source == ""
    assert notes_about(sub, "cell 2", "no source")


def test_null_source_is_read_as_empty(tmp_path: Path) -> None:
    sub = read_raw(tmp_path, raw_nb([code(None)]))
    assert sub.nb.cells[0].source == ""
    assert notes_about(sub, "cell 1", "no source")


def test_string_and_list_sources(tmp_path: Path) -> None:
    sub = read_raw(tmp_path, raw_nb([code("x = 1\r\ny = 2"), code(["a = 1\n", "b = 2"])]))
    assert [c.source for c in sub.nb.cells] == ["x = 1\r\ny = 2", "a = 1\nb = 2"]
    assert not notes_about(sub, "source")


def test_missing_and_foreign_metadata(tmp_path: Path) -> None:
    cell = code()
    del cell["metadata"]
    data = raw_nb([cell, code(metadata=["x"])], metadata="colab")
    sub = read_raw(tmp_path, data)
    assert notes_about(sub, "cell 1", "no metadata")
    assert notes_about(sub, "cell 2", "metadata", "a list")
    assert notes_about(sub, "notebook's metadata", "text")
    assert sub.nb.cells[1].metadata["tags"] == []


def test_metadata_the_schema_refuses_is_dropped(tmp_path: Path) -> None:
    cell = code(metadata={"collapsed": "yes", "tags": ["parameters"], "nbgrader": {"grade": True}})
    data = raw_nb([cell], metadata={"authors": 5, "kernelspec": {"name": "python3", "display_name": "P"}})
    sub = read_raw(tmp_path, data)
    meta = sub.nb.cells[0].metadata
    assert "collapsed" not in meta
    assert meta["tags"] == ["parameters"]
    assert meta["nbgrader"] == {"grade": True}
    assert "authors" not in sub.nb.metadata
    assert notes_about(sub, "cell 1", "'collapsed'")
    assert notes_about(sub, "notebook metadata", "'authors'")


def test_metadata_nested_too_deeply_is_dropped(tmp_path: Path) -> None:
    deep: Any = {}
    for _ in range(300):
        deep = {"x": deep}
    sub = read_raw(tmp_path, raw_nb([code(metadata={"deep": deep, "tags": ["t"]})], metadata={"w": deep}))
    assert "deep" not in sub.nb.cells[0].metadata
    assert sub.nb.cells[0].metadata["tags"] == ["t"]
    assert "w" not in sub.nb.metadata
    assert notes_about(sub, "cell 1", "'deep'", "deep")
    assert notes_about(sub, "notebook's metadata", "'w'")


def test_tags_that_are_no_list_of_text(tmp_path: Path) -> None:
    cells = [code(metadata={"tags": "parameters"}), code(metadata={"tags": ["ok", 5, "a,b", ""]})]
    sub = read_raw(tmp_path, raw_nb(cells))
    assert sub.nb.cells[0].metadata["tags"] == []
    assert sub.nb.cells[1].metadata["tags"] == ["ok"]
    assert notes_about(sub, "cell 1", "tags")
    assert notes_about(sub, "cell 2", "tags")


def test_missing_and_duplicate_ids_in_a_4_5_file(tmp_path: Path) -> None:
    cells = [code("a = 1", id="first"), code("b = 2"), code("c = 3", id="first"),
             code("d = 4", id="has space"), code("e = 5", id=12)]
    sub = read_raw(tmp_path, raw_nb(cells))
    ids = [c.id for c in sub.nb.cells]
    assert ids[0] == "first"
    assert len(set(ids)) == 5
    assert notes_about(sub, "cell 2", "no id")
    assert notes_about(sub, "cell 3", "'first'", "repeats")
    assert notes_about(sub, "cell 4", "'has space'")
    assert notes_about(sub, "cell 5", "12")


def test_files_older_than_4_5_get_ids_without_a_note(tmp_path: Path) -> None:
    sub = read_raw(tmp_path, raw_nb([code("a = 1"), code("b = 2")], minor=2))
    assert len({c.id for c in sub.nb.cells}) == 2
    assert sub.nb.nbformat_minor == 5
    assert not notes_about(sub, "id")


def test_a_future_4_x_file(tmp_path: Path) -> None:
    future = {"cell_type": "future cell", "metadata": {}, "key": "value"}
    data = raw_nb([code("a = 1", extra="x"), future], minor=99, extra={"new": 1})
    sub = read_raw(tmp_path, data)
    assert [c.cell_type for c in sub.nb.cells] == ["code", "raw"]
    assert sub.nb.cells[1].source == ""
    assert "extra" not in sub.nb and "extra" not in sub.nb.cells[0]
    assert notes_about(sub, "4.99")
    assert notes_about(sub, "top-level", "'extra'")
    assert notes_about(sub, "cell 1", "'extra'")
    assert notes_about(sub, "cell 2", "'future cell'", "never run")
    assert notes_about(sub, "cell 2", "no source")


def test_missing_cell_type_is_kept_as_a_raw_cell(tmp_path: Path) -> None:
    sub = read_raw(tmp_path, raw_nb([{"metadata": {}, "source": "x = 1"}]))
    assert sub.nb.cells[0].cell_type == "raw"
    assert notes_about(sub, "cell 1", "None", "never run")


def test_nbformat_minor_that_is_no_number(tmp_path: Path) -> None:
    data = raw_nb([code()])
    del data["nbformat_minor"]
    sub = read_raw(tmp_path, data)
    assert notes_about(sub, "nbformat_minor", "None")


def test_attachments_are_dropped_like_outputs(tmp_path: Path) -> None:
    md = {"cell_type": "markdown", "metadata": {}, "source": "![x](attachment:x.png)",
          "attachments": {"x.png": {"image/png": 5}}}
    sub = read_raw(tmp_path, raw_nb([md]))
    assert "attachments" not in sub.nb.cells[0]
    assert sub.nb.cells[0].source == "![x](attachment:x.png)"


def test_kernelspec_that_is_no_object(tmp_path: Path) -> None:
    sub = read_raw(tmp_path, raw_nb([code()], metadata={"kernelspec": "python3"}))
    assert notes_about(sub, "kernelspec", "text", "Python 3 kernel")
    assert sub.nb.metadata.kernelspec["name"] == "python3"


# ---------------------------------------------------------------- rejections (issue 11)


@pytest.mark.parametrize(
    ("encoding", "named"),
    [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")],
)
def test_wrong_unicode_encodings(tmp_path: Path, encoding: str, named: str) -> None:
    error = rejected(save(tmp_path, nbformat.writes(make_nb()).encode(encoding)))
    assert isinstance(error, NotANotebook)
    assert named in str(error)


def test_latin1_is_not_guessed(tmp_path: Path) -> None:
    nb = make_nb()
    nb.cells[0].source = "# Übung: café"
    error = rejected(save(tmp_path, nbformat.writes(nb).encode("latin-1")))
    assert "not UTF-8" in str(error)


def test_integer_too_long_to_convert(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, '{"nbformat": 4, "cells": [], "metadata": {"n": ' + "9" * 5000 + "}}"))
    assert isinstance(error, NotANotebook)
    assert "JSON" in str(error)


@pytest.mark.parametrize(("version", "said"), [(5, "nbformat 5"), ("4", "'4'"), (None, "None"),
                                               (True, "True")])
def test_versions_not_read(tmp_path: Path, version: Any, said: str) -> None:
    error = rejected(save(tmp_path, json.dumps(raw_nb([code()]) | {"nbformat": version})))
    assert said in str(error)


@pytest.mark.parametrize("cell", [5, "x = 1", None, ["x = 1"]])
def test_cell_that_is_no_object(tmp_path: Path, cell: Any) -> None:
    error = rejected(save(tmp_path, json.dumps(raw_nb([code(), cell]))))
    assert "cell 2" in str(error)


def test_source_list_holding_no_text(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, json.dumps(raw_nb([code(["x = 1\n", 2])]))))
    assert "cell 1" in str(error) and "source" in str(error)


def test_lone_surrogate(tmp_path: Path) -> None:
    error = rejected(save(tmp_path, json.dumps(raw_nb([code("s = '\ud800'")]))))
    assert "Unicode" in str(error)


def test_many_cells_counted_after_conversion(tmp_path: Path) -> None:
    cells = [{"cell_type": "code", "input": "pass", "metadata": {}, "outputs": [], "language": "python"}]
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells * 2001}]}
    assert isinstance(rejected(save(tmp_path, json.dumps(v3))), SubmissionTooLarge)


# ---------------------------------------------------------------- one upload, one row


@pytest.fixture(scope="module")
def ex02() -> Any:
    from autograde.rubric import load_assignment

    return load_assignment("ex02_gradient_descent")


@pytest.mark.parametrize("error", [AttributeError("source"), RecursionError(), MemoryError(),
                                   KeyError("cells"), OSError(28, "No space left on device")])
@pytest.mark.parametrize("stage", ["read_notebook", "_grade"])
def test_grade_submission_never_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ex02: Any,
                                       stage: str, error: BaseException) -> None:
    from autograde.pipeline import grade

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(grade, stage, broken)
    report = grade.grade_submission(save(tmp_path, make_nb()), ex02)
    assert report.status == "grader error"
    assert report.file == "alice.ipynb"
    assert type(error).__name__ in report.notes[0]
    assert report.score == 0 and all(t.points == 0 for t in report.tasks)


def test_grade_submission_of_an_unreadable_upload_is_its_row(tmp_path: Path, ex02: Any) -> None:
    from autograde.pipeline.grade import grade_submission

    report = grade_submission(save(tmp_path, b"\xff\xfe{\x00}\x00"), ex02, student="bob")
    assert (report.student, report.status) == ("bob", "invalid notebook")
    assert "alice.ipynb" in report.notes[0] and "UTF-16" in report.notes[0]
