"""Batch reports: results.json, lms.csv, class.html, per student feedback.html + gradescope.json.

Reports are built by hand; every expected number below is worked out from the hand-built
points, not taken from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograde.batch.results_folder import ResultsFolder
from autograde.reporters.html import feedback_html
from autograde.results import CheckResult, GradeReport, ManualAnswer, TaskResult
from autograde.rubric import Assignment, load_assignment

PAYLOAD = (
    "<script>document.title='pwned'</script>"
    "<img src=x onerror=\"document.title='pwned'\">"
    "\"><b>bold</b>"
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


# ---------------------------------------------------------------- a tiny DOM for assertions

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def iter(self, tag: str | None = None) -> list[Node]:
        found = [self] if tag in (None, self.tag) else []
        for child in self.children:
            if isinstance(child, Node):
                found.extend(child.iter(tag))
        return found

    def by_id(self, element_id: str) -> Node:
        matches = [n for n in self.iter() if n.attrs.get("id") == element_id]
        assert len(matches) == 1, f"{len(matches)} elements with id {element_id!r}"
        return matches[0]

    def rows(self) -> list[list[str]]:
        """A table's rows as lists of cell texts (th and td), whitespace-trimmed."""
        return [
            [cell.text.strip() for cell in row.iter() if cell.tag in ("td", "th")] for row in self.iter("tr")
        ]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_dom(markup: str) -> Node:
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    return builder.root


def assert_inert(dom: Node) -> None:
    """No element or attribute that can run code or load anything came through."""
    tags = {node.tag for node in dom.iter()}
    assert not tags & {"script", "img", "b", "iframe", "object", "embed", "link", "base", "form"}, tags
    for node in dom.iter():
        assert not [name for name in node.attrs if name.startswith("on")], (node.tag, node.attrs)
        for name in ("src", "href"):
            value = node.attrs.get(name, "")
            assert not value.lower().startswith(("javascript:", "http:", "https:", "//")), value


def csp_of(dom: Node) -> str:
    metas = [
        m for m in dom.iter("meta") if m.attrs.get("http-equiv", "").lower() == "content-security-policy"
    ]
    assert len(metas) == 1
    return metas[0].attrs["content"]


# ---------------------------------------------------------------- hand-built reports


@pytest.fixture(scope="module")
def ex02() -> Assignment:
    return load_assignment("ex02_gradient_descent")


@pytest.fixture(scope="module")
def ex08() -> Assignment:
    return load_assignment("ex08_open_set")


def value_check(
    name: str, status: str, earned: float, visible: str = "public", message: str = ""
) -> CheckResult:
    return CheckResult("value", name, status, message or f"{name}: {status}", 1.0, visible, earned)


def make_report(
    assignment: Assignment,
    student: str,
    points: dict[str, float] | None,
    status: str = "graded",
    checks: dict[str, list[CheckResult]] | None = None,
    notes: list[str] | None = None,
) -> GradeReport:
    """One report: `points` per task id (None: ungraded, every task 0 and no checks).

    A task without `checks` given gets one value check, passed at full points, failed otherwise.
    """
    tasks = []
    for spec in assignment.rubric.tasks:
        got = (points or {}).get(spec.id, 0.0)
        if points is None:
            task_checks: list[CheckResult] = []
        elif checks and spec.id in checks:
            task_checks = checks[spec.id]
        else:
            full = got == spec.points
            task_checks = [value_check(f"{spec.id} value", "pass" if full else "fail", got / spec.points,
                                       spec.visible, f"{spec.id} of {student}: {'ok' if full else 'wrong'}")]
        tasks.append(TaskResult(spec.id, spec.title, got, spec.points, spec.visible, task_checks))
    return GradeReport(
        student=student, file=f"{student}.ipynb", assignment=assignment.id, status=status,
        score=sum(t.points for t in tasks), max_score=assignment.rubric.max_points, tasks=tasks,
        notes=notes or [], rubric_digest=assignment.digest,
    )


def exists_check(status: str) -> CheckResult:
    return CheckResult("exists", "loss exists", status, "`loss` is not defined", 0.0, "public", 0.0)


