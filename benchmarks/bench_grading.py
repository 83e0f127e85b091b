"""How long autograding takes: a simulated class graded through the instructor CLI, timed.

    python benchmarks/bench_grading.py [--students 10] [--jobs 2] [--only real|synthetic]
                                       [--timeout S] [--keep DIR]          (make bench-grading)

What is measured
----------------
Two assignment sources are graded, each in a course of its own:

* real       the repository's solutions/ (today's chapter notebooks and solutions/convlib/);
* synthetic  a 17-chapter book: notebooks 00_ .. 16_, copies of today's chapters taken in
             turn (00, 02, 00, 02, ...), with the same convlib. It stands in for the finished
             book, so its times are the ones to hold against the targets.

For each source the benchmark runs the CLI exactly as an instructor would (`course create
--source`, `release`, `collect --zips` on a folder of LMS-style zips, `autograde --jobs J`,
`grades --csv`), each step in a fresh Python process. The class has N students in fixed
proportions, 40% / 20% / 20% / 20% (students 1-5 are correct, stub, wrong, timeout, correct;
then again):

  correct   the release with the reference convlib (solution markers removed)
  stub      the untouched release (every exercise still raises NotImplementedError)
  wrong     the reference with correlate2d flipping its kernel (a true convolution)
  timeout   the reference with padding.same_padding_amounts stuck in `while True: pass`
            (the check harness stops each call at its own time limit, so such a submission
            usually ends "ok" with those checks failed; with a small --timeout the whole
            submission is killed instead and its status is "timeout")

Only the autograde step is the subject; the other steps are timed and shown for context.

Reading the output
------------------
* "per submission": the seconds the grader itself records for each student
  (reports/autograde/<student>.json, "seconds"): from the start of that student's grading
  to its end, measured while J submissions are graded side by side, so it includes the
  contention between them. Shown for the whole class and per kind, with the autograded
  score each kind got (a correct student must get full marks, or the run fails).
* "class wall time": the whole `autograde` command, start-up and gradebook included.
* "projected, 100 submissions": fixed + mean per submission x 100 / J, where
  fixed = wall - (sum of per-submission seconds) / J is the part of the run that no
  submission accounts for (the CLI's start-up, shared set-up, the last idle worker). It
  assumes the same mix of kinds and the same J; with a small class the fixed part is an
  overestimate (the idle tail is counted in it), so the projection errs on the slow side.
* "breakdown": whatever numbers the grader records, per student under "timings" in
  reports/autograde/<student>.json and for the whole run in reports/autograde/run.json.
  Every numeric key found is printed (nested keys as a.b; a list of numbers, e.g. one per
  worker, counts as its sum per student and as count / sum / mean for the run); the keys
  expected so far are always listed, "n/a" when the grader does not record them (yet).

Nothing here asserts a time: compare with the targets printed at the end (<= 60 s per
submission of the 17-chapter book; <= 30 min for 100 submissions with 2 jobs). The exit code
is 1 only if a CLI step failed unexpectedly or a correct student was not given full marks;
`autograde` exiting 1 is expected (the timing-out students need the instructor's attention).
"""
import argparse
import ast
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from convbook.demo import break_correlate2d, reference_source  # noqa: E402
from convbook.layout import ASSIGNMENT, SOLUTIONS  # noqa: E402

SOURCES = ("real", "synthetic")
SYNTHETIC_CHAPTERS = 17
KIND_CYCLE = ("correct", "stub", "wrong", "timeout", "correct")   # 40 / 20 / 20 / 20 %
KINDS = ("correct", "stub", "wrong", "timeout")
HANG = ("padding.py", "same_padding_amounts")     # the timing-out student's stuck function
SUBMITTED_AT = "2026-01-15T09-00-00"              # in every zip's name (the submission time)

# What the grader records (convbook.grading); any other numeric key it records is shown too.
# checks = seconds in graded cells = reference (Keras, in the worker) + student (the sandboxed
# child: start-up and calls); nbgrader = the rest of the submission's time (sanitising,
# restoring, gradebook, writing the notebooks); the two counts are cells run / left out.
STUDENT_TIMING_KEYS = ("checks", "reference", "student", "nbgrader", "graded_cells",
                       "skipped_cells")
