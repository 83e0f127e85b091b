"""`python -m convbook.demo`: the real chapters, a simulated class, exact scores.

Points are read from the source notebooks' nbgrader metadata, never hard-coded:
full = every autograded point, stubs = 0, one_wrong = all but the points of the one check
that calls the broken function, cheater = exactly what its honest code (one_wrong's) earns.
The mistakes-NN students (convbook.mistakes.plan) together make every misconception the
checks recognise: each is told exactly the misconceptions planned for it, and the class
report counts them exactly.
"""
import collections
import csv
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest
from conftest import require_sound_sandbox

from convbook import cli, demo, mistakes, sandbox
from convbook import course as coursemod
from convbook.mistakes import plan

ORIGINAL = demo.ORIGINAL_STUDENTS

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


def cell_of_check(course):
    """{check function name: grade_id of the cell that calls it} (one check per cell)."""
    out = {}
    for gid, (_, src) in autograded_points(course).items():
        for name in re.findall(r"\bchecks\.(check_\w+)\(", src):
            out[name] = gid
    return out


def planned_recognitions(course, student):
    """{(grade_id, misconception id)} a mistakes-NN student must be told."""
    cells = cell_of_check(course)
    return {(cells[check.split(".", 1)[1]], mid)
            for check, mid in plan.recognitions(demo.MISTAKES_PLAN[student])}


def planned_class_misconceptions(course, broken_cell):
    """{(misconception id, grade_id): students}: one_wrong and cheater's flipped kernel, and
    every mistakes-NN student's plan."""
    counts = collections.Counter({("basics.flipped", broken_cell): 2})
    for student in demo.MISTAKES_PLAN:
        counts.update((mid, cell) for cell, mid in planned_recognitions(course, student))
    return dict(counts)


def failed_cells(records, student):
    """{grade_id: failure record} of the cells a student failed (not passed)."""
    return {c["cell"]: c.get("failure") or {} for cells in records[student]["notebooks"].values()
            for c in cells if c["status"] != "passed"}


def unmatched_by_kind(failed, notebook_of):
    """The class report's "unmatched" entries that {student: failed_cells} should give:
    {kind: {"failures", "students", "cells": {"<notebook>/<cell>": count}}}."""
    kinds = {}
    for student, cells in failed.items():
        for gid, failure in cells.items():
            if not failure.get("misconception"):
                kind = kinds.setdefault(failure["kind"], {"failures": 0, "students": set(),
                                                          "cells": collections.Counter()})
                kind["failures"] += 1
                kind["students"].add(student)
                kind["cells"][f"{notebook_of[gid]}/{gid}"] += 1
    return {k: {"failures": v["failures"], "students": len(v["students"]),
                "cells": dict(sorted(v["cells"].items()))} for k, v in kinds.items()}


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
                               "feedback": 0, "grades": 0, "report": 0}
    assert result["unrecognised"] == []          # every misconception was made and named


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
    assert sorted(auto) == sorted(demo.STUDENTS)
    assert {s: auto[s] for s in ORIGINAL} == {
        "full": total, "stubs": 0.0, "one_wrong": total - broken_points,
        "cheater": total - broken_points}
    # A mistakes-NN student loses exactly the cells its records say it failed, which include
    # every cell planned to name one of its misconceptions.
    records = _check_records(result["course"])
    failed = {s: failed_cells(records, s) for s in demo.MISTAKES_PLAN}
    for student in demo.MISTAKES_PLAN:
        planned = {cell for cell, _ in planned_recognitions(result["course"], student)}
        assert planned and planned <= failed[student].keys(), student
        assert auto[student] == total - sum(cells[c][0] for c in failed[student]), student
    # Cell by cell: one_wrong loses exactly the broken check, full loses nothing.
    for gid, (points, _) in cells.items():
        column = next(c for c in grades["full"] if c.endswith("/" + gid))
        assert float(grades["full"][column]) == points
        assert float(grades["stubs"][column]) == 0
        assert float(grades["one_wrong"][column]) == (0 if gid in broken else points)
        assert float(grades["cheater"][column]) == float(grades["one_wrong"][column])
        for student in demo.MISTAKES_PLAN:
            assert float(grades[student][column]) == (0 if gid in failed[student] else points)


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
    assert not demo.demo_succeeded(dict(good, unrecognised=["basics.flipped"]))


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


# ------------------------------------------------------------------ the class report
def _check_records(course):
    import json

    return {path.stem: json.loads(path.read_text())
            for path in (Path(course) / "reports" / "checks").glob("*.json")}


