"""The wrong ideas that convbook/checks/constraints.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import constraints as checks
from . import Mistake

MISTAKES = [
    Mistake("max-norm-axis-zero", "constraints.py", "MaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = _norms(w, (0,))
        return w * (np.clip(n, 0, self.max_value) / (EPSILON + n))
        """, checks.check_max_norm, checks.AXIS_ZERO_ONLY, params='self, w'),
    Mistake("max-norm-whole-tensor", "constraints.py", "MaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = np.sqrt(np.sum(w * w))
        return w * (np.clip(n, 0, self.max_value) / (EPSILON + n))
        """, checks.check_max_norm, checks.WHOLE_TENSOR, params='self, w'),
    Mistake("max-norm-scales-up", "constraints.py", "MaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = _norms(w, axes)
        return w * (self.max_value / (EPSILON + n))
        """, checks.check_max_norm, checks.MAX_NORM_SCALES_UP, params='self, w'),
    Mistake("max-norm-clips-entries", "constraints.py", "MaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        return np.clip(w, -self.max_value, self.max_value)
        """, checks.check_max_norm, checks.MAX_NORM_CLIPS_ENTRIES, params='self, w'),
    Mistake("max-norm-no-epsilon", "constraints.py", "MaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = _norms(w, axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return w * (np.clip(n, 0, self.max_value) / n)
        """, checks.check_max_norm, checks.NO_EPSILON, params='self, w'),
    Mistake("unit-norm-axis-zero", "constraints.py", "UnitNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        return w / (EPSILON + _norms(w, (0,)))
        """, checks.check_unit_norm, checks.AXIS_ZERO_ONLY, params='self, w'),
    Mistake("unit-norm-whole-tensor", "constraints.py", "UnitNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        return w / (EPSILON + np.linalg.norm(w))
        """, checks.check_unit_norm, checks.WHOLE_TENSOR, params='self, w'),
    Mistake("unit-norm-no-epsilon", "constraints.py", "UnitNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            return w / _norms(w, axes)
        """, checks.check_unit_norm, checks.NO_EPSILON, params='self, w'),
    Mistake("min-max-axis-zero", "constraints.py", "MinMaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = _norms(w, (0,))
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return w * (desired / (EPSILON + n))
        """, checks.check_min_max_norm, checks.AXIS_ZERO_ONLY, params='self, w'),
    Mistake("min-max-rate-ignored", "constraints.py", "MinMaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = _norms(w, axes)
        return w * (np.clip(n, self.min_value, self.max_value) / (EPSILON + n))
        """, checks.check_min_max_norm, checks.RATE_IGNORED, params='self, w'),
    Mistake("min-max-rate-swapped", "constraints.py", "MinMaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = _norms(w, axes)
        desired = (1 - self.rate) * np.clip(n, self.min_value, self.max_value) + self.rate * n
        return w * (desired / (EPSILON + n))
        """, checks.check_min_max_norm, checks.RATE_SWAPPED, params='self, w'),
    Mistake("min-max-clips-entries", "constraints.py", "MinMaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        return np.clip(w, self.min_value, self.max_value)
        """, checks.check_min_max_norm, checks.MIN_MAX_CLIPS_ENTRIES, params='self, w'),
    Mistake("min-max-whole-tensor", "constraints.py", "MinMaxNorm.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        n = np.sqrt(np.sum(w * w))
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return w * (desired / (EPSILON + n))
        """, checks.check_min_max_norm, checks.WHOLE_TENSOR, params='self, w'),
    Mistake("non-neg-abs", "constraints.py", "NonNeg.__call__", """
        w = _as_float_array(w)
        axes = _resolve_axis(getattr(self, "axis", None), w.shape)
        return np.abs(w)
        """, checks.check_non_neg, checks.NON_NEG_ABS, params='self, w'),
]