RUN_TIMING_KEYS = ("workers", "worker_start", "tensorflow_import", "wall")

TARGET_SUBMISSION_SECONDS = 60        # per submission of the 17-chapter book
TARGET_CLASS_SIZE = 100
TARGET_CLASS_MINUTES = 30             # for TARGET_CLASS_SIZE submissions ...
TARGET_JOBS = 2                       # ... graded 2 at a time


class StepFailed(Exception):
    """A CLI step exited with a code it should not have."""


# --------------------------------------------------------------------------- sources
def copy_convlib(src, dest):
    shutil.copytree(Path(src) / "convlib", Path(dest) / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def real_source(dest):
    """solutions/ as it is: its top-level notebooks and convlib/."""
    dest.mkdir(parents=True)
    for nb in sorted(SOLUTIONS.glob("*.ipynb")):
        shutil.copy2(nb, dest / nb.name)
    copy_convlib(SOLUTIONS, dest)
    return dest


def synthetic_source(dest, chapters=SYNTHETIC_CHAPTERS):
    """`chapters` notebooks 00_.. , copies of solutions/' chapters in turn, and convlib/."""
    dest.mkdir(parents=True)
    originals = sorted(SOLUTIONS.glob("*.ipynb"))
    for i in range(chapters):
        original = originals[i % len(originals)]
        topic = original.stem.split("_", 1)[1]           # 02_padding -> padding
        shutil.copy2(original, dest / f"{i:02d}_{topic}.ipynb")
    copy_convlib(SOLUTIONS, dest)
    return dest


def validate_source(folder):
    """Every notebook must be valid nbformat and valid nbgrader metadata (which includes
    grade_ids unique within the notebook). Returns (notebooks, test cells, points)."""
    import nbformat
    from nbgrader import nbgraderformat

    notebooks = sorted(Path(folder).glob("*.ipynb"))
    cells = points = 0
    for path in notebooks:
        with open(path) as fh:
            nb = nbgraderformat.read(fh, as_version=4)    # raises ValidationError
        nbformat.validate(nb)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade"):
                cells += 1
                points += meta.get("points", 0)
    return len(notebooks), cells, points


# --------------------------------------------------------------------------- the class
def student_kinds(n):
    """{student id: kind}, in the fixed 40/20/20/20 cycle."""
    return {f"s{i + 1:03d}-{KIND_CYCLE[i % len(KIND_CYCLE)]}": KIND_CYCLE[i % len(KIND_CYCLE)]
            for i in range(n)}


def hang_function(text, name):
    """`text` (a module) with the body of function `name` replaced by an infinite loop
    (its docstring kept)."""
    tree = ast.parse(text)
    func = next(node for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name == name)
    body = func.body
    if ast.get_docstring(func) is not None:
        body = body[1:]
    lines = text.splitlines(keepends=True)
    indent = " " * body[0].col_offset
    loop = f"{indent}while True:   # never returns\n{indent}    pass\n"
    lines[body[0].lineno - 1:func.end_lineno] = [loop]
    return "".join(lines)


def student_convlib(kind, source):
    """{path in the submission: text} of the convlib modules this kind of student hands in
    (empty for a stub: the release's modules stay)."""
    if kind == "stub":
        return {}
    modules = {}
    for path in sorted((source / "convlib").rglob("*.py")):
        text = reference_source(path.read_text())
        if kind == "wrong" and path.name == "correlate.py":
            text = break_correlate2d(text)
        if kind == "timeout" and path.name == HANG[0]:
            text = hang_function(text, HANG[1])
        modules[path.relative_to(source).as_posix()] = text
    return modules


def write_class_zips(release, source, folder, kinds):
    """One LMS-style zip per student, `<id>_<time>.zip` holding `conv2d/<files>`."""
    folder.mkdir(parents=True)
    released = {p.relative_to(release).as_posix(): p.read_bytes()
                for p in sorted(release.rglob("*")) if p.is_file()}
    by_kind = {kind: student_convlib(kind, source) for kind in set(kinds.values())}
    for student, kind in kinds.items():
        files = dict(released)
        files.update({rel: text.encode() for rel, text in by_kind[kind].items()})
        with zipfile.ZipFile(folder / f"{student}_{SUBMITTED_AT}.zip", "w",
                             zipfile.ZIP_DEFLATED) as zf:
            for rel, data in sorted(files.items()):
                zf.writestr(f"{ASSIGNMENT}/{rel}", data)


# --------------------------------------------------------------------------- the CLI
def run_cli(logs, name, *args, allowed=(0,)):
    """`python -m convbook.cli ARGS` in a fresh process. Returns (exit code, seconds);
    the output goes to logs/<name>.log. Raises StepFailed on an exit code not allowed."""
    cmd = [sys.executable, "-m", "convbook.cli", *map(str, args)]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    seconds = time.monotonic() - start
    log = logs / f"{name}.log"
    log.write_text(proc.stdout)
    print(f"  {name:<10} exit {proc.returncode}  {seconds:7.1f} s", flush=True)
    if proc.returncode not in allowed:
        tail = "\n".join("    | " + line for line in proc.stdout.splitlines()[-15:])
        raise StepFailed(f"`{' '.join(cmd[1:])}` exited {proc.returncode} (log: {log})\n{tail}")
    return proc.returncode, seconds


def grade_course(label, source, workdir, kinds, jobs, timeout):
    """Create, release, collect and autograde one course. Returns the raw measurements."""
    course, logs = workdir / "course", workdir / "logs"
    logs.mkdir(parents=True)
    run_cli(logs, "create", "course", "create", course, "--source", source)
    run_cli(logs, "release", "release", "--course", course)
    release = course / "release" / ASSIGNMENT
    write_class_zips(release, source, workdir / "lms", kinds)
    run_cli(logs, "collect", "collect", "--zips", workdir / "lms", "--course", course)
    extra = ["--timeout", timeout] if timeout is not None else []
    # autograde exits 1 when a submission needs attention (the timing-out ones may): expected.
    code, wall = run_cli(logs, "autograde", "autograde", "--jobs", jobs, *extra,
                         "--course", course, allowed=(0, 1))
    grades_csv = workdir / "grades.csv"
    run_cli(logs, "grades", "grades", "--csv", grades_csv, "--course", course)
    reports = course / "reports" / "autograde"
    return {"label": label, "course": course, "kinds": kinds, "jobs": jobs, "wall": wall,
            "autograde_exit": code,
            "students": {s: read_json(reports / f"{s}.json") for s in kinds},
            "run": read_json(reports / "run.json"),
            "grades": read_grades(grades_csv)}


def read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def read_grades(path):
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


# --------------------------------------------------------------------------- analysis
def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def flat_numbers(data, prefix=""):
    """{dotted key: [numbers]} of every numeric leaf of a (nested) dict: a number gives one
    value, a list its numeric items (one per worker, say); bools and text are left out."""
    out = {}
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_numbers(value, name + "."))
        elif is_number(value):
            out[name] = [float(value)]
        elif isinstance(value, list) and any(is_number(v) for v in value):
            out[name] = [float(v) for v in value if is_number(v)]
    return out


