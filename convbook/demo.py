"""The instructor demo: a throw-away course, a simulated class, autograded end to end.

    python -m convbook.demo [--keep DIR] [--jobs N]      (make demo)

1. `course create` + `release` (the repository's solutions/ as the course source);
2. the class fetches the release and submits through the nbgrader exchange:
     full       the reference convlib, written questions answered
     stubs      the untouched release
     one_wrong  the reference convlib with ONE function wrong: correlate2d flips the kernel
                (a true convolution, the misconception chapter 00 is about)
     cheater    one_wrong's honest code, plus every trick below; none may gain a point:
                - the test cell of that check edited to `assert True` (and its points to 100),
                - an added cell that monkeypatches the check function,
                - keras.py, numpy.py and a fake convbook/ package beside convlib/,
                - its convlib/__init__.py leaves a mark if imported outside the sandbox,
                - correlate2d tries `import keras`, reading the solutions and the gradebook
                  (and would then answer correctly), and writing outside its scratch folder;
     mistakes-NN  the reference convlib with several known wrong ideas of the catalogue
                (convbook.mistakes), chosen by convbook.mistakes.plan.class_plan() so that the
                class makes every misconception the checks recognise; questions answered;
3. `collect --exchange`, `autograde`, `feedback --release` (checked for hidden tests, then
   published to the exchange; each student fetches their own), `grades --csv`, `report`
   (the class report: one HTML page and a CSV in <course>/reports/class/);
4. the grade table, then what became of each cheating attempt.
"""
import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from . import cli
from . import course as coursemod
from . import mistakes
from .layout import ASSIGNMENT, ROOT, SOLUTIONS, autograded_dir, reports_dir
from .mistakes import plan as mistakes_plan
from .report import CSV_NAME, HTML_NAME

ORIGINAL_STUDENTS = ("full", "stubs", "one_wrong", "cheater")
MISTAKES_PLAN = mistakes_plan.class_plan()          # {"mistakes-01": [catalogue keys], ...}
STUDENTS = ORIGINAL_STUDENTS + tuple(MISTAKES_PLAN)
BROKEN_FUNCTION = "correlate.correlate2d"          # what one_wrong (and cheater) get wrong
BROKEN_CHECK = "check_correlate2d"                 # the only check that calls it
FLIP_LINE = "kernel = np.asarray(kernel)[::-1, ::-1]   # the mistake: flips the kernel (a convolution)"
ANSWER_TEXT = ("Written answer of {student}: the layer learns its kernel, so a flipped kernel is "
               "just another kernel; the extra pixel goes bottom/right by convention.")
_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


# --------------------------------------------------------------------------- submissions
def reference_source(text):
    """A solutions/ module with the solution markers removed: the complete reference code."""
    return _MARKER.sub("", text)


def _function_span(text, name):
    start = text.index(f"\ndef {name}(") + 1
    nxt = re.search(r"^(def |class |@)", text[start + 1:], re.MULTILINE)
    return start, (start + 1 + nxt.start()) if nxt else len(text)


def break_correlate2d(text):
    """correlate.py (reference) with correlate2d flipping its kernel first."""
    start, end = _function_span(text, "correlate2d")
    body = text[start:end]
    first = re.search(r"^([ \t]+)kernel = np\.asarray\(kernel\)[^\n]*\n", body, re.MULTILINE)
    if first is None:
        raise RuntimeError("correlate2d no longer starts with `kernel = np.asarray(kernel)`; "
                           "update convbook.demo.break_correlate2d")
    indent = first.group(1)
    body = body[:first.end()] + f"{indent}{FLIP_LINE}\n" + body[first.end():]
    return text[:start] + body + text[end:]


