"""The book in parts: a term of several nbgrader assignments (convbook.parts, the CLI's
--assignment / --chapters / --deadline).

One course runs a whole term on the real book (one short chapter per part, to stay fast):
part1 (chapter 00, deadline passed) is released, collected from LMS zips (one on time, one
late, one zipping the whole workspace) and autograded; then the author writes chapter 02 (it
was not in the book when the course started), the instructor releases it as part2, which gives
chapter 00's reference code (part1 is past its deadline), and grades it. Grades and the report
come per assignment and for the term.
"""
import contextlib
import csv
import io
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from convbook import cli, demo, parts
from convbook.course import CourseError
from convbook.exercises import region_chapters, solution_regions

from conftest import require_sound_sandbox

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
pytestmark = pytest.mark.xdist_group("parts")

BEFORE, AFTER = "2020-01-01T09-00-00", "2020-01-01T11-00-00"   # the zips' timestamps
DEADLINE = "2020-01-01T10:00"                                   # part1's, long passed


def run_cli(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue()


# ------------------------------------------------------------------ pure functions
def test_parse_chapters_accepts_ranges_and_lists_and_says_what_is_wrong():
    book = {f"{n:02d}": f"{n:02d}_x" for n in range(17)}
    assert parts.parse_chapters("00-02,5", book) == ["00", "01", "02", "05"]
    assert parts.parse_chapters(" 7 ", book) == ["07"]
    for spec, words in [("3-x", "not a chapter number"), ("17", "not in the book"),
                        ("05-03", "runs backwards"), ("", "not a chapter number")]:
        with pytest.raises(CourseError, match=words) as info:
            parts.parse_chapters(spec, book)
        assert "00–16" in str(info.value) or "backwards" in str(info.value)


def test_assignment_names_are_checked():
    assert parts.check_name("part-1_a") == "part-1_a"
    for bad in ("", "a b", "../x", "-x", "x" * 65):
        with pytest.raises(CourseError, match="not allowed"):
            parts.check_name(bad)


def test_give_regions_keeps_the_named_functions_code_and_only_theirs():
    text = (SOLUTIONS / "convlib" / "correlate.py").read_text()
    given = parts.give_regions(text, {"correlate2d"})
    assert given.count("### BEGIN SOLUTION") == text.count("### BEGIN SOLUTION") - 1
    assert given.count("### END SOLUTION") == text.count("### END SOLUTION") - 1
    # every line of code is still there, only the two marker lines went
    assert len(text.splitlines()) - len(given.splitlines()) == 2
    compile(given, "correlate.py", "exec")


def test_every_region_belongs_to_a_chapter():
    chapters = region_chapters()
    assert set(chapters) == solution_regions()
    assert chapters["correlate", "correlate2d"] == "00"
    assert chapters["padding", "same_padding_amounts"] == "02"
    assert chapters["layer", "Conv2D.__call__"] == "14"


# ------------------------------------------------------------------ a term, end to end
def student_folder(release, workdir, name, modules_from_solutions, wrong=False):
    """A student's work on a part: the release, some convlib modules written (the
    reference's), correlate2d flipped if `wrong`."""
    folder = workdir / name
    shutil.copytree(release, folder)
    for module in modules_from_solutions:
        text = (SOLUTIONS / "convlib" / module).read_text()
        if wrong and module == "correlate.py":
            text = demo.break_correlate2d(text)
        (folder / "convlib" / module).write_text(text)
    return folder


def zip_folder(folder, path, extra=None):
    with zipfile.ZipFile(path, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    require_sound_sandbox("grading a term of parts")
    tmp = tmp_path_factory.mktemp("term")
    book = tmp / "book"                       # the book when the course starts: 00 and 01
    shutil.copytree(SOLUTIONS, book, ignore=shutil.ignore_patterns(
        "__pycache__", ".ipynb_checkpoints", "[0-9][0-9]_*.ipynb"))
    for nb in ("00_what_conv2d_computes", "01_strides"):
        shutil.copy2(SOLUTIONS / f"{nb}.ipynb", book)
    course = tmp / "course"
    log = {}

    def step(name, *argv):
        start = time.monotonic()
        log[name] = run_cli(*argv, "--course", course) + (time.monotonic() - start,)
        return log[name]

    log["create"] = run_cli("course", "create", course, "--source", book)
    step("release1", "release", "--assignment", "part1", "--chapters", "00",
         "--deadline", DEADLINE)
    log["too-early"] = run_cli("release", "--course", course, "--assignment", "part0",
                               "--chapters", "02")           # chapter 02 is not written yet

    lms = tmp / "lms1"
    lms.mkdir()
    work = tmp / "work"
    release1 = course / "release" / "part1"
    s1 = student_folder(release1, work / "p1", "s1", ["correlate.py"])
    s2 = student_folder(release1, work / "p1", "s2", ["correlate.py"], wrong=True)
    # s1 zips the whole workspace: a chapter of another part rides along
    zip_folder(s1, lms / f"s1_{BEFORE}.zip",
               extra={"01_strides.ipynb": (SOLUTIONS / "01_strides.ipynb").read_bytes()})
    zip_folder(s2, lms / f"s2_{AFTER}.zip")
    step("collect1", "collect", "--zips", lms, "--assignment", "part1")
    step("grade1", "autograde", "--jobs", "2", "--assignment", "part1")

    # The author writes chapter 02; the course, already running, releases it as part2.
    shutil.copy2(SOLUTIONS / "02_padding.ipynb", book)
    step("release2", "release", "--assignment", "part2", "--chapters", "02")
    lms2 = tmp / "lms2"
    lms2.mkdir()
    release2 = course / "release" / "part2"
    # s2 keeps the given correlate.py and writes only chapter 02's pieces
    for s in ("s1", "s2"):
        folder = student_folder(release2, work / "p2", s, ["padding.py", "output_size.py"])
        zip_folder(folder, lms2 / f"{s}_part2.zip")
    step("collect2", "collect", "--zips", lms2, "--assignment", "part2")
    step("ambiguous", "autograde")                   # two assignments: which one?
    step("grade2", "autograde", "--jobs", "2", "--assignment", "part2")
    step("term-grades", "grades", "--csv", tmp / "term.csv")
    step("part1-grades", "grades", "--csv", tmp / "part1.csv", "--assignment", "part1")
    step("report", "report")
    step("feedback2", "feedback", "--assignment", "part2")
    return {"course": course, "log": log, "tmp": tmp, "book": book}


def ok(term, name):
    code, out, *_ = term["log"][name]
    assert code == 0, out
    return out


def read_csv(path):
    with open(path) as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def max_points(course, assignment):
    with cli.gradebook(course) as gb:
        found = gb.find_assignment(assignment)
        return sum(c.max_score for nb in found.notebooks for c in nb.grade_cells
                   if c.cell_type == "code")


def test_a_part_holds_its_chapters_and_gives_earlier_code_only_after_their_deadline(term):
    course = term["course"]
    out = ok(term, "release1")
    assert "chapters: 00" in out and "deadline: 2020-01-01 10:00 UTC" in out
    assert sorted(p.name for p in (course / "release" / "part1").glob("*.ipynb")) == [
        "00_what_conv2d_computes.ipynb"]
    out = ok(term, "release2")
    # chapters 00 (part1, past its deadline) and 01 (in no part) come as the reference
    assert "reference code given for chapter(s) 00, 01 (4 functions)" in out, out
    release2 = course / "release" / "part2"
    assert sorted(p.name for p in release2.glob("*.ipynb")) == ["02_padding.ipynb"]
    # chapter 00's functions are the reference in part2, stubs in part1
    assert "NotImplementedError" in (course / "release/part1/convlib/correlate.py").read_text()
    assert "NotImplementedError" not in (release2 / "convlib/correlate.py").read_text()
    assert "NotImplementedError" in (release2 / "convlib/padding.py").read_text()
    plan = parts.read_plan(course)
    assert plan["part2"]["given"] == ["correlate.conv2d_valid", "correlate.correlate2d",
                                      "dilation.subsample", "output_size.output_length"]
    code, out = term["log"]["too-early"]
    assert code == 2 and "chapter 02 is not in the book" in out, out


def test_giving_code_of_a_part_not_yet_due_is_refused(term, tmp_path):
    course = term["course"]
    with cli.gradebook(course) as gb:                 # part2 has no deadline
        due = {a.name: a.duedate for a in gb.assignments}
    assert due["part2"] is None
    blocked = parts.blocking_deadlines(course, "part3", ["02"], due)
    assert [b[0] for b in blocked] == ["part2"]
    assert parts.blocking_deadlines(course, "part3", ["00"], due) == []   # part1 is past due


def test_collect_per_part_flags_late_and_leaves_other_chapters_out(term):
    out = term["log"]["collect1"][1]
    assert "s1:" in out and "notebook(s) not in part1 left out: 01_strides" in out, out
    assert "LATE     s2:" in out and "after the deadline" in out, out
    submitted = term["course"] / "submitted" / "s1" / "part1"
    assert not (submitted / "01_strides.ipynb").exists()


def test_each_part_is_graded_on_its_own(term):
    course = term["course"]
    ok(term, "grade1")
    ok(term, "grade2")
    code, out, *_ = term["log"]["ambiguous"]
    assert code == 2 and "several assignments (part1, part2)" in out, out
    top1, top2 = max_points(course, "part1"), max_points(course, "part2")
    scores = {(a, s): cli.submission_scores(course, s, a)[0]
              for a in ("part1", "part2") for s in ("s1", "s2")}
    assert scores["part1", "s1"] == top1
    assert scores["part1", "s2"] == top1 - 2            # the flipped kernel, chapter 00 only
    # part2: s2 kept the given correlate.py, so chapter 02's end-to-end check passes for both
    assert scores["part2", "s1"] == scores["part2", "s2"] == top2
    for a in ("part1", "part2"):
        assert (course / "reports" / a / "checks" / "s1.json").is_file()


def test_term_grades_and_one_assignments_grades(term):
    course = term["course"]
    ok(term, "term-grades")
    rows = read_csv(term["tmp"] / "term.csv")
    top1, top2 = max_points(course, "part1"), max_points(course, "part2")
    assert float(rows["s1"]["term_autograded"]) == top1 + top2
    assert float(rows["s2"]["term_autograded"]) == top1 - 2 + top2
    assert float(rows["s1"]["part1/seconds_late"]) == 0
    assert float(rows["s2"]["part1/seconds_late"]) == 3600
    assert float(rows["s1"]["term_max"]) > top1 + top2          # the written points count too
    ok(term, "part1-grades")
    cells = read_csv(term["tmp"] / "part1.csv")
    assert float(cells["s2"]["00_what_conv2d_computes/ch00-check-01"]) == 0
    assert float(cells["s1"]["00_what_conv2d_computes/ch00-check-01"]) > 0


def test_term_report_and_each_parts_report(term):
    course = term["course"]
    out = ok(term, "report")
    page = course / "reports" / "term" / "term-report.html"
    assert page.is_file(), out
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 1
    words = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"\bs[12]\b", words), "a student id on the term page"
    for a in ("part1", "part2"):
        link = f"../{a}/class/class-report.html"
        assert f'href="{link}"' in text
        assert (page.parent / link).resolve().is_file()
    part1 = (course / "reports" / "part1" / "class" / "class-report.html").read_text()
    assert "Class report: part1" in part1 and "ch00-check-01" in part1
    assert "02_padding" not in part1
    # the late submission is the one that needs the instructor, with its delay
    attention = part1[part1.index('id="attention"'):]
    assert "<td>s2</td><td>late by 1.0 h</td>" in attention, attention
    assert "<td>s1</td>" not in attention


def test_feedback_per_part(term):
    out = ok(term, "feedback2")
    course = term["course"]
    for s in ("s1", "s2"):
        assert sorted(p.name for p in (course / "feedback" / s / "part2").glob("*.html")) == [
            "02_padding.html"]
    assert not (course / "feedback" / "s1" / "part1").exists()
    assert "Hidden tests checked: none" in out
