"""The wrong ideas that convbook/checks/padding.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import padding as checks
from . import Mistake

MISTAKES = [
    Mistake("amounts-top-left", "padding.py", "same_padding_amounts", """
        before, after = _right_same_padding_amounts(*args, **kwargs)
        return after, before
        """, checks.check_same_padding_amounts, checks.TOP_LEFT),
    Mistake("amounts-rounded-down", "padding.py", "same_padding_amounts", """
        before, after = _right_same_padding_amounts(*args, **kwargs)
        return before, before
        """, checks.check_same_padding_amounts, checks.ROUNDED_DOWN),
    Mistake("amounts-no-stride", "padding.py", "same_padding_amounts", """
        n, k, s, d = args
        total = d * (k - 1)
        return total // 2, total - total // 2
        """, checks.check_same_padding_amounts, checks.NO_STRIDE),
    Mistake("amounts-no-dilation", "padding.py", "same_padding_amounts", """
        n, k, s, d = args
        return _right_same_padding_amounts(n, k, s, 1)
        """, checks.check_same_padding_amounts, checks.NO_DILATION),
    Mistake("amounts-negative", "padding.py", "same_padding_amounts", """
        n, k, s, d = args
        total = ((n + s - 1) // s - 1) * s + d * (k - 1) + 1 - n
        return total // 2, total - total // 2
        """, checks.check_same_padding_amounts, checks.NEGATIVE),
    Mistake("pad-batch-axis", "padding.py", "pad_spatial", """
        x, ((t, b), (l, r)), *rest = args
        return np.pad(x, ((t, b), (l, r), (0, 0), (0, 0)))
        """, checks.check_pad_spatial, checks.BATCH_AXIS),
    Mistake("pad-channels-first-as-last", "padding.py", "pad_spatial", """
        x, ((t, b), (l, r)), *rest = args
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
        """, checks.check_pad_spatial, checks.CF_AS_CL),
    Mistake("pad-channels-last-as-first", "padding.py", "pad_spatial", """
        x, amounts, data_format = args
        flipped = "channels_first" if data_format == "channels_last" else "channels_last"
        return _right_pad_spatial(x, amounts, flipped)
        """, checks.check_pad_spatial, checks.CL_AS_CF),
    Mistake("pad-hw-swapped", "padding.py", "pad_spatial", """
        x, (rows, cols), data_format = args
        return _right_pad_spatial(x, (cols, rows), data_format)
        """, checks.check_pad_spatial, checks.HW_SWAPPED),
    Mistake("pad-before-after-swapped", "padding.py", "pad_spatial", """
        x, ((t, b), (l, r)), data_format = args
        return _right_pad_spatial(x, ((b, t), (r, l)), data_format)
        """, checks.check_pad_spatial, checks.BEFORE_AFTER_SWAPPED),
    Mistake("both-top-left", "padding.py", "same_padding_amounts", """
        before, after = _right_same_padding_amounts(*args, **kwargs)
        return after, before
        """, checks.check_padding_amounts, checks.TOP_LEFT),
    Mistake("both-no-stride", "padding.py", "same_padding_amounts", """
        n, k, s, d = args
        total = d * (k - 1)
        return total // 2, total - total // 2
        """, checks.check_padding_amounts, checks.NO_STRIDE),
    Mistake("both-no-dilation", "padding.py", "same_padding_amounts", """
        n, k, s, d = args
        return _right_same_padding_amounts(n, k, s, 1)
        """, checks.check_padding_amounts, checks.NO_DILATION),
    Mistake("both-valid-padded", "padding.py", "padding_amounts", """
        shape, ksize, strides, pad, dilation = args
        return _right_padding_amounts(shape, ksize, strides, "same", dilation)
        """, checks.check_padding_amounts, checks.VALID_PADDED),
    Mistake("both-axes-swapped", "padding.py", "padding_amounts", """
        return tuple(reversed(_right_padding_amounts(*args)))
        """, checks.check_padding_amounts, checks.AXES_SWAPPED),
    Mistake("both-flipped", "correlate.py", "conv2d_valid", """
        x, kernel = args
        return _right_conv2d_valid(x, np.asarray(kernel)[::-1, ::-1])
        """, checks.check_padding_amounts, checks.FLIPPED),
]
