"""Instructor CLI: run the book as an nbgrader course.

    python -m convbook.cli course create DIR [--db-url URL] [--exchange DIR] [--cell-timeout S]
                                             [--group NAME]
    python -m convbook.cli release                      [--course DIR]
    python -m convbook.cli release --assignment NAME --chapters 00-05 [--deadline ISO] [--keep-stubs]
    python -m convbook.cli collect --exchange           [--deadline ISO] [--course DIR]
    python -m convbook.cli collect --zips FOLDER        [--deadline ISO] [--name-pattern RE] [--course DIR]
    python -m convbook.cli autograde [--jobs N] [--timeout S] [--student ID ...]
                                     [--allow-unsafe-sandbox] [--course DIR]
    python -m convbook.cli feedback [--release]         [--course DIR]
    python -m convbook.cli grades --csv FILE            [--course DIR]
    python -m convbook.cli report [--out DIR]           [--course DIR]

The course directory is --course, else $CONVBOOK_COURSE, else ./course. Every command but
`course create` takes --assignment NAME: the whole book (conv2d, the default) or a part of it
released over a term (convbook.parts); with several parts, `grades` and `report` cover the
term unless given one. Every command prints
one line per student (or per file) and exits 1 if anything needs the instructor's attention;
it never stops at the first bad submission. `autograde` exits 2 without grading anything when
student code could read the solutions here (no bubblewrap, no namespaces) unless told
--allow-unsafe-sandbox; it shows its progress on stderr.
"""
import argparse
import csv
import datetime
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import collect as collectmod
from . import course as coursemod
from .course import CourseError
from . import parts as partsmod
from .layout import ASSIGNMENT, released_assignments, reports_dir, submitted_students

DEFAULT_TIMEOUT = 900       # seconds per submission (all notebooks)
INFRASTRUCTURE_ERRORS = re.compile(
    r"database is locked|sqlalchemy\.exc\.OperationalError|psycopg\.OperationalError"
    r"|Kernel didn't respond|Kernel died before replying to kernel_info")


