"""The batch report pages in a real headless browser (Debian's chromium).

The DOM that chromium builds (after running whatever the page would run) must show the
scores and tables, and show hostile student text as text: no element, no script run.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from autograde.results import ManualAnswer
from autograde.rubric import Assignment, load_assignment
from tests.unit.test_batch_reports import (
    PAYLOAD,
    Node,
    assert_inert,
    class_of_five,
    make_report,
    parse_dom,
    value_check,
    write_batch_reports,
)

pytestmark = pytest.mark.integration


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; with CI set the browser tests must run")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium()


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        f"--user-data-dir={profile}", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HOME": str(profile)})
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def dump_dom(chromium: str, page: Path, tmp_path: Path) -> tuple[str, Node]:
    """The DOM chromium serialises after loading the page (scripts, if any could run, have run)."""
    result = _run(chromium, tmp_path / "profile-dom", "--virtual-time-budget=3000", "--dump-dom",
                  page.resolve().as_uri())
    assert "<body" in result.stdout, result.stdout[:2000]
    return result.stdout, parse_dom(result.stdout)


def screenshot(chromium: str, page: Path, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    _run(chromium, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,2000",
         "--hide-scrollbars", page.resolve().as_uri())
    return shot


def png_size_and_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (a valid file or an assertion)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def title_of(dom: Node) -> str:
    titles = dom.iter("title")
    return titles[0].text if titles else ""


@pytest.fixture(scope="module")
def ex02() -> Assignment:
    return load_assignment("ex02_gradient_descent")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, ex02: Assignment) -> dict[str, Path]:
    """A batch of five ordinary students plus one whose every string is a payload."""
    evil = make_report(
        ex02, PAYLOAD, {"loss": 2, "gradient": 1},
        checks={"gradient": [value_check(PAYLOAD, "fail", 1 / 3, message=f"expected 1, got {PAYLOAD}")]},
        notes=[PAYLOAD],
    )
    evil.file = f"{PAYLOAD}.ipynb"
    evil.cells = [{"number": 7, "status": "error", "ename": "NameError", "evalue": PAYLOAD}]
    evil.manual = [ManualAnswer("gradient", "essay", f"My answer:\n{PAYLOAD}\n  <i>end</i>")]
    reports = [*class_of_five(ex02), evil]
    return write_batch_reports(tmp_path_factory.mktemp("site"), reports, ex02)


def test_browser_runs_scripts_when_a_page_lets_it(chromium: str, tmp_path: Path) -> None:
    """The control: the same payload, unescaped and without a CSP, does take over the title."""
    page = tmp_path / "control.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>safe</title></head><body>{PAYLOAD}</body></html>")
    _, dom = dump_dom(chromium, page, tmp_path)
    assert title_of(dom) == "pwned"


def test_csp_blocks_scripts_even_if_markup_got_through(chromium: str, site: dict[str, Path],
                                                        tmp_path: Path) -> None:
    """Defence in depth: our page with raw payload spliced in still runs nothing."""
    markup = site["students/alice/feedback.html"].read_text()
    page = tmp_path / "spliced.html"
    page.write_text(markup.replace("<body>", f"<body>{PAYLOAD}", 1))
    _, dom = dump_dom(chromium, page, tmp_path)
    assert title_of(dom) != "pwned"
    assert dom.iter("script")  # the element is there: only the policy stopped it


def test_feedback_page_in_the_browser(chromium: str, site: dict[str, Path], tmp_path: Path) -> None:
    _, dom = dump_dom(chromium, site["students/bob/feedback.html"], tmp_path)
    assert dom.by_id("student").text == "bob"
    assert dom.by_id("score").text == "3.5 / 10"  # bob: 2 + 1.5 + 0 + 0
    rows = dom.by_id("task-table").rows()
    assert [row[0] for row in rows[1:]] == ["loss", "gradient", "descent", "regression", "Total"]
    assert [row[-2] for row in rows[1:]] == ["2", "1.5", "0", "0", "3.5"]
    assert_inert(dom)


def test_hostile_student_text_stays_text(chromium: str, site: dict[str, Path], tmp_path: Path) -> None:
    pages = [name for name in site if name.endswith("feedback.html") and "script" in name]
    assert len(pages) == 1
    raw, dom = dump_dom(chromium, site[pages[0]], tmp_path)
    assert title_of(dom) != "pwned"
    assert "pwned" not in title_of(dom).replace(PAYLOAD, "")
    assert_inert(dom)  # no <script>, no <img onerror>, no <b> from the payload
    assert not re.search(r"<script|<img|<b>", raw, re.IGNORECASE)
    assert dom.by_id("student").text == PAYLOAD
    assert dom.by_id("file").text == f"{PAYLOAD}.ipynb"
    assert dom.by_id("notes").text.strip() == f"Note: {PAYLOAD}"
    assert f"expected 1, got {PAYLOAD}" in dom.by_id("task-gradient").text
    assert PAYLOAD in dom.by_id("cells").text
    assert [p.text for p in dom.iter("pre")] == [f"My answer:\n{PAYLOAD}\n  <i>end</i>"]
    assert not dom.iter("i")


def test_class_page_in_the_browser(chromium: str, site: dict[str, Path], tmp_path: Path) -> None:
    raw, dom = dump_dom(chromium, site["class.html"], tmp_path)
    assert title_of(dom) != "pwned"
    assert_inert(dom)
    assert not re.search(r"<script|<img|<b>", raw, re.IGNORECASE)
    counts = {row[0]: row[1] for row in dom.by_id("counts").rows()}
    assert counts == {"students": "6", "graded": "5", "invalid notebook": "1"}
    # scores 10, 3.5, 2, 4.5, 0 and the payload student's 2 + 1 = 3: mean 23 / 6
    summary = dom.by_id("score-summary").rows()
    assert summary[1] == ["all submissions (6)", f"{23 / 6:.2f}", "3.25", "0.00", "10.00"]
    tasks = [row[0].split()[0] for row in dom.by_id("task-table").rows()[1:]]
    assert tasks == ["loss", "gradient", "descent", "regression"]
    students = [a.text for a in dom.by_id("students").iter("a")]
    assert PAYLOAD in students and "alice" in students
    charts = [svg for svg in dom.iter("svg") if "chart" in svg.attrs.get("class", "").split()]
    assert [svg.attrs["id"] for svg in charts] == ["chart-histogram", "chart-lost", "chart-failures"]
    for svg in charts:
        assert svg.iter("rect"), svg.attrs["id"]
    # any raster image must be an inline data: PNG that decodes
    for img in dom.iter("img"):
        src = img.attrs["src"]
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("page", ["class.html", "students/alice/feedback.html"])
def test_screenshots_show_a_page(chromium: str, site: dict[str, Path], tmp_path: Path, page: str) -> None:
    shot = screenshot(chromium, site[page], tmp_path, page.replace("/", "_") + ".png")
    width, height, pixels = png_size_and_pixels(shot)
    assert (width, height) == (1200, 2000)
    # not a blank page: the scanlines hold many distinct byte values (text, bars, table lines)
    assert len(set(pixels)) > 50
    keep = os.environ.get("AUTOGRADE_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
