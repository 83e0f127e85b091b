"""The wrong ideas that convbook/checks/fast_path.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import fast_path as checks
from . import Mistake

MISTAKES = [
    Mistake("window-raw-sliding-view", "conv.py", "window_view", """
        x, window = args
        return sliding_window_view(x, tuple(window), axis=(1, 2))
        """, checks.check_window_view, checks.CHANNEL_AXIS_FIRST),
    Mistake("window-transposed", "conv.py", "window_view", """
        return np.swapaxes(_right_window_view(*args), 3, 4)
        """, checks.check_window_view, checks.WINDOW_TRANSPOSED),
    Mistake("taps-spaced-by-stride", "conv.py", "strided_dilated_windows", """
        windows, strides, dilation, groups = args
        return _right_strided_dilated_windows(windows, dilation, strides, groups)
        """, checks.check_strided_dilated_windows, checks.STRIDE_DILATION_SWAPPED),
    Mistake("dilation-ignored", "conv.py", "strided_dilated_windows", """
        windows, strides, dilation, groups = args
        (dh, dw) = dilation
        kh, kw = (windows.shape[3] - 1) // dh + 1, (windows.shape[4] - 1) // dw + 1
        return _right_strided_dilated_windows(windows[:, :, :, :kh, :kw], strides, (1, 1),
                                              groups)
        """, checks.check_strided_dilated_windows, checks.DILATION_IGNORED),
    Mistake("stride-ignored", "conv.py", "strided_dilated_windows", """
        windows, strides, dilation, groups = args
        out_h = -(-windows.shape[1] // strides[0])
        out_w = -(-windows.shape[2] // strides[1])
        return _right_strided_dilated_windows(windows, (1, 1), dilation,
                                              groups)[:, :out_h, :out_w]
        """, checks.check_strided_dilated_windows, checks.STRIDE_IGNORED),
    Mistake("groups-interleaved", "conv.py", "strided_dilated_windows", """
        windows, strides, dilation, groups = args
        taps = _right_strided_dilated_windows(windows, strides, dilation, 1)[:, :, :, 0]
        *lead, kh, kw, channels = taps.shape
        taps = taps.reshape(*lead, kh, kw, channels // groups, groups)
        return taps.transpose(0, 1, 2, 6, 3, 4, 5)
        """, checks.check_strided_dilated_windows, checks.GROUPS_INTERLEAVED),
    Mistake("group-axis-after-taps", "conv.py", "strided_dilated_windows", """
        windows, strides, dilation, groups = args
        taps = _right_strided_dilated_windows(windows, strides, dilation, 1)[:, :, :, 0]
        *lead, kh, kw, channels = taps.shape
        return taps.reshape(*lead, kh, kw, groups, channels // groups)
        """, checks.check_strided_dilated_windows, checks.GROUP_AXIS_AFTER_TAPS),
    Mistake("kernel-reshape-filters-first", "conv.py", "columns_times_kernel", """
        cols, kernel = args
        filters = kernel.shape[-1]
        return _right_columns_times_kernel(cols, kernel.reshape(filters, -1).T
                                           .reshape(kernel.shape))
        """, checks.check_columns_times_kernel, checks.KERNEL_FILTERS_FIRST),
    Mistake("kernel-channels-first", "conv.py", "columns_times_kernel", """
        cols, kernel = args
        groups, filters = cols.shape[3], kernel.shape[-1]
        rows = cols.shape[0] * cols.shape[1] * cols.shape[2]
        weights = kernel.transpose(2, 0, 1, 3).reshape(-1, groups, filters // groups)
        left = cols.reshape(rows, groups, -1)
        y = np.einsum("rgk,kgf->rgf", left, weights)
        return y.reshape(*cols.shape[:3], filters)
        """, checks.check_columns_times_kernel, checks.KERNEL_CHANNELS_FIRST),
    Mistake("filters-by-modulo", "conv.py", "columns_times_kernel", """
        cols, kernel = args
        groups, filters = cols.shape[3], kernel.shape[-1]
        rows = cols.shape[0] * cols.shape[1] * cols.shape[2]
        weights = kernel.reshape(-1, filters // groups, groups)
        y = np.einsum("rgk,kfg->rgf", cols.reshape(rows, groups, -1), weights)
        return y.reshape(*cols.shape[:3], filters)
        """, checks.check_columns_times_kernel, checks.FILTERS_BY_MODULO),
    Mistake("outputs-interleaved", "conv.py", "columns_times_kernel", """
        cols, kernel = args
        groups, filters = cols.shape[3], kernel.shape[-1]
        y = _right_columns_times_kernel(cols, kernel)
        lead = y.shape[:3]
        return y.reshape(*lead, groups, -1).swapaxes(-1, -2).reshape(*lead, filters)
        """, checks.check_columns_times_kernel, checks.OUTPUTS_INTERLEAVED),
]