def class_of_five(ex02: Assignment) -> list[GradeReport]:
    """ex02 (loss 2, gradient 3, descent 2, regression 3 hidden; 10 points), 4 graded + 1 invalid."""
    return [
        make_report(ex02, "dave", {"loss": 1, "gradient": 1.5, "descent": 2, "regression": 0},
                    checks={"regression": [value_check("fit_line", "error", 0.0, "hidden")]}),
        make_report(ex02, "alice", {"loss": 2, "gradient": 3, "descent": 2, "regression": 3}),
        make_report(ex02, "carol", {"loss": 0, "gradient": 0, "descent": 2, "regression": 0},
                    checks={"loss": [exists_check("fail"), value_check("loss", "not-run", 0.0)]}),
        make_report(ex02, "bob", {"loss": 2, "gradient": 1.5, "descent": 0, "regression": 0},
                    checks={"descent": [value_check("descent", "timeout", 0.0)],
                            "regression": [value_check("fit_line", "crashed", 0.0, "hidden")]}),
        make_report(ex02, "erin", None, status="invalid notebook", notes=["erin.ipynb: not valid JSON"]),
    ]


# ---------------------------------------------------------------- write_batch_reports


def write_batch_reports(out: Path, reports: list[GradeReport], assignment: Assignment) -> dict[str, Path]:
    return ResultsFolder(out).write_batch_reports(reports, assignment)


def test_writes_every_file_and_returns_them(tmp_path: Path, ex02: Assignment) -> None:
    reports = class_of_five(ex02)
    written = write_batch_reports(tmp_path / "out", reports, ex02)
    out = tmp_path / "out"
    expected = {"results.json", "lms.csv", "class.html"}
    for student in ("alice", "bob", "carol", "dave", "erin"):
        expected |= {f"students/{student}/feedback.html", f"students/{student}/gradescope.json"}
    assert set(written) == expected
    for name, path in written.items():
        assert path == out / name
        assert path.is_file() and path.stat().st_size > 0
    # atomic writes leave no temporary file behind
    assert [p for p in out.rglob("*") if p.name.startswith(".")] == []


def test_results_json(tmp_path: Path, ex02: Assignment) -> None:
    reports = class_of_five(ex02)
    data = json.loads(write_batch_reports(tmp_path, reports, ex02)["results.json"].read_text())
    assert data["assignment"] == "ex02_gradient_descent"
    assert data["title"] == "Exercise 2: gradient descent"
    assert data["max_points"] == 10
    assert data["rubric_digest"] == ex02.digest
    assert data["tasks"] == [
        {"id": "loss", "title": "J(w) = w1^2 + w2^2 + 30 sin(w1) sin(w2)", "points": 2, "visible": "public"},
        {"id": "gradient", "title": "the gradient dJ/dw", "points": 3, "visible": "public"},
        {"id": "descent", "title": "gradient descent", "points": 2, "visible": "public"},
        {"id": "regression", "title": "fitting a line by gradient descent", "points": 3, "visible": "hidden"},
    ]
    assert [s["student"] for s in data["students"]] == ["alice", "bob", "carol", "dave", "erin"]
    by_name = {r.student: r for r in reports}
    for student in data["students"]:
        assert GradeReport.from_json(student) == by_name[student["student"]]


def test_lms_csv(tmp_path: Path, ex02: Assignment) -> None:
    reports = [
        make_report(ex02, "zoe", {"loss": 2, "gradient": 1, "descent": 0, "regression": 0}),
        make_report(ex02, "=HYPERLINK(\"http://x\",\"y\")", {"loss": 2 / 3}),
        make_report(ex02, "-1+2", {"loss": 1.004, "gradient": 1.5}),
        make_report(ex02, "amy", {"loss": 2, "gradient": 3, "descent": 2, "regression": 3}),
    ]
    path = write_batch_reports(tmp_path, reports, ex02)["lms.csv"]
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["student_id", "total", "max"]
    assert len(rows) == 5
    by_total = {row[1]: row for row in rows[1:]}
    assert by_total["3"] == ["zoe", "3", "10"]
    assert by_total["10"] == ["amy", "10", "10"]
    assert by_total["0.67"] == ["'=HYPERLINK(\"http://x\",\"y\")", "0.67", "10"]  # 2/3 to 2 decimals
    assert by_total["2.5"] == ["'-1+2", "2.5", "10"]  # 1.004 + 1.5 = 2.504: at most 2 decimals
    # one row per student, sorted by student id ('-' < '=' < 'a' < 'z')
    assert [row[0][-4:] for row in rows[1:]] == ["-1+2", '"y")', "amy", "zoe"]


