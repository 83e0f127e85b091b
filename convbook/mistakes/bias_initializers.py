"""The wrong ideas that convbook/checks/bias_initializers.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import bias_initializers as checks
from . import Mistake

INIT_CALL = 'self, shape, dtype="float32"'   # an initializer's __call__

MISTAKES = [
    Mistake("zeros-float64", "initializers.py", "Zeros.__call__", """
        return np.zeros(_standardize_shape(shape))
        """, checks.check_zeros, checks.ZEROS_DTYPE, params=INIT_CALL),
    Mistake("constant-full-without-dtype", "initializers.py", "Constant.__call__", """
        return np.full(_standardize_shape(shape), self.value)
        """, checks.check_constant, checks.CONSTANT_DTYPE, params=INIT_CALL),
    Mistake("constant-value-ignored", "initializers.py", "Constant.__call__", """
        return np.zeros(_standardize_shape(shape), dtype=_standardize_dtype(dtype, False))
        """, checks.check_constant, checks.CONSTANT_VALUE_IGNORED, params=INIT_CALL),
    Mistake("normal-float64", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.normal(self.mean, self.stddev, shape)
        """, checks.check_random_normal, checks.RANDOM_DTYPE, params=INIT_CALL),
    Mistake("normal-stddev-as-variance", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.normal(self.mean, np.sqrt(self.stddev), shape).astype(dtype)
        """, checks.check_random_normal, checks.NORMAL_STDDEV_AS_VARIANCE, params=INIT_CALL),
    Mistake("normal-variance-as-scale", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.normal(self.mean, self.stddev ** 2, shape).astype(dtype)
        """, checks.check_random_normal, checks.NORMAL_VARIANCE_AS_SCALE, params=INIT_CALL),
    Mistake("normal-mean-ignored", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return (self.stddev * rng.standard_normal(shape)).astype(dtype)
        """, checks.check_random_normal, checks.NORMAL_MEAN_IGNORED, params=INIT_CALL),
    Mistake("normal-standard", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.standard_normal(shape).astype(dtype)
        """, checks.check_random_normal, checks.NORMAL_STANDARD, params=INIT_CALL),
    Mistake("normal-global-stream", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return np.random.normal(self.mean, self.stddev, shape).astype(dtype)
        """, checks.check_random_normal, checks.SEED_GLOBAL_STREAM, params=INIT_CALL),
    Mistake("normal-fixed-seed", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rng = np.random.default_rng(0)
        return rng.normal(self.mean, self.stddev, shape).astype(dtype)
        """, checks.check_random_normal, checks.SEED_FIXED, params=INIT_CALL),
    Mistake("normal-only-int-seeds", "initializers.py", "RandomNormal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rng = np.random.default_rng(self.seed if isinstance(self.seed, int) else 0)
        return rng.normal(self.mean, self.stddev, shape).astype(dtype)
        """, checks.check_random_normal, checks.UNSEEDED_FIXED, params=INIT_CALL),
    Mistake("uniform-from-zero", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.uniform(0, self.maxval, shape).astype(dtype)
        """, checks.check_random_uniform, checks.UNIFORM_FROM_ZERO, params=INIT_CALL),
    Mistake("uniform-symmetric", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.uniform(-self.maxval, self.maxval, shape).astype(dtype)
        """, checks.check_random_uniform, checks.UNIFORM_SYMMETRIC, params=INIT_CALL),
    Mistake("uniform-not-shifted", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return ((self.maxval - self.minval) * rng.random(shape)).astype(dtype)
        """, checks.check_random_uniform, checks.UNIFORM_NOT_SHIFTED, params=INIT_CALL),
    Mistake("uniform-unit", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.random(shape).astype(dtype)
        """, checks.check_random_uniform, checks.UNIFORM_UNIT, params=INIT_CALL),
    Mistake("uniform-float64", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return rng.uniform(self.minval, self.maxval, shape)
        """, checks.check_random_uniform, checks.RANDOM_DTYPE, params=INIT_CALL),
    Mistake("uniform-global-stream", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return np.random.uniform(self.minval, self.maxval, shape).astype(dtype)
        """, checks.check_random_uniform, checks.SEED_GLOBAL_STREAM, params=INIT_CALL),
    Mistake("uniform-fixed-seed", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return np.random.default_rng(1234).uniform(self.minval, self.maxval,
                                                   shape).astype(dtype)
        """, checks.check_random_uniform, checks.SEED_FIXED, params=INIT_CALL),
    Mistake("uniform-only-int-seeds", "initializers.py", "RandomUniform.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rng = np.random.default_rng(self.seed if isinstance(self.seed, int) else 7)
        return rng.uniform(self.minval, self.maxval, shape).astype(dtype)
        """, checks.check_random_uniform, checks.UNSEEDED_FIXED, params=INIT_CALL),
]