CHEAT_HEADER = '''
# ---- the cheater's additions (convbook.demo) ---------------------------------------------
import os as _os

_COURSE = {course!r}
_REPO = {repo!r}
_SECRETS = (
    _COURSE + "/source/conv2d/convlib/correlate.py",   # the reference solution
    _COURSE + "/gradebook.db",                        # the gradebook
    _REPO + "/solutions/convlib/correlate.py",         # the book's solutions
    _COURSE + "/nbgrader_config.py",
)
_TARGETS = (
    _COURSE + "/PWNED-by-cheater",
    _COURSE + "/autograded/cheater/conv2d/convlib/PWNED.py",
    _REPO + "/solutions/PWNED-by-cheater",
    "/tmp/convbook-demo-PWNED-{token}",
    _os.path.expanduser("~") + "/convbook-demo-PWNED-{token}",
)


def _stolen():
    """True if any secret could be read (then the cheater answers with the solution)."""
    try:
        import keras  # noqa: F401  (would let it compute the answer with Keras itself)
        return True
    except ImportError:
        pass
    for path in _SECRETS:
        try:
            with open(path, "rb") as fh:
                fh.read(16)
            return True
        except OSError:
            pass
    return False


def _vandalise():
    for path in _TARGETS:
        try:
            with open(path, "w") as fh:
                fh.write("written by the cheater's convlib\\n")
        except OSError:
            pass
'''


def cheat_correlate(reference_text, course, token):
    """correlate.py for the cheater: one_wrong's honest code + theft and vandalism attempts."""
    honest = break_correlate2d(reference_text)
    start, end = _function_span(reference_text, "correlate2d")
    stolen = reference_text[start:end].replace("def correlate2d(", "def _solution_correlate2d(", 1)
    start, end = _function_span(honest, "correlate2d")
    func = honest[start:end]
    doc_end = func.index('"""', func.index('"""') + 3) + 3
    func = (func[:doc_end] + "\n    if _stolen():\n        return _solution_correlate2d(image, kernel)"
            "\n    _vandalise()" + func[doc_end:])
    honest = honest[:start] + func + honest[end:]
    return (honest.rstrip("\n") + "\n\n" + CHEAT_HEADER.format(
        course=str(course), repo=str(ROOT), token=token) + "\n\n" + stolen)


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def answer_questions(folder, student):
    for nb_path in sorted(Path(folder).glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=nbformat.NO_CONVERT)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = ANSWER_TEXT.format(student=student)
        nbformat.write(nb, str(nb_path))


def install_reference(folder, broken=False, mistake_keys=()):
    """The reference convlib into <folder>/convlib: with correlate2d flipping its kernel if
    `broken`, and with the catalogue's mistakes `mistake_keys` applied."""
    for src in sorted((SOLUTIONS / "convlib").rglob("*.py")):
        if "__pycache__" in src.parts:
            continue
        dest = Path(folder) / "convlib" / src.relative_to(SOLUTIONS / "convlib")
        text = reference_source(src.read_text())
        if broken and src.name == "correlate.py":
            text = break_correlate2d(text)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    catalogue = mistakes.catalogue()
    mistakes.apply([catalogue[key] for key in mistake_keys], Path(folder) / "convlib")