def test_gradescope_json(tmp_path: Path, ex02: Assignment) -> None:
    written = write_batch_reports(tmp_path, class_of_five(ex02), ex02)
    bob = json.loads(written["students/bob/gradescope.json"].read_text())
    assert bob["score"] == pytest.approx(3.5)
    assert bob["max_score"] == pytest.approx(10)
    tests = bob["tests"]
    assert [t["name"].split(":")[0] for t in tests] == ["loss", "gradient", "descent", "regression"]
    assert [t["score"] for t in tests] == [2, 1.5, 0, 0]
    assert [t["max_score"] for t in tests] == [2, 3, 2, 3]
    assert [t["status"] for t in tests] == ["passed", "failed", "failed", "failed"]
    assert [t["visibility"] for t in tests] == ["visible", "visible", "visible", "after_published"]
    assert "descent: timeout" in tests[2]["output"]
    assert "fit_line: crashed" in tests[3]["output"]
    assert sum(t["score"] for t in tests) == pytest.approx(bob["score"])
    for test in tests:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}

    erin = json.loads(written["students/erin/gradescope.json"].read_text())
    assert erin["score"] == 0
    assert len(erin["tests"]) == 4  # every rubric task is a test, even when nothing was graded
    assert all(t["status"] == "failed" and t["score"] == 0 for t in erin["tests"])
    assert "invalid notebook" in erin["output"] and "not valid JSON" in erin["output"]


# ---------------------------------------------------------------- feedback.html


def test_feedback_page_content(tmp_path: Path, ex02: Assignment) -> None:
    reports = class_of_five(ex02)
    bob = next(r for r in reports if r.student == "bob")
    bob.cells = [{"index": 4, "number": 5, "status": "timeout", "note": "ran over 60s"},
                 {"index": 1, "number": 2, "status": "ok"}]
    written = write_batch_reports(tmp_path, reports, ex02)
    dom = parse_dom(written["students/bob/feedback.html"].read_text())
    assert dom.by_id("student").text == "bob"
    assert dom.by_id("score").text == "3.5 / 10"
    assert dom.by_id("task-table").rows()[1:] == [
        ["loss", "J(w) = w1^2 + w2^2 + 30 sin(w1) sin(w2)", "2", "2"],
        ["gradient", "the gradient dJ/dw", "1.5", "3"],
        ["descent", "gradient descent", "0", "2"],
        ["regression", "fitting a line by gradient descent", "0", "3"],
        ["Total", "3.5", "10"],
    ]
    checks = [" ".join(li.text.split()) for li in dom.iter("li")]
    assert "PASS loss value: loss of bob: ok" in checks
    assert "FAIL gradient value: gradient of bob: wrong" in checks
    assert "TIMEOUT descent: descent: timeout" in checks
    assert "CRASHED fit_line hidden: fit_line: crashed" in checks  # hidden check: shown and labelled
    cells = dom.by_id("cells").rows()
    assert cells[1:] == [["5", "timeout", "ran over 60s"]]  # the cell that ran cleanly is not listed
    assert csp_of(dom).startswith(CSP)


def test_feedback_can_leave_hidden_checks_out(ex02: Assignment) -> None:
    report = make_report(ex02, "bob", {"loss": 2},
                         checks={"regression": [value_check("secret fit", "fail", 0.0, "hidden")]})
    assert "secret fit" in feedback_html(report)
    assert "secret fit" not in feedback_html(report, include_hidden=False)


def test_feedback_escapes_everything_from_the_student(tmp_path: Path, ex08: Assignment) -> None:
    report = make_report(
        ex08, PAYLOAD, {"filter": 1},
        checks={"filter": [value_check(PAYLOAD, "fail", 0.5, message=f"got {PAYLOAD}")]},
        notes=[f"note {PAYLOAD}"],
    )
    report.file = f"{PAYLOAD}.ipynb"
    report.cells = [
        {"number": 3, "status": "error", "ename": "ValueError", "evalue": PAYLOAD, "line": PAYLOAD}
    ]
    answer = f"  indented {PAYLOAD}\n\n  x = a < b and c > d & e\n"
    report.manual = [ManualAnswer("theory", "theory-1", answer), ManualAnswer("quiz", "q-1", None)]
    written = write_batch_reports(tmp_path / "out", [report], ex08)
    feedback = [p for name, p in written.items() if name.endswith("feedback.html")]
    assert len(feedback) == 1
    # the student id has '/' in it: the folder stays inside out/students
    assert feedback[0].parent.parent == tmp_path / "out" / "students"
    markup = feedback[0].read_text()
    assert PAYLOAD not in markup
    dom = parse_dom(markup)
    assert_inert(dom)
    assert dom.by_id("student").text == PAYLOAD
    assert dom.by_id("file").text == f"{PAYLOAD}.ipynb"
    assert dom.iter("title")[0].text == f"Feedback: ex08_open_set: {PAYLOAD}"
    assert f"got {PAYLOAD}" in dom.by_id("task-filter").text
    assert f"note {PAYLOAD}" in dom.by_id("notes").text
    assert PAYLOAD in dom.by_id("cells").text
    pres = dom.iter("pre")
    assert [p.text for p in pres] == [answer]  # verbatim, whitespace and all
    assert "No cell carries this tag" in dom.by_id("manual").text


