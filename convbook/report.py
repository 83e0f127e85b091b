"""The class report after autograding: what the class got right, wrong, and what is left to do.

    python -m convbook.cli report [--assignment NAME] [--out DIR] [--course DIR]

Reads what autograde left behind -- reports/checks/<student>.json (each graded cell's record),
reports/autograde/<student>.json (status, missing notebooks, dropped files), the gradebook
(scores, lateness, written answers to grade) -- and writes one self-contained HTML page
(figures embedded as PNG) and a CSV of the per-check counts, by default into
<course>/reports/class/ (a part's: <course>/reports/<part>/class/). A course released in
parts also gets a term page (`term_report`): each part's score distribution and the term's.

`class_report(course)` gathers the data (plain dicts and lists); `write_html` and `write_csv`
only render it. Student ids appear in one place only: the list of submissions that need the
instructor. Every other section and figure counts students, never names them.
"""
import base64
import collections
import csv
import html
import io
import json
import os
from pathlib import Path

from .layout import ASSIGNMENT, reports_dir, submitted_students

HTML_NAME = "class-report.html"
CSV_NAME = "class-report.csv"
NOT_IMPLEMENTED = "not_implemented"


class NothingGraded(Exception):
    """No autograde records in the course: nothing to report yet."""


# --------------------------------------------------------------------------- reading
def _read_jsons(folder):
    out = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "student" in data:
            out[data["student"]] = data
    return out


def read_records(course, assignment=ASSIGNMENT):
    """{"checks": {student: record}, "autograde": {...}, "restore": {...}} from reports/."""
    return {kind: _read_jsons(reports_dir(course, kind, assignment))
            for kind in ("checks", "autograde", "restore")}


def read_gradebook(course, assignment=ASSIGNMENT):
    """The assignment's cells and every submission's scores, from the gradebook:
    {"cells": [{notebook, cell, type, points}], "students": {id: {...}}}."""
    from nbgrader.api import MissingEntry

    from .cli import gradebook

    out = {"cells": [], "students": {}}
    with gradebook(course) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            return out
        for nb in sorted(found.notebooks, key=lambda n: n.name):
            for c in sorted(nb.grade_cells, key=lambda c: c.name):
                out["cells"].append({"notebook": nb.name, "cell": c.name,
                                     "type": c.cell_type, "points": float(c.max_score)})
        for sub in found.submissions:
            chapters, manual = {}, []
            for nb in sub.notebooks:
                chapters[nb.name] = float(nb.code_score)
                manual += [(nb.name, g.name) for g in nb.grades
                           if g.cell.cell_type == "markdown" and g.needs_manual_grade]
            out["students"][sub.student.id] = {
                "autograded": float(sub.code_score), "seconds_late": float(sub.total_seconds_late),
                "chapters": chapters, "manual": manual}
    return out


# --------------------------------------------------------------------------- aggregating
def score_distribution(book):
    """Autograded scores, the assignment's and each chapter's (no ids: just the numbers)."""
    code = [c for c in book["cells"] if c["type"] == "code"]
    chapters = sorted({c["notebook"] for c in code})
    students = book["students"].values()
    return {"assignment": {"max": sum(c["points"] for c in code),
                           "scores": sorted(s["autograded"] for s in students)},
            "chapters": {nb: {"max": sum(c["points"] for c in code if c["notebook"] == nb),
                              "scores": sorted(s["chapters"].get(nb, 0.0) for s in students)}
                         for nb in chapters}}


def _outcomes(checks):
    """(notebook, cell record) of every graded cell of every student."""
    for student, record in sorted(checks.items()):
        for notebook, cells in sorted(record.get("notebooks", {}).items()):
            for cell in cells:
                yield student, notebook, cell


def check_table(book, checks):
    """One row per autograded cell: points at stake and how many students attempted it,
    passed, failed, left it not implemented, or were not graded on it."""
    rows = {(c["notebook"], c["cell"]): dict(
        notebook=c["notebook"], cell=c["cell"], points=c["points"], attempted=0, passed=0,
        failed=0, not_implemented=0, not_graded=0) for c in book["cells"] if c["type"] == "code"}
    seen = collections.defaultdict(set)
    for student, notebook, cell in _outcomes(checks):
        row = rows.setdefault((notebook, cell["cell"]), dict(
            notebook=notebook, cell=cell["cell"], points=float(cell.get("points", 0)),
            attempted=0, passed=0, failed=0, not_implemented=0, not_graded=0))
        seen[notebook, cell["cell"]].add(student)
        kind = (cell.get("failure") or {}).get("kind")
        if cell["status"] == "passed":
            row["passed"] += 1
        elif kind == NOT_IMPLEMENTED:
            row["not_implemented"] += 1
        else:
            row["failed"] += 1
    graded = len(book["students"]) or len(checks)
    for key, row in rows.items():
        row["attempted"] = row["passed"] + row["failed"]
        row["not_graded"] = max(0, graded - len(seen[key]))
    return [rows[k] for k in sorted(rows)]


