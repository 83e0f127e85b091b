"""Regenerate the student files, book/ and convlib/, from solutions/ through nbgrader.

    python -m convbook.build           # write book/ and convlib/ from solutions/
    python -m convbook.build --check   # exit 1 if they differ from a fresh build or leak

How a build runs (everything in a throw-away nbgrader course; solutions/ is only read):
1. `solutions/` is copied to `<course>/source/conv2d/` (caches skipped). Cells of nbformat
   >= 4.5 notebooks that lack an id get a stable one, because nbformat would otherwise
   invent a random id on every build.
2. nbgrader's own `generate_assignment` (through `NbGraderAPI`) writes
   `<course>/release/conv2d/`: notebooks with solutions and hidden tests removed, every other
   file copied verbatim. Its `GenerateAssignment.post_convert_hook` is a `StripSolutionsHook`:
   it runs nbgrader's `ClearSolutions` and `ClearHiddenTests` on a one-cell notebook holding
   each released `.py` file's text, so `convlib/` gets exactly the stub nbgrader puts in a
   code cell (`# YOUR CODE HERE` + `raise NotImplementedError()`, at the marker's indent).
3. nbgrader only *logs* an exception raised by the hook and still reports success, so the
   build does not trust it: it fails if the hook reported a problem or did not run, if any
   source file is missing from the release, or if any released file still contains a
   solution / hidden-test / mark-scheme marker.
4. `release/conv2d/convlib/` becomes `convlib/`; everything else in the release (the
   notebooks, and any figure or data file beside them) becomes `book/`.
"""
import argparse
import hashlib
import json
import logging
import re
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

from convbook.layout import (ASSIGNMENT, BOOK, COURSE_ID, IGNORED_NAMES, IGNORED_SUFFIXES,
                             PACKAGE, ROOT,
                             files as _files, leaks)

GENERATED = (BOOK, PACKAGE)
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's rule for cell ids


class BuildError(Exception):
    """The build cannot produce clean student files; the message says which file and why."""


# --------------------------------------------------------------------------------------------
# Stripping .py files exactly as nbgrader strips a code cell
# --------------------------------------------------------------------------------------------
def _quiet_log():
    log = logging.getLogger("convbook.build.nbgrader")
    log.propagate = False  # ClearSolutions logs the whole cell on error; we report it briefly
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    return log


def clear_regions(text, config=None):
    """Return `text` with solution regions stubbed and hidden-test regions removed.

    Runs nbgrader's own `ClearSolutions` then `ClearHiddenTests` (the order generate_assignment
    uses) on a one-cell python notebook holding `text`, so the result is byte-for-byte what
    nbgrader makes of a code cell with that source (same `config` for stub and delimiters).
    `enforce_metadata=False` because the cell is deliberately *not* a solution cell: a solution
    cell without regions would be replaced by the stub as a whole.
    Raises `RuntimeError` (nbgrader's) on an unterminated or nested region.
    """
    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
    from traitlets.config import Config

    config = Config() if config is None else config
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
        cells=[nbformat.v4.new_code_cell(text)],
    )
    resources = {}
    for preprocessor in (ClearSolutions, ClearHiddenTests):
        pp = preprocessor(config=config, enforce_metadata=False, log=_quiet_log())
        nb, resources = pp.preprocess(nb, resources)
    return nb.cells[0].source


class StripSolutionsHook:
    """nbgrader `GenerateAssignment.post_convert_hook`: strip every released `.py` file.

    nbgrader 0.9.6 calls it (converters/base.py, `run_post_convert_hook`) after the notebooks
    are written and file permissions set, with keywords only:
    `hook(assignment=<assignment id>, student=<student id, "." here>, notebooks=[source paths])`
    and the working directory set to the course root. It does not pass the release folder, so
    give it one; without it the hook uses `<cwd>/release/<assignment>`, nbgrader's default.

    An exception raised here is only logged by nbgrader, which then reports success. So the
    hook also keeps what happened in `ran`, `stripped` and `errors` for the build to check.
    """

    def __init__(self, release_dir=None, config=None):
        self.release_dir = None if release_dir is None else Path(release_dir)
        self.config = config
        self.ran = False
        self.stripped = []
        self.errors = []

    def __deepcopy__(self, memo):
        return self  # traitlets deep-copies config values; keep one hook and its report

    def __copy__(self):
        return self

    def __call__(self, *, assignment, student=None, notebooks=None, **_):
        self.ran, self.stripped, self.errors = True, [], []
        release = self.release_dir or Path.cwd() / "release" / assignment
        for path in sorted(release.rglob("*.py")):
            rel = path.relative_to(release).as_posix()
            try:
                text = path.read_bytes().decode("utf-8")  # bytes: keep line endings as-is
                cleared = clear_regions(text, self.config)
            except Exception as exc:  # noqa: BLE001 -- reported below, and by the build
                self.errors.append(f"{rel}: {exc}")
                continue
            if cleared != text:
                path.chmod(path.stat().st_mode | stat.S_IWUSR)  # nbgrader may make it 444
                path.write_bytes(cleared.encode("utf-8"))
                self.stripped.append(rel)
        if self.errors:
            raise BuildError("could not strip: " + "; ".join(self.errors))


