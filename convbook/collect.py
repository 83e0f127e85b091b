"""Collect submissions into ``submitted/<student>/conv2d/``.

From a folder of per-student zips (what an LMS exports), every file gets a one-line report:

    OK       alice: alice_2024-05-02T09-00-00.zip -> 2 notebooks, 15 convlib modules (2024-05-02 09:00 UTC)
    LATE     carol: carol.zip submitted 2024-05-03 10:00 UTC, 1 h 0 min after the deadline (collected, flagged)
    SKIPPED  notes.txt: not a .zip file
    SKIPPED  bob_old.zip: superseded by bob_new.zip (keeping the latest submission)
    FAILED   dave.zip: corrupt zip (Bad CRC-32 for file '00_what_conv2d_computes.ipynb')

Only the top-level notebooks of the submission and ``convlib/**/*.py`` are taken; a zip may
hold the assignment folder (any name, any depth) or the files at its top level.
"""
import datetime as dt
import json
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import course as coursemod
from .layout import ASSIGNMENT, reports_dir

# <student_id>.zip or <student_id>_<anything>.zip; an optional timestamp right after the id
# (2024-05-02T09-00-00, 2024-05-02 09:00:00, 20240502-090000 ...) is the submission time,
# otherwise the zip's modification time is.
DEFAULT_NAME_PATTERN = (
    r"^(?P<student_id>[A-Za-z0-9][A-Za-z0-9.@-]*)"
    r"(?:_(?P<timestamp>\d{4}-?\d\d-?\d\d[T_ -]?\d\d[-:]?\d\d(?:[-:]?\d\d)?))?"
    r"(?:_.*)?\.zip$"
)
MAX_FILE_BYTES = 20 * 2**20
MAX_TOTAL_BYTES = 100 * 2**20
IGNORED_PARTS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints"}
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"     # nbgrader's timestamp.txt format


@dataclass
class Candidate:
    path: Path
    student: str
    timestamp: dt.datetime            # aware, UTC
    members: dict = field(default_factory=dict)   # relative dest path -> ZipInfo
    ignored: list = field(default_factory=list)


def parse_when(text):
    """ISO-ish date/time -> aware UTC datetime (naive input is taken as UTC)."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})-?(\d\d)-?(\d\d)(?:[T_ -]?(\d\d)[-:]?(\d\d)(?:[-:]?(\d\d)(?:\.\d+)?)?)?"
                     r"\s*(Z|UTC|[+-]\d\d:?\d\d)?", text)
    if not m:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"cannot read the date/time {text!r} (expected e.g. 2024-05-02T17:00)")
    else:
        y, mo, d, h, mi, s, tz = m.groups()
        when = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        if tz and tz not in ("Z", "UTC"):
            sign = 1 if tz[0] == "+" else -1
            hh, mm = int(tz[1:3]), int(tz[-2:])
            when = when.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hh, minutes=mm)))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def fmt_when(when):
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def fmt_delay(delta):
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else []) + [f"{mins} min"]
    return " ".join(parts)


def _safe_parts(name):
    """Path parts of a zip member name, or None if it must not be extracted."""
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts):
        return None
    return parts


def _is_symlink(info):
    return stat.S_ISLNK(info.external_attr >> 16)


def scan_zip(path):
    """(members by dest path, ignored names) of a valid zip; raises ValueError if unusable."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"corrupt zip ({exc})")
    with zf:
        try:
            bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ValueError(f"corrupt zip ({exc})")
        if bad is not None:
            raise ValueError(f"corrupt zip (bad CRC for {bad!r})")
        infos = [i for i in zf.infolist() if not i.is_dir()]
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise ValueError(f"zip too large when extracted (> {MAX_TOTAL_BYTES // 2**20} MiB)")

    usable, ignored = [], []
    for info in infos:
        parts = _safe_parts(info.filename.replace("\\", "/"))   # some Windows tools write \
        if (parts is None or _is_symlink(info) or any(p in IGNORED_PARTS for p in parts)
                or any(p.startswith(".") for p in parts) or info.file_size > MAX_FILE_BYTES):
            ignored.append(info.filename)
        else:
            usable.append((parts, info))

    # The assignment folder: where the notebooks are (else where convlib/ is), shallowest.
    def roots(pred):
        return {parts[:i] for parts, _ in usable for i in range(len(parts)) if pred(parts, i)}

    nb_roots = roots(lambda p, i: i == len(p) - 1 and p[i].endswith(".ipynb"))
    lib_roots = roots(lambda p, i: p[i] == "convlib" and i < len(p) - 1)
    candidates = nb_roots or lib_roots
    if not candidates:
        raise ValueError("no notebook and no convlib/ in the zip: nothing to grade")
    depth = min(len(r) for r in candidates)
    shallowest = sorted(r for r in candidates if len(r) == depth)
    if len(shallowest) > 1:
        names = ", ".join("/".join(r) + "/" for r in shallowest)
        raise ValueError(f"ambiguous layout: several assignment folders ({names})")
    root = shallowest[0]

    members = {}
    for parts, info in usable:
        rel = parts[len(root):] if parts[:len(root)] == root else None
        if rel and len(rel) == 1 and rel[0].endswith(".ipynb"):
            members[rel[0]] = info
        elif rel and len(rel) >= 2 and rel[0] == "convlib" and rel[-1].endswith(".py"):
            members["/".join(rel)] = info
        else:
            ignored.append(info.filename)
    return members, sorted(ignored)