def test_pages_load_nothing_and_run_nothing(tmp_path: Path, ex02: Assignment) -> None:
    written = write_batch_reports(tmp_path, class_of_five(ex02), ex02)
    for name in ("class.html", "students/alice/feedback.html"):
        markup = written[name].read_text()
        dom = parse_dom(markup)
        assert_inert(dom)
        policy = [p.strip() for p in csp_of(dom).split(";")]
        assert policy[:3] == ["default-src 'none'", "style-src 'unsafe-inline'", "img-src data:"]
        # the CSP comes before anything it governs
        assert markup.index("Content-Security-Policy") < markup.index("<style")
        assert "<script" not in markup.lower()


# ---------------------------------------------------------------- class.html


def numbers(text: str) -> float:
    return float(text.rstrip("%"))


def test_class_page_counts_and_score_summary(tmp_path: Path, ex02: Assignment) -> None:
    dom = parse_dom(write_batch_reports(tmp_path, class_of_five(ex02), ex02)["class.html"].read_text())
    counts = {row[0]: row[1] for row in dom.by_id("counts").rows()}
    assert counts == {"students": "5", "graded": "4", "invalid notebook": "1"}
    rows = dom.by_id("score-summary").rows()
    assert rows[0] == ["", "mean", "median", "min", "max"]
    # scores: alice 10, bob 3.5, carol 2, dave 4.5, erin 0 (ungraded)
    assert rows[1] == ["all submissions (5)", "4.00", "3.50", "0.00", "10.00"]  # 20 / 5
    assert rows[2] == ["graded only (4)", "5.00", "4.00", "2.00", "10.00"]  # 20 / 4, (3.5 + 4.5) / 2


def test_class_page_task_table(tmp_path: Path, ex02: Assignment) -> None:
    dom = parse_dom(write_batch_reports(tmp_path, class_of_five(ex02), ex02)["class.html"].read_text())
    rows = dom.by_id("task-table").rows()
    assert rows[0] == ["Task", "Title", "mean points", "max", "mean %", "% full marks"]
    table = {row[0].split()[0]: row[2:] for row in rows[1:]}
    # graded only: loss [2, 2, 0, 1], gradient [3, 1.5, 0, 1.5], descent [2, 0, 2, 2], regression [3, 0, 0, 0]
    assert table == {
        "loss": ["1.25", "2", "62.5", "50.0"],
        "gradient": ["1.50", "3", "50.0", "25.0"],
        "descent": ["1.50", "2", "75.0", "75.0"],
        "regression": ["0.75", "3", "25.0", "25.0"],
    }
    assert "hidden" in rows[4][0]  # regression is a hidden task


def bars(dom: Node, chart_id: str) -> list[tuple[str, float]]:
    chart = dom.by_id(chart_id)
    assert chart.tag == "svg"
    return [(r.attrs["data-label"], float(r.attrs["data-value"])) for r in chart.iter("rect")
            if "bar" in r.attrs.get("class", "").split()]


def test_class_page_charts(tmp_path: Path, ex02: Assignment) -> None:
    dom = parse_dom(write_batch_reports(tmp_path, class_of_five(ex02), ex02)["class.html"].read_text())
    # scores 10, 3.5, 2, 4.5, 0 in ten 1-point bins over [0, 10], 10 in the last (closed) bin
    assert [value for _, value in bars(dom, "chart-histogram")] == [1, 0, 1, 1, 1, 0, 0, 0, 0, 1]
    # mean fraction lost: regression 1 - 0.75/3, gradient 1 - 1.5/3, loss 1 - 1.25/2, descent 1 - 1.5/2
    lost = bars(dom, "chart-lost")
    assert [label for label, _ in lost] == ["regression", "gradient", "loss", "descent"]
    assert [value for _, value in lost] == pytest.approx([0.75, 0.5, 0.375, 0.25])
    failures = dict(bars(dom, "chart-failures"))
    # carol's exists check is a missing function; fails: bob gradient, carol gradient + regression,
    # dave loss + gradient; dave error, bob timeout + crashed, carol not-run
    assert failures == {"missing function": 1, "fail": 5, "error": 1, "timeout": 1, "crashed": 1,
                        "not-run": 1, "grader-error": 0}