# For an instructor's nbgrader_config.py (default course layout):
#     c.GenerateAssignment.post_convert_hook = "convbook.build.post_convert_hook"
# nbgrader's validator imports the dotted name. The build itself uses its own instance.
post_convert_hook = StripSolutionsHook()


# --------------------------------------------------------------------------------------------
# The nbgrader run
# --------------------------------------------------------------------------------------------
def _stable_cell_ids(path):
    """Give cells without a (valid, unique) id a stable one; nbformat would pick random ones."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    if (int(nb.get("nbformat") or 0), int(nb.get("nbformat_minor") or 0)) < (4, 5):
        return  # ids do not exist before nbformat 4.5; nbgrader keeps the notebook's version
    seen, changed = set(), False
    for index, cell in enumerate(nb.get("cells", [])):
        cell_id = cell.get("id")
        if not (isinstance(cell_id, str) and _CELL_ID.match(cell_id)) or cell_id in seen:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            candidate = grade_id if _CELL_ID.match(str(grade_id)) else hashlib.sha1(
                f"{path.stem}/{index}".encode()).hexdigest()[:8]
            n = 0
            cell_id = candidate
            while cell_id in seen:
                n += 1
                cell_id = f"{candidate[:60]}-{n}"
            cell["id"] = cell_id
            changed = True
        seen.add(cell_id)
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def stage_source(source, course):
    """Copy `source` (a solutions/ folder) to `<course>/source/<ASSIGNMENT>/`."""
    source = Path(source)
    if not (source / PACKAGE / "__init__.py").is_file():
        raise BuildError(f"{source}: no {PACKAGE}/__init__.py; is this a solutions/ folder?")
    nested = [p for p in _files(source) if p.suffix == ".ipynb" and len(p.parts) > 1]
    if nested:
        # nbgrader converts top-level notebooks only; these would be copied with solutions.
        raise BuildError("notebooks must sit at the top of solutions/ (nbgrader would copy "
                         "these verbatim, solutions included): "
                         + ", ".join(p.as_posix() for p in nested))
    if not any(p.suffix == ".ipynb" for p in _files(source)):
        raise BuildError(f"{source}: no chapter notebooks (nbgrader needs at least one)")
    staged = Path(course) / "source" / ASSIGNMENT
    shutil.copytree(source, staged, ignore=lambda d, names: [
        n for n in names if n in IGNORED_NAMES or n.endswith(IGNORED_SUFFIXES)])
    for notebook in staged.glob("*.ipynb"):
        try:
            _stable_cell_ids(notebook)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BuildError(f"{notebook.name}: not a readable notebook ({exc})") from None
    return staged


def generate_release(source, course, hook=None):
    """Run nbgrader generate_assignment on `source` in the course dir `course`.

    Returns `(release_dir, hook, log)`. Raises BuildError if nbgrader fails, if the hook
    failed or never ran, or if the release is incomplete or leaks. `hook` replaces the
    stripping hook (tests use this to prove a broken hook is caught).
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    course = Path(course).resolve()
    staged = stage_source(source, course)
    release = course / "release" / ASSIGNMENT

    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"  # unused (no-db)
    config.Exchange.root = str(course / "no-exchange")  # never read the machine's exchange
    # As `nbgrader generate_assignment --no-db`: nothing to record for a build, and a
    # gradebook would need the `alembic` executable on PATH.
    config.GenerateAssignment.no_database = True
    config.SaveCells.enabled = False
    if hook is None:
        hook = StripSolutionsHook(release, config)
    config.GenerateAssignment.post_convert_hook = hook

    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(ASSIGNMENT, force=True, create=True)
    log = result.get("log", "")
    if not result["success"]:
        raise BuildError("nbgrader generate_assignment failed:\n" + log
                         + result.get("error", ""))
    problems = []
    if isinstance(hook, StripSolutionsHook):
        if not hook.ran:
            problems.append("the post_convert_hook never ran (nbgrader log below)")
        problems += [f"release/{e} (post_convert_hook failed)" for e in hook.errors]
    problems += missing_from_release(staged, release)
    problems += [f"release/{leak}" for leak in leaks(release)]
    if problems:
        hook_failed = isinstance(hook, StripSolutionsHook) and (hook.errors or not hook.ran)
        raise BuildError("nbgrader reported success, but the release is not clean:\n  "
                         + "\n  ".join(problems)
                         + ("\nnbgrader log:\n" + _hook_log(log) if hook_failed else ""))
    return release, hook, log


