"""The instructor CLI over nbgrader, on a tiny throw-away assignment (no Keras, fast kernels).

One module fixture runs the whole flow once: course create -> release -> collect (a folder of
LMS zips with every kind of bad file, and the exchange) -> autograde (in parallel, with a
broken and a cheating submission) -> feedback -> grades. The tests then check one property
each. The tiny assignment mirrors the book's: notebooks + convlib/ side by side, locked
test cells with hidden tests, a markdown answer cell graded by hand.
"""
import contextlib
import csv
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import stat
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import require_sound_sandbox
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from convbook import cli, collect, demo, sandbox
from convbook import course as coursemod
from convbook.restore import prune_folder

pytestmark = pytest.mark.xdist_group("instructor")

ASSIGNMENT = coursemod.ASSIGNMENT
DEADLINE = "2024-06-01T00:00"
BEFORE = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc).timestamp()


# ------------------------------------------------------------------ the tiny assignment
def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None, tags=()):
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
         "solution": solution, "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m, **({"tags": list(tags)} if tags else {})}


# The locked helper runs the student's function in a child python (never in the kernel). Its
# cell is tagged: autograde runs only graded cells and the set-up they need.
SETUP = "autograde-setup"
HELPER = '''\
import subprocess, sys
def call(expr):
    code = "import sys; sys.path.insert(0, '.'); import convlib.tiny as t; print(repr(" + expr + "))"
    r = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stderr.strip().splitlines() or ["crashed"])[-1]
    return r.stdout.strip()
import numpy, json  # the kernel imports these: a numpy.py in the submission must not shadow them'''

HIDDEN_LINES = ('assert call("t.double(-5)") == "-10"  # hidden-double-check',
                'assert call("t.square(-3)") == "9"  # hidden-square-check',
                'assert call("t.triple(-2)") == "-6"  # hidden-triple-check')

TINY_PY = '''\
"""tiny: three functions to implement."""


def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


def square(x):
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION


def triple(x):
    ### BEGIN SOLUTION
    return 3 * x
    ### END SOLUTION
'''
POINTS = {"check_double": 2, "check_square": 3, "check_triple": 1}
MAX_AUTO = sum(POINTS.values())


def make_tiny_source(root):
    root = Path(root)
    (root / "convlib").mkdir(parents=True, exist_ok=True)
    (root / "convlib" / "__init__.py").write_text('"""tiny convlib"""\n')
    (root / "convlib" / "tiny.py").write_text(TINY_PY)
    nb0 = new_notebook(cells=[
        new_markdown_cell("# Tiny chapter\nImplement `double` and `square` in convlib/tiny.py."),
        new_code_cell(HELPER, metadata=_meta("helper", locked=True, tags=[SETUP])),
        new_code_cell('# Check 0.1 — double (2 points)\nassert call("t.double(21)") == "42"\n'
                      f'### BEGIN HIDDEN TESTS\n{HIDDEN_LINES[0]}\n### END HIDDEN TESTS',
                      metadata=_meta("check_double", grade=True, locked=True, points=2)),
        new_code_cell('# Check 0.2 — square (3 points)\nassert call("t.square(7)") == "49"\n'
                      f'### BEGIN HIDDEN TESTS\n{HIDDEN_LINES[1]}\n### END HIDDEN TESTS',
                      metadata=_meta("check_square", grade=True, locked=True, points=3)),
        new_markdown_cell("Why is `double` linear?", metadata=_meta("question", locked=True)),
        new_markdown_cell("### BEGIN SOLUTION\nBecause 2(a+b) = 2a + 2b.\n### END SOLUTION",
                          metadata=_meta("answer_linear", grade=True, solution=True, points=1)),
    ])
    nb1 = new_notebook(cells=[
        new_markdown_cell("# Tiny chapter 1"),
        new_code_cell(HELPER, metadata=_meta("helper1", locked=True, tags=[SETUP])),
        new_code_cell('# Check 1.1 — triple (1 point)\nassert call("t.triple(5)") == "15"\n'
                      f'### BEGIN HIDDEN TESTS\n{HIDDEN_LINES[2]}\n### END HIDDEN TESTS',
                      metadata=_meta("check_triple", grade=True, locked=True, points=1)),
    ])
    for nb in (nb0, nb1):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
    nbformat.write(nb0, str(root / "00_tiny.ipynb"))
    nbformat.write(nb1, str(root / "01_tiny.ipynb"))
    return root


