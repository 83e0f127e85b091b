"""The wrong ideas that convbook/checks/strides.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import strides as checks
from . import Mistake

MISTAKES = [
    Mistake("valid-no-plus-one", "output_size.py", "output_length", """
        n, k, s, padding = args
        if padding.lower() == "valid":
            return (n - k) // s
        return _right_output_length(*args)
        """, checks.check_output_length, checks.VALID_NO_PLUS_ONE),
    Mistake("valid-ceil", "output_size.py", "output_length", """
        n, k, s, padding = args
        if padding.lower() == "valid":
            return -(-(n - k) // s) + 1
        return _right_output_length(*args)
        """, checks.check_output_length, checks.VALID_CEIL),
    Mistake("valid-no-stride", "output_size.py", "output_length", """
        n, k, s, padding = args
        return _right_output_length(n, k, 1 if padding.lower() == "valid" else s, padding)
        """, checks.check_output_length, checks.VALID_NO_STRIDE),
    Mistake("same-keeps-size", "output_size.py", "output_length", """
        n, k, s, padding = args
        return n if padding.lower() == "same" else _right_output_length(*args)
        """, checks.check_output_length, checks.SAME_KEEPS_SIZE),
    Mistake("same-floor", "output_size.py", "output_length", """
        n, k, s, padding = args
        return n // s if padding.lower() == "same" else _right_output_length(*args)
        """, checks.check_output_length, checks.SAME_FLOOR),
    Mistake("true-division", "output_size.py", "output_length", """
        n, k, s, padding = args
        return (n - k) / s + 1 if padding.lower() == "valid" else n / s
        """, checks.check_output_length, checks.TRUE_DIVISION),
    Mistake("channels-first-as-last", "dilation.py", "subsample", """
        y, strides, data_format = args
        return _right_subsample(y, strides, "channels_last")
        """, checks.check_subsample, checks.CF_AS_CL),
    Mistake("hw-swapped", "dilation.py", "subsample", """
        y, strides, data_format = args
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        return _right_subsample(y, (sw, sh), data_format)
        """, checks.check_subsample, checks.HW_SWAPPED),
    Mistake("offset", "dilation.py", "subsample", """
        y, strides, data_format = args
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        if data_format == "channels_first":
            return y[:, :, sh - 1::sh, sw - 1::sw]
        return y[:, sh - 1::sh, sw - 1::sw]
        """, checks.check_subsample, checks.OFFSET),
    Mistake("dropped-tail", "dilation.py", "subsample", """
        y, strides, data_format = args
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        if data_format == "channels_first":
            y = y.transpose(0, 2, 3, 1)
        n, h, w, f = y.shape
        # whole blocks of s pixels, the first of each
        blocks = y[:, :h // sh * sh, :w // sw * sw].reshape(n, h // sh, sh, w // sw, sw, f)
        out = blocks[:, :, 0, :, 0]
        return out.transpose(0, 3, 1, 2) if data_format == "channels_first" else out
        """, checks.check_subsample, checks.DROPPED_TAIL),
    Mistake("batch-axis", "dilation.py", "subsample", """
        y, strides, data_format = args
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        return y[::sh, ::sw]
        """, checks.check_subsample, checks.BATCH_AXIS),
]
