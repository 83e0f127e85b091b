"""The instructor's course directory: layout, nbgrader configuration, subprocess environment.

    create_course("~/conv2d-course")            # source/conv2d/ + nbgrader_config.py, mode 0700

An nbgrader assignment is the chapter notebooks and ``convlib/`` side by side: ``conv2d``, the
whole book, staged here when the course is created, or parts of the book released over a term
(convbook.parts), staged when first released.
Everything nbgrader needs lives in the course directory (gradebook, exchange, reports), and
the directory is private (0700): student code, which the check harness runs as an
unprivileged user, can read nothing in it — not the solutions, not the hidden tests, not the
gradebook.
"""
import json
import os
import shutil
import stat
import sys
from pathlib import Path

from .layout import (ASSIGNMENT, CONTENTS, COURSE_ID, ROOT, SOLUTIONS, autograded_dir,  # noqa: F401
                     feedback_dir, leaks, release_dir, reports_dir, source_dir, submitted_dir)

CONFIG_NAME = "nbgrader_config.py"
SETTINGS_NAME = "convbook_course.json"   # what `course create` was told; read back by the CLI
DEFAULT_CELL_TIMEOUT = 120               # seconds per notebook cell (nbgrader's default is 30)

# Known TensorFlow / absl start-up noise on stderr. nbgrader gives 0 points to a test cell
# with ANY stderr output, so these lines are removed before grading (IgnorePattern drops a
# whole stderr output when the pattern matches anywhere in it). Student code never writes
# to the kernel's stderr (it runs in a child process), so this cannot hide a student's error.
TF_NOISE_PATTERN = (
    r"(?m)^(?:"
    r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"             # absl C++ log line
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "              # TF C++ log line
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|.*(?:oneDNN custom operations are on"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|rebuild TensorFlow with the appropriate compiler flags"
    r"|Unable to register cu(?:DNN|FFT|BLAS) factory"
    r"|computation placer already registered"
    r"|Could not find cuda drivers"
    r"|TF-TRT Warning"
    r"|cuInit|CUDA_ERROR_NO_DEVICE|failed call to cuInit))"
)


class CourseError(Exception):
    """A problem the instructor must fix; the CLI prints it as one line."""


def default_db_url(course):
    # timeout: parallel autograde processes share the SQLite file; wait for the lock
    # instead of failing after sqlite's default 5 s.
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}?timeout=120"


def safe_url(url):
    """A database URL fit to print: the password masked."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:       # noqa: BLE001 (not a URL SQLAlchemy can parse: print nothing of it)
        return "<unparseable database URL>"


def load_settings(course):
    """What `course create` recorded (also marks a directory as one of our courses)."""
    path = Path(course) / SETTINGS_NAME
    if not path.is_file():
        raise CourseError(f"{course} is not a course directory (no {SETTINGS_NAME}); "
                          "create one with `python -m convbook.cli course create DIR`")
    return json.loads(path.read_text())


def load_config(course):
    """The course's nbgrader_config.py, as nbgrader will see it (edits included)."""
    from traitlets.config.loader import PyFileConfigLoader

    load_settings(course)
    return PyFileConfigLoader(CONFIG_NAME, path=str(Path(course))).load_config()


def course_settings(course):
    """course_id, db_url and exchange root from the live configuration."""
    c = load_config(course)
    return {"course_id": c.CourseDirectory.course_id, "db_url": c.CourseDirectory.db_url,
            "exchange": c.Exchange.root}


def convlib_paths(source):
    """Every module of the source convlib, as exact paths relative to the assignment folder."""
    base = Path(source)
    return sorted(p.relative_to(base).as_posix() for p in (base / "convlib").rglob("*.py")
                  if "__pycache__" not in p.parts)


def notebook_names(folder):
    return sorted(p.stem for p in Path(folder).glob("*.ipynb"))


