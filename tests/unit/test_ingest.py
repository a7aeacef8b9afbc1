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


def test_real_nbformat_3_layout_is_not_a_notebook(tmp_path: Path) -> None:
    # version 3 keeps its cells in worksheets
    v3 = {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
          "worksheets": [{"cells": [{"cell_type": "code", "input": "1", "language": "python",
                                     "metadata": {}, "outputs": []}], "metadata": {}}]}
    assert isinstance(rejected(save(tmp_path, json.dumps(v3))), NotANotebook)


def test_real_nbformat_3_layout_names_the_version(tmp_path: Path) -> None:
    v3 = {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
          "worksheets": [{"cells": [], "metadata": {}}]}
    assert "nbformat 3" in str(rejected(save(tmp_path, json.dumps(v3))))


def test_cells_not_a_list_is_not_a_notebook(tmp_path: Path) -> None:
    data = {"cells": {"0": "x = 1"}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    assert isinstance(rejected(save(tmp_path, json.dumps(data))), NotANotebook)


def test_invalid_nbformat_4_structure(tmp_path: Path) -> None:
    data = {"cells": [{"cell_type": "banana", "source": "x"}], "metadata": {}, "nbformat": 4,
            "nbformat_minor": 5}
    error = rejected(save(tmp_path, json.dumps(data)))
    assert isinstance(error, NotANotebook)
    assert "nbformat 4" in str(error)


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
