"""The reader's side: a workspace of their own, JupyterLab on it, updates that keep their work.

    python -m convbook.reader lab [--mode reading|course] [LAB ARGS...]      (make lab)
    python -m convbook.reader update                                       (make update)
    python -m convbook.reader zip --student ID [--out DIR]                 (make submission)
    python -m convbook.reader carry EARLIER_PART NEW_PART     (a course in parts: convbook.carry)

The book's generated files (`book/`, `convlib/`) are tracked and rebuilt by the authors, so the
reader never works in them: the first `lab` copies them into `workspace/` (ignored by git):
the chapters and the contents page side by side with the reader's own `convlib/`, which is
what every chapter means by "open convlib/<module>.py". JupyterLab serves that folder, so the
file browser shows exactly the chapters and convlib/, and opens on the contents page.

`update` brings a workspace up to date with the book (after `git pull`): new chapters and new
modules are copied in; a notebook that changed upstream is taken anew with the reader's
written answers, scratch cells and added cells carried over; a convlib module that changed
upstream is merged three ways (what the workspace was made from, the reader's file, the new
stub) with `git merge-file`. Nothing the reader wrote is ever dropped: what cannot be merged
stays as the reader wrote it, the new version is saved beside it as `<name>.upstream`, and the
command says so. The versions a workspace was made from live in `workspace/.convbook/base/`.

JupyterLab's configuration lives in the repository (`jupyter/<mode>/`, JUPYTER_CONFIG_DIR):
"reading" shows Validate and none of nbgrader's instructor tools or its Assignment List;
"course" (a class with an nbgrader exchange) shows the Assignment List as well.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from convbook.carry import CarryError, carry
from convbook.layout import ASSIGNMENT, BOOK, PACKAGE, ROOT, files

WORKSPACE = "workspace"
STATE = ".convbook"            # inside the workspace: base versions, JupyterLab state
MODES = ("reading", "course")


class ReaderError(Exception):
    """Something the reader must fix; printed as one line."""


# ---------------------------------------------------------------------------- the workspace
def workspace_dir(repo=ROOT):
    """`workspace/` in the repository, or $CONVBOOK_WORKSPACE (tests use a throw-away one)."""
    override = os.environ.get("CONVBOOK_WORKSPACE")
    return Path(override) if override else Path(repo) / WORKSPACE


def upstream_files(repo=ROOT):
    """{relative path in the workspace: source path} of the book as generated."""
    repo = Path(repo)
    out = {}
    for rel in files(repo / BOOK):
        out[rel.as_posix()] = repo / BOOK / rel
    for rel in files(repo / PACKAGE):
        out[f"{PACKAGE}/{rel.as_posix()}"] = repo / PACKAGE / rel
    if not out:
        raise ReaderError(f"{repo / BOOK} is empty: run `make build` first")
    return out


def _base(workspace, rel):
    return Path(workspace) / STATE / "base" / rel


def _content(src):
    """What goes into the workspace for `src`: the file itself, except that a notebook gets
    the `language_info.version` of the Python that runs it here, which the kernel would
    otherwise add on opening (marking a chapter modified the moment it opens)."""
    data = Path(src).read_bytes()
    if not str(src).endswith(".ipynb"):
        return data
    import platform

    import nbformat

    nb = nbformat.reads(data.decode(), as_version=nbformat.NO_CONVERT)
    nb.metadata.setdefault("language_info", {"name": "python"})["version"] = \
        platform.python_version()
    return (nbformat.writes(nb) + "\n").encode()


def _copy(src, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(_content(src))


def ensure_workspace(repo=ROOT, log=print):
    """Create `workspace/` from the book if it does not exist; return its path."""
    workspace = workspace_dir(repo)
    if (workspace / STATE / "base").is_dir():
        return workspace
    if workspace.exists() and any(workspace.iterdir()):
        raise ReaderError(f"{workspace} exists but was not made by this book (no {STATE}/): "
                          f"move it away and run again")
    for rel, src in upstream_files(repo).items():
        _copy(src, workspace / rel)
        _copy(src, _base(workspace, rel))
    log(f"Created your workspace: {workspace} (your copy of the chapters and of convlib/; "
        f"git ignores it, `make update` keeps it up to date)")
    return workspace


# ------------------------------------------------------------------------------- updating
def _read_nb(path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def _grade_id(cell):
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def _readers_cell(cell):
    """A cell whose content is the reader's: a written answer, or an unlocked (scratch) cell."""
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    if meta.get("solution"):
        return True
    return cell.cell_type == "code" and not meta.get("locked") and not meta.get("grade")