def misconceptions(checks):
    """Recognised misconceptions: one row per (misconception, cell), with how many students
    made it and the sentence they read."""
    groups = {}
    for student, notebook, cell in _outcomes(checks):
        failure = cell.get("failure") or {}
        if cell["status"] == "passed" or not failure.get("misconception"):
            continue
        key = (failure["misconception"], notebook, cell["cell"])
        row = groups.setdefault(key, {"misconception": key[0], "notebook": notebook,
                                      "cell": cell["cell"], "check": failure.get("check", ""),
                                      "sentence": failure.get("misconception_text") or "",
                                      "students": set()})
        row["students"].add(student)
    return [dict(row, students=len(row["students"])) for _, row in sorted(groups.items())]


def unmatched_failures(checks):
    """Failures no misconception matched, by kind: {kind: {"failures", "students",
    "cells": {cell: count}}}."""
    kinds = {}
    for student, notebook, cell in _outcomes(checks):
        failure = cell.get("failure") or {}
        if cell["status"] == "passed" or failure.get("misconception"):
            continue
        entry = kinds.setdefault(failure.get("kind") or "unknown",
                                 {"failures": 0, "students": set(), "cells": collections.Counter()})
        entry["failures"] += 1
        entry["students"].add(student)
        entry["cells"][f"{notebook}/{cell['cell']}"] += 1
    return {k: {"failures": v["failures"], "students": len(v["students"]),
                "cells": dict(sorted(v["cells"].items()))} for k, v in sorted(kinds.items())}


def needs_attention(records, book, submitted=()):
    """Submissions the instructor must look at: [{student, problems: [sentence]}]."""
    students = sorted(set(records["autograde"]) | set(book["students"]) | set(submitted))
    out = []
    for s in students:
        auto = records["autograde"].get(s)
        restore = records["restore"].get(s) or (auto or {}).get("restore") or {}
        problems = []
        if auto is None:
            problems.append("not autograded")
        elif auto.get("status") == "timeout":
            problems.append("timed out: " + (auto.get("message") or ""))
        elif auto.get("status") != "ok":
            problems.append(f"{auto.get('status', 'failed')}: " + (auto.get("message") or ""))
        if auto and auto.get("missing_notebooks"):
            problems.append("missing notebook(s): " + ", ".join(auto["missing_notebooks"]))
        late = book["students"].get(s, {}).get("seconds_late", 0)
        if late > 0:
            problems.append(f"late by {late / 3600:.1f} h")
        if restore.get("dropped_files"):
            problems.append("files dropped before grading: " + ", ".join(restore["dropped_files"]))
        if restore.get("new_modules"):
            problems.append("new convlib modules: " + ", ".join(restore["new_modules"]))
        if problems:
            out.append({"student": s, "problems": [p.rstrip(": ") for p in problems]})
    return out


def written_to_grade(book):
    """Written answers still to grade by hand, per question: [{notebook, cell, points,
    students}] (students: how many answers wait for a grade)."""
    counts = collections.Counter(q for s in book["students"].values() for q in s["manual"])
    return [{"notebook": c["notebook"], "cell": c["cell"], "points": c["points"],
             "students": counts[c["notebook"], c["cell"]]}
            for c in book["cells"] if c["type"] == "markdown"]


def class_report(course, assignment=ASSIGNMENT):
    """Everything the page shows, as data. Raises NothingGraded before autograde."""
    records = read_records(course, assignment)
    if not records["checks"] and not records["autograde"]:
        raise NothingGraded(f"nothing of {assignment} autograded yet in {course} (no records "
                            f"in {reports_dir(course, 'autograde', assignment)}): run "
                            "`autograde` first")
    book = read_gradebook(course, assignment)
    submitted = submitted_students(course, assignment)
    return {"assignment": assignment,
            "students": len(set(book["students"]) | set(records["autograde"])),
            "scores": score_distribution(book),
            "checks": check_table(book, records["checks"]),
            "misconceptions": misconceptions(records["checks"]),
            "unmatched": unmatched_failures(records["checks"]),
            "attention": needs_attention(records, book, submitted),
            "written": written_to_grade(book)}