def _section(page, name):
    import html
    import re

    body = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _names(text, students=demo.STUDENTS):
    import re

    return {s for s in students if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text)}


def test_the_class_report_counts_the_simulated_class(result):
    from convbook import report
    from convbook.checks.basics import FLIPPED

    course = result["course"]
    assert result["codes"]["report"] == 0
    assert result["report"].is_file() and result["report_csv"].is_file()
    assert result["report"].parent == course / "reports" / "class"
    cells = autograded_points(course)
    total = sum(points for points, _ in cells.values())
    broken, broken_points = result["broken_cell"], cells[result["broken_cell"]][0]
    # What the records say each student did: full passes all, stubs implements nothing,
    # one_wrong and cheater fail the broken cell only, mistakes-NN fail the cells of
    # `failed` (their plan's and any that call a piece they got wrong; see the test below).
    records = _check_records(course)
    outcome = {s: {c["cell"]: c for cs in r["notebooks"].values() for c in cs}
               for s, r in records.items()}
    assert sorted(outcome) == sorted(demo.STUDENTS)
    assert all(outcome[s].keys() == cells.keys() for s in demo.STUDENTS)
    assert all(c["status"] == "passed" for c in outcome["full"].values())
    assert all(c["failure"]["kind"] == "not_implemented" for c in outcome["stubs"].values())
    failed = {s: failed_cells(records, s) for s in demo.MISTAKES_PLAN}
    assert not any(f.get("kind") == "not_implemented" for fs in failed.values()
                   for f in fs.values())
    honest = 3 + len(demo.MISTAKES_PLAN)          # students who wrote every function

    data = report.class_report(course)
    assert data["students"] == len(demo.STUDENTS)
    mistakes_scores = [total - sum(cells[c][0] for c in fs) for fs in failed.values()]
    assert data["scores"]["assignment"] == {
        "max": total, "scores": sorted([0.0, total - broken_points, total - broken_points, total]
                                       + mistakes_scores)}
    for nb, chapter in data["scores"]["chapters"].items():
        assert len(chapter["scores"]) == len(demo.STUDENTS) and min(chapter["scores"]) == 0
    assert sum(c["max"] for c in data["scores"]["chapters"].values()) == total
    by_cell = {row["cell"]: row for row in data["checks"]}
    assert by_cell.keys() == cells.keys()
    for gid, (points, _) in cells.items():
        wrong = (2 if gid == broken else 0) + sum(gid in fs for fs in failed.values())
        assert by_cell[gid] == dict(by_cell[gid], points=points, attempted=honest,
                                    passed=honest - wrong, failed=wrong, not_implemented=1,
                                    not_graded=0), gid
    # Recognised misconceptions: exactly the plan (and one_wrong's and cheater's flipped
    # kernel), each with the sentence its check defines; every one the checks define.
    planned = planned_class_misconceptions(course, broken)
    assert {(m["misconception"], m["cell"]): m["students"]
            for m in data["misconceptions"]} == planned
    defined = mistakes.defined_misconceptions()
    assert {m["misconception"] for m in data["misconceptions"]} == defined.keys()
    assert all(m["sentence"] == defined[m["misconception"]].text for m in data["misconceptions"])
    assert planned["basics.flipped", broken] >= 2 and defined["basics.flipped"] == FLIPPED
    # Unmatched failures: stubs' not-implemented functions, one per check cell; and the
    # mistakes-NN students' failures that no misconception names (a cell calling a piece
    # they got wrong), counted from their records.
    expected = {"not_implemented": {
        "failures": len(cells), "students": 1,
        "cells": {f"{row['notebook']}/{row['cell']}": 1 for row in data["checks"]}}}
    notebook_of = {row["cell"]: row["notebook"] for row in data["checks"]}
    expected.update(unmatched_by_kind(failed, notebook_of))
    assert data["unmatched"] == dict(sorted(expected.items()))
    # Needs the instructor: only the cheater (its files were dropped); ids only here.
    assert [a["student"] for a in data["attention"]] == ["cheater"]
    assert data["attention"][0]["problems"] == [
        "files dropped before grading: " + ", ".join(result["restore"]["dropped_files"])]
    # Written answers: every question answered by everyone but stubs.
    assert len(data["written"]) == written_answers(course) > 0
    assert {w["students"] for w in data["written"]} == {honest}

    with open(result["report_csv"]) as fh:
        rows = {row["cell"]: row for row in csv.DictReader(fh)}
    assert rows.keys() == cells.keys()
    for gid, row in rows.items():
        assert row["failed"] == str(by_cell[gid]["failed"])
        named = sorted(f"{mid}: {n}" for (mid, cell), n in planned.items() if cell == gid)
        assert sorted(filter(None, row["misconceptions"].split("; "))) == named, gid
    assert {r["not_implemented"] for r in rows.values()} == {"1"}


