"""The wrong ideas that convbook/checks/basics.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import basics as checks
from . import Mistake

MISTAKES = [
    Mistake("correlate2d-flipped", "correlate.py", "correlate2d", """
        image, kernel = args
        return _right_correlate2d(image, np.asarray(kernel)[::-1, ::-1])
        """, checks.check_correlate2d, checks.FLIPPED),
    Mistake("correlate2d-per-channel", "correlate.py", "correlate2d", """
        image, kernel = (np.asarray(a) for a in args)
        return np.stack([_right_correlate2d(image[:, :, c:c + 1], kernel[:, :, c:c + 1])
                         for c in range(image.shape[2])], axis=-1)
        """, checks.check_correlate2d, checks.PER_CHANNEL),
    Mistake("correlate2d-first-channel", "correlate.py", "correlate2d", """
        image, kernel = (np.asarray(a) for a in args)
        return _right_correlate2d(image[:, :, :1], kernel[:, :, :1])
        """, checks.check_correlate2d, checks.FIRST_CHANNEL),
    Mistake("correlate2d-output-transposed", "correlate.py", "correlate2d", """
        return _right_correlate2d(*args).T
        """, checks.check_correlate2d, checks.OUTPUT_TRANSPOSED),
    Mistake("correlate2d-kernel-transposed", "correlate.py", "correlate2d", """
        image, kernel = args
        return _right_correlate2d(image, np.asarray(kernel).transpose(1, 0, 2))
        """, checks.check_correlate2d, checks.KERNEL_TRANSPOSED),
    Mistake("conv2d_valid-flipped", "correlate.py", "conv2d_valid", """
        x, kernel = args
        return _right_conv2d_valid(x, np.asarray(kernel)[::-1, ::-1])
        """, checks.check_conv2d_valid, checks.FLIPPED),
    Mistake("conv2d_valid-per-channel", "correlate.py", "conv2d_valid", """
        x, kernel = (np.asarray(a) for a in args)
        return np.stack([_right_conv2d_valid(x[..., c:c + 1], kernel[:, :, c:c + 1])
                         for c in range(x.shape[3])], axis=3)
        """, checks.check_conv2d_valid, checks.PER_CHANNEL),
    Mistake("conv2d_valid-first-channel", "correlate.py", "conv2d_valid", """
        x, kernel = (np.asarray(a) for a in args)
        return _right_conv2d_valid(x[..., :1], kernel[:, :, :1])
        """, checks.check_conv2d_valid, checks.FIRST_CHANNEL),
    Mistake("conv2d_valid-mean", "correlate.py", "conv2d_valid", """
        x, kernel = (np.asarray(a) for a in args)
        return _right_conv2d_valid(x, kernel) / x.shape[3]
        """, checks.check_conv2d_valid, checks.MEAN_CHANNELS),
    Mistake("conv2d_valid-channels-first-out", "correlate.py", "conv2d_valid", """
        return _right_conv2d_valid(*args).transpose(0, 3, 1, 2)
        """, checks.check_conv2d_valid, checks.CHANNELS_FIRST_OUT),
    Mistake("conv2d_valid-hw-swapped", "correlate.py", "conv2d_valid", """
        return _right_conv2d_valid(*args).transpose(0, 2, 1, 3)
        """, checks.check_conv2d_valid, checks.OUTPUT_TRANSPOSED),
]