def solved_tiny():
    return demo.reference_source(TINY_PY)


def run_cli(*argv):
    """cli.main in-process; returns (exit code, printed text)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue()


def release_files(course):
    rel = coursemod.release_dir(course)
    return {p.relative_to(rel).as_posix(): p.read_bytes() for p in rel.rglob("*") if p.is_file()}


def with_answer(nb_bytes, text):
    nb = nbformat.reads(nb_bytes.decode(), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer_linear":
            cell.source = text
    return nbformat.writes(nb).encode()


def write_zip(path, files, mtime=BEFORE):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    os.utime(path, (mtime, mtime))


def make_lms_folder(course, folder):
    """The LMS export: one zip per student and every kind of trouble."""
    folder.mkdir()
    rel = release_files(course)
    prefixed = lambda prefix, files: {prefix + k: v for k, v in files.items()}  # noqa: E731
    good = dict(rel)
    good["convlib/tiny.py"] = solved_tiny().encode()
    good["00_tiny.ipynb"] = with_answer(rel["00_tiny.ipynb"], "GOOD-ANSWER: it distributes.")
    # 12345: numeric id, assignment folder inside the zip, a timestamp in the name; an older
    # zip of the same student must be reported and ignored.
    write_zip(folder / "12345_2024-05-02T09-00-00.zip", prefixed("conv2d/", good))
    older = dict(rel)
    write_zip(folder / "12345_2024-04-30T09-00-00.zip", prefixed("conv2d/", older))
    # stubs: files at the top of the zip, the untouched release.
    write_zip(folder / "stubs.zip", rel)
    # late: after the deadline, deeper folder, files that must not be taken, zip-slip names.
    late = prefixed("My Files/conv2d/", {k: v for k, v in good.items() if k != "01_tiny.ipynb"})
    late.update({"My Files/keras.py": b"raise SystemExit\n", "My Files/conv2d/notes.txt": b"x",
                 "My Files/conv2d/numpy.py": b"raise SystemExit\n",
                 "../escape.py": b"print('zip slip')\n",
                 "My Files/conv2d/convlib/../../../../escape2.py": b"x\n",
                 "__MACOSX/conv2d/._00_tiny.ipynb": b"junk"})
    write_zip(folder / "late_2024-06-02T12-30-00.zip", late)
    # badjson: a notebook that is not JSON.
    bad = dict(good)
    bad["00_tiny.ipynb"] = b'{"cells": ['
    write_zip(folder / "badjson.zip", bad)
    # slow: student code that never returns (graded separately with a short time limit).
    slow = dict(good)
    slow["convlib/tiny.py"] = (
        "import pathlib, time\n"
        f"pathlib.Path({str(folder.parent / 'slow-started')!r}).write_text('started')\n"
        "time.sleep(10**6)\n").encode()
    write_zip(folder / "slow.zip", slow)
    # Not submissions.
    (folder / "README.txt").write_text("exported by the LMS")
    (folder / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not a zip archive")
    write_zip(folder / "_nobody.zip", rel)
    write_zip(folder / "empty.zip", {"readme.md": b"nothing here"})
    os.utime(folder / "corrupt.zip", (BEFORE, BEFORE))


def make_cheater(course, workdir, markers):
    """A submission through the exchange with files the zip path would never take."""
    settings = coursemod.course_settings(course)
    outbound = Path(settings["exchange"]) / settings["course_id"] / "outbound" / ASSIGNMENT
    folder = workdir / "cheater" / ASSIGNMENT
    folder.parent.mkdir(parents=True)
    shutil.copytree(outbound, folder)
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    # Honest code: double via a NEW convlib module, square wrong, triple right -> 3 points.
    (folder / "convlib" / "helpers.py").write_text("def twice(x):\n    return x + x\n")
    (folder / "convlib" / "tiny.py").write_text(
        "from .helpers import twice\n\n\ndef double(x):\n    return twice(x)\n\n\n"
        "def square(x):\n    return x + x\n\n\ndef triple(x):\n    return 3 * x\n")
    nb_path = folder / "00_tiny.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "check_square":
            cell.source = "assert True  # edited by the cheater"
            cell.metadata["nbgrader"]["points"] = 100
            nb.cells.insert(i, new_code_cell(
                "call = lambda expr: {'t.square(7)': '49', 't.square(-3)': '9'}.get(expr, '')\n"
                f"open({str(markers / 'added-cell-ran')!r}, 'w').write('ran')"))
            break
    # Garbage where nbgrader expects metadata, and a kernel that does not exist: the restore
    # runs first and rebuilds the notebook, so this must neither fail nor change anything.
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "check_double":
            cell.metadata["nbgrader"] = "garbage"
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "x", "language": "x"}
    nbformat.write(nb, str(nb_path), version=4)
    for name in ("numpy", "keras", "sitecustomize"):
        (folder / f"{name}.py").write_text(
            f"open({str(markers / (name + '-imported'))!r}, 'w').write('x')\n")
    demo.submit(course, "cheater", folder, workdir / ".cache")


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """The whole instructor flow, once. Each step's (exit code, output) is kept."""
    require_sound_sandbox("the instructor flow")
    base = tmp_path_factory.mktemp("instructor")
    source = make_tiny_source(base / "tiny-source")
    course = base / "course"
    markers = base / "markers"
    markers.mkdir()
    steps, timings = {}, {}

    def step(name, *argv):
        start = time.monotonic()
        steps[name] = run_cli(*argv)
        timings[name] = time.monotonic() - start
        return steps[name]

    step("create", "course", "create", course, "--source", source, "--cell-timeout", 600)
    step("release", "release", "--course", course)
    assert steps["release"][0] == 0, steps["release"][1]
    make_lms_folder(course, base / "lms")
    step("collect_zips", "collect", "--zips", base / "lms", "--deadline", DEADLINE,
         "--course", course)
    make_cheater(course, base / "students", markers)
    step("collect_exchange", "collect", "--exchange", "--course", course)
    graded = ["12345", "stubs", "late", "badjson", "cheater"]
    step("autograde", "autograde", "--jobs", 5, "--timeout", 600, "--course", course,
         *[a for s in graded for a in ("--student", s)])
    # The time limit: as long as the slowest complete grading above (which ran alongside
    # four others). Alone, the slow submission gets through nbgrader's and the kernel's
    # start-up in less than that, so its code is running when the limit strikes.
    slowest = max(json.loads((course / "reports" / "autograde" / f"{s}.json").read_text())
                  ["seconds"] for s in ("12345", "stubs", "late"))
    limit = max(15.0, slowest)
    step("autograde_slow", "autograde", "--student", "slow", "--timeout", f"{limit:.0f}",
         "--course", course)
    step("feedback", "feedback", "--release", "--course", course)
    step("grades", "grades", "--csv", base / "grades.csv", "--course", course)
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
    return {"course": course, "base": base, "steps": steps, "markers": markers,
            "timings": timings, "source": source, "limit": limit}


