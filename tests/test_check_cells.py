"""Every check cell works as the first code run in a fresh process, with nothing on stderr.

At autograde only graded cells run (convbook.grading), and a reader may run a check before
anything else: a check cell that leans on an earlier cell, or that lets TensorFlow log on
stderr when it is the first to import Keras (nbgrader scores a cell with stderr output as 0),
fails here. Each cell's full source (its hidden tests included) runs in a new Python process
beside the reference convlib.
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "solutions").glob("*.ipynb") if p.name != "index.ipynb")


def _check_cells():
    cells = []
    for path in CHAPTERS:
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                cells.append(pytest.param(cell.source, id=f"{path.stem}:{meta['grade_id']}"))
    return cells


@pytest.mark.parametrize("source", _check_cells())
def test_check_cell_runs_first_in_a_fresh_process(source, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_", "KERAS_", "NBGRADER_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", source], cwd=ROOT / "solutions", env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stderr == "", done.stderr[-2000:]
    assert done.stdout.count("agree with Keras") >= 2, done.stdout     # visible + hidden