def test_class_page_links_to_every_feedback_page(tmp_path: Path, ex02: Assignment) -> None:
    reports = [*class_of_five(ex02), make_report(ex02, "../../etc/x", {"loss": 2})]
    written = write_batch_reports(tmp_path / "out", reports, ex02)
    dom = parse_dom(written["class.html"].read_text())
    links = {a.text: a.attrs["href"] for a in dom.by_id("students").iter("a")}
    assert set(links) == {r.student for r in reports}
    for href in links.values():
        target = (tmp_path / "out" / href).resolve()
        assert target.is_file()
        assert target.is_relative_to(tmp_path / "out" / "students")
    assert not (tmp_path / "etc").exists()


def test_class_page_escapes_student_ids(tmp_path: Path, ex02: Assignment) -> None:
    reports = [make_report(ex02, PAYLOAD, {"loss": 2}, status=PAYLOAD)]
    markup = write_batch_reports(tmp_path, reports, ex02)["class.html"].read_text()
    assert PAYLOAD not in markup
    dom = parse_dom(markup)
    assert_inert(dom)
    assert [a.text for a in dom.by_id("students").iter("a")] == [PAYLOAD]
    assert {row[0] for row in dom.by_id("counts").rows()} == {"students", "graded", PAYLOAD}


def test_no_reports(tmp_path: Path, ex02: Assignment) -> None:
    written = write_batch_reports(tmp_path, [], ex02)
    assert set(written) == {"results.json", "lms.csv", "class.html"}
    assert json.loads(written["results.json"].read_text())["students"] == []
    assert written["lms.csv"].read_text() == "student_id,total,max\n"
    dom = parse_dom(written["class.html"].read_text())
    assert dom.by_id("score-summary").rows()[1][1:] == ["\u2013"] * 4
    assert [value for _, value in bars(dom, "chart-histogram")] == [0] * 10


# ---------------------------------------------------------------- one status vocabulary


def hand_graded(name: str, earned: float) -> CheckResult:
    message = f"{2 * earned:g} / 2 points, graded by hand"
    return CheckResult("manual", name, "graded-by-hand", message, 1.0, "public", earned)


def test_class_page_does_not_count_hand_grades_as_failures(tmp_path: Path, ex02: Assignment) -> None:
    # a person gave these points: nothing the student or the grader has to act on
    reports = [
        make_report(ex02, "fay", {"loss": 1, "gradient": 3, "descent": 2, "regression": 3},
                    checks={"loss": [hand_graded("essay", 0.5)]}),
        make_report(ex02, "gil", {"loss": 0, "gradient": 3, "descent": 2, "regression": 3},
                    checks={"loss": [hand_graded("essay", 0.0), value_check("loss", "fail", 0.0)]}),
    ]
    dom = parse_dom(write_batch_reports(tmp_path, reports, ex02)["class.html"].read_text())
    failures = dict(bars(dom, "chart-failures"))
    assert failures == {"missing function": 0, "fail": 1, "error": 0, "timeout": 0, "crashed": 0,
                        "not-run": 0, "grader-error": 0}


def test_every_check_status_has_its_badge(tmp_path: Path, ex02: Assignment) -> None:
    statuses = ["pass", "fail", "error", "timeout", "crashed", "not-run", "manual", "graded-by-hand",
                "grader-error", "something-new"]
    checks = [value_check(f"c{i}", status, 0.0) for i, status in enumerate(statuses)]
    report = make_report(ex02, "hal", {"loss": 0}, checks={"loss": checks})
    dom = parse_dom(feedback_html(report))
    names = {check.name for check in checks}

    def name_of(li: Node) -> str:
        return next(n.text for n in li.iter("span") if n.attrs.get("class") == "check-name")

    items = [li for li in dom.iter("li")
             if "check" in li.attrs.get("class", "").split() and name_of(li) in names]
    classes = [next(c for c in li.attrs["class"].split() if c.startswith("st-")) for li in items]
    assert classes == ["st-pass", "st-fail", "st-error", "st-timeout", "st-crashed", "st-not-run",
                       "st-manual", "st-graded-by-hand", "st-grader-error", "st-other"]
    badges = [next(n for n in li.iter("span") if n.attrs.get("class") == "badge").text for li in items]
    assert badges == ["PASS", "FAIL", "ERROR", "TIMEOUT", "CRASHED", "NOT RUN", "MANUAL", "GRADED BY HAND",
                      "GRADER ERROR", "something-new"]
    style = feedback_html(report)
    for css_class in classes[:-1]:  # every status of the vocabulary has its colour
        assert f".{css_class} .badge {{ background: #" in style