def merge_notebook(base, ours, theirs):
    """The new notebook `theirs` with the reader's work from `ours` carried over.

    Cells are matched by nbgrader grade_id, else by cell id. A reader's cell (answer, scratch)
    keeps the reader's source and outputs when the reader changed it; cells the reader added
    are inserted after the cell they followed (at the end if that cell is gone). Returns
    (notebook, [notes])."""
    notes = []
    base_by_key = {_key(c): c for c in base.cells}
    theirs_keys = {_key(c) for c in theirs.cells}
    merged = copy.deepcopy(theirs)
    by_key = {_key(c): c for c in merged.cells}
    for cell in ours.cells:
        key = _key(cell)
        old = base_by_key.get(key)
        if key in by_key and old is not None:
            target = by_key[key]
            if _readers_cell(old) and cell.source != old.source:
                target.source = cell.source
                if cell.cell_type == "code":
                    target.outputs = cell.get("outputs", [])
                    target.execution_count = cell.get("execution_count")
            continue
        if old is None and key not in theirs_keys:
            # a cell the reader added: after the cell it followed
            index = ours.cells.index(cell)
            anchor = next((_key(c) for c in reversed(ours.cells[:index]) if _key(c) in by_key),
                          None)
            position = (merged.cells.index(by_key[anchor]) + 1) if anchor else len(merged.cells)
            added = copy.deepcopy(cell)
            merged.cells.insert(position, added)
            by_key[key] = added
            continue
        if old is not None and key not in theirs_keys and _readers_cell(old) \
                and cell.source != old.source:
            keep = copy.deepcopy(cell)
            keep.metadata.pop("nbgrader", None)      # no longer a graded cell of the book
            merged.cells.append(keep)
            notes.append(f"a cell you wrote in ({key}) is no longer in the chapter: kept at "
                         f"the end")
    return merged, notes


def _key(cell):
    return _grade_id(cell) or cell.get("id") or cell.source[:80]