def add_cheats(folder, course, markers, token):
    folder = Path(folder)
    ref = reference_source((SOLUTIONS / "convlib" / "correlate.py").read_text())
    (folder / "convlib" / "correlate.py").write_text(cheat_correlate(ref, course, token))
    # If anything imported this convlib outside the sandbox (in the kernel, as root), the
    # marker appears; inside the sandbox the markers folder does not even exist.
    init = folder / "convlib" / "__init__.py"
    init.write_text(init.read_text() + (
        "\ntry:\n"
        f"    open({str(markers / 'convlib-imported-outside-the-sandbox')!r}, 'w').write('x')\n"
        "except OSError:\n    pass\n"))
    # Files beside convlib/ that the kernel would import before the real ones.
    for name in ("numpy", "keras"):
        (folder / f"{name}.py").write_text(
            f"open({str(markers / (name + '-imported'))!r}, 'w').write('imported')\n"
            f"raise ImportError('the cheater\\'s {name}.py was imported')\n")
    fake = folder / "convbook" / "checks"
    fake.mkdir(parents=True)
    (folder / "convbook" / "__init__.py").write_text(
        f"open({str(markers / 'convbook-imported')!r}, 'w').write('imported')\n")
    (fake / "__init__.py").write_text("")
    (fake / "basics.py").write_text("def check_correlate2d(hidden=False):\n    print('all cases pass')\n\n"
                                    "def check_conv2d_valid(hidden=False):\n    print('all cases pass')\n")
    # The notebook: edit the test cell, add a monkeypatching cell before it.
    for nb_path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=nbformat.NO_CONVERT)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and BROKEN_CHECK + "(" in cell.source:
                cell.source = "assert True  # the cheater's edit"
                cell.metadata["nbgrader"]["points"] = 100
                patch = nbformat.v4.new_code_cell(
                    "import convbook.checks.basics as _b\n"
                    "_b.check_correlate2d = lambda hidden=False: print('all cases pass')\n"
                    f"open({str(markers / 'added-cell-ran')!r}, 'w').write('ran')")
                nb.cells.insert(i, patch)
                break
        nbformat.write(nb, str(nb_path))


def submit(course, student, folder, cache):
    """`nbgrader submit`, in-process (the student's side of the exchange)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.submit import ExchangeSubmit
    from traitlets.config import Config

    settings = coursemod.course_settings(course)
    c = Config()
    c.CourseDirectory.course_id = settings["course_id"]
    c.CourseDirectory.assignment_id = ASSIGNMENT
    c.CourseDirectory.student_id = student
    c.Exchange.root = settings["exchange"]
    c.Exchange.cache = str(cache)
    c.Exchange.assignment_dir = str(Path(folder).parent)
    coursedir = CourseDirectory(config=c)
    ExchangeSubmit(coursedir=coursedir, authenticator=Authenticator(config=c), config=c).start()


def fetch_feedback(course, student, folder, cache):
    """`nbgrader fetch_feedback`, in-process: the student's feedback pages, found in the
    exchange by the secret of their own submission, into <folder>/feedback/<timestamp>/."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback
    from traitlets.config import Config

    settings = coursemod.course_settings(course)
    c = Config()
    c.CourseDirectory.course_id = settings["course_id"]
    c.CourseDirectory.assignment_id = ASSIGNMENT
    c.CourseDirectory.student_id = student
    c.Exchange.root = settings["exchange"]
    c.Exchange.cache = str(cache)
    c.Exchange.assignment_dir = str(Path(folder).parent)
    coursedir = CourseDirectory(config=c)
    ExchangeFetchFeedback(coursedir=coursedir, authenticator=Authenticator(config=c),
                          config=c).start()
    return sorted(p.name for p in Path(folder, "feedback").glob("*/*.html"))


def make_class(course, workdir, token):
    """Fetch the release for every student, write their work, submit it."""
    settings = coursemod.course_settings(course)
    outbound = Path(settings["exchange"]) / settings["course_id"] / "outbound" / ASSIGNMENT
    markers = Path(workdir) / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    for student in STUDENTS:
        folder = Path(workdir) / "students" / student / ASSIGNMENT
        shutil.copytree(outbound, folder)                        # = nbgrader fetch_assignment
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        if student in ("full", "one_wrong", "cheater"):
            install_reference(folder, broken=student != "full")
            answer_questions(folder, student)
        elif student in MISTAKES_PLAN:
            install_reference(folder, mistake_keys=MISTAKES_PLAN[student])
            answer_questions(folder, student)
        if student == "cheater":
            add_cheats(folder, course, markers, token)
        submit(course, student, folder, Path(workdir) / "students" / student / ".cache")
    return markers