def write_timestamp(folder, when):
    (Path(folder) / "timestamp.txt").write_text(
        when.astimezone(dt.timezone.utc).strftime(TIMESTAMP_FORMAT))


ZIPS_RECORD = "zip-submissions.json"


def _zip_record(course, assignment):
    path = reports_dir(course, "collect", assignment) / ZIPS_RECORD
    try:
        return path, dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return path, {}


def zip_submissions(course, assignment=ASSIGNMENT):
    """Students whose current submission of `assignment` came from a zip (no exchange behind
    it, so their feedback is handed out, not released). A zip later replaced by an exchange
    submission no longer counts: the record keeps the zip's timestamp."""
    _, record = _zip_record(course, assignment)
    current = set()
    for student, stamp in record.items():
        path = coursemod.submitted_dir(course, student, assignment) / "timestamp.txt"
        if path.is_file() and path.read_text() == stamp:
            current.add(student)
    return current


def record_zip_submission(course, student, assignment=ASSIGNMENT):
    path, record = _zip_record(course, assignment)
    stamp = coursemod.submitted_dir(course, student, assignment) / "timestamp.txt"
    record[student] = stamp.read_text()
    path.write_text(json.dumps(record, indent=1, sort_keys=True))


def collect_zips(course, folder, deadline=None, name_pattern=DEFAULT_NAME_PATTERN, log=print,
                 assignment=ASSIGNMENT):
    """Collect every student's latest zip from `folder` as a submission of `assignment`.
    Notebooks of chapters the assignment does not hold (a whole workspace zipped for a part)
    are left out. Returns (report lines, n_problems)."""
    course, folder = Path(course), Path(folder)
    if not folder.is_dir():
        raise coursemod.CourseError(f"no such folder: {folder}")
    regex = re.compile(name_pattern, re.IGNORECASE)
    released = set(coursemod.notebook_names(coursemod.release_dir(course, assignment)))
    lines, problems = [], 0

    def report(tag, text):
        line = f"{tag:<8} {text}"
        lines.append(line)
        log(line)

    by_student = {}
    for path in sorted(p for p in folder.iterdir()):
        if path.is_dir() or path.name.startswith("."):
            report("SKIPPED", f"{path.name}: not a zip file (a {'folder' if path.is_dir() else 'hidden file'})")
            problems += 1
            continue
        if path.suffix.lower() != ".zip":
            report("SKIPPED", f"{path.name}: not a .zip file")
            problems += 1
            continue
        m = regex.match(path.name)
        if not m:
            report("SKIPPED", f"{path.name}: cannot derive a student id from the file name "
                              "(expected <student_id>.zip or <student_id>_<anything>.zip)")
            problems += 1
            continue
        student = m.group("student_id")
        try:
            stamp = m.groupdict().get("timestamp")
            when = parse_when(stamp) if stamp else dt.datetime.fromtimestamp(
                path.stat().st_mtime, dt.timezone.utc)
        except ValueError as exc:
            report("SKIPPED", f"{path.name}: {exc}")
            problems += 1
            continue
        try:
            members, ignored = scan_zip(path)
        except ValueError as exc:
            report("FAILED", f"{path.name} ({student}): {exc}")
            problems += 1
            continue
        by_student.setdefault(student, []).append(Candidate(path, student, when, members, ignored))

    for student in sorted(by_student):
        cands = sorted(by_student[student], key=lambda c: (c.timestamp, c.path.name))
        chosen = cands[-1]
        for other in cands[:-1]:
            report("SKIPPED", f"{other.path.name}: {student} submitted again; superseded by "
                              f"{chosen.path.name} ({fmt_when(other.timestamp)} < "
                              f"{fmt_when(chosen.timestamp)}), keeping the latest")
            problems += 1
        dest = coursemod.submitted_dir(course, student, assignment)
        unknown = sorted(Path(r).stem for r in chosen.members
                         if "/" not in r and r.endswith(".ipynb") and Path(r).stem not in released)
        with tempfile.TemporaryDirectory(dir=course) as tmp:
            staged = Path(tmp) / assignment
            staged.mkdir()
            with zipfile.ZipFile(chosen.path) as zf:
                for rel, info in sorted(chosen.members.items()):
                    if "/" not in rel and Path(rel).stem in unknown:
                        continue                    # another assignment's chapter
                    out = staged / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
            write_timestamp(staged, chosen.timestamp)
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staged), str(dest))
        record_zip_submission(course, student, assignment)

        notebooks = sorted(Path(r).stem for r in chosen.members
                           if "/" not in r and Path(r).stem not in unknown)
        modules = [r for r in chosen.members if r.startswith("convlib/")]
        notes = []
        missing = sorted(released - set(notebooks))
        if not notebooks:
            notes.append("no notebook at all: nbgrader cannot autograde it (ask the student "
                         "for the notebooks)")
        elif missing:
            notes.append("missing notebook(s) " + ", ".join(missing) + " (scored 0)")
        if unknown:
            notes.append(f"notebook(s) not in {assignment} left out: " + ", ".join(unknown))
        if chosen.ignored:
            shown = ", ".join(chosen.ignored[:6]) + (" ..." if len(chosen.ignored) > 6 else "")
            notes.append(f"ignored {len(chosen.ignored)} other file(s): {shown}")
        tail = ("; " + "; ".join(notes)) if notes else ""
        if deadline is not None and chosen.timestamp > deadline:
            report("LATE", f"{student}: {chosen.path.name} submitted {fmt_when(chosen.timestamp)}, "
                           f"{fmt_delay(chosen.timestamp - deadline)} after the deadline "
                           f"(collected, flagged){tail}")
        else:
            report("OK", f"{student}: {chosen.path.name} -> {len(notebooks)} notebook(s), "
                         f"{len(modules)} convlib module(s) ({fmt_when(chosen.timestamp)}){tail}")
        if missing or not notebooks:
            problems += 1
    return lines, problems