def autograded_nb(course, student, name="00_tiny"):
    return nbformat.read(str(coursemod.autograded_dir(course, student) / f"{name}.ipynb"),
                         as_version=4)


def scores(course):
    """{student: (autograded score, max)} straight from the gradebook."""
    with cli.gradebook(course) as gb:
        return {s.id: (gb.find_submission(ASSIGNMENT, s.id).code_score,
                       gb.find_submission(ASSIGNMENT, s.id).max_code_score)
                for s in gb.students}


# ------------------------------------------------------------------ course create
def test_course_directory_is_private_and_holds_the_source(flow):
    course = flow["course"]
    assert stat.S_IMODE(course.stat().st_mode) == 0o700      # the sandboxed child reads nothing
    src = coursemod.source_dir(course)
    assert sorted(p.name for p in src.glob("*.ipynb")) == ["00_tiny.ipynb", "01_tiny.ipynb"]
    assert (src / "convlib" / "tiny.py").read_text() == TINY_PY
    assert flow["steps"]["create"][0] == 0


def test_course_create_copies_the_repository_solutions(tmp_path):
    course = tmp_path / "real"
    code, out = run_cli("course", "create", course)
    assert code == 0, out
    src = coursemod.source_dir(course)
    expected = sorted(p.name for p in coursemod.SOLUTIONS.glob("*.ipynb")
                      if p.name != coursemod.CONTENTS)          # the contents page is not graded
    assert expected and sorted(p.name for p in src.glob("*.ipynb")) == expected
    assert coursemod.convlib_paths(src) == coursemod.convlib_paths(coursemod.SOLUTIONS)
    assert stat.S_IMODE(course.stat().st_mode) == 0o700
    # A second create into the same (non-empty) folder refuses.
    code, out = run_cli("course", "create", course)
    assert code == 2 and "not empty" in out