# --------------------------------------------------------------------------- the run
def cheat_targets(course, token):
    return [Path(course) / "PWNED-by-cheater",
            autograded_dir(course, "cheater") / "convlib" / "PWNED.py",
            ROOT / "solutions" / "PWNED-by-cheater",
            Path(f"/tmp/convbook-demo-PWNED-{token}"),
            Path.home() / f"convbook-demo-PWNED-{token}"]


def check_feedback(course, student, grade_id):
    """The first line of the feedback a failing check gave (from the autograded notebook)."""
    for nb_path in sorted(autograded_dir(course, student).glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=4)
        for cell in nb.cells:
            if _grade_id(cell) == grade_id:
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        return f"{out.get('ename')}: {out.get('evalue', '')}"
                return "passed"
    return "not found"


def step(title):
    print(f"\n=== {title}", flush=True)


def run_demo(workdir, jobs=2, timeout=cli.DEFAULT_TIMEOUT, log=print):
    """Build the course under `workdir`, grade the class; returns a summary dict."""
    import secrets

    workdir = Path(workdir).resolve()
    token = secrets.token_hex(4)
    timings = {}
    course = workdir / "course"
    t0 = time.monotonic()

    def run(*argv):
        start = time.monotonic()
        code = cli.main([*argv, "--course", str(course)] if argv[0] != "course" else list(argv))
        timings[argv[0]] = round(time.monotonic() - start, 1)
        return code

    step("course create + release")
    codes = {"create": run("course", "create", str(course))}
    codes["release"] = run("release")
    if codes["release"] != 0:
        raise RuntimeError("release failed")

    step(f"{len(STUDENTS)} students fetch the release, work, and submit (nbgrader exchange)")
    start = time.monotonic()
    markers = make_class(course, workdir, token)
    timings["submit"] = round(time.monotonic() - start, 1)
    for s in STUDENTS:
        log(f"  submitted: {s}")

    step("collect --exchange")
    codes["collect"] = run("collect", "--exchange")
    step(f"autograde --jobs {jobs}")
    codes["autograde"] = run("autograde", "--jobs", str(jobs), "--timeout", str(timeout))
    if codes["autograde"] == 2:          # refused: no sound sandbox on this machine
        log("\nThe demo stops here: autograde refused to grade (see above). Nothing was "
            "graded, so no cheat could gain anything.")
        return {"course": course, "codes": codes, "timings": timings, "refused": True,
                "gained": None, "cheat_written": [], "markers": []}
    step("feedback --release, and every student fetches their own")
    codes["feedback"] = run("feedback", "--release")
    fetched = {}
    for s in STUDENTS:
        folder = workdir / "students" / s / ASSIGNMENT
        fetched[s] = fetch_feedback(course, s, folder, workdir / "students" / s / ".cache")
        log(f"  {s} fetched {len(fetched[s])} feedback page(s) into {folder / 'feedback'}")
    step("grades")
    csv_path = workdir / "grades.csv"
    codes["grades"] = run("grades", "--csv", str(csv_path))
    step("report")
    codes["report"] = run("report")
    report_page = reports_dir(course, "class") / HTML_NAME
    report_csv = reports_dir(course, "class") / CSV_NAME
    log(f"  the class report: {report_page}  (per-check counts: {report_csv})")
    unrecognised = misconceptions_missing(course) if codes["report"] == 0 else None
    told = ("unknown (no report)" if unrecognised is None
            else ", ".join(unrecognised) or "none")
    log(f"  misconceptions the checks define that no student was told: {told} "
        f"({len(MISTAKES_PLAN)} mistakes-NN students, "
        f"{sum(map(len, MISTAKES_PLAN.values()))} wrong pieces)")

    # What became of the cheater's attempts.
    step("the cheater's attempts")
    broken_cell = next(gid for gid, src in check_cells(course) if BROKEN_CHECK + "(" in src)
    restore_report = reports_dir(course, "restore") / "cheater.json"
    restore = json.loads(restore_report.read_text()) if restore_report.exists() else {}
    written = [str(p) for p in cheat_targets(course, token) if p.exists()]
    imported = sorted(p.name for p in markers.iterdir())
    verdict = check_feedback(course, "cheater", broken_cell).splitlines()[0]
    log(f"  test cell edited to `assert True` (worth 100 points) + a monkeypatching cell: "
        f"restored / dropped; the real check ran: {verdict[:90]}...")
    log(f"  files dropped before grading: {', '.join(restore.get('dropped_files', [])) or 'none'}")
    log(f"  keras.py, numpy.py, fake convbook/, its convlib in the kernel, the added cell: "
        f"{'RAN: ' + ', '.join(imported) if imported else 'never imported or run'}")
    _, rows = cli.grade_table(course)
    auto = {r["student_id"]: r["autograded"] for r in rows}
    gained = auto.get("cheater", 0) - auto.get("one_wrong", 0)
    log("  reading the solutions / gradebook, importing keras: "
        + ("blocked (cheater scores exactly what its honest code, one_wrong's, scores)"
           if gained == 0 else f"GAINED {gained:g} points over its honest code!"))
    log(f"  writing outside its scratch folder: {', '.join(written) if written else 'blocked'}")
    for path in written:                       # leave nothing behind, even on failure
        Path(path).unlink(missing_ok=True)
    step(f"one_wrong's feedback for {broken_cell} ({BROKEN_FUNCTION} flips the kernel)")
    for line in check_feedback(course, "one_wrong", broken_cell).splitlines()[:8]:
        log(f"  {line}")
    timings["total"] = round(time.monotonic() - t0, 1)
    per_student = {}
    for s in STUDENTS:
        try:
            per_student[s] = json.loads(
                (reports_dir(course, "autograde") / f"{s}.json").read_text())["seconds"]
        except (OSError, ValueError, KeyError):
            per_student[s] = None
    timings["autograde_per_student"] = per_student
    log(f"\nTimings (s): {json.dumps(timings)}")
    return {"course": course, "csv": csv_path, "codes": codes, "timings": timings,
            "cheat_written": written, "markers": imported, "restore": restore,
            "broken_cell": broken_cell, "token": token, "gained": gained, "refused": False,
            "fetched_feedback": fetched, "report": report_page, "report_csv": report_csv,
            "unrecognised": unrecognised}


