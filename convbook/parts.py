"""The book in parts: several nbgrader assignments of a few chapters each, over a term.

    python -m convbook.cli release --assignment part1 --chapters 00-05 --deadline 2026-12-07T23:59
    python -m convbook.cli release --assignment part2 --chapters 06-12 --deadline ...

A part's assignment folder holds its chapters' notebooks and the whole `convlib/`. The pieces
of convlib its chapters ask for are stubs, as are those of later chapters. The pieces of
*earlier* chapters that are not in the part come as the reference code, so that a student who
missed one in part 1 is not stuck in part 2, and every check of the part grades only what the
part asks for. Giving that code away is only allowed once every released assignment that grades
it is past its deadline; otherwise (or with `keep_stubs`) they stay stubs too, and students
bring their own from the earlier part's folder (convbook.carry).

A part is staged (copied into `<course>/source/<name>/`) from the book's solutions/ when it is
first released, and never restaged: a chapter written later goes into a new part, and the
parts already running keep exactly what their students fetched. What each part holds is
written down in `<course>/parts.json`.
"""
import ast
import datetime as dt
import json
import re
import shutil
from pathlib import Path

from .course import CourseError, copy_source
from .exercises import region_chapters
from .layout import ASSIGNMENT, SOLUTIONS, source_dir