def ordered_keys(expected, found):
    return list(expected) + sorted(k for k in found if k not in expected)


def seconds_of(result, student):
    return number((result["students"].get(student) or {}).get("seconds"))


def full_marks(row):
    got, top = number((row or {}).get("autograded")), number((row or {}).get("max_autograded"))
    return got is not None and top and got == top


def not_fully_marked(result):
    """Correct students that were not given every autograded point."""
    return [s for s, kind in result["kinds"].items()
            if kind == "correct" and not full_marks(result["grades"].get(s))]


def projection(result, size=TARGET_CLASS_SIZE):
    """(projected wall seconds for `size` submissions, fixed seconds, mean per submission)."""
    times = [t for t in (seconds_of(result, s) for s in result["kinds"]) if t is not None]
    if not times:
        return None, None, None
    parallel = max(1, min(result["jobs"], len(times)))
    fixed = max(0.0, result["wall"] - sum(times) / parallel)
    mean = statistics.mean(times)
    return fixed + mean * size / max(1, result["jobs"]), fixed, mean


# --------------------------------------------------------------------------- the report
def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:.{digits}f}"


def print_students(result):
    print(f"\n  {'student':<16} {'kind':<8} {'status':<9} {'seconds':>8}  autograded")
    for student, kind in result["kinds"].items():
        record = result["students"].get(student) or {}
        row = result["grades"].get(student) or {}
        score = (f"{row.get('autograded', '?')} / {row.get('max_autograded', '?')}"
                 if row else "not in the gradebook")
        print(f"  {student:<16} {kind:<8} {record.get('status', 'n/a'):<9} "
              f"{fmt(seconds_of(result, student)):>8}  {score}")