def load_config(course):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(coursemod.CONFIG_NAME, path=str(course)).load_config()


def test_nbgrader_config_keys(flow):
    course = flow["course"]
    c = load_config(course)
    assert c.CourseDirectory.course_id == coursemod.COURSE_ID
    assert c.CourseDirectory.root == str(course)
    assert c.CourseDirectory.db_url.startswith(f"sqlite:///{course}/gradebook.db")
    # Exact relative paths of EVERY convlib module; otherwise autograde would copy the
    # source (= solution) files over the student's modules.
    assert c.Autograde.exclude_overwriting == {
        ASSIGNMENT: ["convlib/__init__.py", "convlib/tiny.py"]}
    assert c.Execute.timeout == 600
    assert c.OverwriteCells.add_missing_cells is True
    assert c.Exchange.root == str(course / "exchange")
    assert ".py" in c.FileNameCollectorPlugin.valid_ext
    assert c.GenerateAssignment.post_convert_hook == "convbook.build.post_convert_hook"
    names = [p if isinstance(p, str) else p.__name__ for p in c.Autograde.sanitize_preprocessors]
    assert names[0] == "convbook.restore.RestoreReleased" and "OverwriteCells" in names
    fb = [p if isinstance(p, str) else p.__name__ for p in c.GenerateFeedback.preprocessors]
    assert "ClearHiddenTests" in fb and "convbook.restore.ShortTracebacks" in fb


def test_ignore_pattern_drops_tensorflow_noise_only(flow):
    import re

    c = load_config(flow["course"])
    assert c.IgnorePattern.enabled is True
    pattern = re.compile(c.IgnorePattern.pattern)
    noise = [
        "2025-11-25 16:58:01.123456: I tensorflow/core/util/port.cc:153] oneDNN custom "
        "operations are on. You may see slightly different numerical results",
        "W0000 00:00:1764089881.123456   12345 cuda_executor.cc:1228] failed call to cuInit",
        "I0000 00:00:1764089881.654321    4242 some_new_file.cc:12] any absl log line",
        "2025-11-25 16:58:01.123456: W external/local_xla/xla/service/x.cc:7] any TF line",
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "E0000 00:00:1764089881.654321   777 cuda_dnn.cc:8310] Unable to register cuDNN factory",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
        "TensorFlow with the appropriate compiler flags.",
    ]
    for line in noise:
        assert pattern.search(line + "\n"), line
    for line in ("Traceback (most recent call last):", "AssertionError: wrong answer",
                 "UserWarning: something the student should see", "ValueError: bad shape"):
        assert not pattern.search(line + "\n"), line


# ------------------------------------------------------------------ release
def test_release_strips_solutions_and_hidden_tests(flow):
    course = flow["course"]
    assert flow["steps"]["release"][0] == 0
    settings = coursemod.course_settings(course)
    outbound = Path(settings["exchange"]) / settings["course_id"] / "outbound" / ASSIGNMENT
    for folder in (coursemod.release_dir(course), outbound):
        assert coursemod.leaks(folder) == []
        text = (folder / "convlib" / "tiny.py").read_text()
        assert "raise NotImplementedError()" in text and "2 * x" not in text
        nb_text = (folder / "00_tiny.ipynb").read_text()
        assert "hidden-double-check" not in nb_text and "2(a+b)" not in nb_text


