"""The wrong ideas that convbook/checks/regularizer_gradients.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import regularizer_gradients as checks
from . import Mistake

MISTAKES = [
    Mistake("l1-sign-of-zero", "regularizers.py", "L1.gradient", """
        x = _as_float_array(args[0])
        return (self.l1 * np.where(x >= 0, 1.0, -1.0)).astype(x.dtype)
        """, checks.check_l1_gradient, checks.L1_GRAD_AT_ZERO),
    Mistake("l1-divide-by-abs", "regularizers.py", "L1.gradient", """
        x = _as_float_array(args[0])
        with np.errstate(invalid="ignore"):
            return (self.l1 * x / np.abs(x)).astype(x.dtype)
        """, checks.check_l1_gradient, checks.L1_GRAD_NAN),
    Mistake("l1-constant", "regularizers.py", "L1.gradient", """
        x = _as_float_array(args[0])
        return np.full_like(x, self.l1)
        """, checks.check_l1_gradient, checks.L1_GRAD_CONSTANT),
    Mistake("l1-linear", "regularizers.py", "L1.gradient", """
        x = _as_float_array(args[0])
        return (self.l1 * x).astype(x.dtype)
        """, checks.check_l1_gradient, checks.L1_GRAD_LINEAR),
    Mistake("l2-missing-2", "regularizers.py", "L2.gradient", """
        x = _as_float_array(args[0])
        return (self.l2 * x).astype(x.dtype)
        """, checks.check_l2_gradient, checks.L2_GRAD_NO_2),
    Mistake("l2-missing-factor", "regularizers.py", "L2.gradient", """
        x = _as_float_array(args[0])
        return 2 * x
        """, checks.check_l2_gradient, checks.L2_GRAD_NO_FACTOR),
    Mistake("l1l2-only-l1", "regularizers.py", "L1L2.gradient", """
        x = _as_float_array(args[0])
        return (self.l1 * np.sign(x)).astype(x.dtype)
        """, checks.check_l1l2_gradient, checks.L1L2_GRAD_ONLY_L1),
    Mistake("l1l2-only-l2", "regularizers.py", "L1L2.gradient", """
        x = _as_float_array(args[0])
        return (2 * self.l2 * x).astype(x.dtype)
        """, checks.check_l1l2_gradient, checks.L1L2_GRAD_ONLY_L2),
    Mistake("l1l2-missing-2", "regularizers.py", "L1L2.gradient", """
        x = _as_float_array(args[0])
        return (self.l1 * np.sign(x) + self.l2 * x).astype(x.dtype)
        """, checks.check_l1l2_gradient, checks.L2_GRAD_NO_2),
    Mistake("l1l2-sign-of-zero", "regularizers.py", "L1L2.gradient", """
        x = _as_float_array(args[0])
        return (self.l1 * np.where(x >= 0, 1.0, -1.0) + 2 * self.l2 * x).astype(x.dtype)
        """, checks.check_l1l2_gradient, checks.L1_GRAD_AT_ZERO),
]