def _hook_log(log):
    """The part of nbgrader's log about the hook (it logs the traceback at INFO level)."""
    start = log.find("Running post-convert hook")
    return log[log.rfind("\n", 0, start) + 1:] if start >= 0 else log


def missing_from_release(staged, release):
    """Source files with no (or a partial) released counterpart, e.g. a dropped notebook."""
    have = set(_files(release))
    problems = []
    for rel in _files(staged):
        if rel not in have:
            problems.append(f"missing from the release: {rel.as_posix()}")
        elif rel.suffix == ".ipynb" and len(rel.parts) == 1:
            cells = [len(json.loads((folder / rel).read_text(encoding="utf-8"))["cells"])
                     for folder in (staged, release)]
            if cells[0] != cells[1]:
                problems.append(f"release/{rel.as_posix()}: {cells[1]} cells, "
                                f"the source has {cells[0]}")
    return problems


def build_into(target, source=None, hook=None):
    """Build from `source` (default: solutions/) and write `target/book`, `target/convlib`.

    `target` must not contain them yet (use a fresh or temporary directory).
    """
    source = Path(source) if source is not None else ROOT / "solutions"
    target = Path(target)
    with tempfile.TemporaryDirectory(prefix="convbook-course-") as course:
        release, _, _ = generate_release(source, course, hook=hook)
        shutil.copytree(release / PACKAGE, target / PACKAGE, copy_function=shutil.copyfile)
        (target / BOOK).mkdir(parents=True)
        for rel in _files(release):
            if rel.parts[0] != PACKAGE:
                dest = target / BOOK / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(release / rel, dest)
    found = [f"{name}/{leak}" for name in GENERATED for leak in leaks(target / name)]
    if found:
        raise BuildError("generated files leak instructor text:\n  " + "\n  ".join(found))
    return target


def differences(fresh, committed):
    """Files that differ between two roots holding book/ and convlib/."""
    diffs = []
    for name in GENERATED:
        a, b = Path(fresh) / name, Path(committed) / name
        files_a, files_b = set(_files(a)), set(_files(b))
        for rel in sorted(files_a | files_b):
            shown = f"{name}/{rel.as_posix()}"
            if rel not in files_b:
                diffs.append(f"missing (the build makes it): {shown}")
            elif rel not in files_a:
                diffs.append(f"extra (the build does not make it): {shown}")
            elif (a / rel).read_bytes() != (b / rel).read_bytes():
                diffs.append(f"differs from a fresh build: {shown}")
    return diffs


def check(root=ROOT):
    """Problems with `root`'s book/ and convlib/ (empty list: in sync and leak-free)."""
    root = Path(root)
    problems = [f"leaks solution text: {name}/{leak}"
                for name in GENERATED for leak in leaks(root / name)]
    with tempfile.TemporaryDirectory(prefix="convbook-check-") as tmp:
        build_into(tmp, root / "solutions")  # raises BuildError on a leaking release
        problems = differences(tmp, root) + problems
    return problems


def write(root=ROOT):
    """Rebuild `root`'s book/ and convlib/ from its solutions/, replacing them entirely."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="convbook-build-") as tmp:
        build_into(tmp, root / "solutions")  # nothing is replaced unless the build is clean
        for name in GENERATED:
            if (root / name).exists():
                shutil.rmtree(root / name)
            shutil.copytree(Path(tmp) / name, root / name, copy_function=shutil.copyfile)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convbook.build",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="verify instead of writing; exit 1 on any difference or leak")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="project folder holding solutions/, book/ and convlib/ "
                             "(default: this repository)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    start = time.perf_counter()
    try:
        if args.check:
            problems = check(root)
            if problems:
                print("book/ and convlib/ are out of date or leak; run `make build`:",
                      *problems, sep="\n  ", file=sys.stderr)
                return 1
            print(f"book/ and convlib/ are in sync with solutions/ and leak nothing "
                  f"({time.perf_counter() - start:.1f} s).")
            return 0
        write(root)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(f"Built book/ and convlib/ from solutions/ through nbgrader "
          f"({time.perf_counter() - start:.1f} s).")
    return 0


if __name__ == "__main__":
    # Importing nbformat imports jsonschema, which imports `rfc3987_syntax` when installed
    # (a jupyter dependency) and that compiles a grammar at import: ~5 s of CPU, a third of
    # `--check`. It only serves jsonschema's "iri" format, which the notebook schema does not
    # use, so this command-line process goes without it.
    sys.modules.setdefault("rfc3987_syntax", None)
    sys.exit(main())
