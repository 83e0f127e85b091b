"""Where things are: the repository, the default nbgrader assignment (the whole book), a
course directory's folders per assignment, and the markers of instructor-only text (with the
one scan that looks for them).

Every other module takes these names from here, so a path is spelled once.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]      # the repository (or the installed tree)
SOLUTIONS = ROOT / "solutions"
ASSIGNMENT = "conv2d"                           # the default assignment: the whole book
COURSE_ID = "conv2d-from-scratch"
PACKAGE = "convlib"                             # the reader's package
BOOK = "book"                                   # the generated student notebooks
CONTENTS = "index.ipynb"                        # the contents page: in the book, not graded

# Any of these in a student-facing file means instructor-only text reached students. nbgrader
# treats any line *containing* a delimiter as a marker, so a plain substring search is exact.
LEAK_MARKERS = re.compile(
    rb"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS"
    rb"|BEGIN MARK SCHEME|END MARK SCHEME")

# Never staged, never compared, never scanned: editor/interpreter litter (all in .gitignore).
IGNORED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
IGNORED_SUFFIXES = (".pyc", ".pyo")


def ignored(path):
    path = Path(path)
    return any(part in IGNORED_NAMES for part in path.parts) or path.name.endswith(IGNORED_SUFFIXES)


def files(root):
    """Relative paths of the files under `root`, sorted, without ignored litter."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.is_file() and not ignored(p.relative_to(root)))


def leaks(root):
    """`<relative path>:<line>: contains '<marker>'` for every marker in any file under `root`."""
    root = Path(root)
    found = []
    for rel in files(root):
        data = (root / rel).read_bytes()
        for match in LEAK_MARKERS.finditer(data):
            line = data.count(b"\n", 0, match.start()) + 1
            found.append(f"{rel.as_posix()}:{line}: contains '{match.group().decode()}'")
    return found


# ------------------------------------------------------------------ a course directory
# A course holds one or more nbgrader assignments: the whole book, `conv2d` (the default), or
# parts of it released over a term (`release --assignment part1 --chapters 00-05`). Every
# folder below is per assignment, as nbgrader lays them out.
def source_dir(course, assignment=ASSIGNMENT):
    return Path(course) / "source" / assignment


def release_dir(course, assignment=ASSIGNMENT):
    return Path(course) / "release" / assignment


def submitted_dir(course, student="*", assignment=ASSIGNMENT):
    return Path(course) / "submitted" / student / assignment


def autograded_dir(course, student, assignment=ASSIGNMENT):
    return Path(course) / "autograded" / student / assignment


def feedback_dir(course, student="*", assignment=ASSIGNMENT):
    return Path(course) / "feedback" / student / assignment


def reports_dir(course, kind, assignment=ASSIGNMENT):
    """The folder of one kind of record (logs, autograde, restore, checks, class), created.

    The whole book's records sit at `<course>/reports/<kind>/`; a part's at
    `<course>/reports/<assignment>/<kind>/`, so two assignments never share a student's file."""
    base = Path(course) / "reports"
    path = base / kind if assignment == ASSIGNMENT else base / assignment / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def submitted_students(course, assignment=ASSIGNMENT):
    """Ids of the students with a submission of `assignment` in the course directory."""
    return sorted(p.parent.name for p in Path(course, "submitted").glob(f"*/{assignment}")
                  if p.is_dir())


def released_assignments(course):
    """Names of the assignments generated so far (each has a release/<name>/ folder)."""
    return sorted(p.name for p in Path(course, "release").glob("*") if p.is_dir())