def print_per_kind(result):
    print(f"\n  seconds per submission   {'n':>3} {'mean':>7} {'min':>7} {'max':>7}"
          "   autograded (mean / max)")
    groups = [("all", list(result["kinds"]))] + [
        (kind, [s for s, k in result["kinds"].items() if k == kind]) for kind in KINDS]
    for name, students in groups:
        times = [t for t in (seconds_of(result, s) for s in students) if t is not None]
        scores = [number((result["grades"].get(s) or {}).get("autograded")) for s in students]
        scores = [v for v in scores if v is not None]
        tops = [number((result["grades"].get(s) or {}).get("max_autograded")) for s in students]
        top = max((v for v in tops if v is not None), default=None)
        stats = ((statistics.mean(times), min(times), max(times)) if times
                 else (None, None, None))
        score = (f"{statistics.mean(scores):.1f} / {fmt(top, 0)}" if scores else "n/a")
        print(f"  {name:<24} {len(students):>3} " + " ".join(f"{fmt(v):>7}" for v in stats)
              + f"   {score}")


def print_totals(result):
    projected, fixed, mean = projection(result)
    times = [t for t in (seconds_of(result, s) for s in result["kinds"]) if t is not None]
    n, jobs = len(result["kinds"]), result["jobs"]
    speedup = sum(times) / result["wall"] if times and result["wall"] else None
    print(f"\n  class wall time (autograde, {n} submissions, --jobs {jobs}): "
          f"{result['wall']:.1f} s   (exit {result['autograde_exit']}; "
          f"observed parallel speed-up {fmt(speedup, 2)}x)")
    print(f"  projected, {TARGET_CLASS_SIZE} submissions, --jobs {jobs}: "
          f"{fmt(None if projected is None else projected / 60)} min")
    print(f"    method: fixed + mean per submission x {TARGET_CLASS_SIZE} / jobs = "
          f"{fmt(fixed)} + {fmt(mean)} x {TARGET_CLASS_SIZE} / {jobs} s, where fixed = wall - "
          f"sum(per-submission s) / jobs (same mix of kinds)")


def print_breakdown(result):
    records = {s: {key: sum(values) for key, values in
                   flat_numbers((result["students"].get(s) or {}).get("timings")).items()}
               for s in result["kinds"]}
    found = {key for values in records.values() for key in values}
    print("\n  breakdown per submission (reports/autograde/<student>.json \"timings\")"
          + ("" if found else ": not recorded by this grader"))
    print(f"  {'key':<24} {'n':>3} {'sum':>9} {'mean':>8}  "
          + " ".join(f"{kind:>8}" for kind in KINDS) + "   (mean per kind)")
    for key in ordered_keys(STUDENT_TIMING_KEYS, found):
        values = [r[key] for r in records.values() if key in r]
        per_kind = []
        for kind in KINDS:
            kv = [records[s][key] for s, k in result["kinds"].items()
                  if k == kind and key in records[s]]
            per_kind.append(statistics.mean(kv) if kv else None)
        print(f"  {key:<24} {len(values):>3} {fmt(sum(values) if values else None, 2):>9} "
              f"{fmt(statistics.mean(values) if values else None, 2):>8}  "
              + " ".join(f"{fmt(v, 2):>8}" for v in per_kind))
    run = flat_numbers(result["run"])
    print("\n  run (reports/autograde/run.json)"
          + ("" if result["run"] is not None else ": no such file")
          + "; a list (one value per worker start) is shown as its count, sum and mean")
    print(f"  {'key':<24} {'n':>3} {'sum':>9} {'mean':>8}")
    for key in ordered_keys(RUN_TIMING_KEYS, run):
        values = run.get(key, [])
        print(f"  {key:<24} {len(values):>3} {fmt(sum(values) if values else None, 2):>9} "
              f"{fmt(statistics.mean(values) if values else None, 2):>8}")