def misconceptions_missing(course):
    """Ids of the misconceptions the checks define that the class report does not count."""
    from .report import class_report

    told = {m["misconception"] for m in class_report(course)["misconceptions"]}
    return sorted(set(mistakes.defined_misconceptions()) - told)


def check_cells(course):
    """(grade_id, source) of every autograded test cell in the source notebooks."""
    out = []
    for nb_path in sorted(coursemod.source_dir(course).glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=4)
        out += [(_grade_id(c), c.source) for c in nb.cells
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convbook.demo",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR",
                        help="build the demo in DIR (must not exist) and keep it")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.keep:
        workdir = Path(args.keep)
        if workdir.exists():
            parser.error(f"{workdir} exists")
        workdir.mkdir(parents=True)
        result = run_demo(workdir, jobs=args.jobs)
        print(f"\nKept: {result['course']}")
    else:
        with tempfile.TemporaryDirectory(prefix="convbook-demo-") as tmp:
            result = run_demo(tmp, jobs=args.jobs)
    return 0 if demo_succeeded(result) else 1


def demo_succeeded(result):
    """Every step worked, no cheat gained a point, wrote a file or ran in the kernel, and
    every misconception the checks define was recognised for some student."""
    return (not result["refused"] and result["codes"]["release"] == 0
            and result["codes"]["autograde"] == 0 and result["codes"]["feedback"] == 0
            and result["codes"].get("report", 0) == 0
            and result["gained"] == 0 and not result["cheat_written"]
            and not result["markers"] and not result.get("unrecognised"))


if __name__ == "__main__":
    sys.exit(main())
