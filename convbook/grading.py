"""Autograde at book scale: graded cells only, one process per job, TensorFlow imported once.

Two pieces, configured by `convbook.course` and driven by `convbook.cli autograde`:

RunChecks (an nbgrader preprocessor, in place of nbgrader's Execute)
    Executes the *graded test cells* of a notebook, in the grading process itself, each with
    its stdout and stderr captured into the cell's outputs and any exception as an error
    output (`Name: message`, no frames), exactly what nbgrader's SaveAutoGrades scores and
    its feedback shows. Cells that earn no points (demos, figures) are not run: their output
    says so (a locked cell tagged "autograde-setup" runs too: set-up that test cells need).
    Test cells are instructor code (convbook.restore puts the released source back
    before this runs) and every check runs the student's code in the sandboxed child of
    `convbook.harness`, so nothing of the student's runs here. Per submission: one child
    shared by all its checks (restarted after a crash or timeout), hidden cases drawn from
    the course secret and the student id, a time budget per cell for the student's code, and
    a function that once ran past its time limit is not called again in that submission.
    Each graded cell's outcome (status, points, the check's failure record, seconds) goes to
    `reports/checks/<student>.json` in the course directory.

The worker (`python -m convbook.grading worker COURSE`)
    A long-lived process that imports nbgrader and Keras once, then autogrades the students
    it is sent (one JSON line each on stdin) with nbgrader's own Autograde converter, in
    process, and answers one JSON line each (status, seconds, timings). The CLI runs `--jobs`
    of them, kills and replaces one whose student exceeds the submission time limit.
"""
import contextlib
import io
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from convbook import harness, sandbox
from convbook.layout import ASSIGNMENT, reports_dir

SECRET_NAME = ".convbook-secret"         # in the course directory (0700): hidden-case seeds
DEFAULT_CELL_BUDGET = 120                # seconds of student code per graded cell
# A locked cell with this tag runs at autograde although it earns no points: instructor set-up
# that graded cells rely on. The book's check cells are self-contained and need none.
SETUP_TAG = "autograde-setup"


def course_secret(course):
    """The course's secret (created on first use, readable by the instructor only)."""
    path = Path(course) / SECRET_NAME
    if not path.exists():
        import secrets

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def note_for_skipped(cell):
    grade_id = (cell.metadata.get("nbgrader") or {}).get("grade_id") or ""
    what = "Figure" if "figure" in grade_id else "This cell"
    return (f"[{what} left out at autograde: it earns no points. Open the chapter and run it "
            f"to see its output.]\n")


class _Submission:
    """The state one submission's notebooks share: its child, its records, its timings."""

    def __init__(self, student, folder, secret):
        self.student = student
        self.folder = Path(folder)
        self.secret = secret
        self.session = harness.StudentSession(self.folder, once_timed_out_skip=True)
        self.cells = {}             # notebook -> [cell outcome]
        self.timings = {"checks": 0.0, "student": 0.0, "skipped_cells": 0, "graded_cells": 0}

    def close(self):
        self.session.close()


_current = None


def current_submission(student, folder, secret):
    global _current
    if _current is None or _current.student != student or _current.folder != Path(folder):
        end_submission()
        _current = _Submission(student, folder, secret)
    return _current


def end_submission():
    """Close the current submission's child; return its timings (or {})."""
    global _current
    done, _current = _current, None
    if done is None:
        return {}
    done.close()
    timings = dict(done.timings)
    timings["reference"] = max(0.0, timings["checks"] - timings["student"])
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in timings.items()}


def _error_output(exc):
    name = type(exc).__name__
    value = str(exc)
    return new_output("error", ename=name, evalue=value,
                      traceback=[f"\x1b[0;31m{name}\x1b[0m: {value}"])


def _outcome(exc):
    """(status, failure record as a dict) of a graded cell that raised `exc`."""
    record = getattr(exc, "record", None)
    if record is not None and hasattr(record, "as_dict"):
        return "failed", record.as_dict()
    kind = "sandbox" if isinstance(exc, sandbox.HarnessError) else "error"
    return "error", {"kind": kind, "detail": f"{type(exc).__name__}: {exc}"}