# --------------------------------------------------------------------------- helpers
def nbgrader_inprocess(course, step, make_app, assignment=ASSIGNMENT):
    """Run one nbgrader step in this process (steps that run no student code).

    `make_app(api)` returns the nbgrader app to start, built with `parent=api` so that it sees
    the course's nbgrader_config.py. Saves a Python + nbgrader start-up (~5 s of CPU) per step.
    The log goes to the assignment's reports/logs/<step>.log. Returns (success, log text).
    """
    import logging

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    log_path = reports_dir(course, "logs", assignment) / f"{step}.log"
    logger = logging.getLogger(f"convbook.nbgrader.{step}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    config = coursemod.load_config(course)
    cwd = os.getcwd()
    os.chdir(course)
    try:
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = assignment
        api = NbGraderAPI(coursedir=coursedir, config=config, log=logger)
        api.log.setLevel(logging.INFO)
        result = capture_log(make_app(api))
    finally:
        os.chdir(cwd)
    text = result.get("log", "") + ("\n" + result["error"] if result.get("error") else "")
    log_path.write_text(text)
    return bool(result.get("success")), text


def kill_tree(proc):
    """Kill a process and every descendant (kernels run in sessions of their own).

    The tree is frozen first (SIGSTOP), re-listed until no new process appears, then killed:
    a kernel cannot start one more child between the listing and the kill."""
    try:
        import psutil
    except ImportError:                         # pragma: no cover (psutil ships with ipykernel)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        return
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        proc.wait()
        return
    frozen = {}
    for _ in range(20):
        try:
            tree = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        new = [p for p in tree if p.pid not in frozen]
        if not new:
            break
        for p in new:
            try:
                p.suspend()
            except psutil.NoSuchProcess:
                pass
            frozen[p.pid] = p
    for p in frozen.values():
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(list(frozen.values()), timeout=10)
    proc.wait()


def last_error(output):
    """The most telling line of an nbgrader log."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for pattern in (r"\b\w*(Error|Exception)\b: ", r"\[ERROR\]", r"\[CRITICAL\]"):
        hits = [ln for ln in lines if re.search(pattern, ln)
                and "Please see the" not in ln and "There was an error processing" not in ln]
        if hits:
            return hits[-1][-200:]
    return (lines[-1] if lines else "no output")[-200:]


def gradebook(course):
    from nbgrader.api import Gradebook

    config = coursemod.load_config(course)
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)


def resolve_course(args):
    course = Path(args.course or os.environ.get("CONVBOOK_COURSE") or "course").expanduser()
    course = course.resolve()
    coursemod.load_settings(course)
    return course


def resolve_assignment(args, course):
    """The assignment a command works on: --assignment, else the course's only released one
    (the whole book, `conv2d`, in a course that is not released in parts)."""
    name = getattr(args, "assignment", None)
    released = released_assignments(course)
    if name:
        partsmod.check_name(name)
        if released and name not in released:
            raise CourseError(f"{name} has not been released in this course (released: "
                              f"{', '.join(released)})")
        return name
    if len(released) > 1:
        raise CourseError(f"this course has several assignments ({', '.join(released)}): "
                          "say which with --assignment NAME")
    return released[0] if released else ASSIGNMENT


# --------------------------------------------------------------------------- commands
def cmd_course_create(args):
    course = coursemod.create_course(args.dir, db_url=args.db_url, source=args.source,
                                     exchange=args.exchange, cell_timeout=args.cell_timeout,
                                     group=args.group)
    settings = coursemod.course_settings(course)
    access = f"mode 2770, group {args.group}" if args.group else "mode 0700"
    print(f"Created course {course} ({access})")
    print(f"  source:   {coursemod.source_dir(course)}  "
          f"({len(coursemod.notebook_names(coursemod.source_dir(course)))} notebooks, "
          f"{len(coursemod.convlib_paths(coursemod.source_dir(course)))} convlib modules)")
    print(f"  gradebook: {coursemod.safe_url(settings['db_url'])}")
    print(f"  exchange:  {settings['exchange']}")
    print(f"Next: python -m convbook.cli release --course {course}")
    return 0


def parse_deadline(text):
    if not text:
        return None
    try:
        return collectmod.parse_when(text)
    except ValueError as exc:
        raise CourseError(f"--deadline: {exc}") from None


def duedates(course):
    """{assignment: its deadline (naive UTC) or None} for every assignment in the gradebook."""
    with gradebook(course) as gb:
        return {a.name: a.duedate for a in gb.assignments}


def stage_if_needed(course, assignment, args):
    """Make sure source/<assignment>/ exists: the whole book is staged by `course create`; a
    part is staged on its first release (--chapters), and never restaged."""
    staged = partsmod.staged_chapters(course, assignment)
    if not args.chapters:
        if not staged:
            raise CourseError(f"{assignment} is not in this course yet: release a part of the "
                              f"book with --chapters, e.g. --assignment {assignment} "
                              "--chapters 00-05")
        return None
    if assignment == ASSIGNMENT:
        raise CourseError(f"--chapters releases a part of the book; {ASSIGNMENT!r} is the whole "
                          "book: name the part with --assignment, e.g. part1")
    settings = coursemod.load_settings(course)
    solutions = Path(settings.get("source") or coursemod.SOLUTIONS)
    chapters = partsmod.parse_chapters(args.chapters, partsmod.book_chapters(solutions))
    if staged:
        if staged != chapters:
            raise CourseError(f"{assignment} already holds chapter(s) {', '.join(staged)}; a "
                              "part's chapters never change once staged (its students may have "
                              "fetched it): give the new chapters to a new part")
        return None
    return partsmod.stage_part(course, assignment, chapters, duedates(course),
                               solutions=solutions, keep_stubs=args.keep_stubs)


def cmd_release(args):
    from nbgrader.converters import GenerateAssignment

    course = resolve_course(args)
    assignment = args.assignment or ASSIGNMENT
    partsmod.check_name(assignment)
    deadline = parse_deadline(args.deadline)
    stage_if_needed(course, assignment, args)
    release = coursemod.release_dir(course, assignment)

    def generate(api):
        app = GenerateAssignment(coursedir=api.coursedir, parent=api)
        app.force = True
        app.create_assignment = True
        return app

    ok, out = nbgrader_inprocess(course, "generate_assignment", generate, assignment)
    if not ok or not release.is_dir():
        print(f"generate_assignment failed: {last_error(out)}")
        return 1
    # nbgrader only logs a failing post_convert_hook: check the release ourselves.
    leaked = coursemod.leaks(release)
    source_mods = coursemod.convlib_paths(coursemod.source_dir(course, assignment))
    missing = [m for m in source_mods if not (release / m).is_file()]
    if leaked or missing:
        shutil.rmtree(release)
        for leak in leaked:
            print(f"LEAK     release/{assignment}/{leak}")
        for m in missing:
            print(f"MISSING  {m} is not in the release")
        print("Release removed; nothing was published.")
        return 1
    if deadline is not None:
        set_deadline(course, deadline, assignment)

    def publish(api):
        app = api.exchange.ReleaseAssignment(coursedir=api.coursedir,
                                             authenticator=api.authenticator, parent=api)
        app.force = True
        return app

    ok, out = nbgrader_inprocess(course, "release_assignment", publish, assignment)
    if not ok:
        print(f"release_assignment failed: {last_error(out)}")
        return 1
    with gradebook(course) as gb:
        found = gb.find_assignment(assignment)
        auto = sum(c.max_score for nb in found.notebooks for c in nb.grade_cells
                   if c.cell_type == "code")
        manual = sum(c.max_score for nb in found.notebooks for c in nb.grade_cells
                     if c.cell_type == "markdown")
        nbs = [nb.name for nb in found.notebooks]
        due = found.duedate
    print(f"Released {assignment}: {len(nbs)} notebooks ({', '.join(sorted(nbs))}), "
          f"{len(source_mods)} convlib modules (solutions stripped, checked)")
    holds = partsmod.describe(course, assignment)
    if holds:
        print(holds)
    print(f"  points: {auto:g} autograded + {manual:g} written (graded by hand)")
    print(f"  deadline: {f'{due:%Y-%m-%d %H:%M} UTC' if due else 'none set (--deadline ISO)'}")
    print(f"  students: copy {release} or `nbgrader fetch_assignment {assignment}`; "
          "submit with `nbgrader submit` or a zip")
    return 0


def set_deadline(course, deadline, assignment=ASSIGNMENT):
    """Record the deadline in the gradebook (naive UTC, as nbgrader compares timestamps)."""
    utc = deadline.astimezone(datetime.timezone.utc) if deadline.tzinfo else deadline
    with gradebook(course) as gb:
        gb.update_or_create_assignment(assignment, duedate=utc.replace(tzinfo=None))


def cmd_collect(args):
    course = resolve_course(args)
    assignment = resolve_assignment(args, course)
    if not coursemod.release_dir(course, assignment).is_dir():
        raise CourseError(f"{assignment} is not released yet: run `release` first")
    deadline = parse_deadline(args.deadline)
    if deadline is not None:
        set_deadline(course, deadline, assignment)   # nbgrader then records lateness too
    else:
        due = duedates(course).get(assignment)      # the deadline given at release, if any
        deadline = due.replace(tzinfo=datetime.timezone.utc) if due else None
    if args.zips:
        _, problems = collectmod.collect_zips(course, args.zips, deadline=deadline,
                                              name_pattern=args.name_pattern,
                                              assignment=assignment)
    else:
        def gather(api):
            app = api.exchange.Collect(coursedir=api.coursedir,
                                       authenticator=api.authenticator, parent=api)
            app.update = True
            return app

        ok, out = nbgrader_inprocess(course, "collect", gather, assignment)
        if not ok:
            print(f"nbgrader collect failed: {last_error(out)}")
            return 1
        _, problems = collectmod.describe_submissions(course, deadline=deadline,
                                                      assignment=assignment)
    n = len(submitted_students(course, assignment))
    print(f"{n} submission(s) of {assignment} in {Path(course, 'submitted')}"
          + (f"; {problems} problem(s) reported above" if problems else ""))
    return 1 if problems else 0


class Worker:
    """One `python -m convbook.grading worker` process: nbgrader and Keras imported once,
    students graded one after another; killed and replaced if a student takes too long."""

    def __init__(self, course, index, assignment=ASSIGNMENT):
        self.course = course
        self.log_path = reports_dir(course, "logs", assignment) / f"worker-{index}.log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "convbook.grading", "worker", str(course), assignment],
            cwd=course,
            env=coursemod.subprocess_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True, bufsize=1, start_new_session=True)
        self.ready = self._read(WORKER_START_TIMEOUT) or {}

    def _read(self, timeout):
        """The next JSON line from the worker, or None (timed out or ended)."""
        import select

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    return None
                try:
                    return json.loads(line)
                except ValueError:
                    continue

    def grade(self, student, timeout):
        """The worker's result dict, or None if it did not answer within `timeout`."""
        try:
            self.proc.stdin.write(json.dumps({"student": student}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._read(timeout)

    def stop(self):
        kill_tree(self.proc)
        self.log.close()


WORKER_START_TIMEOUT = 300      # Python, nbgrader and TensorFlow on a busy 2-core machine


def autograde_class(course, students, jobs, timeout, progress=None, assignment=ASSIGNMENT):
    """Grade every student with `jobs` workers; {student: result}. Never raises for one
    student's sake: a crash or a timeout is that student's result."""
    import queue
    import threading

    todo = queue.Queue()
    for s in students:
        todo.put(s)
    results, run = {}, {"workers": 0, "worker_start": [], "tensorflow_import": []}
    lock = threading.Lock()

    def start_worker(index):
        worker = Worker(course, index, assignment)
        with lock:
            run["workers"] += 1
            run["worker_start"].append(worker.ready.get("start"))
            run["tensorflow_import"].append(worker.ready.get("tensorflow_import"))
        return worker

    def serve(index):
        worker = start_worker(index)
        try:
            while True:
                try:
                    student = todo.get_nowait()
                except queue.Empty:
                    return
                result = grade_with(worker, student)
                if result.get("status") in ("timeout", "failed") and result.get("restart"):
                    worker.stop()
                    worker = start_worker(index)
                with lock:
                    results[student] = result
                    if progress:
                        progress(len(results), result)
        finally:
            worker.stop()

    def grade_with(worker, student):
        restore_report = reports_dir(course, "restore", assignment) / f"{student}.json"
        restore_report.unlink(missing_ok=True)
        start = time.monotonic()
        for attempt in range(3):
            reply = worker.grade(student, timeout) if worker.ready else None
            if reply is not None and not reply["ok"] and attempt < 2 \
                    and INFRASTRUCTURE_ERRORS.search(reply.get("log", "")):
                continue            # a database hiccup, not the submission: try again
            break
        result = finish_result(course, student, reply, timeout, time.monotonic() - start,
                               worker, assignment)
        return result

    threads = [threading.Thread(target=serve, args=(i,), daemon=True)
               for i in range(max(1, min(jobs, len(students))))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results, run


def finish_result(course, student, reply, timeout, elapsed, worker, assignment=ASSIGNMENT):
    """The per-student record the CLI prints and saves (reports/autograde/<student>.json)."""
    log_path = reports_dir(course, "autograde", assignment) / f"{student}.log"
    released = set(coursemod.notebook_names(coursemod.release_dir(course, assignment)))
    missing = sorted(released - set(coursemod.notebook_names(
        coursemod.submitted_dir(course, student, assignment))))
    result = {"student": student, "assignment": assignment, "seconds": round(elapsed, 1), "log": str(log_path),
              "missing_notebooks": missing, "sandbox": sandbox_label()}
    if reply is None:
        shutil.rmtree(coursemod.autograded_dir(course, student, assignment), ignore_errors=True)
        if worker.ready:
            result.update(status="timeout", restart=True,
                          message=f"killed after {timeout:g} s (the whole submission's time "
                                  f"limit); its autograded folder was removed")
        else:
            result.update(status="failed", restart=True,
                          message=f"the grading worker did not start (see {worker.log_path})")
        log_path.write_text(result["message"] + "\n")
    else:
        log_path.write_text(reply.get("log", ""))
        result["timings"] = reply.get("timings", {})
        if reply["ok"]:
            result.update(status="ok", message="")
        else:
            result.update(status="failed", message=last_error(reply.get("log", "")))
    try:
        result["restore"] = json.loads(
            (reports_dir(course, "restore", assignment) / f"{student}.json").read_text())
    except (OSError, ValueError):
        result["restore"] = {}
    (reports_dir(course, "autograde", assignment) / f"{student}.json").write_text(
        json.dumps(result, indent=1))
    return result


def sandbox_label():
    """The sandbox grading runs in, as recorded in reports and the grades CSV."""
    from .sandbox import SOUND_MODES, sandbox_info, unsafe_allowed

    mode = sandbox_info()["mode"]
    if mode in SOUND_MODES:
        return mode
    return f"{mode} (UNSAFE: allowed by --allow-unsafe-sandbox)" if unsafe_allowed() else mode


def submission_scores(course, student, assignment=ASSIGNMENT):
    """(autograded score, autograded max, written max, needs manual) from the gradebook."""
    from nbgrader.api import MissingEntry

    with gradebook(course) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        return sub.code_score, sub.max_code_score, sub.max_written_score, sub.needs_manual_grade


class Progress:
    """Students done / total, rate and time left, on stderr (one line rewritten in place on a
    terminal, a line per student otherwise); stdout keeps the one-line-per-student report."""

    def __init__(self, total, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, done, result):
        elapsed = time.monotonic() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate else 0.0
        text = (f"[{done}/{self.total}] {rate * 60:.1f} students/min, "
                f"about {_duration(left)} left (last: {result['student']}, "
                f"{result['status']}, {result['seconds']:.1f} s)")
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if done == self.total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def cmd_autograde(args):
    from .sandbox import ALLOW_UNSAFE_ENV, refusal, sandbox_info

    course = resolve_course(args)
    assignment = resolve_assignment(args, course)
    coursemod.check_overwriting(course, assignment)
    students = args.student or submitted_students(course, assignment)
    if not students:
        print(f"No submissions of {assignment} to autograde: run `collect` first")
        return 1
    unknown = [s for s in students if not coursemod.submitted_dir(course, s, assignment).is_dir()]
    if unknown:
        print("No submission for: " + ", ".join(unknown))
        return 1
    info = sandbox_info()
    refused = refusal(info)
    if refused and not args.allow_unsafe_sandbox:
        print(f"error: {refused}")
        return 2
    if refused:
        os.environ[ALLOW_UNSAFE_ENV] = "1"           # the workers inherit the override
        print(f"WARNING: grading in the '{info['mode']}' sandbox (--allow-unsafe-sandbox): "
              "student code can read world-readable files, the solutions included. "
              "Recorded in the reports and the grades CSV.")
    else:
        os.environ.pop(ALLOW_UNSAFE_ENV, None)
    jobs = max(1, min(args.jobs, len(students)))
    print(f"Autograding {len(students)} submission(s) of {assignment} with {jobs} worker(s), "
          f"at most {args.timeout:g} s each; sandbox: {sandbox_label()}", flush=True)
    start = time.monotonic()
    results, run = autograde_class(course, students, jobs, args.timeout,
                                   progress=Progress(len(students)), assignment=assignment)
    total = time.monotonic() - start
    run.update(wall=round(total, 1), sandbox=sandbox_label(), students=len(students))
    (reports_dir(course, "autograde", assignment) / "run.json").write_text(json.dumps(run, indent=1))
    width = max(len(s) for s in students)
    bad = 0
    for s in students:
        r = results[s]
        scores = submission_scores(course, s, assignment) if r["status"] == "ok" else None
        dropped = r["restore"].get("dropped_files", [])
        extra = r["restore"].get("new_modules", [])
        if r["status"] == "ok" and scores is not None:
            got, top, written, manual = scores
            line = (f"{s:<{width}}  ok       {got:g} / {top:g} autograded"
                    + (f"; {written:g} written point(s) to grade by hand" if manual and written else ""))
            if r["missing_notebooks"]:          # nbgrader scores a missing notebook 0
                bad += 1
                line += "; MISSING notebook(s) scored 0: " + ", ".join(r["missing_notebooks"])
        else:
            bad += 1
            line = f"{s:<{width}}  {r['status'].upper():<8} {r['message']}  (log: {r['log']})"
        if dropped:
            line += "; dropped: " + ", ".join(dropped)
        if extra:
            line += "; new convlib modules: " + ", ".join(extra)
        print(f"{line}  [{r['seconds']:.1f} s]")
    failed = sum(1 for r in results.values() if r["status"] != "ok")
    print(f"{len(students) - failed} graded, {failed} failed"
          + (f", {bad - failed} incomplete" if bad > failed else "") + f", in {total:.1f} s")
    return 1 if bad else 0


def hidden_test_lines(course, assignment=ASSIGNMENT):
    """Lines of the hidden-test regions of the source notebooks (meaningful ones only)."""
    import nbformat

    hidden, visible = set(), set()
    for nb_path in sorted(coursemod.source_dir(course, assignment).glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=4)
        for cell in nb.cells:
            inside = False
            for line in cell.source.splitlines():
                if "BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "END HIDDEN TESTS" in line:
                    inside = False
                elif line.strip():
                    (hidden if inside else visible).add(line.strip())
    return {ln for ln in hidden - visible if len(ln) >= 8}


def html_text(path):
    text = Path(path).read_text(errors="replace")
    text = re.sub(r"<style.*?</style>|<script.*?</script>", "", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def feedback_leaks(course, assignment=ASSIGNMENT):
    """(html file, leaked line) pairs: hidden tests visible in any feedback file of the
    assignment."""
    hidden = hidden_test_lines(course, assignment)
    found = []
    for path in sorted(Path(course, "feedback").glob(f"*/{assignment}/**/*.html")):
        raw = Path(path).read_text(errors="replace")
        text = html_text(path)
        flat = re.sub(r"\s+", "", text)
        for marker in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            if marker in raw or marker in text:
                found.append((path, marker))
        for line in sorted(hidden):
            if line in text or re.sub(r"\s+", "", line) in flat:
                found.append((path, line))
    return found


def cmd_feedback(args):
    from nbgrader.converters import GenerateFeedback

    course = resolve_course(args)
    assignment = resolve_assignment(args, course)
    graded = sorted(p.parent.name for p in Path(course, "autograded").glob(f"*/{assignment}"))
    if not graded:
        print(f"Nothing of {assignment} autograded yet: run `autograde` first")
        return 1

    def feedback(api):
        app = GenerateFeedback(coursedir=api.coursedir, parent=api)
        app.force = True
        return app

    ok, out = nbgrader_inprocess(course, "generate_feedback", feedback, assignment)
    code = 0 if ok else 1
    leaks = feedback_leaks(course, assignment)
    leaked = {p for p, _ in leaks}
    for path, line in leaks:
        print(f"LEAK     {path.relative_to(course)} shows hidden-test text: {line[:80]!r}")
    bad = 0
    for s in graded:
        files = sorted(coursemod.feedback_dir(course, s, assignment).glob("*.html"))
        if files and not leaked & set(files):
            print(f"{s}: {len(files)} feedback file(s) in "
                  f"{coursemod.feedback_dir(course, s, assignment)}")
        else:
            bad += 1
            print(f"{s}: NO feedback ({'removed: it leaked hidden tests' if files else last_error(out)})")
    for path in leaked:                     # never leave a leaking page to be released
        path.unlink()
    if code != 0:
        print(f"nbgrader generate_feedback reported errors: {last_error(out)}")
    print("Hidden tests checked: none in any feedback file." if not leaks else
          f"{len(leaks)} leak(s): those files were deleted.")
    unreleased = 0
    if getattr(args, "release", False):
        clean = [s for s in graded
                 if any(coursemod.feedback_dir(course, s, assignment).glob("*.html"))]
        unreleased = release_feedback(course, clean, leaking={p.parent.parent.name
                                                               for p in leaked},
                                      assignment=assignment)
    return 1 if (bad or leaks or code != 0 or unreleased) else 0


def release_feedback(course, students, leaking=(), assignment=ASSIGNMENT):
    """Publish each student's feedback to the nbgrader exchange (`nbgrader fetch_feedback` on
    the student's side finds it by the secret of their submission with nbgrader's exchange, by
    its timestamp with a plugin such as ngshare). A student whose pages leaked hidden tests, or
    who submitted a zip (no exchange submission to file the pages under), is not released: the
    line says what to do instead. Returns the number of students whose feedback could not be
    released."""
    failed = 0
    zipped = collectmod.zip_submissions(course, assignment)
    by_secret = coursemod.feedback_filed_by_secret(course)
    for student in students:
        folder = coursemod.feedback_dir(course, student, assignment)
        if student in leaking:
            print(f"{student}: feedback NOT released (a page leaked hidden tests and was deleted)")
            failed += 1
            continue
        if student in zipped or (by_secret and not (folder / "submission_secret.txt").is_file()):
            print(f"{student}: feedback not released to the exchange (submitted as a zip, not "
                  f"through the exchange): hand out the pages in {folder}")
            continue

        def publish(api, student=student):
            api.coursedir.student_id = student
            return api.exchange.ReleaseFeedback(coursedir=api.coursedir,
                                                authenticator=api.authenticator, parent=api)

        ok, out = nbgrader_inprocess(course, "release_feedback", publish, assignment)
        pages = len(list(folder.glob("*.html")))
        if ok:
            print(f"{student}: {pages} feedback page(s) released to the exchange "
                  f"(`nbgrader fetch_feedback {assignment}`)")
        else:
            failed += 1
            print(f"{student}: feedback NOT released: {last_error(out)}")
    return failed


def autograde_records(course, assignment=ASSIGNMENT):
    """({student: status}, {student: sandbox}) from the assignment's autograde reports."""
    status, sandbox_used = {}, {}
    for path in reports_dir(course, "autograde", assignment).glob("*.json"):
        try:
            r = json.loads(path.read_text())
            status[r["student"]] = r["status"]
            sandbox_used[r["student"]] = r.get("sandbox", "")
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return status, sandbox_used


def grade_table(course, assignment=ASSIGNMENT):
    """Rows (dicts) of one assignment's grade export, and the column order."""
    from nbgrader.api import MissingEntry

    status, sandbox_used = autograde_records(course, assignment)
    rows = []
    with gradebook(course) as gb:
        found = gb.find_assignment(assignment)
        cells = [(nb.name, c.name, c.cell_type, c.max_score)
                 for nb in sorted(found.notebooks, key=lambda n: n.name)
                 for c in sorted(nb.grade_cells, key=lambda c: c.name)]
        notebooks = sorted({nb for nb, *_ in cells})
        columns = (["student_id", "status", "submitted", "seconds_late", "total", "max_total",
                    "autograded", "max_autograded", "written", "max_written",
                    "needs_manual_grade", "sandbox"]
                   + [f"{nb}" for nb in notebooks]
                   + [f"{nb}/{cell}" for nb, cell, *_ in cells])
        for student in sorted(s.id for s in gb.students):
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            row = {"student_id": student, "status": status.get(student, "not autograded"),
                   "submitted": sub.timestamp.isoformat(sep=" ") if sub.timestamp else "",
                   "seconds_late": round(sub.total_seconds_late),
                   "total": sub.score, "max_total": sub.max_score,
                   "autograded": sub.code_score, "max_autograded": sub.max_code_score,
                   "written": sub.written_score, "max_written": sub.max_written_score,
                   "needs_manual_grade": sub.needs_manual_grade,
                   "sandbox": sandbox_used.get(student, "")}
            for nb in sub.notebooks:
                row[nb.name] = nb.score
                for grade in nb.grades:
                    if grade.cell.type == "GradeCell":
                        row[f"{nb.name}/{grade.name}"] = grade.score
            rows.append(row)
    return columns, rows


TERM_FIELDS = ("total", "autograded", "written", "seconds_late", "status")


def term_table(course, assignments):
    """Rows of the term's grade export: per student, each assignment's total, autograded and
    written score, lateness and status (blank where not submitted), and the term's totals.
    The maxima count every assignment, submitted or not."""
    columns = ["student_id", "term_total", "term_max", "term_autograded", "term_written",
               "needs_manual_grade"]
    by_student, maxima = {}, {}
    for name in assignments:
        columns += [f"{name}/{field}" for field in TERM_FIELDS]
        _, rows = grade_table(course, name)
        with gradebook(course) as gb:
            found = gb.find_assignment(name)
            maxima[name] = sum(c.max_score for nb in found.notebooks for c in nb.grade_cells)
        for row in rows:
            out = by_student.setdefault(row["student_id"], {"student_id": row["student_id"]})
            for field in TERM_FIELDS:
                out[f"{name}/{field}"] = row[field]
            out["needs_manual_grade"] = out.get("needs_manual_grade", False) or \
                bool(row["needs_manual_grade"])
    for out in by_student.values():
        out["term_total"] = sum(out.get(f"{a}/total", 0.0) for a in assignments)
        out["term_autograded"] = sum(out.get(f"{a}/autograded", 0.0) for a in assignments)
        out["term_written"] = sum(out.get(f"{a}/written", 0.0) for a in assignments)
        out["term_max"] = sum(maxima.values())
    return columns, [by_student[s] for s in sorted(by_student)]


def write_csv_rows(path, columns, rows):
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})
    return out


def graded_assignments(course):
    """Released assignments, in release order (the gradebook's), that the gradebook knows."""
    with gradebook(course) as gb:
        known = [a.name for a in sorted(gb.assignments, key=lambda a: (a.duedate is None,
                                                                      a.duedate or 0, a.name))]
    released = set(released_assignments(course))
    return [a for a in known if a in released]


def cmd_grades(args):
    course = resolve_course(args)
    assignments = graded_assignments(course)
    if args.assignment or len(assignments) <= 1:
        assignment = resolve_assignment(args, course)
        columns, rows = grade_table(course, assignment)
        out = write_csv_rows(args.csv, columns, rows)
        notebooks = [c for c in columns if "/" not in c and c[:2].isdigit()]
        print_grade_table(rows, notebooks)
        print(f"Wrote {len(rows)} student(s) of {assignment} to {out}")
        return 0
    columns, rows = term_table(course, assignments)
    out = write_csv_rows(args.csv, columns, rows)
    print_term_table(rows, assignments)
    print(f"Wrote the term ({len(assignments)} assignments, {len(rows)} student(s)) to {out}; "
          "--assignment NAME for one assignment's cells")
    return 0


def _score(value):
    return "-" if value is None else format(value, "g")


def print_term_table(rows, assignments):
    if not rows:
        print("No graded submissions.")
        return
    width = max(10, *(len(r["student_id"]) for r in rows))
    heads = "".join(f" {a[:10]:>10}" for a in assignments)
    print(f"{'student':<{width}}  {'term':>13}{heads}")
    for r in rows:
        per = "".join(f" {_score(r.get(f'{a}/total')):>10}" for a in assignments)
        mark = "*" if r["needs_manual_grade"] else ""
        print(f"{r['student_id']:<{width}}  {r['term_total']:>6g}/{r['term_max']:<5g}{mark:1}{per}")
    if any(r["needs_manual_grade"] for r in rows):
        print("* written answers still to be graded by hand (nbgrader formgrader)")


def cmd_report(args):
    from . import report

    course = resolve_course(args)
    assignments = graded_assignments(course)
    try:
        if len(assignments) > 1 and not args.assignment:
            page, table, data, pages = report.write_term_report(course, assignments, args.out)
            for name, written in pages.items():
                print(f"{name}: " + (f"class report: {written[0]}" if written else
                                     "nothing autograded yet"))
            print(f"Term report ({len(assignments)} assignments, {data['students']} "
                  f"student(s)): {page}\n  per-assignment counts: {table}")
            return 0
        assignment = resolve_assignment(args, course)
        page, table, data = report.write_report(course, args.out, assignment)
    except report.NothingGraded as exc:
        print(f"error: {exc}")
        return 1
    print(f"Class report of {assignment} ({data['students']} submission(s)): {page}")
    print(f"  per-check counts: {table}")
    for item in data["attention"]:
        print(f"  needs you: {item['student']}: {'; '.join(item['problems'])}")
    return 0


def print_grade_table(rows, notebooks=()):
    """One line per student: status, autograded and written totals, lateness, and the score
    of each chapter (its notebook's number as the column head)."""
    if not rows:
        print("No graded submissions.")
        return
    width = max(10, *(len(r["student_id"]) for r in rows))
    chapters = "".join(f" {nb[:2]:>5}" for nb in notebooks)
    print(f"{'student':<{width}}  {'status':<14} {'autograded':>12} {'written':>10}  late"
          f" {chapters}")
    for r in rows:
        late = (collectmod.fmt_delay(datetime.timedelta(seconds=r["seconds_late"]))
                if r["seconds_late"] else "-")
        written = (f"{r['written']:g}/{r['max_written']:g}" + ("*" if r["needs_manual_grade"] else ""))
        per = "".join(f" {r.get(nb, 0):>5g}" for nb in notebooks)
        print(f"{r['student_id']:<{width}}  {r['status']:<14} "
              f"{r['autograded']:>6g}/{r['max_autograded']:<5g} {written:>10}  {late:<4}{per}")
    if any(r["needs_manual_grade"] for r in rows):
        print("* written answers still to be graded by hand (nbgrader formgrader)")


# --------------------------------------------------------------------------- parser
def build_parser():
    parser = argparse.ArgumentParser(prog="python -m convbook.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", help="course directory (default: $CONVBOOK_COURSE or ./course)")
    common.add_argument("--assignment", metavar="NAME",
                        help=f"the assignment: {ASSIGNMENT} (the whole book) or a part released "
                             "with --chapters; default: the course's only one (grades and "
                             "report: the whole term when there are several)")
    sub = parser.add_subparsers(dest="command", required=True)

    p_course = sub.add_parser("course", help="course directory management")
    course_sub = p_course.add_subparsers(dest="course_command", required=True)
    p_create = course_sub.add_parser("create", help="create a course directory (mode 0700)")
    p_create.add_argument("dir", nargs="?", default="course")
    p_create.add_argument("--db-url", help="gradebook SQLAlchemy URL (default: SQLite in DIR), "
                                           "e.g. postgresql://user:pw@host:5432/gradebook")
    p_create.add_argument("--exchange", help="nbgrader exchange root (default: DIR/exchange)")
    p_create.add_argument("--cell-timeout", type=int, default=coursemod.DEFAULT_CELL_TIMEOUT,
                          help="seconds per notebook cell at autograde (Execute.timeout)")
    p_create.add_argument("--group", help="share the course with this group of instructors "
                                          "(group-owned, setgid, 2770) instead of 0700")
    p_create.add_argument("--source", help=argparse.SUPPRESS)   # tests: a tiny assignment
    p_create.set_defaults(func=cmd_course_create)

    p_release = sub.add_parser("release", parents=[common],
                               help="generate the student version and release it to the exchange")
    p_release.add_argument("--chapters", metavar="LIST",
                           help="release a part of the book as --assignment NAME: chapter "
                                "numbers and ranges, e.g. 00-05 or 06,07,08; staged from the "
                                "book as it is now, once (a new chapter goes into a new part)")
    p_release.add_argument("--deadline", help="ISO date/time (UTC unless it says otherwise), "
                                              "recorded in the gradebook; later submissions "
                                              "are flagged at collect")
    p_release.add_argument("--keep-stubs", action="store_true",
                           help="a part's earlier chapters' functions stay stubs (students "
                                "bring their own convlib/) instead of the reference code, "
                                "which needs every part grading them to be past its deadline")
    p_release.set_defaults(func=cmd_release)

    p_collect = sub.add_parser("collect", parents=[common], help="collect submissions")
    src = p_collect.add_mutually_exclusive_group(required=True)
    src.add_argument("--exchange", action="store_true", help="from the nbgrader exchange")
    src.add_argument("--zips", metavar="FOLDER", help="from a folder of per-student zips (LMS export)")
    p_collect.add_argument("--deadline", help="ISO date/time (UTC unless it says otherwise); "
                                              "later submissions are flagged")
    p_collect.add_argument("--name-pattern", default=collectmod.DEFAULT_NAME_PATTERN,
                           help="regex for zip names with a (?P<student_id>...) group and an "
                                "optional (?P<timestamp>...) group")
    p_collect.set_defaults(func=cmd_collect)

    p_auto = sub.add_parser("autograde", parents=[common],
                            help="autograde every submission, in parallel processes")
    p_auto.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p_auto.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per submission before it is killed (default %(default)s)")
    p_auto.add_argument("--student", action="append", help="only this student (repeatable)")
    p_auto.add_argument("--allow-unsafe-sandbox", action="store_true",
                        help="grade even where student code could read the solutions (no "
                             "bubblewrap, no namespaces); recorded in the reports and the CSV")
    p_auto.set_defaults(func=cmd_autograde)

    p_fb = sub.add_parser("feedback", parents=[common],
                          help="feedback HTML per student (checked: no hidden tests)")
    p_fb.add_argument("--release", action="store_true",
                      help="also publish it to the nbgrader exchange, where each student "
                           "fetches their own (`nbgrader fetch_feedback`)")
    p_fb.set_defaults(func=cmd_feedback)

    p_grades = sub.add_parser("grades", parents=[common], help="export grades")
    p_grades.add_argument("--csv", required=True, metavar="FILE")
    p_grades.set_defaults(func=cmd_grades)

    p_report = sub.add_parser("report", parents=[common],
                              help="class report after autograde: one HTML page and a CSV")
    p_report.add_argument("--out", metavar="DIR",
                          help="where to write them (default: <course>/reports/class/)")
    p_report.set_defaults(func=cmd_report)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    # The gradebook (created by nbgrader in subprocesses, opened here) needs `alembic`.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