# --------------------------------------------------------------------------- environment
def subprocess_env(extra=None):
    """Environment for nbgrader and its kernels.

    nbgrader calls the `alembic` executable when it creates a gradebook, and starts kernels
    with this Python: the venv's bin/ goes first on PATH. The repository goes on PYTHONPATH
    so that nbgrader (our preprocessors) and the kernels (the check modules) import convbook
    even when the project is not pip-installed. TF's C++ logging is silenced at the source.
    """
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir] + [p for p in env.get("PATH", "").split(os.pathsep)
                                              if p and p != bindir])
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"   # a debugger warning on stderr otherwise
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------- config
CONFIG_TEMPLATE = '''\
# nbgrader configuration of the "Conv2D from Scratch" course.
# Written by `python -m convbook.cli course create`; safe to edit (the CLI reads it back).
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent
REPO = {repo!r}                      # the book's repository: convbook (preprocessors, checks)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

c = get_config()  # noqa: F821 (provided by traitlets)

c.CourseDirectory.root = str(COURSE)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = {db_url!r}

# Student-facing exchange (release / submit / collect). It must be writable by every
# student on a shared server; inside this private directory it serves one machine.
c.Exchange.root = {exchange!r}

# --- generate_assignment: .py files are copied verbatim, so strip their solution regions.
c.GenerateAssignment.post_convert_hook = "convbook.build.post_convert_hook"

# --- autograde
# autograde copies every non-notebook SOURCE file over the submission unless excluded:
# without this list each student's convlib would be replaced by the reference solution. One
# entry per assignment (the whole book, or each part), read afresh whenever nbgrader starts.
c.Autograde.exclude_overwriting = {{
    folder.name: sorted(p.relative_to(folder).as_posix() for p in (folder / "convlib").rglob("*.py")
                        if "__pycache__" not in p.parts)
    for folder in sorted((COURSE / "source").glob("*")) if (folder / "convlib").is_dir()}}

# Restore every released cell except the written answers, drop cells the student added,
# drop files outside the released set (other than new convlib modules). See convbook.restore.
from nbgrader.preprocessors import (ClearOutput, DeduplicateIds, OverwriteKernelspec,  # noqa: E402
                                    OverwriteCells, CheckCellMetadata, IgnorePattern,
                                    LimitOutput, SaveAutoGrades, AssignLatePenalties)
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
# It runs first, so nbgrader's sanitizers (and OverwriteCells' checksum check) only ever see
# the rebuilt notebook, whatever the submission's metadata holds.
c.Autograde.sanitize_preprocessors = [
    "convbook.restore.RestoreReleased", ClearOutput, DeduplicateIds, OverwriteKernelspec,
    OverwriteCells, CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True    # a deleted test cell is graded, not left to a human

# Only the graded test cells run, in the grading process (no kernel per notebook); cells
# that earn no points are left out and say so. See convbook.grading.
c.Autograde.autograde_preprocessors = [
    "convbook.grading.RunChecks", IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.RunChecks.cell_budget = {cell_timeout!r}     # seconds of student code per graded cell
c.Execute.timeout = {cell_timeout!r}          # per cell, where a kernel runs (validate)
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 180               # a busy grading server starts kernels slowly

# A test cell with any stderr output scores 0: drop TensorFlow/absl start-up noise.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = {noise!r}

# --- generate_feedback: never show hidden tests (nbgrader's feedback keeps them by default),
# nor tracebacks that quote them.
from nbgrader.preprocessors import GetGrades, ClearHiddenTests  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
c.GenerateFeedback.preprocessors = [
    ClearHiddenTests, "convbook.restore.ShortTracebacks", GetGrades, CSSHTMLHeaderPreprocessor,
]

# --- `nbgrader zip_collect` (the CLI's `collect --zips` does its own, stricter collection):
# take the convlib modules as well as the notebooks.
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py"]
c.FileNameCollectorPlugin.named_regexp = r"^(?P<student_id>[A-Za-z0-9][A-Za-z0-9.@-]*)_(?P<file_id>.*)$"
'''


def render_config(course, db_url, exchange, cell_timeout, course_id=COURSE_ID):
    return CONFIG_TEMPLATE.format(
        repo=str(ROOT), course_id=course_id, db_url=db_url, exchange=str(exchange),
        cell_timeout=int(cell_timeout), noise=TF_NOISE_PATTERN)


def feedback_filed_by_secret(course):
    """Does the course's exchange file released feedback under each submission's secret
    (nbgrader's own exchange does; a plugin such as ngshare keeps no secret and files it by
    the submission's timestamp)?"""
    from nbgrader.exchange.default import ExchangeReleaseFeedback

    chosen = load_config(course).get("ExchangeFactory", {}).get("release_feedback")
    return chosen in (None, ExchangeReleaseFeedback,
                      f"{ExchangeReleaseFeedback.__module__}.{ExchangeReleaseFeedback.__name__}",
                      "nbgrader.exchange.ExchangeReleaseFeedback")


