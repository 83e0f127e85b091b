"""The reader's workspace: created from the book, updated without losing a line of their work.

A throw-away "repository" holds a copy of today's book/ and convlib/; a reader edits their
workspace (a function in convlib/, a written answer, a cell of their own); then the book
changes upstream (a new chapter, a new function in a stub module, a reworded chapter) and
`update` runs. Everything the reader wrote must still be there, the new material too, and
what cannot be merged must be reported and kept, never dropped.
"""
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from convbook import reader

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "00_what_conv2d_computes.ipynb"
MY_CORRELATE = '''
def correlate2d(image, kernel):
    """My own version."""
    import numpy as np
    return np.zeros((1, 1))  # the reader's line
'''


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "book", repo / "book")
    shutil.copytree(ROOT / "convlib", repo / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return repo


def answer_cell(nb):
    return next(c for c in nb.cells if c.cell_type == "markdown"
                and c.metadata.get("nbgrader", {}).get("solution"))


def reader_edits(workspace):
    """A function written, an answer written, a cell added: what a reader does."""
    path = workspace / "convlib" / "correlate.py"
    text = path.read_text()
    start = text.index("def correlate2d(")
    end = text.index("\ndef ", start + 1)
    path.write_text(text[:start] + MY_CORRELATE.strip() + "\n\n" + text[end:])
    nb = nbformat.read(workspace / CHAPTER, as_version=4)
    answer_cell(nb).source = "My answer: the kernel is learned, so flipping it changes nothing."
    nb.cells.insert(3, new_code_cell("print('my own experiment')"))
    nbformat.write(nb, workspace / CHAPTER)


def upstream_changes(repo):
    """The book moves on: a new chapter, a new function appended to a stub module, a
    chapter's text reworded."""
    shutil.copy(repo / "book" / "02_padding.ipynb", repo / "book" / "03_new_chapter.ipynb")
    path = repo / "convlib" / "correlate.py"
    path.write_text(path.read_text() + "\n\ndef brand_new(x):\n    raise NotImplementedError()\n")
    nb = nbformat.read(repo / "book" / CHAPTER, as_version=4)
    nb.cells[0].source += "\n\n(Reworded upstream.)"
    nbformat.write(nb, repo / "book" / CHAPTER)


def test_first_lab_creates_the_workspace_from_the_book(repo):
    lines = []
    workspace = reader.ensure_workspace(repo, lines.append)
    assert workspace == repo / "workspace" and "Created your workspace" in lines[0]
    assert (workspace / "index.ipynb").is_file() and (workspace / CHAPTER).is_file()
    assert (workspace / "convlib" / "correlate.py").read_text() == \
        (repo / "convlib" / "correlate.py").read_text()
    assert reader.ensure_workspace(repo, lines.append) == workspace and len(lines) == 1


def test_update_keeps_the_readers_work_and_brings_the_new_book(repo):
    workspace = reader.ensure_workspace(repo, lambda _: None)
    reader_edits(workspace)
    upstream_changes(repo)
    lines = []
    assert reader.update(repo, lines.append) == 0, lines
    text = (workspace / "convlib" / "correlate.py").read_text()
    assert "# the reader's line" in text and "def brand_new(x):" in text      # both
    nb = nbformat.read(workspace / CHAPTER, as_version=4)
    assert answer_cell(nb).source.startswith("My answer:")
    assert "(Reworded upstream.)" in nb.cells[0].source
    sources = [c.source for c in nb.cells]
    mine = sources.index("print('my own experiment')")
    assert mine == 4 or sources[mine - 1] == nbformat.read(
        repo / "book" / CHAPTER, as_version=4).cells[2].source    # where the reader put it
    assert (workspace / "03_new_chapter.ipynb").is_file()
    assert any(line.startswith("new") and "03_new_chapter" in line for line in lines)
    # a second update changes nothing
    again = []
    assert reader.update(repo, again.append) == 0 and again == ["Your workspace is up to date."]


def test_a_conflict_keeps_the_readers_file_and_saves_the_new_one_beside_it(repo):
    workspace = reader.ensure_workspace(repo, lambda _: None)
    reader_edits(workspace)
    mine_before = (workspace / "convlib" / "correlate.py").read_text()
    path = repo / "convlib" / "correlate.py"                 # upstream edits the same lines
    text = path.read_text()
    start = text.index("def correlate2d(")
    end = text.index("\ndef ", start + 1)
    path.write_text(text[:start] + "def correlate2d(image, kernel, upstream=True):\n"
                    "    raise NotImplementedError()\n\n" + text[end:])
    lines = []
    assert reader.update(repo, lines.append) == 1
    assert (workspace / "convlib" / "correlate.py").read_text() == mine_before
    upstream = workspace / "convlib" / "correlate.py.upstream"
    assert upstream.read_text() == path.read_text()
    assert any("CONFLICT" in line and "correlate.py.upstream" in line for line in lines)


def test_submission_zip_is_what_collect_takes(repo, tmp_path):
    workspace = reader.ensure_workspace(repo, lambda _: None)
    reader_edits(workspace)
    path, names = reader.submission_zip("s1234", repo, out=tmp_path)
    assert path.name == "s1234_conv2d.zip"
    with zipfile.ZipFile(path) as zf:
        listed = set(zf.namelist())
        assert "# the reader's line" in zf.read("convlib/correlate.py").decode()
    assert listed == set(names) and CHAPTER in listed and "index.ipynb" not in listed
    from convbook.collect import DEFAULT_NAME_PATTERN
    import re

    assert re.match(DEFAULT_NAME_PATTERN, path.name).group("student_id") == "s1234"
    with pytest.raises(reader.ReaderError, match="student id"):
        reader.submission_zip("../evil", repo, out=tmp_path)


def test_lab_configuration_lives_in_the_repository():
    for mode in reader.MODES:
        folder = ROOT / "jupyter" / mode
        page = json.loads((folder / "labconfig" / "page_config.json").read_text())
        disabled = page["disabledExtensions"]
        for plugin in ("formgrader", "create-assignment", "course-list"):
            assert disabled[f"@jupyter/nbgrader:{plugin}"] is True
        assert disabled.get("@jupyter/nbgrader:assignment-list", False) is (mode == "reading")
        assert "@jupyter/nbgrader:validate-assignment" not in disabled
        overrides = json.loads((folder / "labconfig" / "default_setting_overrides.json").read_text())
        assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
        env = reader.lab_environment(ROOT, mode)
        assert env["JUPYTER_CONFIG_DIR"] == str(folder)
        assert env["JUPYTERLAB_SETTINGS_DIR"].startswith(str(ROOT / "workspace"))
