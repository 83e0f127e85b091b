"""The build: book/ and convlib/ come from solutions/ through nbgrader, leak nothing, are
deterministic, and `--check` notices anything stale.

Everything that writes works on throw-away folders in tmp_path; the real tree is only read.
"""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convbook import build

ROOT = Path(__file__).resolve().parents[1]

# Keep the file on one xdist worker so the module fixture builds once.
pytestmark = pytest.mark.xdist_group("build")

EX_PY = '''\
"""A tiny exercise module."""
import math

SCALE = 2


def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return SCALE * x
    ### END SOLUTION


class Box:
    def area(self, w, h):
        if w < 0:
            raise ValueError("w")
        ### BEGIN SOLUTION
        return w * h
        ### END SOLUTION

### BEGIN SOLUTION
HELPER = math.pi
### END SOLUTION


def _selftest():
    assert double(1) == 2
    ### BEGIN HIDDEN TESTS
    assert double(21) == 42
    ### END HIDDEN TESTS
'''

# What nbgrader's ClearSolutions / ClearHiddenTests make of EX_PY: the stub at the marker's
# indentation, hidden tests gone, everything else untouched.
EX_PY_STUDENT = '''\
"""A tiny exercise module."""
import math

SCALE = 2


def double(x):
    """Twice x."""
    # YOUR CODE HERE
    raise NotImplementedError()


class Box:
    def area(self, w, h):
        if w < 0:
            raise ValueError("w")
        # YOUR CODE HERE
        raise NotImplementedError()

# YOUR CODE HERE
raise NotImplementedError()


def _selftest():
    assert double(1) == 2
'''


def _cell(cell_type, source, cell_id=None, **nbgrader):
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if cell_id is not None:
        cell["id"] = cell_id
    if cell_type == "code":
        cell.update(execution_count=7, outputs=[
            {"name": "stdout", "output_type": "stream", "text": "solution output\n"}])
    if nbgrader:
        cell["metadata"]["nbgrader"] = {"schema_version": 3, "task": False, "grade": False,
                                        "solution": False, "locked": False, **nbgrader}
    return cell


def _chapter():
    """A chapter in nbgrader source form (nbformat 4.5; the last cell has no id)."""
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "cells": [
            _cell("markdown", "# A chapter", "intro", grade_id="intro", locked=True),
            # A (manually graded) solution code cell holding the very text of ex.py: what
            # nbgrader makes of it must equal the generated convlib/ex.py. (Hidden tests are
            # allowed only in grade cells, hence grade=True.)
            _cell("code", EX_PY, "same-as-py", grade_id="same-as-py", solution=True,
                  grade=True, points=1),
            _cell("code", "assert 'visible-check'\n### BEGIN HIDDEN TESTS\n"
                          "assert 'hidden-check'\n### END HIDDEN TESTS", "check-1",
                  grade_id="check-1", grade=True, locked=True, points=2),
            _cell("markdown", "Why?\n\n### BEGIN SOLUTION\nsecret-answer\n### END SOLUTION",
                  "answer-1", grade_id="answer-1", grade=True, solution=True, points=1),
            _cell("markdown", "The end."),
        ],
    }


def make_source(folder):
    """A small solutions/ folder: one chapter, a package with every kind of region, a figure."""
    folder = Path(folder)
    (folder / "convlib").mkdir(parents=True)
    (folder / "convlib" / "__init__.py").write_text('"""Toy package."""\n')
    (folder / "convlib" / "ex.py").write_text(EX_PY)
    (folder / "figures").mkdir()
    (folder / "figures" / "diagram.svg").write_text("<svg/>\n")
    (folder / "00_chapter.ipynb").write_text(json.dumps(_chapter(), indent=1) + "\n")
    return folder


def make_project(folder):
    """A project folder (solutions/ only) such as `python -m convbook.build --root` takes."""
    make_source(Path(folder) / "solutions")
    return Path(folder)