class RunChecks(NbGraderPreprocessor):
    """Run only the graded test cells, in this process (see the module docstring)."""

    cell_budget = Integer(DEFAULT_CELL_BUDGET, help="seconds of student code per graded cell "
                                                     "(all calls of its checks together)"
                          ).tag(config=True)

    def preprocess(self, nb, resources):
        from convbook.checks import hidden_seed_source

        info = resources["nbgrader"]
        student, notebook = info["student"], info["notebook"]
        coursedir = CourseDirectory(parent=self)
        folder = Path(coursedir.format_path(coursedir.autograded_directory, student,
                                            info["assignment"]))
        sandbox.require_sound_for_grading()         # refuse before anything runs
        sub = current_submission(student, folder, course_secret(coursedir.root))
        namespace = {"__name__": "__main__"}
        outcomes = []
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if not utils.is_grade(cell):
                if SETUP_TAG in cell.metadata.get("tags", []) and utils.is_locked(cell):
                    # instructor set-up the graded cells need (not used by the book)
                    with harness.default_root(folder), harness.shared_session(sub.session):
                        cell.outputs, _ = self._run(cell.source, f"{notebook}.ipynb, set-up",
                                                    namespace)
                    continue
                cell.outputs = [new_output("stream", name="stdout", text=note_for_skipped(cell))]
                cell.execution_count = None
                sub.timings["skipped_cells"] += 1
                continue
            count += 1
            cell.execution_count = count
            busy = sub.session.busy_seconds
            start = time.monotonic()
            with harness.default_root(folder), harness.shared_session(sub.session), \
                    hidden_seed_source(sub.secret, student), \
                    harness.time_budget(self.cell_budget):
                outputs, exc = self._run(cell.source, f"{notebook}.ipynb, cell {count}",
                                         namespace)
            seconds = time.monotonic() - start
            cell.outputs = outputs
            status, record = ("passed", None) if exc is None else _outcome(exc)
            if exc is None and any(o.get("name") == "stderr" for o in outputs):
                status, record = "failed", {"kind": "stderr", "detail": "wrote to stderr"}
            meta = cell.metadata.get("nbgrader", {})
            outcomes.append({"cell": meta.get("grade_id"), "points": meta.get("points", 0),
                             "status": status, "failure": record,
                             "seconds": round(seconds, 3)})
            sub.timings["checks"] += seconds
            sub.timings["student"] += sub.session.busy_seconds - busy
            sub.timings["graded_cells"] += 1
        sub.cells[notebook] = outcomes
        self._write_records(coursedir.root, sub, info["assignment"])
        return nb, resources

    @staticmethod
    def _run(source, label, namespace):
        """exec one cell: ([outputs], exception or None), in the notebook's folder like a
        kernel. Only instructor code runs here."""
        out, err = io.StringIO(), io.StringIO()
        exc = None
        cwd = os.getcwd()
        try:
            os.chdir(harness._default_root.get() or cwd)
            code = compile(source, f"<{label}>", "exec")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")       # library notices are not the student's
                exec(code, namespace)                 # noqa: S102 -- restored instructor code
        except (Exception, SystemExit) as caught:     # noqa: BLE001 -- scored as a failure
            exc = caught
        finally:
            os.chdir(cwd)
        outputs = []
        for name, buf in (("stdout", out), ("stderr", err)):
            if buf.getvalue():
                outputs.append(new_output("stream", name=name, text=buf.getvalue()))
        if exc is not None:
            outputs.append(_error_output(exc))
        return outputs, exc

    @staticmethod
    def _write_records(course, sub, assignment):
        info = sandbox.sandbox_info()
        report = {"student": sub.student, "assignment": assignment, "sandbox": info["mode"],
                  "unsafe_sandbox": info["mode"] not in sandbox.SOUND_MODES,
                  "notebooks": sub.cells}
        path = reports_dir(course, "checks", assignment) / f"{sub.student}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1, sort_keys=True))
        os.replace(tmp, path)


# ------------------------------------------------------------------------------ the worker
def _warm_up():
    """Import Keras/TensorFlow and run one small conv, so no student pays for it."""
    import numpy as np

    from convbook import oracle

    keras = oracle.keras()
    x = np.ones((1, 5, 5, 2), np.float32)
    keras.ops.convert_to_numpy(keras.ops.conv(x, np.ones((3, 3, 2, 1), np.float32)))


def grade_one(api, student, assignment=ASSIGNMENT):
    """Autograde one student in this process; the result dict the CLI reads."""
    start = time.monotonic()
    try:
        result = api.autograde(assignment, student, force=True, create=True)
        ok, log = bool(result.get("success")), result.get("log", "")
        if result.get("error"):
            log += "\n" + result["error"]
    except Exception:  # noqa: BLE001 -- one bad submission never stops the worker
        ok, log = False, traceback.format_exc()
    timings = end_submission()
    seconds = time.monotonic() - start
    timings["nbgrader"] = round(max(0.0, seconds - timings.get("checks", 0.0)), 2)
    return {"student": student, "ok": ok, "log": log, "seconds": round(seconds, 2),
            "timings": timings}


def worker(course, assignment=ASSIGNMENT):
    """Grade `assignment`: serve `{"student": id}` lines on stdin with result lines on the original stdout."""
    import logging

    from nbgrader.apps import NbGraderAPI

    from convbook import course as coursemod

    import psutil

    t0 = time.monotonic() - (time.time() - psutil.Process().create_time())
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                       # anything else printed goes to the log, not the pipe
    sys.stdout = sys.stderr
    course = Path(course).resolve()
    os.chdir(course)
    config = coursemod.load_config(course)
    coursedir = CourseDirectory(config=config)
    logger = logging.getLogger("convbook.grading.worker")
    api = NbGraderAPI(coursedir=coursedir, config=config, log=logger)
    t1 = time.monotonic()
    _warm_up()
    reply.write(json.dumps({"ready": True, "start": round(t1 - t0, 2),
                            "tensorflow_import": round(time.monotonic() - t1, 2),
                            "sandbox": sandbox.sandbox_info()["mode"]}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        student = json.loads(line)["student"]
        reply.write(json.dumps(grade_one(api, student, assignment)) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] != ["worker"] or len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m convbook.grading worker COURSE [ASSIGNMENT]")
    # The preprocessor nbgrader loads by name lives in `convbook.grading`, not in this
    # `__main__` copy of the module: run the worker from there, so they share their state.
    from convbook import grading

    grading.worker(*sys.argv[2:])
