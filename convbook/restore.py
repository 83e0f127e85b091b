"""nbgrader preprocessors that make a submission gradeable safely (configured by convbook.course).

RestoreReleased (autograde, first sanitizing step, before nbgrader's own)
    The graded work of a student is their ``convlib/*.py`` and their written answers. So the
    notebook that gets executed is rebuilt from the RELEASED notebook, cell by cell:
      - answer cells (markdown solution cells, graded by hand) keep the student's text;
      - test and locked cells get the instructor's source from the gradebook (with the hidden
        tests), every other cell the released source;
      - cells the student added are dropped; metadata, outputs and attachments come from the
        release, never from the submission.
    In the submission's autograded folder every file outside the released set is deleted,
    except new modules inside ``convlib/`` (and nbgrader's own timestamp/secret files): a
    ``keras.py``, ``numpy.py`` or ``convbook/`` beside the notebooks would otherwise be
    imported by the kernel. What was dropped is logged and written to
    ``reports/restore/<student>.json`` for the CLI's summary.

ShortTracebacks (generate_feedback)
    A failing check's traceback quotes the lines around the failing call — possibly the
    hidden tests. In test cells, each error output is reduced to ``Name: message`` (the
    check's feedback text is the message).
"""
import copy
import json
import os
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from convbook.layout import reports_dir

# Files nbgrader itself puts in a submission folder.
NBGRADER_FILES = {"timestamp.txt", "submission_secret.txt"}


def is_answer_cell(cell):
    """A written answer: a markdown solution cell (nbgrader "Manually graded answer")."""
    return cell.cell_type == "markdown" and utils.is_solution(cell)


def _grade_id(cell):
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta.get("grade_id") if isinstance(meta, dict) else None


def allowed_extra_file(rel):
    """A file not in the release that a submission may still carry (a new convlib module)."""
    parts = Path(rel).parts
    return (len(parts) >= 2 and parts[0] == "convlib" and rel.endswith(".py")
            and "__pycache__" not in parts)


def released_files(release):
    release = Path(release)
    return {p.relative_to(release).as_posix() for p in release.rglob("*")
            if p.is_file() and p.suffix != ".ipynb" and "__pycache__" not in p.parts}


def prune_folder(folder, released, log=None):
    """Delete files under `folder` outside `released` (relative paths); return what went."""
    folder = Path(folder)
    dropped = []
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if "__pycache__" in path.relative_to(folder).parts:
            continue            # written while grading (nbgrader never copies submitted caches)
        if path.is_symlink():
            path.unlink()
            dropped.append(rel)
        elif path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.suffix == ".ipynb" and len(path.parts) - len(folder.parts) == 1:
            continue            # top-level notebooks: nbgrader writes/handles these itself
        elif rel in released or rel in NBGRADER_FILES or allowed_extra_file(rel):
            continue
        else:
            path.unlink()
            dropped.append(rel)
    if log is not None:
        for rel in sorted(dropped):
            log.warning("convbook: dropped file outside the released set: %s", rel)
    return sorted(dropped)


class RestoreReleased(NbGraderPreprocessor):
    """Rebuild the submitted notebook from the released one, keeping only written answers."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment, notebook, student = info["assignment"], info["notebook"], info["student"]
        coursedir = CourseDirectory(parent=self)
        release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
        released_nb = release / f"{notebook}.ipynb"
        if not released_nb.is_file():
            raise RuntimeError(f"no released notebook {released_nb}: run `release` first")
        released = nbformat.read(str(released_nb), as_version=nbformat.NO_CONVERT)

        # The student's text of each answer cell, read defensively: this runs first, on the
        # raw submission (any metadata may be garbage), so nbgrader's own sanitizers after
        # it only ever see a clean notebook.
        answers = {}
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
            meta = meta.get("nbgrader") if isinstance(meta, dict) else None
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            source = cell.get("source") if isinstance(cell, dict) else None
            if isinstance(source, list):
                source = "".join(s for s in source if isinstance(s, str))
            if isinstance(grade_id, str) and isinstance(source, str) and grade_id not in answers:
                answers[grade_id] = source

        cells, kept_answers = [], 0
        with Gradebook(info["db_url"]) as gb:
            for rcell in released.cells:
                cell = copy.deepcopy(rcell)
                meta = cell.metadata.get("nbgrader", {})
                if meta and not any(meta.get(k) for k in ("grade", "solution", "locked", "task")):
                    # a scratch cell ("try it"): nothing to grade or restore, and not in the
                    # gradebook; nbgrader's OverwriteCells would strip its grade_id and then
                    # trip over it, so it goes to grading as a plain cell
                    del cell.metadata["nbgrader"]
                    meta = {}
                grade_id = meta.get("grade_id")
                if grade_id:
                    try:
                        source_cell = gb.find_source_cell(grade_id, notebook, assignment)
                    except MissingEntry:
                        source_cell = None
                    if source_cell is not None:
                        meta["checksum"] = source_cell.checksum
                        if not is_answer_cell(cell):
                            cell.source = source_cell.source   # test cells: with hidden tests
                if is_answer_cell(cell) and grade_id in answers:
                    cell.source = answers[grade_id]
                    kept_answers += 1
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
                cells.append(cell)

        released_grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id")
                              for c in released.cells} - {None}
        released_cell_ids = {c.get("id") for c in released.cells} - {None}
        added = sum(1 for c in nb.get("cells", []) if isinstance(c, dict)
                    and c.get("id") not in released_cell_ids
                    and _grade_id(c) not in released_grade_ids)
        nb.cells = cells
        nb.metadata = copy.deepcopy(released.metadata)
        nb.nbformat, nb.nbformat_minor = released.nbformat, released.nbformat_minor

        # Files: the autograded folder holds the student's files plus the source's
        # non-excluded files; keep only the released set and new convlib modules.
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, student,
                                                assignment))
        dropped = prune_folder(autograded, released_files(release), self.log)
        new_modules = sorted(
            p.relative_to(autograded).as_posix() for p in (autograded / "convlib").rglob("*.py")
            if p.relative_to(autograded).as_posix() not in released_files(release)
        ) if (autograded / "convlib").is_dir() else []
        self.log.info("convbook: %s/%s: %d released cells, %d written answers kept, "
                      "%d student cells not in the release dropped",
                      student, notebook, len(cells), kept_answers, added)
        self._report(coursedir, assignment, student, notebook, dropped, new_modules,
                     kept_answers)
        return nb, resources

    def _report(self, coursedir, assignment, student, notebook, dropped, new_modules,
                kept_answers):
        path = reports_dir(coursedir.root, "restore", assignment) / f"{student}.json"
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            report = {}
        report.setdefault("dropped_files", [])
        report["dropped_files"] = sorted(set(report["dropped_files"]) | set(dropped))
        report["new_modules"] = new_modules
        report.setdefault("answers_kept", {})[notebook] = kept_answers
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1, sort_keys=True))
        os.replace(tmp, path)


class ShortTracebacks(NbGraderPreprocessor):
    """In test cells, reduce error outputs to `Name: message` (no source lines quoted)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [
                        f"\x1b[0;31m{output.get('ename', 'Error')}\x1b[0m: "
                        f"{output.get('evalue', '')}"]
        return cell, resources
