"""The wrong ideas that convbook/checks/regularizers.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import regularizers as checks
from . import Mistake

MISTAKES = [
    Mistake("l2-half", "regularizers.py", "L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 / 2 * np.sum(np.square(x)))
        """, checks.check_l2, checks.L2_HALF),
    Mistake("l2-norm", "regularizers.py", "L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 * np.sqrt(np.sum(np.square(x))))
        """, checks.check_l2, checks.L2_NORM),
    Mistake("l2-mean", "regularizers.py", "L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 * np.mean(np.square(x)))
        """, checks.check_l2, checks.MEAN_NOT_SUM),
    Mistake("l2-hardcoded", "regularizers.py", "L2.__call__", """
        x = _as_float_array(args[0])
        return float(0.01 * np.sum(np.square(x)))
        """, checks.check_l2, checks.FACTOR_HARDCODED),
    Mistake("l1-no-abs", "regularizers.py", "L1.__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(x))
        """, checks.check_l1, checks.L1_NO_ABS),
    Mistake("l1-mean", "regularizers.py", "L1.__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.mean(np.abs(x)))
        """, checks.check_l1, checks.MEAN_NOT_SUM),
    Mistake("l1-hardcoded", "regularizers.py", "L1.__call__", """
        x = _as_float_array(args[0])
        return float(0.01 * np.sum(np.abs(x)))
        """, checks.check_l1, checks.FACTOR_HARDCODED),
    Mistake("l1l2-only-l1", "regularizers.py", "L1L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(np.abs(x)))
        """, checks.check_l1l2, checks.L1L2_ONLY_L1),
    Mistake("l1l2-only-l2", "regularizers.py", "L1L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l2 * np.sum(np.square(x)))
        """, checks.check_l1l2, checks.L1L2_ONLY_L2),
    Mistake("l1l2-half", "regularizers.py", "L1L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.sum(np.abs(x)) + self.l2 / 2 * np.sum(np.square(x)))
        """, checks.check_l1l2, checks.L2_HALF),
    Mistake("l1l2-mean", "regularizers.py", "L1L2.__call__", """
        x = _as_float_array(args[0])
        return float(self.l1 * np.mean(np.abs(x)) + self.l2 * np.mean(np.square(x)))
        """, checks.check_l1l2, checks.MEAN_NOT_SUM),
    Mistake("l1l2-defaults-001", "regularizers.py", "L1L2.__init__", """
        l1 = kwargs.get("l1", args[0] if args else 0.01)
        l2 = kwargs.get("l2", args[1] if len(args) > 1 else 0.01)
        _right(self, l1, l2)
        """, checks.check_l1l2, checks.L1L2_DEFAULTS),
    Mistake("orthogonal-not-normalised", "regularizers.py", "OrthogonalRegularizer.__call__", """
        v = self._vectors(args[0])
        p = v @ v.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * 0.5 * np.sum(np.abs(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_NOT_NORMALISED),
    Mistake("orthogonal-diagonal-included", "regularizers.py", "OrthogonalRegularizer.__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        n = len(u)
        return float(self.factor * 0.5 * np.sum(np.abs(u @ u.T)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_DIAGONAL),
    Mistake("orthogonal-mode-ignored", "regularizers.py", "OrthogonalRegularizer.__call__", """
        x = _as_float_array(args[0])
        u = self._unit_rows(x)[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * 0.5 * np.sum(np.abs(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_MODE_IGNORED),
    Mistake("orthogonal-squared", "regularizers.py", "OrthogonalRegularizer.__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * 0.5 * np.sum(np.square(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_SQUARED),
    Mistake("orthogonal-pairs-twice", "regularizers.py", "OrthogonalRegularizer.__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        n = len(p)
        return float(self.factor * np.sum(np.abs(p)) / (n * (n - 1) / 2))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_PAIRS_TWICE),
    Mistake("orthogonal-mean-all", "regularizers.py", "OrthogonalRegularizer.__call__", """
        u = self._unit_rows(self._vectors(args[0]))[0]
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        return float(self.factor * np.mean(np.abs(p)))
        """, checks.check_orthogonal_regularizer, checks.ORTHO_REG_MEAN_ALL),
]
