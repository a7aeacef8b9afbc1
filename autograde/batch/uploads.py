"""What a batch grades: uploads from folders, single files and LMS zip exports.

Every upload becomes an `Upload` with a safe student id, a staged copy to grade (the
original is never modified or followed through a link) or the reason it is rejected.
LMS exports: Moodle/OLAT/Canvas style zips or folders with one folder or file name per
student; `--id-pattern` (a regex with a group named `id`) takes the id from the upload's
path, a roster CSV maps names to ids and lists who did not submit.

Zip archives are read entry by entry with caps on the entry count, the total and per-entry
uncompressed size and the compression ratio (zip bombs); absolute names, `..`, links and
nested archives are rejected and reported, never extracted. An archive refused as a whole
(too many entries, too large, unreadable) is one rejected row; the rest of the batch goes on.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograde.errors import AutogradeError
from autograde.pipeline.ingest import MAX_NOTEBOOK_BYTES, safe_id
from autograde.status import SubmissionStatus

MAX_ZIP_ENTRIES = 5000
MAX_ZIP_TOTAL = 2 * 2**30
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per entry
MAX_DEPTH = 4  # folders inside an export


@dataclass(frozen=True)
class Stamp:
    """What an upload's source says of its time (`autograde.lateness.times` reads it): a zip
    member's date_time (naive, as zip stores it) or a file's modification time."""

    name: str  # its path inside the source (the zip member, the path under the folder, the file name)
    zip_time: tuple[int, int, int, int, int, int] | None = None
    mtime: float | None = None


@dataclass
class Upload:
    student: str
    origin: str  # where it came from, as the instructor knows it (folder/file or zip!entry)
    path: Path | None  # the staged copy to grade (None: rejected)
    problem: str | None = None  # why it is not graded (a verdict for the gradebook)
    status: str = SubmissionStatus.REJECTED
    notes: tuple[str, ...] = ()
    stamp: Stamp | None = None

    @property
    def graded(self) -> bool:
        return self.path is not None and self.problem is None


def _stem(name: str) -> str:
    return name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name


# --id-pattern presets for common LMS exports (a regex with a group `id` also works)
PRESETS = {
    # Moodle: "Jane Doe_123456_assignsubmission_file_/notebook.ipynb"
    "moodle": r"^(?P<id>[^/]+?)_\d+_assignsubmission_file_?/",
    # Canvas: "doejane_123456_7890123_notebook.ipynb" (also "doejane_LATE_123456_...")
    "canvas": r"^(?P<id>[^_/]+)_(?:LATE_|late_)?\d+_\d+_",
    # OLAT: "Doe_Jane_jdoe/notebook.ipynb" (the login after the names)
    "olat": r"^[^/]*_(?P<id>[^_/]+)/",
}


class IdRule:
    """Student id from an upload's relative path: a regex group `id` (or a preset name),
    else the LMS folder or the file name."""

    def __init__(self, pattern: str | None = None) -> None:
        pattern = PRESETS.get(pattern or "", pattern)
        try:
            self.regex = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise AutogradeError(f"--id-pattern {pattern!r}: {exc}") from None
        if self.regex is not None and "id" not in self.regex.groupindex:
            raise AutogradeError(f"--id-pattern {pattern!r}: needs a named group (?P<id>...)")

    def __call__(self, relative: PurePosixPath) -> str | None:
        text = unicodedata.normalize("NFKC", str(relative))
        if self.regex is not None:
            match = self.regex.search(text)
            return safe_id(match.group("id")) if match else None
        # an LMS folder per student: the folder names the student; else the file does
        name = relative.parts[0] if len(relative.parts) > 1 else _stem(relative.name)
        return safe_id(name)


# roster columns an LMS's own files take (`autograde.reporters.lms_exports`), with the
# headers Moodle's and Canvas's exports give them; matched without case
LMS_COLUMNS = {
    "email": ("email", "email address"),
    "sis_user_id": ("sis_user_id", "sis user id"),
    "sis_login_id": ("sis_login_id", "sis login id"),
    "section": ("section",),
}


@dataclass
class Roster:
    """Roster CSV: a column `id` (or `student`), optional `name` and `email`, and the LMS's
    own identifiers (`LMS_COLUMNS`: email, SIS user and login ids, section)."""

    ids: list[str]
    aliases: dict[str, str]  # normalised name/email/id -> id
    details: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> LMS column -> value

    @classmethod
    def read(cls, path: Path) -> Roster:
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise AutogradeError(f"roster {path}: {exc}") from None
        if not rows:
            raise AutogradeError(f"roster {path}: no rows")
        column = next((c for c in ("id", "student", "student_id") if c in rows[0]), None)
        if column is None:
            raise AutogradeError(f"roster {path}: needs a column `id` (or `student`); has {list(rows[0])}")
        ids: list[str] = []
        aliases: dict[str, str] = {}
        details: dict[str, dict[str, str]] = {}
        headers = {header.strip().casefold(): header for header in rows[0] if header}
        lms_headers = {
            name: headers[found]
            for name, names in LMS_COLUMNS.items()
            if (found := next((n for n in names if n in headers), None)) is not None
        }
        for number, row in enumerate(rows, start=2):
            raw = (row.get(column) or "").strip()
            if not raw:
                raise AutogradeError(f"roster {path}, row {number}: empty {column}")
            student = safe_id(raw)
            if student in ids:
                raise AutogradeError(f"roster {path}, row {number}: {raw!r} appears twice")
            ids.append(student)
            for key in (raw, row.get("name") or "", row.get("email") or ""):
                if key.strip():
                    aliases[_alias(key)] = student
            given = {name: (row.get(header) or "").strip() for name, header in lms_headers.items()}
            if any(given.values()):
                details[student] = {name: value for name, value in given.items() if value}
        return cls(ids, aliases, details)

    def resolve(self, found: str) -> str | None:
        return self.aliases.get(_alias(found))


def _alias(text: str) -> str:
    return safe_id(text).casefold()


# ---------------------------------------------------------------- sources


@dataclass
class _Entry:
    relative: PurePosixPath  # inside the source (folder or zip)
    origin: str
    problem: str | None = None
    data: bytes | None = None  # zip entries are read into memory (capped)
    file: Path | None = None  # folder entries are copied from here
    too_large: bool = False  # the problem is its size
    stamp: Stamp | None = None


def _walk_folder(root: Path) -> list[_Entry]:
    found: list[_Entry] = []

    def visit(paths: list[Path], depth: int) -> None:
        for path in paths:
            if path.name.startswith("."):
                continue
            relative = PurePosixPath(*path.relative_to(root).parts)
            origin = f"{root.name}/{relative}"
            try:
                entry = _folder_entry(path, relative, origin, depth)
            except OSError as exc:  # unreadable, or gone meanwhile: this entry's row says so
                entry = _Entry(relative, origin, f"cannot be read ({exc.strerror or exc})")
            if entry is None:
                try:
                    listed = sorted(path.iterdir())
                except OSError as exc:
                    entry = _Entry(relative, origin, f"a folder that cannot be read ({exc.strerror or exc})")
                else:
                    visit(listed, depth + 1)
                    continue
            found.append(entry)

    visit(sorted(root.iterdir()), 0)
    return found


def _folder_entry(path: Path, relative: PurePosixPath, origin: str, depth: int) -> _Entry | None:
    """The entry of one path in a folder; None for a folder to walk into."""
    if path.is_symlink():
        return _Entry(relative, origin, "a symbolic link (never followed)")
    if path.is_dir():
        if depth >= MAX_DEPTH:
            return _Entry(relative, origin, f"nested deeper than {MAX_DEPTH} folders")
        return None
    if path.is_file():
        info = path.stat()
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return _Entry(relative, origin, too_large(info.st_size), too_large=True)
        return _Entry(relative, origin, file=path, stamp=Stamp(str(relative), mtime=info.st_mtime))
    return _Entry(relative, origin, "not a regular file")


class _Refused(Exception):
    """A whole archive is refused (why, without its name): nothing of it is graded."""

    def __init__(self, reason: str, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large  # over a size or count limit


def _zip_entries(archive: Path) -> list[_Entry]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _Refused(f"not a readable zip archive ({exc})") from None
    found: list[_Entry] = []
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _Refused(f"{len(infos)} entries, over the limit of {MAX_ZIP_ENTRIES} (a zip bomb?)", True)
        declared = sum(info.file_size for info in infos)
        if declared > MAX_ZIP_TOTAL:
            raise _Refused(
                f"{declared} bytes uncompressed, over the limit of {MAX_ZIP_TOTAL} (a zip bomb?)", True
            )
        total = 0
        for info in infos:
            name = info.filename
            origin = f"{archive.name}!{name}"
            if info.is_dir():
                continue
            relative, problem = _safe_member(name)
            mode = info.external_attr >> 16
            if problem is None and stat.S_ISLNK(mode):
                problem = "a symbolic link inside the archive (never extracted)"
            if problem is None and name.lower().endswith((".zip", ".tar", ".gz", ".7z", ".rar")):
                problem = "a nested archive (not extracted)"
            if problem is None and len(relative.parts) > MAX_DEPTH + 1:
                problem = f"nested deeper than {MAX_DEPTH} folders"
            oversize = problem is None and info.file_size > MAX_NOTEBOOK_BYTES
            if oversize:
                problem = too_large(info.file_size)
            if problem is None and info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
                problem = f"compression ratio over {MAX_ZIP_RATIO} (a zip bomb?)"
            if problem is not None:
                found.append(_Entry(relative, origin, problem, too_large=oversize))
                continue
            if not relative.name.lower().endswith(".ipynb") or relative.name.startswith("."):
                if relative.name.startswith(".") or relative.parts[0] == "__MACOSX":
                    continue  # OS metadata, not an upload
                found.append(_Entry(relative, origin))
                continue
            stamp = Stamp(str(relative), zip_time=info.date_time)
            data = _read_capped(zf, info)
            total += len(data) if data is not None else 0
            if data is None:
                found.append(_Entry(relative, origin, "larger than its header says (a zip bomb?)"))
            elif total > MAX_ZIP_TOTAL:
                raise _Refused(f"more than {MAX_ZIP_TOTAL} bytes uncompressed (a zip bomb?)")
            else:
                found.append(_Entry(relative, origin, data=data, stamp=stamp))
    return found


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """Read at most the declared size (+1 to notice a lie); never trust the header alone."""
    limit = min(info.file_size, MAX_NOTEBOOK_BYTES)
    try:
        with zf.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return b""  # unreadable (encrypted, corrupt): graded as an invalid notebook
    return None if len(data) > limit else data


def too_large(size: int) -> str:
    return f"{size} bytes, over the limit of {MAX_NOTEBOOK_BYTES}"


def _safe_member(name: str) -> tuple[PurePosixPath, str | None]:
    cleaned = name.replace("\\", "/")
    path = PurePosixPath(cleaned)
    if cleaned.startswith("/") or re.match(r"^[A-Za-z]:", cleaned):
        return PurePosixPath(path.name or "unnamed"), "an absolute path inside the archive (not extracted)"
    if ".." in path.parts:
        return PurePosixPath(path.name or "unnamed"), "a path that leaves the archive (`..`; not extracted)"
    return path, None


# ---------------------------------------------------------------- collect


def collect(
    sources: list[Path],
    staging: Path,
    id_rule: IdRule | None = None,
    roster: Roster | None = None,
) -> list[Upload]:
    """Every upload of every source, staged under `staging`, with its student id."""
    id_rule = id_rule or IdRule()
    entries: list[_Entry] = []
    for source in sources:
        name = PurePosixPath(source.name)
        if source.is_symlink():
            entries.append(_Entry(name, str(source), "a symbolic link (never followed)"))
        elif source.is_dir():
            entries.extend(_walk_folder(source))
        elif source.is_file() and zipfile.is_zipfile(source) and not source.name.lower().endswith(".ipynb"):
            try:
                entries.extend(_zip_entries(source))
            except _Refused as exc:  # one row for the archive; the other sources are still graded
                entries.append(_Entry(name, str(source), str(exc), too_large=exc.too_large))
            except Exception as exc:  # a reader failure (zipfile raises more than BadZipFile)
                entries.append(_Entry(name, str(source), f"not a readable zip archive ({exc!r})"))
        elif source.is_file() and source.stat().st_size > MAX_NOTEBOOK_BYTES:
            entries.append(_Entry(name, str(source), too_large(source.stat().st_size), too_large=True))
        elif source.is_file():
            stamp = Stamp(source.name, mtime=source.stat().st_mtime)
            entries.append(_Entry(name, str(source), file=source, stamp=stamp))
        else:
            raise AutogradeError(f"{source}: no such file or folder")
    staging.mkdir(parents=True, exist_ok=True)
    uploads: list[Upload] = []
    # ids that differ only in case are one collision: on macOS and Windows they would share
    # a folder under students/ (one report overwriting the other)
    seen: dict[str, tuple[str, int, int]] = {}  # casefolded id -> (first id, its index, uploads)
    for number, entry in enumerate(entries):
        student, notes = _student_for(entry, id_rule, roster)
        first, index, count = seen.get(student.casefold(), (student, len(uploads), 0))
        count = count + 1
        seen[student.casefold()] = (first, index, count)
        if count > 1:
            notes.append(f"another upload also maps to student id {first!r}")
            earlier = uploads[index]  # both rows say so, the first one too
            earlier.notes = (*earlier.notes, f"another upload also maps to this student id ({entry.origin})")
            student = f"{student}~{count}"
        upload = Upload(student, entry.origin, None, entry.problem, notes=tuple(notes), stamp=entry.stamp)
        if entry.problem is None and not entry.relative.name.lower().endswith(".ipynb"):
            upload.problem = f"{entry.origin}: not an .ipynb file"
            upload.status = SubmissionStatus.NOT_A_NOTEBOOK
        elif entry.problem is not None:
            upload.problem = f"{entry.origin}: {entry.problem}"
            if entry.too_large:
                upload.status = SubmissionStatus.TOO_LARGE
        else:
            try:
                upload.path = _stage(entry, staging, number, student)
                upload.status = SubmissionStatus.PENDING
            except Exception as exc:  # this upload's row says why; the others are still staged
                upload.problem = f"{entry.origin}: could not be copied for grading ({exc!r})"
                upload.status = SubmissionStatus.GRADER_ERROR
        uploads.append(upload)
    if roster is not None:
        have = {u.student.split("~")[0] for u in uploads}
        for student in roster.ids:
            if student not in have:
                status = SubmissionStatus.NO_SUBMISSION
                uploads.append(Upload(student, "(no upload)", None, status.value, status=status))
    return uploads


def _student_for(entry: _Entry, id_rule: IdRule, roster: Roster | None) -> tuple[str, list[str]]:
    notes: list[str] = []
    found = id_rule(entry.relative)
    if found is None:
        notes.append(f"the id pattern did not match {entry.origin!r}; the file name is used")
        found = safe_id(_stem(entry.relative.name))
    if roster is not None:
        resolved = roster.resolve(found)
        if resolved is None:
            notes.append(f"{found!r} is not on the roster")
        else:
            found = resolved
    return found, notes


def _stage(entry: _Entry, staging: Path, number: int, student: str) -> Path:
    """A private copy under a generated name: nothing of the upload's name reaches a path."""
    target = staging / f"{number:05d}-{student}.ipynb"
    if entry.data is not None:
        target.write_bytes(entry.data)
    elif entry.file is not None:
        with open(entry.file, "rb") as source, open(target, "wb") as dest:
            shutil.copyfileobj(source, dest, 1 << 20)
    return target


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