def test_each_mistakes_student_is_told_exactly_its_plan(result):
    """Every mistakes-NN student: each planned misconception is named in its cell, nothing
    else is named, and any other failure is in a cell whose check calls a piece the student
    got wrong (convbook.mistakes.plan.USES) — never a misconception, never a crash."""
    course = result["course"]
    records = _check_records(course)
    cells = cell_of_check(course)
    for student, keys in demo.MISTAKES_PLAN.items():
        failed = failed_cells(records, student)
        told = {(gid, f["misconception"]) for gid, f in failed.items() if f.get("misconception")}
        assert told == planned_recognitions(course, student), student
        may_fail = {cells[check.split(".", 1)[1]] for check in plan.affected_checks(keys)}
        unexplained = {gid: f.get("kind") for gid, f in failed.items()
                       if not f.get("misconception") and gid not in may_fail}
        assert unexplained == {}, (student, unexplained)


def test_the_plan_covers_every_misconception_without_clashes():
    """The plan alone (no demo run): every misconception the checks define is planned for a
    student; no student has two wrong bodies for one target, two entries graded by one check,
    or an entry whose check calls another entry's wrong piece."""
    entries = mistakes.catalogue()
    planned = set()
    for student, keys in demo.MISTAKES_PLAN.items():
        assert student.startswith(plan.STUDENT_PREFIX) and keys, student
        told = plan.recognitions(keys)
        planned |= {mid for _, mid in told}
        targets = [(entries[k].module, entries[k].target) for k in keys]
        assert len(set(targets)) == len(targets), student
        checks = [check for key in keys for check, _ in plan.recognitions([key])]
        assert len(set(checks)) == len(checks), student
        for key in keys:
            others = set(targets) - {(entries[key].module, entries[key].target)}
            for check, _ in plan.recognitions([key]):
                assert not plan.USES.get(check, set()) & others, (student, key, check)
    assert planned == mistakes.defined_misconceptions().keys()
    # Each student costs ~25 s of autograde: no more than a few above the least possible.
    assert len(plan.conflicting_pieces()) <= len(demo.MISTAKES_PLAN) <= len(
        plan.conflicting_pieces()) + 3


def test_the_class_report_names_students_only_where_they_need_attention(result, monkeypatch):
    import matplotlib.text

    from convbook import report

    page = result["report"].read_text()
    assert "src=\"http" not in page and "<link" not in page      # self-contained
    # (the misconceptions' sentences are the checks' text, where "full" may be a word)
    sentences = sorted((m.text for m in mistakes.defined_misconceptions().values()), key=len)
    for section in ("scores", "checks", "misconceptions", "written"):
        text = _section(page, section)
        for sentence in reversed(sentences):
            text = text.replace(sentence, " ")
        assert _names(text) == set(), section
    assert _names(_section(page, "attention")) == {"cheater"}
    assert not _names(result["report_csv"].read_text())
    # The figures: every text drawn (titles, labels, ticks) is free of student ids.
    texts = []

    def collect(fig):
        texts.extend(t.get_text() for t in fig.findobj(matplotlib.text.Text))
        return ""

    monkeypatch.setattr(report, "_png", collect)
    figures = report.score_figures(report.class_report(result["course"])["scores"])
    assert set(figures) == {"assignment", "chapters"} and texts
    assert not _names(" ".join(texts))


def test_the_class_report_opens_in_a_browser(result):
    from test_browser_lab import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    shot = Path(__file__).resolve().parents[1] / "test-artifacts" / "class-report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(result["report"].as_uri())
            images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert len(images) == 2 and all(done and width > 0 for done, width in images), images
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert shot.stat().st_size > 0


def test_report_before_autograde_says_so(tmp_path, capsys):
    course = tmp_path / "course"
    assert cli.main(["course", "create", str(course)]) == 0
    capsys.readouterr()
    assert cli.main(["report", "--course", str(course)]) == 1
    out = capsys.readouterr().out
    assert "autograded yet" in out and "run `autograde` first" in out
    assert not (course / "reports" / "class" / "class-report.html").exists()