def test_release_refuses_to_publish_when_the_strip_hook_fails(tmp_path):
    # nbgrader only logs a failing post_convert_hook and exits 0: `release` must notice.
    course = tmp_path / "course"
    run_cli("course", "create", course, "--source", make_tiny_source(tmp_path / "src"))
    config = course / coursemod.CONFIG_NAME
    config.write_text(config.read_text().replace(
        'c.GenerateAssignment.post_convert_hook = "convbook.build.post_convert_hook"',
        'c.GenerateAssignment.post_convert_hook = "os.getcwd"'))     # runs, strips nothing
    code, out = run_cli("release", "--course", course)
    assert code == 1
    assert "LEAK     release/conv2d/convlib/tiny.py" in out
    assert not coursemod.release_dir(course).exists()
    settings = coursemod.course_settings(course)
    assert not (Path(settings["exchange"]) / settings["course_id"] / "outbound").exists()


# ------------------------------------------------------------------ collect
def collect_lines(flow):
    return flow["steps"]["collect_zips"][1].splitlines()


def line_for(lines, needle):
    hits = [ln for ln in lines if needle in ln]
    assert len(hits) == 1, (needle, lines)
    return hits[0]


def test_collect_zips_reports_every_file_in_one_line(flow):
    code, out = flow["steps"]["collect_zips"]
    lines = collect_lines(flow)
    assert code == 1                                          # problems were reported
    assert line_for(lines, "README.txt").startswith("SKIPPED") and "not a .zip" in out
    assert "cannot derive a student id" in line_for(lines, "_nobody.zip")
    assert line_for(lines, "corrupt.zip").startswith("FAILED")
    assert "corrupt zip" in line_for(lines, "corrupt.zip")
    assert "nothing to grade" in line_for(lines, "empty.zip")
    dup = line_for(lines, "12345_2024-04-30T09-00-00.zip")
    assert dup.startswith("SKIPPED") and "superseded by 12345_2024-05-02T09-00-00.zip" in dup
    assert line_for(lines, "12345: ").startswith("OK")
    late = line_for(lines, "late: ")
    assert late.startswith("LATE") and ", 1 d 12 h 30 min after the deadline" in late
    assert "missing notebook(s) 01_tiny (scored 0)" in late
    assert line_for(lines, "stubs: ").startswith("OK")


def test_collect_zips_takes_the_latest_and_only_notebooks_and_convlib(flow):
    course = flow["course"]
    # The latest of the two 12345 zips (the solved one) was kept.
    assert (coursemod.submitted_dir(course, "12345") / "convlib" / "tiny.py").read_text() \
        == solved_tiny()
    late = coursemod.submitted_dir(course, "late")
    files = sorted(p.relative_to(late).as_posix() for p in late.rglob("*") if p.is_file())
    assert files == ["00_tiny.ipynb", "convlib/__init__.py", "convlib/tiny.py",
                     "timestamp.txt"]
    stubs = coursemod.submitted_dir(course, "stubs")        # files at the top of the zip
    assert (stubs / "00_tiny.ipynb").is_file() and (stubs / "convlib" / "tiny.py").is_file()
    # Nothing escaped the submission folders (zip-slip entries were ignored).
    for name in ("escape.py", "escape2.py"):
        assert not list(flow["base"].rglob(name))
    # Timestamps: from the file name, else the zip's modification time.
    assert collect.coursemod_timestamp(coursemod.submitted_dir(course, "12345")) == \
        dt.datetime(2024, 5, 2, 9, 0, tzinfo=dt.timezone.utc)
    assert collect.coursemod_timestamp(stubs).timestamp() == pytest.approx(BEFORE)


