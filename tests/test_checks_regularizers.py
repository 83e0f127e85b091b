"""Chapter 08's check functions (convbook/checks/regularizers.py): right, wrong and unfinished
convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one METHOD of a
  regularizer class replaced, `method_patched`) fails with feedback naming that misconception;
* the Keras facts the chapter teaches hold (no 1/2, defaults, 'l1l2', layer.losses);
* every check cell of solutions/08_kernel_regularizer.ipynb is there, visible and hidden.

The checks compare deterministic numbers (no random statistic; exercise 8.4, the
OrthogonalRegularizer, too), so a correct solution never fails them: its false-failure rate
is 0 for any seed.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_misconception_named,
                           assert_mistake_named, assert_reference_passes,
                           assert_stubs_fail_cleanly, fake_convlib)
from convbook import mistakes
from convbook.checking import CheckFailure
from convbook.checks import regularizers as checks
from convbook.mistakes import wrong_module_text

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
NOTEBOOK = SOLUTIONS / "08_kernel_regularizer.ipynb"

CHECKS = [checks.check_l1, checks.check_l2, checks.check_l1l2,
          checks.check_orthogonal_regularizer]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {"check_l1": "regularizers.L1.__call__",
              "check_l2": "regularizers.L2.__call__",
              "check_l1l2": "regularizers.L1L2.__call__",
              "check_orthogonal_regularizer": "regularizers.OrthogonalRegularizer.__call__"}


def method_patched(class_name, method, body):
    """Code that replaces `class_name.method` (a method taking `self` and `*args, **kwargs`)
    by `body`; the body may call the reference as `_right(self, *args, **kwargs)`."""
    return wrong_module_text("", f"{class_name}.{method}", body)


def assert_method_misconception_named(check, misconception, class_name, method, body,
                                      tmp_path, monkeypatch, capfd):
    """A copy of the reference whose convlib/regularizers.py has `class_name.method` replaced
    by `body` fails `check`, and the feedback (text and record) names `misconception`."""
    assert_misconception_named(check, misconception, "regularizers.py", f"{class_name}.{method}",
                               body, tmp_path, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations (a method of a regularizer class replaced) and the check that
# must name each: the catalogue, convbook/mistakes/regularizers.py.

MISCONCEPTIONS = mistakes.table("regularizers")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_l1_without_abs_is_named_in_l1l2(tmp_path, monkeypatch, capfd):
    assert_method_misconception_named(checks.check_l1l2, checks.L1_NO_ABS, "L1L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(x) + self.l2 * np.sum(np.square(x)))
        """, tmp_path, monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 8


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_a_wrong_shape_or_none_is_feedback_not_a_crash(tmp_path, monkeypatch, capfd):
    """A penalty returned as an array, or None, is told as such."""
    for body, words in [("return np.square(_as_float_array(args[0])) * self.l2", "shape"),
                        ("return None", "returned None")]:
        folder = tmp_path / words.replace(" ", "_")
        folder.mkdir()
        monkeypatch.chdir(fake_convlib(folder, "regularizers.py",
                                       method_patched("L2", "__call__", body)))
        with pytest.raises(CheckFailure) as info:
            checks.check_l2()
        assert words in str(info.value), str(info.value)
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------- the facts the chapter teaches

def test_keras_facts():
    x = np.random.default_rng(0).standard_normal((3, 3, 2, 4)).astype(np.float32)
    assert checks.keras_penalty("L2", x) == pytest.approx(0.01 * np.sum(x.astype(float) ** 2),
                                                          rel=1e-5)
    assert checks.keras_penalty("L1", x, l1=0.3) == pytest.approx(
        0.3 * np.sum(np.abs(x.astype(float))), rel=1e-5)
    assert checks.keras_penalty("L1L2", x) == 0.0
    assert checks.keras_penalty("get:l1l2", x) == 0.0
    kernel, penalty = checks.keras_layer_penalty("L2", (3, 3), 2, 4, seed=1, l2=0.05)
    assert kernel.shape == (3, 3, 2, 4)
    assert penalty == pytest.approx(0.05 * np.sum(kernel.astype(float) ** 2), rel=1e-5)


# ------------------------------------------------------------------- the notebook's cells

def test_the_notebook_has_a_check_cell_per_check():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"
                        and c["metadata"].get("nbgrader", {}).get("grade"))
    for check in CHECKS:
        assert f"checks.{check.__name__}()" in sources, check.__name__
        assert f"checks.{check.__name__}(hidden=True)" in sources, check.__name__


def test_keras_orthogonal_regularizer_facts():
    """The formula the chapter teaches (factor times the mean |cosine| over pairs i != j,
    rows or columns), on a tensor; and Keras 3.15's quirk: on a NUMPY array, mode="columns"
    normalises along the wrong axis (a square matrix gives a wrong number silently, another
    raises), which is why the check's oracle passes a tensor."""
    import keras
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    for mode, vectors in (("rows", x.astype(float)), ("columns", x.astype(float).T)):
        u = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        p = np.abs(u @ u.T)[~np.eye(len(u), dtype=bool)]
        assert checks.keras_orthogonal_penalty(x, factor=0.3, mode=mode) == pytest.approx(
            0.3 * p.mean(), rel=1e-5)
    square = (rng.standard_normal((4, 4)) * [[1.0], [3.0], [0.2], [1.0]]).astype(np.float32)
    columns = keras.regularizers.OrthogonalRegularizer(0.5, "columns")
    assert float(columns(square)) != pytest.approx(
        checks.keras_orthogonal_penalty(square, factor=0.5, mode="columns"), rel=1e-3)
    with pytest.raises(ValueError):
        columns(x)
    with pytest.raises(ValueError, match="rank 2"):
        checks.keras_orthogonal_penalty(np.ones((3, 3, 2, 4)), factor=0.1)
    dense = keras.layers.Dense(4, kernel_regularizer=columns)
    dense.build((None, 6))
    kernel = keras.ops.convert_to_numpy(dense.kernel)
    assert float(dense.losses[0]) == pytest.approx(
        checks.keras_orthogonal_penalty(kernel, factor=0.5, mode="columns"), rel=1e-5)