def describe_submissions(course, deadline=None, log=print, assignment=ASSIGNMENT):
    """One line per collected submission of `assignment` (after an exchange collect)."""
    course = Path(course)
    release = coursemod.release_dir(course, assignment)
    released = set(coursemod.notebook_names(release))
    release_files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    lines, problems = [], 0
    for folder in sorted(Path(course).glob(f"submitted/*/{assignment}")):
        student = folder.parent.name
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
        notebooks = {Path(f).stem for f in files if "/" not in f and f.endswith(".ipynb")}
        extra = [f for f in files if f not in release_files and not f.endswith(".ipynb")
                 and f not in ("timestamp.txt", "submission_secret.txt")
                 and not (f.startswith("convlib/") and f.endswith(".py"))]
        when = coursemod_timestamp(folder)
        notes = []
        if released - notebooks:
            notes.append("missing notebook(s) " + ", ".join(sorted(released - notebooks)) + " (scored 0)")
            problems += 1
        if extra:
            notes.append("files autograde will drop: " + ", ".join(extra[:6])
                         + (" ..." if len(extra) > 6 else ""))
        tail = ("; " + "; ".join(notes)) if notes else ""
        if deadline is not None and when is not None and when > deadline:
            line = (f"{'LATE':<8} {student}: submitted {fmt_when(when)}, "
                    f"{fmt_delay(when - deadline)} after the deadline (collected, flagged){tail}")
        else:
            stamp = fmt_when(when) if when else "no timestamp"
            line = f"{'OK':<8} {student}: {len(notebooks)} notebook(s) ({stamp}){tail}"
        lines.append(line)
        log(line)
    return lines, problems


def coursemod_timestamp(folder):
    path = Path(folder) / "timestamp.txt"
    if not path.is_file():
        return None
    text = path.read_text().strip()
    try:
        from nbgrader.utils import parse_utc
        when = parse_utc(text)
    except Exception:       # noqa: BLE001 (an unreadable stamp is reported as missing)
        return None
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when