# --------------------------------------------------------------------------- figures
def _png(fig):
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _hist(ax, scores, top, title):
    """Students per score; one bar per point (centred on it) up to 25 points, else 20 bins."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    top = top or 1.0
    if top <= 25:
        bins = np.arange(-0.5, np.ceil(top) + 1.0, 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        bins = np.linspace(0, top, 21)
    ax.hist(np.clip(scores, 0, top), bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlim(bins[0], bins[-1])
    ax.set_title(title, fontsize=9)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=7)


def score_figures(scores):
    """{"assignment": png base64, "chapters": png base64}: histograms, no names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.8))
    a = scores["assignment"]
    _hist(ax, a["scores"], a["max"], f"Autograded score (out of {a['max']:g})")
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    figures = {"assignment": _png(fig)}
    chapters = scores["chapters"]
    if chapters:
        cols = 4
        rows = (len(chapters) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(11, 2.1 * rows), squeeze=False)
        for ax, (nb, c) in zip(axes.flat, chapters.items()):
            _hist(ax, c["scores"], c["max"], f"{nb[:32]} (/{c['max']:g})")
        for ax in list(axes.flat)[len(chapters):]:
            ax.axis("off")
        fig.supylabel("students", fontsize=9)
        fig.tight_layout()
        figures["chapters"] = _png(fig)
    return figures