def _tree(root):
    return {rel.as_posix(): (Path(root) / rel).read_bytes() for rel in build._files(root)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    source = make_source(tmp_path_factory.mktemp("source") / "solutions")
    return build.build_into(tmp_path_factory.mktemp("built"), source)


def test_check_passes_on_the_committed_repo():
    # The before-stop hook gives `--check` 50 s; it must pass on the repo as committed.
    result = subprocess.run([sys.executable, "-m", "convbook.build", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout


def test_py_solution_regions_become_nbgrader_stub(built):
    assert (built / "convlib" / "ex.py").read_text() == EX_PY_STUDENT
    # ... which is exactly what nbgrader wrote for a solution code cell with the same text.
    nb = json.loads((built / "book" / "00_chapter.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                == "same-as-py")
    assert "".join(cell["source"]) == EX_PY_STUDENT


def test_stubbed_package_still_imports_and_raises(built):
    spec = importlib.util.spec_from_file_location("_built_ex", built / "convlib" / "ex.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(NotImplementedError):  # the top-level region's stub runs on import
        spec.loader.exec_module(module)
    assert module.SCALE == 2  # code before the region is kept


def test_notebooks_lose_solutions_hidden_tests_and_outputs(built):
    assert sorted(_tree(built)) == ["book/00_chapter.ipynb", "book/figures/diagram.svg",
                                    "convlib/__init__.py", "convlib/ex.py"]
    text = (built / "book" / "00_chapter.ipynb").read_text()
    for secret in ("hidden-check", "secret-answer", "return SCALE * x", "solution output",
                   "BEGIN", "END SOLUTION", "END HIDDEN"):
        assert secret not in text
    cells = {c.get("id"): c for c in json.loads(text)["cells"]}
    assert "".join(cells["check-1"]["source"]) == "assert 'visible-check'"
    assert "".join(cells["answer-1"]["source"]) == "Why?\n\nYOUR ANSWER HERE"
    assert cells["check-1"]["metadata"]["editable"] is False  # locked by nbgrader
    assert "checksum" in cells["check-1"]["metadata"]["nbgrader"]
    assert all(c.get("outputs", []) == [] for c in cells.values())


def test_cells_without_ids_get_stable_ones(built, tmp_path):
    # nbformat would give them a random id on each build; the build gives a stable one.
    again = build.build_into(tmp_path / "again", make_source(tmp_path / "solutions"))
    first = json.loads((built / "book" / "00_chapter.ipynb").read_text())["cells"][-1]["id"]
    second = json.loads((again / "book" / "00_chapter.ipynb").read_text())["cells"][-1]["id"]
    assert first == second


def test_two_builds_are_byte_identical(built, tmp_path):
    again = build.build_into(tmp_path / "again", make_source(tmp_path / "solutions"))
    assert _tree(again) == _tree(built)


def test_unterminated_region_fails_the_build_naming_the_file(tmp_path, capsys):
    project = make_project(tmp_path)
    (project / "solutions" / "convlib" / "broken.py").write_text(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    assert build.main(["--root", str(project)]) == 1
    err = capsys.readouterr().err
    # nbgrader logged the hook's exception and reported success; the build did not believe it.
    assert "nbgrader reported success" in err
    assert "convlib/broken.py" in err and "no end solution statement" in err
    assert not (project / "book").exists() and not (project / "convlib").exists()


def test_a_hook_that_raises_is_caught_by_the_leak_scan(tmp_path):
    def broken_hook(**_):
        raise RuntimeError("hook crashed")  # nbgrader only logs this and exits 0

    with pytest.raises(build.BuildError) as failure:
        build.build_into(tmp_path / "out", make_source(tmp_path / "solutions"), hook=broken_hook)
    message = str(failure.value)
    assert "nbgrader reported success" in message
    lines = EX_PY.splitlines()
    first_region = lines.index("    ### BEGIN SOLUTION") + 1
    hidden = lines.index("    ### BEGIN HIDDEN TESTS") + 1
    assert f"release/convlib/ex.py:{first_region}: contains 'BEGIN SOLUTION'" in message
    assert f"release/convlib/ex.py:{hidden}: contains 'BEGIN HIDDEN TESTS'" in message


@pytest.mark.parametrize("path, text, named", [
    # Not a .py file: copied verbatim by nbgrader, not stripped by the hook.
    ("notes.txt", "### BEGIN SOLUTION\nanswer\n### END SOLUTION\n", "release/notes.txt:1"),
    ("convlib/data.json", '{"hint": "END HIDDEN TESTS"}\n', "release/convlib/data.json:1"),
    # nbgrader converts top-level notebooks only; a nested one would be copied with solutions.
    ("extra/01_more.ipynb", json.dumps(_chapter()), "extra/01_more.ipynb"),
])
def test_marker_in_an_unexpected_place_fails_the_build(tmp_path, capsys, path, text, named):
    project = make_project(tmp_path)
    (project / "solutions" / path).parent.mkdir(parents=True, exist_ok=True)
    (project / "solutions" / path).write_text(text)
    assert build.main(["--root", str(project)]) == 1
    assert named in capsys.readouterr().err


def test_check_fails_on_stale_or_edited_generated_files(tmp_path, capsys):
    # A copy of the real solutions/, built into tmp_path; the real tree is never written.
    project = tmp_path / "project"
    shutil.copytree(ROOT / "solutions", project / "solutions",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    assert build.main(["--root", str(project)]) == 0
    assert build.main(["--check", "--root", str(project)]) == 0
    notebook = sorted((project / "book").glob("*.ipynb"))[0]
    module = project / "convlib" / "padding.py"
    pristine = {p: p.read_bytes() for p in (notebook, module)}

    notebook.write_text(notebook.read_text().replace("\n", "\n ", 1))  # an edited notebook
    (project / "convlib" / "stale.py").write_text("x = 1\n")          # a stale module
    module.unlink()                                                  # a missing one
    capsys.readouterr()
    assert build.main(["--check", "--root", str(project)]) == 1
    err = capsys.readouterr().err
    assert f"differs from a fresh build: book/{notebook.name}" in err
    assert "extra (the build does not make it): convlib/stale.py" in err
    assert "missing (the build makes it): convlib/padding.py" in err

    for path, data in pristine.items():
        path.write_bytes(data)
    (project / "convlib" / "stale.py").unlink()
    assert build.check(project) == []
    # A solution pasted into the committed package is a leak even if nothing else changed.
    module.write_bytes(pristine[module] + b"### BEGIN SOLUTION\n")
    problems = build.check(project)
    assert "differs from a fresh build: convlib/padding.py" in problems
    assert any(p.startswith("leaks solution text: convlib/padding.py:") for p in problems)
