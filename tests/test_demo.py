"""`python -m convbook.demo`: the real chapters, a simulated class, exact scores.

Points are read from the source notebooks' nbgrader metadata, never hard-coded:
full = every autograded point, stubs = 0, one_wrong = all but the points of the one check
that calls the broken function, cheater = exactly what its honest code (one_wrong's) earns.
"""
import csv
import sqlite3
from pathlib import Path

import nbformat
import pytest
from conftest import require_sound_sandbox

from convbook import cli, demo, sandbox
from convbook import course as coursemod

pytestmark = pytest.mark.xdist_group("demo")


def autograded_points(course):
    """{grade_id: (points, source)} of every autograded (code) test cell of the source."""
    cells = {}
    for path in sorted(coursemod.source_dir(course).glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade"):
                cells[meta["grade_id"]] = (float(meta["points"]), cell.source)
    return cells


def written_answers(course):
    return sum(1 for path in coursemod.source_dir(course).glob("*.ipynb")
               for cell in nbformat.read(str(path), as_version=4).cells
               if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade"))


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    require_sound_sandbox("the demo")
    workdir = tmp_path_factory.mktemp("demo")
    out = demo.run_demo(workdir, jobs=2)
    print("demo timings (s):", out["timings"])
    return out


@pytest.fixture(scope="module")
def grades(result):
    with open(result["csv"]) as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def test_every_step_succeeds(result):
    assert result["codes"] == {"create": 0, "release": 0, "collect": 0, "autograde": 0,
                               "feedback": 0, "grades": 0}


def test_exact_scores(result, grades):
    cells = autograded_points(result["course"])
    total = sum(points for points, _ in cells.values())
    # The one check that exercises the broken function (correlate2d): no other check, and
    # no other convlib function, calls it.
    broken = [gid for gid, (_, src) in cells.items() if demo.BROKEN_CHECK + "(" in src]
    assert len(broken) == 1 and broken == [result["broken_cell"]]
    broken_points = cells[broken[0]][0]
    assert total > broken_points > 0
    auto = {s: float(row["autograded"]) for s, row in grades.items()}
    assert float(grades["full"]["max_autograded"]) == total
    assert auto == {"full": total, "stubs": 0.0, "one_wrong": total - broken_points,
                    "cheater": total - broken_points}
    # Cell by cell: one_wrong loses exactly the broken check, full loses nothing.
    for gid, (points, _) in cells.items():
        column = next(c for c in grades["full"] if c.endswith("/" + gid))
        assert float(grades["full"][column]) == points
        assert float(grades["stubs"][column]) == 0
        assert float(grades["one_wrong"][column]) == (0 if gid in broken else points)
        assert float(grades["cheater"][column]) == float(grades["one_wrong"][column])


def test_the_feedback_names_the_misconception(result):
    text = demo.check_feedback(result["course"], "one_wrong", result["broken_cell"])
    assert text.startswith("CheckFailure") and "convolution" in text


def test_cheating_attempts_all_failed(result):
    course = result["course"]
    assert result["cheat_written"] == []            # nothing written outside its scratch
    for path in demo.cheat_targets(course, result["token"]):
        assert not path.exists()
    assert result["markers"] == []                  # keras.py/numpy.py/convbook/ never imported
    assert result["restore"]["dropped_files"] == [
        "convbook/__init__.py", "convbook/checks/__init__.py", "convbook/checks/basics.py",
        "keras.py", "numpy.py"]
    # The test cell the cheater edited ran with the instructor's source; the added cell is gone.
    nb = nbformat.read(str(next(coursemod.autograded_dir(course, "cheater").glob("00_*.ipynb"))),
                       as_version=4)
    assert not any("assert True  # the cheater's edit" in c.source or "_b.check_correlate2d" in c.source
                   for c in nb.cells)


def test_gradebook_holds_the_class_and_is_intact(result):
    course = result["course"]
    with sqlite3.connect(course / "gradebook.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    cells = autograded_points(course)
    with cli.gradebook(course) as gb:
        assert sorted(s.id for s in gb.students) == sorted(demo.STUDENTS)
        assignment = gb.find_assignment(coursemod.ASSIGNMENT)
        assert len(assignment.submissions) == len(demo.STUDENTS)
        n_grade_cells = sum(len(nb.grade_cells) for nb in assignment.notebooks)
        assert n_grade_cells == len(cells) + written_answers(course)
        for student in demo.STUDENTS:
            sub = gb.find_submission(coursemod.ASSIGNMENT, student)
            assert len(sub.notebooks) == len(assignment.notebooks)
            assert sum(len(nb.grades) for nb in sub.notebooks) == n_grade_cells


def test_feedback_exists_without_hidden_tests(result):
    course = result["course"]
    pages = sorted((course / "feedback").rglob("*.html"))
    chapters = coursemod.notebook_names(coursemod.source_dir(result["course"]))
    assert len(pages) == len(chapters) * len(demo.STUDENTS)
    assert cli.feedback_leaks(course) == []
    assert cli.hidden_test_lines(course)            # there were hidden tests to leak


def test_every_student_fetches_their_own_feedback_from_the_exchange(result):
    """`feedback --release` publishes the pages; `nbgrader fetch_feedback` (the student's side)
    finds each student's own, one page per chapter, the same page the instructor has."""
    course = result["course"]
    chapters = coursemod.notebook_names(coursemod.source_dir(course))
    for student in demo.STUDENTS:
        fetched = result["fetched_feedback"][student]
        assert fetched == sorted(f"{name}.html" for name in chapters), (student, fetched)
        folder = Path(course).parent / "students" / student / coursemod.ASSIGNMENT / "feedback"
        for page in folder.glob("*/*.html"):
            mine = coursemod.feedback_dir(course, student) / page.name
            assert page.read_bytes() == mine.read_bytes(), (student, page.name)
    # one_wrong's page for chapter 00 is its own (the flipped kernel), not full's
    page = next((Path(course).parent / "students" / "one_wrong" / coursemod.ASSIGNMENT
                 / "feedback").glob("*/00_*.html"))
    assert "flipped" in page.read_text()


def test_demo_fails_when_a_cheat_gains_or_grading_is_refused():
    good = {"refused": False, "codes": {"release": 0, "autograde": 0, "feedback": 0},
            "gained": 0, "cheat_written": [], "markers": []}
    assert demo.demo_succeeded(good)
    assert not demo.demo_succeeded(dict(good, gained=2))
    assert not demo.demo_succeeded(dict(good, cheat_written=["/tmp/x"]))
    assert not demo.demo_succeeded(dict(good, markers=["keras-imported"]))
    assert not demo.demo_succeeded(dict(good, refused=True, gained=None))


def test_the_demo_records_the_sandbox(result, grades):
    mode = sandbox.sandbox_info()["mode"]
    assert mode in sandbox.SOUND_MODES
    assert {row["sandbox"] for row in grades.values()} == {mode}


def test_check_records_name_the_misconception(result):
    import json

    records = json.loads((result["course"] / "reports" / "checks" / "one_wrong.json").read_text())
    failed = [cell for cells in records["notebooks"].values() for cell in cells
              if cell["status"] != "passed"]
    assert [c["cell"] for c in failed] == [result["broken_cell"]]
    assert failed[0]["failure"]["misconception"] == "basics.flipped"
    assert failed[0]["failure"]["kind"] == "wrong_values" and failed[0]["points"] > 0