def merge_module(base, ours, theirs):
    """Three-way text merge (git merge-file): (merged text or None if it conflicts)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_text(text)
            paths.append(str(path))
        try:
            done = subprocess.run(["git", "merge-file", "-p", *paths], capture_output=True,
                                  text=True)
        except OSError:
            return None                       # no git: nothing merged, nothing lost
        return done.stdout if done.returncode == 0 else None


def update(repo=ROOT, log=print):
    """Bring the workspace up to date with the book; returns the number of problems."""
    workspace = workspace_dir(repo)
    if not (workspace / STATE / "base").is_dir():
        ensure_workspace(repo, log)
        return 0
    problems = 0
    for rel, src in upstream_files(repo).items():
        mine, base = workspace / rel, _base(workspace, rel)
        new = _content(src)
        if not mine.exists():
            if base.exists():
                log(f"kept deleted   {rel} (you deleted it; the book's version is in "
                    f"{base.relative_to(workspace)})")
            else:
                _copy(src, mine)
                log(f"new            {rel}")
            _copy(src, base)
            continue
        if base.exists() and base.read_bytes() == new:
            continue                          # unchanged upstream: the reader's file stays
        ours = mine.read_bytes()
        if ours == (base.read_bytes() if base.exists() else None) or ours == new:
            _copy(src, mine)                  # the reader did not touch it
            log(f"updated        {rel}")
        elif rel.endswith(".ipynb"):
            import nbformat

            merged, notes = merge_notebook(_read_nb(base) if base.exists() else _read_nb(mine),
                                           _read_nb(mine), _read_nb(src))
            merged.metadata["language_info"] = _read_nb(mine).metadata.get(
                "language_info", merged.metadata.get("language_info", {}))
            nbformat.write(merged, str(mine))
            log(f"merged         {rel} (the new chapter, with your answers and cells)")
            for note in notes:
                log(f"               {note}")
        else:
            merged = merge_module(base.read_text() if base.exists() else "",
                                  ours.decode(errors="replace"), new.decode(errors="replace"))
            if merged is None:
                upstream = mine.with_name(mine.name + ".upstream")
                upstream.write_bytes(new)
                problems += 1
                log(f"CONFLICT       {rel}: kept yours unchanged; the book's new version is "
                    f"{upstream.relative_to(workspace)}: copy over what you need")
            else:
                mine.write_text(merged)
                log(f"merged         {rel} (your code, with the book's changes)")
        _copy(src, base)
    log("Your workspace is up to date." + (f" {problems} file(s) need you." if problems else ""))
    return problems


# ---------------------------------------------------------------------------- JupyterLab
def lab_environment(repo, mode):
    if mode not in MODES:
        raise ReaderError(f"--mode must be one of {MODES}; got {mode!r}")
    workspace = workspace_dir(repo)
    state = workspace / STATE
    env = dict(os.environ)
    env["JUPYTER_CONFIG_DIR"] = str(Path(repo) / "jupyter" / mode)
    env["JUPYTERLAB_SETTINGS_DIR"] = str(state / "lab" / "user-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(state / "lab" / "workspaces")
    # the checks import convbook (this tooling) even when the project is not pip-installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def lab(repo=ROOT, mode="reading", lab_args=(), log=print):
    workspace = ensure_workspace(repo, log)
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={workspace}",
            "--LabApp.default_url=/lab/tree/index.ipynb",         # opens on the contents page
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            *lab_args]
    os.chdir(workspace)
    os.execvpe(argv[0], argv, lab_environment(repo, mode))


# --------------------------------------------------------------------------- submission
def submission_zip(student, repo=ROOT, out=None):
    """`<student>_<assignment>.zip` holding the workspace's notebooks and convlib/*.py, the
    layout `python -m convbook.cli collect --zips` takes."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.@-]*", student or ""):
        raise ReaderError(f"--student must be your student id (letters, digits, . @ -); "
                          f"got {student!r}")
    workspace = workspace_dir(repo)
    if not workspace.is_dir():
        raise ReaderError("no workspace yet: run `make lab` first")
    out = Path(out or repo)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{student}_{ASSIGNMENT}.zip"
    names = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for nb in sorted(workspace.glob("*.ipynb")):
            if nb.name != "index.ipynb":
                zf.write(nb, nb.name)
                names.append(nb.name)
        for py in sorted((workspace / PACKAGE).rglob("*.py")):
            rel = py.relative_to(workspace).as_posix()
            if "__pycache__" not in rel:
                zf.write(py, rel)
                names.append(rel)
    return path, names


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convbook.reader",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_lab = sub.add_parser("lab", help="open the book in JupyterLab (your workspace)")
    p_lab.add_argument("--mode", default=os.environ.get("CONVBOOK_LAB_MODE", "reading"),
                       choices=MODES)
    sub.add_parser("update", help="bring your workspace up to date with the book")
    p_zip = sub.add_parser("zip", help="pack your work for an LMS upload")
    p_zip.add_argument("--student", required=True)
    p_zip.add_argument("--out", help="folder for the zip (default: the repository)")
    p_carry = sub.add_parser("carry", help="a course in parts: bring the functions you wrote "
                                           "in an earlier part's folder into a new part's")
    p_carry.add_argument("earlier", type=Path, help="the earlier part's folder, e.g. ~/part1")
    p_carry.add_argument("new", type=Path, help="the new part's folder, e.g. ~/part2")
    parser.add_argument("--repo", type=Path, default=ROOT, help=argparse.SUPPRESS)   # tests
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "lab":
            lab(repo=args.repo, mode=args.mode, lab_args=rest)
        elif args.command == "update":
            if rest:
                parser.error(f"unexpected arguments: {rest}")
            return 1 if update(args.repo) else 0
        elif args.command == "carry":
            carry(args.earlier, args.new)
        else:
            path, names = submission_zip(args.student, args.repo, out=args.out)
            print(f"Wrote {path}: {len(names)} files ({', '.join(names)}). Upload it as your "
                  f"submission.")
    except (ReaderError, CarryError) as err:
        print(f"error: {err}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