# --------------------------------------------------------------------------- writers
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;
white-space:nowrap}td:last-child{white-space:normal}
td.n{text-align:right}th{background:#f0f0f0}img{max-width:100%}
tr.bad td{background:#fff3f0}
"""


def _table(headers, rows, classes=None):
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(f'<td class="n">{v:g}</td>' if isinstance(v, (int, float))
                        else f"<td>{esc(str(v))}</td>" for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_html(report, figures, title="Class report"):
    esc = html.escape
    a = report["scores"]["assignment"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{esc(title)}: "
             f"{esc(report['assignment'])}</h1>",
             f"<p>{report['students']} submission(s); autograded points available: "
             f"{a['max']:g}; {len(report['attention'])} submission(s) need you (last section); "
             f"{sum(w['students'] for w in report['written'])} written answer(s) to grade by "
             "hand.</p>"]
    parts.append('<section id="scores"><h2>Score distribution</h2>'
                 f'<img alt="histogram of autograded scores" '
                 f'src="data:image/png;base64,{figures["assignment"]}">')
    if "chapters" in figures:
        parts.append('<h3>Per chapter</h3><img alt="histograms of autograded scores per '
                     f'chapter" src="data:image/png;base64,{figures["chapters"]}">')
    parts.append("</section>")
    rows = [(c["notebook"], c["cell"], c["points"], c["attempted"], c["passed"], c["failed"],
             c["not_implemented"], c["not_graded"]) for c in report["checks"]]
    classes = ["bad" if c["failed"] else "" for c in report["checks"]]
    parts.append('<section id="checks"><h2>Check cells</h2><p>Attempted = passed + failed '
                 '(a function left not implemented is not an attempt).</p>'
                 + _table(["notebook", "cell", "points", "attempted", "passed", "failed",
                           "not implemented", "not graded"], rows, classes) + "</section>")
    rows = [(m["misconception"], m["notebook"], m["cell"], m["students"], m["sentence"])
            for m in report["misconceptions"]]
    parts.append('<section id="misconceptions"><h2>Recognised misconceptions</h2>'
                 + (_table(["misconception", "notebook", "cell", "students",
                            "the feedback they read"], rows) if rows else "<p>None.</p>"))
    n_checks = len(report["checks"])
    rows = [(kind.replace("_", " "), u["failures"], u["students"],
             f"every check cell ({n_checks}), once each" if len(u["cells"]) == n_checks
             and set(u["cells"].values()) == {1} else
             ", ".join(f"{cell.split('/')[-1]} ({n})" for cell, n in u["cells"].items()))
            for kind, u in report["unmatched"].items()]
    parts.append("<h3>Failures no misconception matched, by kind</h3>"
                 + (_table(["kind", "failures", "students", "check cells (failures)"], rows)
                    if rows else "<p>None.</p>") + "</section>")
    rows = [(w["notebook"], w["cell"], w["points"], w["students"]) for w in report["written"]]
    parts.append('<section id="written"><h2>Written answers to grade by hand</h2>'
                 + (_table(["notebook", "question", "points", "answers to grade"], rows)
                    if rows else "<p>No written questions.</p>")
                 + "<p>Grade them in nbgrader's formgrader.</p></section>")
    rows = [(w["student"], "; ".join(w["problems"])) for w in report["attention"]]
    parts.append('<section id="attention"><h2>Submissions that need you</h2>'
                 + (_table(["student", "what happened"], rows) if rows else "<p>None.</p>")
                 + "</section></body></html>")
    return "\n".join(parts)


def write_html(report, path):
    path = Path(path)
    path.write_text(render_html(report, score_figures(report["scores"])))
    return path


def write_csv(report, path):
    """One row per check cell: the counts, the misconceptions and unmatched failure kinds."""
    path = Path(path)
    mis = collections.defaultdict(list)
    for m in report["misconceptions"]:
        mis[m["notebook"], m["cell"]].append(f"{m['misconception']}: {m['students']}")
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["notebook", "cell", "points", "attempted", "passed", "failed",
                         "not_implemented", "not_graded", "misconceptions"])
        for c in report["checks"]:
            writer.writerow([c["notebook"], c["cell"], f"{c['points']:g}", c["attempted"],
                             c["passed"], c["failed"], c["not_implemented"], c["not_graded"],
                             "; ".join(mis[c["notebook"], c["cell"]])])
    return path


def write_report(course, out=None, assignment=ASSIGNMENT):
    """Gather and write both files; returns (html path, csv path, report)."""
    report = class_report(course, assignment)
    out = Path(out) if out else reports_dir(course, "class", assignment)
    out.mkdir(parents=True, exist_ok=True)
    return write_html(report, out / HTML_NAME), write_csv(report, out / CSV_NAME), report


# --------------------------------------------------------------------------- the term
TERM_HTML = "term-report.html"
TERM_CSV = "term-report.csv"


def term_report(course, assignments):
    """The term at a glance: per assignment its chapters, points and score distribution, and
    the distribution of the term's autograded totals (students with no submission count 0)."""
    parts, totals = [], collections.Counter()
    for name in assignments:
        book = read_gradebook(course, name)
        scores = score_distribution(book)["assignment"]
        chapters = sorted({c["notebook"][:2] for c in book["cells"]})
        for student, s in book["students"].items():
            totals[student] += s["autograded"]
        parts.append({"assignment": name, "chapters": chapters, "max": scores["max"],
                      "scores": scores["scores"], "submissions": len(book["students"]),
                      "written_to_grade": sum(len(s["manual"]) for s in book["students"].values())})
    if not any(p["submissions"] for p in parts):
        raise NothingGraded(f"no assignment of {course} has graded submissions yet")
    top = sum(p["max"] for p in parts)
    return {"assignments": parts, "term": {"max": top, "scores": sorted(totals.values())},
            "students": len(totals)}


def _median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def write_term_report(course, assignments, out=None):
    """Each assignment's class report, then the term page and CSV beside them; returns (term
    html, term csv, term data, {assignment: (html, csv, report) or None if nothing graded})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pages = {}
    for name in assignments:
        try:
            pages[name] = write_report(course, Path(out) / name if out else None, name)
        except NothingGraded:
            pages[name] = None
    data = term_report(course, assignments)
    out = Path(out) if out else reports_dir(course, "term")
    out.mkdir(parents=True, exist_ok=True)

    cols = len(data["assignments"]) + 1
    fig, axes = plt.subplots(1, cols, figsize=(3.2 * cols, 2.6), squeeze=False)
    for ax, part in zip(axes.flat, data["assignments"]):
        _hist(ax, part["scores"], part["max"], f"{part['assignment']} (/{part['max']:g})")
    _hist(axes.flat[-1], data["term"]["scores"], data["term"]["max"],
          f"term (/{data['term']['max']:g})")
    fig.supylabel("students", fontsize=9)
    fig.tight_layout()
    figure = _png(fig)

    esc = html.escape
    rows, links = [], []
    for part in data["assignments"]:
        med = _median(part["scores"])
        rows.append((part["assignment"], ", ".join(part["chapters"]), part["max"],
                     part["submissions"], "-" if med is None else med, part["written_to_grade"]))
        page = pages.get(part["assignment"])
        if page:
            rel = Path(os.path.relpath(Path(page[0]).resolve(), out.resolve())).as_posix()
            links.append(f'<li><a href="{esc(rel)}">{esc(part["assignment"])}</a>: its '
                         "checks, misconceptions and submissions that need you</li>")
    body = [f"<!doctype html><html><head><meta charset='utf-8'><title>Term report</title>"
            f"<style>{STYLE}</style></head><body><h1>Term report</h1>",
            f"<p>{len(data['assignments'])} assignment(s), {data['students']} student(s) with "
            f"at least one graded submission; autograded points in the term: "
            f"{data['term']['max']:g}.</p>",
            '<section id="scores"><h2>Score distributions</h2><img alt="histograms of '
            f'autograded scores per assignment and for the term" '
            f'src="data:image/png;base64,{figure}"></section>',
            '<section id="assignments"><h2>Assignments</h2>'
            + _table(["assignment", "chapters", "autograded points", "submissions",
                      "median", "written answers to grade"], rows)
            + (f"<ul>{''.join(links)}</ul>" if links else "") + "</section></body></html>"]
    page = out / TERM_HTML
    page.write_text("\n".join(body))
    table = out / TERM_CSV
    with open(table, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["assignment", "chapters", "max_autograded", "submissions", "median",
                         "written_to_grade"])
        for row in rows:
            writer.writerow([f"{v:g}" if isinstance(v, float) else v for v in row])
    return page, table, data, pages