def check_overwriting(course, assignment=ASSIGNMENT):
    """Refuse to grade an assignment whose students' convlib autograde would overwrite with
    the reference (a course created before parts existed lists the whole book only)."""
    config = load_config(course)
    excluded = config.Autograde.get("exclude_overwriting", {})
    excluded = set(excluded.get(assignment, [])) if isinstance(excluded, dict) else set()
    missing = sorted(set(convlib_paths(source_dir(course, assignment))) - excluded)
    if missing:
        raise CourseError(
            f"{Path(course) / CONFIG_NAME} does not protect {assignment}'s convlib from being "
            f"overwritten at autograde ({', '.join(missing[:3])}...): set "
            "c.Autograde.exclude_overwriting for it, as a course created by this version does")


def copy_source(src, dest):
    """Top-level chapter notebooks and convlib/ of `src` (nothing else: not the contents page,
    which has nothing to grade, no caches, no checkpoints)."""
    src, dest = Path(src), Path(dest)
    notebooks = sorted(p for p in src.glob("*.ipynb") if p.name != CONTENTS)
    if not notebooks:
        raise CourseError(f"no chapter notebooks (*.ipynb) at the top of {src}")
    if not (src / "convlib" / "__init__.py").is_file():
        raise CourseError(f"{src} has no convlib/ package")
    dest.mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        shutil.copy2(nb, dest / nb.name)
    for path in sorted((src / "convlib").rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        out = dest / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)
    return [nb.name for nb in notebooks]


def group_id(group):
    """The gid of an existing group the caller may give files to (a name or a number)."""
    import grp

    try:
        entry = grp.getgrgid(int(group)) if str(group).isdigit() else grp.getgrnam(group)
    except KeyError:
        raise CourseError(f"there is no group {group!r} on this machine: create it "
                          "(groupadd) or name an existing one") from None
    if os.geteuid() != 0 and entry.gr_gid not in os.getgroups():
        raise CourseError(f"you are not in the group {entry.gr_name!r}, so the course cannot be "
                          "given to it: add yourself (usermod -aG) and log in again")
    return entry.gr_gid


def protect_course(course, gid=None):
    """0700 for one instructor; with a group: group-owned, setgid (new files inherit the
    group) and 2770, so the instructors share it and nobody else can even list it."""
    if gid is None:
        os.chmod(course, stat.S_IRWXU)
        return
    os.chown(course, -1, gid)
    os.chmod(course, stat.S_ISGID | stat.S_IRWXU | stat.S_IRWXG)


def create_course(directory, db_url=None, source=None, exchange=None,
                  cell_timeout=DEFAULT_CELL_TIMEOUT, course_id=COURSE_ID, group=None):
    """Create a course directory; returns its absolute Path. `group`: shared by that group
    of instructors (2770) instead of private to the caller (0700)."""
    course = Path(directory).expanduser().resolve()
    if course.exists() and any(course.iterdir()):
        raise CourseError(f"{course} already exists and is not empty")
    gid = group_id(group) if group is not None else None
    source = Path(source or SOLUTIONS).resolve()
    course.mkdir(parents=True, exist_ok=True)
    protect_course(course, gid)                        # before anything is written inside
    copy_source(source, source_dir(course))
    exchange = Path(exchange).resolve() if exchange else course / "exchange"
    exchange.mkdir(parents=True, exist_ok=True)
    db_url = db_url or default_db_url(course)
    (course / CONFIG_NAME).write_text(render_config(course, db_url, exchange, cell_timeout,
                                                    course_id))
    from convbook.grading import SECRET_NAME, course_secret

    course_secret(course)                             # hidden-case seeds, instructor only
    if gid is not None:                               # ... or the instructors' group
        os.chmod(course / SECRET_NAME, 0o640)
    (course / SETTINGS_NAME).write_text(json.dumps({
        "assignment": ASSIGNMENT, "course_id": course_id, "db_url": db_url,
        "exchange": str(exchange), "source": str(source), "cell_timeout": int(cell_timeout),
    }, indent=2) + "\n")
    return course