def test_collect_exchange(flow):
    code, out = flow["steps"]["collect_exchange"]
    line = line_for(out.splitlines(), "cheater: ")
    # the deadline the zips' collect recorded in the gradebook holds for the exchange too:
    # submitted now, the cheater is late (nbgrader's autograde will say so as well)
    assert line.startswith("LATE") and "after the deadline" in line, line
    assert "files autograde will drop: keras.py, numpy.py, sitecustomize.py" in line
    assert (coursemod.submitted_dir(flow["course"], "cheater") / "numpy.py").is_file()


# ------------------------------------------------------------------ autograde
def summary_line(flow, student, step="autograde"):
    return line_for(flow["steps"][step][1].splitlines(), f"{student} ")


def test_autograde_scores(flow):
    got = scores(flow["course"])
    assert got["12345"] == (MAX_AUTO, MAX_AUTO)          # numeric student id works
    # late forgot 01_tiny: nbgrader scores that notebook 0, the summary says so.
    assert got["late"] == (MAX_AUTO - POINTS["check_triple"], MAX_AUTO)
    assert "MISSING notebook(s) scored 0: 01_tiny" in summary_line(flow, "late")
    # The stubs score 0: autograde did NOT copy the source (solution) tiny.py over the
    # student's (Autograde.exclude_overwriting), or they would score full marks.
    assert got["stubs"] == (0, MAX_AUTO)
    assert "ok       6 / 6 autograded" in summary_line(flow, "12345")
    assert "ok       0 / 6 autograded" in summary_line(flow, "stubs")


def test_written_answers_are_kept_and_everything_else_restored(flow):
    course = flow["course"]
    nb = autograded_nb(course, "12345")
    answer = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_linear"]
    assert answer[0].source == "GOOD-ANSWER: it distributes."
    with cli.gradebook(course) as gb:
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in POINTS:    # test cells run with the instructor's source: hidden tests in
                assert cell.source == gb.find_source_cell(gid, "00_tiny", ASSIGNMENT).source
                assert "BEGIN HIDDEN TESTS" in cell.source


def test_cheater_gains_nothing(flow):
    course = flow["course"]
    # Honest code: double (2) + triple (1). The edited test cell, the added cell and the
    # 100 points in the metadata must change nothing.
    assert scores(course)["cheater"] == (POINTS["check_double"] + POINTS["check_triple"], MAX_AUTO)
    nb = autograded_nb(course, "cheater")
    sources = [c.source for c in nb.cells]
    assert not any("edited by the cheater" in s or "call = lambda" in s for s in sources)
    assert len(nb.cells) == len(nbformat.read(str(coursemod.release_dir(course) / "00_tiny.ipynb"),
                                              as_version=4).cells)
    square = next(c for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "check_square")
    assert square.metadata["nbgrader"]["points"] == POINTS["check_square"]
    assert any(o.get("output_type") == "error" for o in square.outputs)
    # keras.py / numpy.py / sitecustomize.py were dropped before the kernel started (the
    # kernel imports numpy in a locked cell), reported, and never imported; the new module
    # inside convlib/ was kept (double uses it and scored).
    assert sorted(p.name for p in flow["markers"].iterdir()) == []
    line = summary_line(flow, "cheater")
    assert "dropped: keras.py, numpy.py, sitecustomize.py" in line
    assert "new convlib modules: convlib/helpers.py" in line
    kept = sorted(p.relative_to(coursemod.autograded_dir(course, "cheater")).as_posix()
                  for p in coursemod.autograded_dir(course, "cheater").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)
    assert kept == ["00_tiny.ipynb", "01_tiny.ipynb", "convlib/__init__.py",
                    "convlib/helpers.py", "convlib/tiny.py", "submission_secret.txt",
                    "timestamp.txt"]


