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
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_reference_passes,
                           assert_stubs_fail_cleanly)
from convbook.checking import CheckFailure
from convbook.checks import regularizers as checks

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
    return (f"\n\n_right_{class_name}_{method} = {class_name}.{method}\n\n\n"
            f"def _wrong_{class_name}_{method}(self, *args, **kwargs):\n"
            f"    _right = _right_{class_name}_{method}\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
            + f"\n\n\n{class_name}.{method} = _wrong_{class_name}_{method}\n")


def assert_method_misconception_named(check, misconception, class_name, method, body,
                                      tmp_path, monkeypatch, capfd):
    """A copy of the reference whose convlib/regularizers.py has `class_name.method` replaced
    by `body` fails `check`, and the feedback (text and record) names `misconception`."""
    shutil.copytree(SOLUTIONS / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "convlib" / "regularizers.py"
    path.write_text(path.read_text() + method_patched(class_name, method, body))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailure) as info:
        check()
    assert misconception.text in str(info.value), f"feedback was\n{info.value}"
    record = info.value.record
    assert record.misconception == misconception.id, record
    assert record.check and record.case, record
    out, err = capfd.readouterr()
    assert err == "", f"wrote to stderr: {err!r}"


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# name: (class, method, body replacing it, check, misconception)

MISCONCEPTIONS = {
    "l2-half": ("L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 / 2 * np.sum(np.square(x)))
        """, checks.check_l2, checks.L2_HALF),
    "l2-norm": ("L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 * np.sqrt(np.sum(np.square(x))))
        """, checks.check_l2, checks.L2_NORM),
    "l2-mean": ("L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 * np.mean(np.square(x)))
        """, checks.check_l2, checks.MEAN_NOT_SUM),
    "l2-hardcoded": ("L2", "__call__", """
        x = _as_float_array(args[0])
        return float(0.01 * np.sum(np.square(x)))
        """, checks.check_l2, checks.FACTOR_HARDCODED),
    "l1-no-abs": ("L1", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(x))
        """, checks.check_l1, checks.L1_NO_ABS),
    "l1-mean": ("L1", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.mean(np.abs(x)))
        """, checks.check_l1, checks.MEAN_NOT_SUM),
    "l1-hardcoded": ("L1", "__call__", """
        x = _as_float_array(args[0])
        return float(0.01 * np.sum(np.abs(x)))
        """, checks.check_l1, checks.FACTOR_HARDCODED),
    "l1l2-only-l1": ("L1L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(np.abs(x)))
        """, checks.check_l1l2, checks.L1L2_ONLY_L1),
    "l1l2-only-l2": ("L1L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 * np.sum(np.square(x)))
        """, checks.check_l1l2, checks.L1L2_ONLY_L2),
    "l1l2-half": ("L1L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(np.abs(x)) + self.l2 / 2 * np.sum(np.square(x)))
        """, checks.check_l1l2, checks.L2_HALF),
    "l1l2-mean": ("L1L2", "__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.mean(np.abs(x)) + self.l2 * np.mean(np.square(x)))
        """, checks.check_l1l2, checks.MEAN_NOT_SUM),
    "l1l2-defaults-001": ("L1L2", "__init__", """
        l1 = kwargs.get("l1", args[0] if args else 0.01)
        l2 = kwargs.get("l2", args[1] if len(args) > 1 else 0.01)
        _right(self, l1, l2)
        """, checks.check_l1l2, checks.L1L2_DEFAULTS),
    # OrthogonalRegularizer (exercise 8.4); the right body, for reference:
    #   u = self._unit_rows(self._vectors(x))[0]; p = u @ u.T with a zero diagonal;
    #   factor * 0.5 * sum(|p|) / (n (n - 1) / 2)
    "orthogonal-not-normalised": ("OrthogonalRegularizer", "__call__", """
        v = self._vectors(args[0])
        p = v @ v.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * 0.5 * np.sum(np.abs(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_NOT_NORMALISED),
    "orthogonal-diagonal-included": ("OrthogonalRegularizer", "__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        n = len(u)
        return float(self.factor * 0.5 * np.sum(np.abs(u @ u.T)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_DIAGONAL),
    "orthogonal-mode-ignored": ("OrthogonalRegularizer", "__call__", """
        x = _as_float_array(args[0])
        u = self._unit_rows(x)[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * 0.5 * np.sum(np.abs(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_MODE_IGNORED),
    "orthogonal-squared": ("OrthogonalRegularizer", "__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * 0.5 * np.sum(np.square(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_SQUARED),
    "orthogonal-pairs-twice": ("OrthogonalRegularizer", "__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * np.sum(np.abs(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_PAIRS_TWICE),
    "orthogonal-mean-all": ("OrthogonalRegularizer", "__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        return float(self.factor * np.mean(np.abs(p)))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_MEAN_ALL),
}


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    class_name, method, body, check, misconception = MISCONCEPTIONS[name]
    assert_method_misconception_named(check, misconception, class_name, method, body,
                                      tmp_path, monkeypatch, capfd)


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
        shutil.copytree(SOLUTIONS / "convlib", folder / "convlib",
                        ignore=shutil.ignore_patterns("__pycache__"))
        path = folder / "convlib" / "regularizers.py"
        path.write_text(path.read_text() + method_patched("L2", "__call__", body))
        monkeypatch.chdir(folder)
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