def print_result(result):
    print(f"\n--- {result['label']}: results")
    print_students(result)
    print_per_kind(result)
    print_totals(result)
    print_breakdown(result)
    missing = not_fully_marked(result)
    if missing:
        print("\n  !!! FAILURE: correct submission(s) NOT given full autograded marks: "
              + ", ".join(missing) + f"\n  !!! see the logs in {result['course'] / 'reports'}")


def print_targets(results):
    print("\n=== targets")
    synthetic = results.get("synthetic")
    for label, result in results.items():
        projected, _, mean = projection(result)
        correct = [t for t in (seconds_of(result, s) for s, k in result["kinds"].items()
                               if k == "correct") if t is not None]
        print(f"  {label:<10} mean per submission {fmt(mean)} s (correct ones "
              f"{fmt(statistics.mean(correct) if correct else None)} s); projected "
              f"{TARGET_CLASS_SIZE} x --jobs {result['jobs']}: "
              f"{fmt(None if projected is None else projected / 60)} min")
    print(f"  target: <= {TARGET_SUBMISSION_SECONDS} s per submission of the "
          f"{SYNTHETIC_CHAPTERS}-chapter book (synthetic), <= {TARGET_CLASS_MINUTES} min for "
          f"{TARGET_CLASS_SIZE} submissions with {TARGET_JOBS} jobs")
    if synthetic is None:
        print("  (the synthetic book was not graded in this run: no comparison)")
        return
    projected, _, mean = projection(synthetic)
    if mean is not None:
        print(f"  synthetic: {mean:.1f} s per submission -> "
              + ("within" if mean <= TARGET_SUBMISSION_SECONDS else "OVER") + " the target")
    if projected is not None:
        note = "" if synthetic["jobs"] == TARGET_JOBS else f" (measured with --jobs {synthetic['jobs']})"
        print(f"  synthetic: {projected / 60:.1f} min for {TARGET_CLASS_SIZE} -> "
              + ("within" if projected <= TARGET_CLASS_MINUTES * 60 else "OVER")
              + " the target" + note)


# --------------------------------------------------------------------------- main
def bench_source(label, workdir, kinds, jobs, timeout):
    print(f"\n=== {label}", flush=True)
    build = real_source if label == "real" else synthetic_source
    source = build(workdir / "source")
    notebooks, cells, points = validate_source(source)
    print(f"  source: {notebooks} notebooks, {cells} autograded test cells, {points:g} "
          f"autograded points (nbgrader metadata valid)")
    return grade_course(label, source, workdir, kinds, jobs, timeout)


def run(workdir, args):
    kinds = student_kinds(args.students)
    counts = ", ".join(f"{sum(k == kind for k in kinds.values())} {kind}" for kind in KINDS)
    print(f"Grading benchmark: {args.students} students ({counts}), --jobs {args.jobs}, "
          f"timeout {'CLI default' if args.timeout is None else f'{args.timeout:g} s'}; "
          f"work in {workdir}")
    results, failed = {}, False
    for label in (SOURCES if args.only is None else (args.only,)):
        try:
            results[label] = bench_source(label, workdir / label, kinds, args.jobs, args.timeout)
        except StepFailed as exc:
            print(f"\n  !!! FAILURE ({label}): {exc}")
            failed = True
            continue
        print_result(results[label])
        failed = failed or bool(not_fully_marked(results[label]))
    if results:
        print_targets(results)
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10, help="class size (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="autograde --jobs (default 2)")
    parser.add_argument("--only", choices=SOURCES, help="grade one source only")
    parser.add_argument("--timeout", type=float,
                        help="autograde --timeout, seconds per submission (default: the CLI's)")
    parser.add_argument("--keep", metavar="DIR",
                        help="work in DIR (must not exist) and keep the courses")
    args = parser.parse_args(argv)
    if args.students < 1 or args.jobs < 1:
        parser.error("--students and --jobs must be at least 1")
    if args.keep:
        workdir = Path(args.keep).resolve()
        if workdir.exists():
            parser.error(f"{workdir} exists")
        workdir.mkdir(parents=True)
        code = run(workdir, args)
        print(f"\nKept: {workdir}")
        return code
    with tempfile.TemporaryDirectory(prefix="convbook-bench-grading-",
                                     ignore_cleanup_errors=True) as tmp:
        return run(Path(tmp), args)


if __name__ == "__main__":
    sys.exit(main())