def test_prune_folder_keeps_only_the_released_set(tmp_path):
    for rel in ("00_a.ipynb", "convlib/__init__.py", "convlib/new.py", "convlib/sub/deep.py",
                "keras.py", "numpy.py", "convbook/checks/basics.py", "convlib/data.bin",
                "timestamp.txt", "sub/01_b.ipynb", "data/table.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / "link.py").symlink_to("/etc/hostname")
    dropped = prune_folder(tmp_path, {"convlib/__init__.py", "data/table.csv"})
    assert dropped == ["convbook/checks/basics.py", "convlib/data.bin", "keras.py",
                       "link.py", "numpy.py", "sub/01_b.ipynb"]
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["00_a.ipynb", "convlib/__init__.py", "convlib/new.py",
                    "convlib/sub/deep.py", "data/table.csv", "timestamp.txt"]


def test_one_bad_submission_never_stops_the_others(flow):
    code, out = flow["steps"]["autograde"]
    assert code == 1                                          # something needs attention...
    assert "FAILED" in summary_line(flow, "badjson") and "JSON" in summary_line(flow, "badjson")
    assert "4 graded, 1 failed, 1 incomplete" in out          # ...but everyone else was graded
    assert not coursemod.autograded_dir(flow["course"], "badjson").exists()


def test_a_submission_that_never_finishes_is_killed(flow):
    import psutil

    code, out = flow["steps"]["autograde_slow"]
    assert code == 1
    line = summary_line(flow, "slow", "autograde_slow")
    assert "TIMEOUT" in line and f"killed after {flow['limit']:.0f} s" in line
    assert (flow["base"] / "slow-started").exists()           # it was killed mid-run
    assert not coursemod.autograded_dir(flow["course"], "slow").exists()
    # No process of that submission survived (the kernel runs in its own session).
    for proc in psutil.process_iter(["cmdline"]):
        assert "import convlib.tiny" not in " ".join(proc.info["cmdline"] or [])
    # The others' grades are untouched.
    got = scores(flow["course"])
    assert got["12345"] == (MAX_AUTO, MAX_AUTO) and got["stubs"] == (0, MAX_AUTO)


# ------------------------------------------------------------------ feedback
def test_feedback_has_no_hidden_tests(flow):
    course = flow["course"]
    code, out = flow["steps"]["feedback"]
    assert code == 0, out
    assert "Hidden tests checked: none in any feedback file." in out
    pages = sorted(Path(course, "feedback").rglob("*.html"))
    assert {p.parent.parent.name for p in pages} == {"12345", "stubs", "late", "cheater"}
    for page in pages:
        raw = page.read_text()
        text = cli.html_text(page)
        assert "HIDDEN TESTS" not in raw
        for line in HIDDEN_LINES:                  # not even in a traceback of a failed test
            assert line not in text and line.split("# ")[-1] not in raw
    stubs = cli.html_text(coursemod.feedback_dir(course, "stubs") / "00_tiny.html")
    assert "AssertionError" in stubs               # the failure itself is still shown


def test_feedback_is_released_to_the_exchange_for_exchange_submissions(flow):
    """`feedback --release`: the cheater submitted through the exchange, so its pages are
    published there (under its submission's secret); the zip students are told to be handed
    their HTML instead, and nothing else lands in the exchange."""
    course = flow["course"]
    code, out = flow["steps"]["feedback"]
    assert code == 0, out
    assert "cheater: 2 feedback page(s) released to the exchange" in out, out
    for student in ("12345", "stubs", "late"):
        assert f"{student}: feedback not released to the exchange (submitted as a zip" in out
    settings = coursemod.course_settings(course)
    released = sorted(Path(settings["exchange"], settings["course_id"], "feedback").glob("*.html"))
    assert len(released) == 2
    mine = {p.read_bytes() for p in coursemod.feedback_dir(course, "cheater").glob("*.html")}
    assert {p.read_bytes() for p in released} == mine


def test_feedback_leak_detector_notices_a_hidden_line(flow, tmp_path):
    course = flow["course"]
    page = next(Path(course, "feedback").rglob("*.html"))
    original = page.read_text()
    try:
        page.write_text(original + "<pre><span>" + HIDDEN_LINES[1].replace('"', "&quot;")
                        + "</span></pre>")
        assert [line for _, line in cli.feedback_leaks(course)] == [HIDDEN_LINES[1]]
    finally:
        page.write_text(original)


# ------------------------------------------------------------------ grades
def test_grades_csv(flow):
    code, out = flow["steps"]["grades"]
    assert code == 0, out
    with open(flow["base"] / "grades.csv") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    # slow was never graded to the end but has a submission record; badjson failed.
    assert set(rows) == {"12345", "stubs", "late", "badjson", "cheater", "slow"}
    assert rows["12345"]["status"] == "ok" and rows["badjson"]["status"] == "failed"
    assert rows["slow"]["status"] == "timeout"
    assert float(rows["12345"]["autograded"]) == MAX_AUTO
    assert float(rows["12345"]["00_tiny/check_square"]) == POINTS["check_square"]
    assert float(rows["cheater"]["00_tiny/check_square"]) == 0
    assert float(rows["cheater"]["00_tiny"]) == POINTS["check_double"]
    assert float(rows["cheater"]["01_tiny"]) == POINTS["check_triple"]
    assert float(rows["12345"]["max_total"]) == MAX_AUTO + 1       # + the written answer
    assert float(rows["late"]["seconds_late"]) == 36.5 * 3600
    assert float(rows["late"]["01_tiny"]) == 0
    assert float(rows["12345"]["seconds_late"]) == 0


def test_gradebook_is_intact(flow):
    course = flow["course"]
    db = course / "gradebook.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with cli.gradebook(course) as gb:
        assert sorted(s.id for s in gb.students) == sorted(
            ["12345", "stubs", "late", "badjson", "cheater", "slow"])
        assignment = gb.find_assignment(ASSIGNMENT)
        assert len(assignment.submissions) == 6
        assert sorted(nb.name for nb in assignment.notebooks) == ["00_tiny", "01_tiny"]
        graded = gb.find_submission(ASSIGNMENT, "12345")
        assert sum(len(nb.grades) for nb in graded.notebooks) == len(POINTS) + 1


# ------------------------------------------------------------------ a weak sandbox
WEAK = "uid" if sandbox.sandbox_info()["root"] else "limits"


@pytest.fixture(scope="module")
def weak_course(tmp_path_factory):
    """A released tiny course with one submission (runs on every machine: nothing graded)."""
    base = tmp_path_factory.mktemp("weak")
    course = base / "course"
    assert run_cli("course", "create", course, "--source", make_tiny_source(base / "src"))[0] == 0
    assert run_cli("release", "--course", course)[0] == 0
    rel = release_files(course)
    rel["convlib/tiny.py"] = solved_tiny().encode()
    (base / "lms").mkdir()
    write_zip(base / "lms" / "ada_conv2d.zip", rel)
    code, out = run_cli("collect", "--zips", base / "lms", "--course", course)
    assert code == 0, out
    return course


def test_weak_sandbox_is_refused_by_autograde(weak_course, monkeypatch):
    monkeypatch.setenv("CONVBOOK_SANDBOX", WEAK)
    code, out = run_cli("autograde", "--course", weak_course)
    assert code == 2, out
    assert f"refuses the '{WEAK}' sandbox" in out and "bubblewrap" in out, out
    assert "--allow-unsafe-sandbox" in out, out
    assert not coursemod.autograded_dir(weak_course, "ada").exists()     # nothing graded


def test_weak_sandbox_override_is_recorded(weak_course, monkeypatch, tmp_path):
    monkeypatch.setenv("CONVBOOK_SANDBOX", WEAK)
    code, out = run_cli("autograde", "--allow-unsafe-sandbox", "--course", weak_course)
    assert code == 0, out
    assert "WARNING" in out and "UNSAFE" in out, out
    run = json.loads((weak_course / "reports" / "autograde" / "run.json").read_text())
    assert run["sandbox"].startswith(f"{WEAK} (UNSAFE")
    assert run_cli("grades", "--csv", tmp_path / "g.csv", "--course", weak_course)[0] == 0
    with open(tmp_path / "g.csv") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["student_id"] == "ada" and float(row["autograded"]) == MAX_AUTO
    assert row["sandbox"].startswith(f"{WEAK} (UNSAFE: allowed by --allow-unsafe-sandbox)")