PARTS_NAME = "parts.json"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def book_chapters(solutions=SOLUTIONS):
    """{"00": "00_what_conv2d_computes", ...}: the chapter notebooks of a solutions/ folder."""
    return {p.stem[:2]: p.stem for p in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb"))}


def check_name(name):
    if not NAME.fullmatch(name or ""):
        raise CourseError(f"assignment name {name!r} is not allowed: use letters, digits, '-' "
                          "and '_' (at most 64, starting with a letter or digit), e.g. part1")
    return name


def parse_chapters(spec, available):
    """"00-05,07" -> ["00", ..., "05", "07"], each a chapter of `available` (sorted numbers)."""
    known = sorted(available)
    span = f"{known[0]}–{known[-1]}" if known else "none"
    chosen = set()
    for item in (spec or "").split(","):
        item = item.strip()
        m = re.fullmatch(r"(\d{1,2})(?:-(\d{1,2}))?", item)
        if not m:
            raise CourseError(f"--chapters {spec!r}: {item!r} is not a chapter number or a range "
                              f"(write e.g. 00-05,07; the book has chapters {span})")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if last < first:
            raise CourseError(f"--chapters {spec!r}: the range {item!r} runs backwards")
        for n in range(first, last + 1):
            if f"{n:02d}" not in available:
                raise CourseError(f"--chapters {spec!r}: chapter {n:02d} is not in the book "
                                  f"(it has chapters {span})")
            chosen.add(f"{n:02d}")
    return sorted(chosen)


def give_regions(text, qualnames):
    """`text` with the solution markers of the functions in `qualnames` removed: their
    reference code stays, so nbgrader's stubbing leaves it in the student's release."""
    lines = text.splitlines(keepends=True)
    drop = set()

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if prefix + child.name in qualnames:
                    # the body ends at its last statement for ast; a trailing
                    # `### END SOLUTION` comment, indented inside it, is the function's too
                    end, indent = child.end_lineno, child.col_offset
                    while end < len(lines) and (not lines[end].strip() or (
                            lines[end].lstrip().startswith("#")
                            and len(lines[end]) - len(lines[end].lstrip()) > indent)):
                        end += 1
                    drop.update(i for i in range(child.lineno - 1, end)
                                if lines[i].strip() in MARKERS)
    visit(ast.parse(text), "")
    return "".join(line for i, line in enumerate(lines) if i not in drop)


# --------------------------------------------------------------------------- the course's plan
def read_plan(course):
    path = Path(course) / PARTS_NAME
    return json.loads(path.read_text()) if path.is_file() else {}


def write_plan(course, plan):
    path = Path(course) / PARTS_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def staged_chapters(course, assignment):
    """Chapter numbers of the notebooks staged for `assignment` (its source folder)."""
    return sorted(p.stem[:2] for p in source_dir(course, assignment).glob("[0-9][0-9]_*.ipynb"))


def blocking_deadlines(course, assignment, chapters, duedates, now=None):
    """[(other assignment, its deadline or None, chapters)] of released assignments that grade
    one of `chapters` and are not past their deadline: their code may not be given away."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    found = []
    for other in sorted(p.name for p in Path(course, "release").glob("*") if p.is_dir()):
        if other == assignment:
            continue
        shared = sorted(set(chapters) & set(staged_chapters(course, other)))
        due = duedates.get(other)
        if shared and (due is None or due > now):
            found.append((other, due, shared))
    return found


def stage_part(course, assignment, chapters, duedates, solutions=SOLUTIONS, keep_stubs=False):
    """Copy the part's chapters and convlib into source/<assignment>/ and record it in
    parts.json; returns the plan entry. `duedates` maps released assignments to their
    deadline (naive UTC, or None), to decide whether earlier chapters' code may be given."""
    check_name(assignment)
    if assignment == ASSIGNMENT:
        raise CourseError(f"{ASSIGNMENT!r} is the whole book (released without --chapters); "
                          "give the part another name, e.g. part1")
    solutions = Path(solutions)
    book = book_chapters(solutions)
    target = source_dir(course, assignment)
    if target.exists():
        raise CourseError(f"{assignment} is already staged in {target}")
    last = max(chapters)
    earlier = {key: ch for key, ch in region_chapters(solutions).items()
               if ch < last and ch not in chapters}
    given_chapters = sorted(set(earlier.values()))
    blocked = blocking_deadlines(course, assignment, given_chapters, duedates)
    if blocked and not keep_stubs:
        other, due, shared = blocked[0]
        when = f"is due {due:%Y-%m-%d %H:%M} UTC" if due else "has no deadline"
        raise CourseError(
            f"{assignment} would give the reference code of chapter(s) {', '.join(shared)} to "
            f"students, but {other}, which grades them, {when}. Release {assignment} after "
            f"that deadline, or add --keep-stubs (those functions stay stubs; students bring "
            f"their own from {other} with `python -m convbook.reader carry`)")
    given = {} if keep_stubs else earlier

    staging = target.with_name(f".{assignment}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    chosen = Path(staging) / ".book"
    chosen.mkdir(parents=True)
    for ch in chapters:
        shutil.copy2(solutions / f"{book[ch]}.ipynb", chosen)
    shutil.copytree(solutions / "convlib", chosen / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_module = {}
    for module, qualname in given:
        by_module.setdefault(module, set()).add(qualname)
    for module, names in by_module.items():
        path = chosen / "convlib" / f"{module}.py"
        path.write_text(give_regions(path.read_text(), names))
    copy_source(chosen, staging / "out")
    (staging / "out").rename(target)
    shutil.rmtree(staging)

    entry = {"chapters": [book[ch] for ch in chapters],
             "given": sorted(f"{m}.{q}" for m, q in given),
             "given_chapters": sorted(set(given.values())),
             "kept_stubs": sorted(set(earlier.values())) if keep_stubs else [],
             "staged": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "from": str(solutions)}
    plan = read_plan(course)
    plan[assignment] = entry
    write_plan(course, plan)
    return entry


def describe(course, assignment):
    """A line about what a part holds, for the release's printout."""
    entry = read_plan(course).get(assignment)
    if not entry:
        return ""
    chapters = ", ".join(c[:2] for c in entry["chapters"])
    text = f"  chapters: {chapters}"
    if entry["given_chapters"]:
        text += (f"; reference code given for chapter(s) {', '.join(entry['given_chapters'])} "
                 f"({len(entry['given'])} functions)")
    if entry["kept_stubs"]:
        text += (f"; chapter(s) {', '.join(entry['kept_stubs'])} left as stubs: students "
                 "bring theirs with `python -m convbook.reader carry ~/<earlier part> "
                 "~/<this part>`")
    return text
