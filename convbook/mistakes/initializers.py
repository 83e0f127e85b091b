"""The wrong ideas that convbook/checks/initializers.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import initializers as checks
from . import Mistake

INIT_CALL = 'self, shape, dtype="float32"'   # an initializer's __call__

MISTAKES = [
    Mistake("fans-no-receptive", "initializers.py", "compute_fans", """
        shape = tuple(args[0])
        return _right_compute_fans(shape) if len(shape) < 3 else (shape[-2], shape[-1])
        """, checks.check_compute_fans, checks.FANS_NO_RECEPTIVE),
    Mistake("fans-out-no-receptive", "initializers.py", "compute_fans", """
        shape = tuple(args[0])
        fan_in, fan_out = _right_compute_fans(shape)
        return fan_in, (shape[-1] if len(shape) >= 3 else fan_out)
        """, checks.check_compute_fans, checks.FANS_OUT_NO_RECEPTIVE),
    Mistake("fans-swapped", "initializers.py", "compute_fans", """
        fan_in, fan_out = _right_compute_fans(*args)
        return fan_out, fan_in
        """, checks.check_compute_fans, checks.FANS_SWAPPED),
    Mistake("fans-torch-layout", "initializers.py", "compute_fans", """
        shape = tuple(args[0])
        if len(shape) < 3:
            return _right_compute_fans(shape)
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive
        """, checks.check_compute_fans, checks.FANS_TORCH_LAYOUT),
    Mistake("spread-notes-variance", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        right = _right_variance_scaling_spread(*args)
        return right * math.sqrt(3) if distribution == "uniform" else right
        """, checks.check_variance_scaling_spread, checks.SPREAD_NOTES_VARIANCE),
    Mistake("spread-uniform-std", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        right = _right_variance_scaling_spread(*args)
        return right / math.sqrt(3) if distribution == "uniform" else right
        """, checks.check_variance_scaling_spread, checks.SPREAD_UNIFORM_STD),
    Mistake("spread-normal-limit", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        return _right_variance_scaling_spread(3 * scale if distribution != "uniform" else scale,
                                              mode, distribution, fan_in, fan_out)
        """, checks.check_variance_scaling_spread, checks.SPREAD_NORMAL_LIMIT),
    Mistake("spread-not-rescaled", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        right = _right_variance_scaling_spread(*args)
        return right * TRUNCATED_NORMAL_STD if distribution == "truncated_normal" else right
        """, checks.check_variance_scaling_spread, checks.SPREAD_NOT_RESCALED),
    Mistake("spread-rescale-multiplied", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        right = _right_variance_scaling_spread(*args)
        if distribution == "truncated_normal":
            return right * TRUNCATED_NORMAL_STD ** 2
        return right
        """, checks.check_variance_scaling_spread, checks.SPREAD_RESCALE_MULTIPLIED),
    Mistake("spread-untruncated-rescaled", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        right = _right_variance_scaling_spread(*args)
        if distribution == "untruncated_normal":
            return right / TRUNCATED_NORMAL_STD
        return right
        """, checks.check_variance_scaling_spread, checks.SPREAD_UNTRUNCATED_RESCALED),
    Mistake("spread-fan-avg-sum", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        if mode == "fan_avg":
            return _right_variance_scaling_spread(scale, "fan_in", distribution,
                                                  fan_in + fan_out, 0)
        return _right_variance_scaling_spread(*args)
        """, checks.check_variance_scaling_spread, checks.SPREAD_FAN_AVG_SUM),
    Mistake("spread-no-max-one", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / fan
        if distribution == "truncated_normal":
            return math.sqrt(variance) / TRUNCATED_NORMAL_STD
        if distribution == "untruncated_normal":
            return math.sqrt(variance)
        return math.sqrt(3.0 * variance)
        """, checks.check_variance_scaling_spread, checks.SPREAD_NO_MAX_ONE),
    Mistake("truncated-clipped", "initializers.py", "truncated_normal", """
        rng, shape, mean, stddev = args
        return np.clip(rng.normal(mean, stddev, shape), mean - 2 * stddev, mean + 2 * stddev)
        """, checks.check_truncated_normal, checks.TRUNC_CLIPPED),
    Mistake("truncated-not-cut", "initializers.py", "truncated_normal", """
        rng, shape, mean, stddev = args
        return rng.normal(mean, stddev, shape)
        """, checks.check_truncated_normal, checks.TRUNC_NOT_TRUNCATED),
    Mistake("truncated-rescaled-inside", "initializers.py", "truncated_normal", """
        rng, shape, mean, stddev = args
        return _right_truncated_normal(rng, shape, mean, stddev / TRUNCATED_NORMAL_STD)
        """, checks.check_truncated_normal, checks.TRUNC_RESCALED_INSIDE),
    Mistake("vs-limit-as-variance", "initializers.py", "VarianceScaling.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        fan_in, fan_out = compute_fans(shape)
        spread = variance_scaling_spread(self.scale, self.mode, self.distribution, fan_in, fan_out)
        if self.distribution == "truncated_normal":
            values = truncated_normal(rng, shape, 0.0, spread)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, spread, shape)
        else:
            values = rng.uniform(-3 ** 0.5 * spread, 3 ** 0.5 * spread, shape)
        return values.astype(dtype)
        """, checks.check_variance_scaling, checks.VS_LIMIT_AS_VARIANCE, params=INIT_CALL),
    Mistake("vs-untruncated", "initializers.py", "VarianceScaling.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        fan_in, fan_out = compute_fans(shape)
        spread = variance_scaling_spread(self.scale, self.mode, self.distribution, fan_in, fan_out)
        if self.distribution == "truncated_normal":
            values = rng.normal(0.0, spread, shape)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, spread, shape)
        else:
            values = rng.uniform(-spread, spread, shape)
        return values.astype(dtype)
        """, checks.check_variance_scaling, checks.VS_UNTRUNCATED, params=INIT_CALL),
    Mistake("vs-no-receptive-field", "initializers.py", "compute_fans", """
        shape = tuple(args[0])
        return _right_compute_fans(shape) if len(shape) < 3 else (shape[-2], shape[-1])
        """, checks.check_variance_scaling, checks.VS_NO_RECEPTIVE),
    # A wrong piece of the first exercises is named by the VarianceScaling check too.
    Mistake("vs-truncated-not-cut", "initializers.py", "truncated_normal", """
        rng, shape, mean, stddev = args
        return rng.normal(mean, stddev, shape)
        """, checks.check_variance_scaling, checks.VS_UNTRUNCATED),
    Mistake("vs-spread-not-rescaled", "initializers.py", "variance_scaling_spread", """
        scale, mode, distribution, fan_in, fan_out = args
        right = _right_variance_scaling_spread(*args)
        return right * TRUNCATED_NORMAL_STD if distribution == "truncated_normal" else right
        """, checks.check_variance_scaling, checks.VS_NOT_RESCALED),
    Mistake("vs-not-rescaled", "initializers.py", "VarianceScaling.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        fan_in, fan_out = compute_fans(shape)
        spread = variance_scaling_spread(self.scale, self.mode, self.distribution, fan_in, fan_out)
        if self.distribution == "truncated_normal":
            values = truncated_normal(rng, shape, 0.0, spread * TRUNCATED_NORMAL_STD)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, spread, shape)
        else:
            values = rng.uniform(-spread, spread, shape)
        return values.astype(dtype)
        """, checks.check_variance_scaling, checks.VS_NOT_RESCALED, params=INIT_CALL),
    Mistake("orthogonal-not-transposed", "initializers.py", "Orthogonal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        return (self.gain * q).reshape(shape).astype(dtype)
        """, checks.check_orthogonal, checks.ORTHO_NOT_TRANSPOSED, params=INIT_CALL),
    Mistake("orthogonal-gain-ignored", "initializers.py", "Orthogonal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        return (q.T if rows < cols else q).reshape(shape).astype(dtype)
        """, checks.check_orthogonal, checks.ORTHO_GAIN_IGNORED, params=INIT_CALL),
    Mistake("orthogonal-wrong-flatten", "initializers.py", "Orthogonal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        rows, cols = shape[0], math.prod(shape[1:])
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        return (self.gain * (q.T if rows < cols else q)).reshape(shape).astype(dtype)
        """, checks.check_orthogonal, checks.ORTHO_WRONG_FLATTEN, params=INIT_CALL),
    Mistake("orthogonal-returned-r", "initializers.py", "Orthogonal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q, r = np.linalg.qr(a, mode="complete")
        return (self.gain * (r.T if rows < cols else r)).reshape(shape).astype(dtype)
        """, checks.check_orthogonal, checks.ORTHO_RETURNED_R, params=INIT_CALL),
    Mistake("orthogonal-unnormalised", "initializers.py", "Orthogonal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.diag(r)           # Gram-Schmidt without dividing by the norms
        return (self.gain * (q.T if rows < cols else q)).reshape(shape).astype(dtype)
        """, checks.check_orthogonal, checks.ORTHO_UNNORMALISED, params=INIT_CALL),
    Mistake("orthogonal-no-sign-correction", "initializers.py", "Orthogonal.__call__", """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        return (self.gain * (q.T if rows < cols else q)).reshape(shape).astype(dtype)
        """, checks.check_orthogonal, checks.ORTHO_NO_SIGN_CORRECTION, params=INIT_CALL),
]
