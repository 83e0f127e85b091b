"""The wrong ideas that convbook/checks/groups.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import groups as checks
from . import Mistake

MISTAKES = [
    Mistake("group-by-modulo", "groups.py", "grouped_conv2d", """
        x, kernel, groups = (np.asarray(a) for a in args)
        groups = int(groups)
        cg = x.shape[-1] // groups
        return np.concatenate(
            [conv2d_valid(x[..., (o % groups) * cg:(o % groups + 1) * cg], kernel[..., o:o + 1])
             for o in range(kernel.shape[-1])], axis=-1)
        """, checks.check_grouped_conv2d, checks.GROUP_BY_MODULO),
    Mistake("channels-interleaved", "groups.py", "grouped_conv2d", """
        x, kernel, groups = (np.asarray(a) for a in args)
        groups = int(groups)
        fg = kernel.shape[-1] // groups
        return np.concatenate(
            [conv2d_valid(x[..., g::groups], kernel[..., g * fg:(g + 1) * fg])
             for g in range(groups)], axis=-1)
        """, checks.check_grouped_conv2d, checks.CHANNELS_INTERLEAVED),
    Mistake("outputs-interleaved", "groups.py", "grouped_conv2d", """
        x, kernel, groups = (np.asarray(a) for a in args)
        groups = int(groups)
        cg, fg = x.shape[-1] // groups, kernel.shape[-1] // groups
        parts = [conv2d_valid(x[..., g * cg:(g + 1) * cg], kernel[..., g * fg:(g + 1) * fg])
                 for g in range(groups)]
        return np.stack(parts, axis=-1).reshape(*parts[0].shape[:3], -1)
        """, checks.check_grouped_conv2d, checks.OUTPUTS_INTERLEAVED),
    Mistake("groups-reversed", "groups.py", "grouped_conv2d", """
        x, kernel, groups = (np.asarray(a) for a in args)
        groups = int(groups)
        cg, fg = x.shape[-1] // groups, kernel.shape[-1] // groups
        return np.concatenate(
            [conv2d_valid(x[..., (groups - 1 - g) * cg:(groups - g) * cg],
                          kernel[..., g * fg:(g + 1) * fg]) for g in range(groups)], axis=-1)
        """, checks.check_grouped_conv2d, checks.GROUPS_REVERSED),
    Mistake("filters-sliced-by-channels", "groups.py", "grouped_conv2d", """
        x, kernel, groups = (np.asarray(a) for a in args)
        groups = int(groups)
        cg = x.shape[-1] // groups
        return np.concatenate(
            [conv2d_valid(x[..., g * cg:(g + 1) * cg], kernel[..., g * cg:(g + 1) * cg])
             for g in range(groups)], axis=-1)
        """, checks.check_grouped_conv2d, checks.KERNEL_SLICED_BY_CHANNELS),
    Mistake("not-divided", "groups.py", "kernel_param_count", """
        (kh, kw), c_in, filters, groups = args
        return kh * kw * c_in * filters
        """, checks.check_kernel_param_count, checks.NOT_DIVIDED),
    Mistake("bias-counted", "groups.py", "kernel_param_count", """
        return _right_kernel_param_count(*args) + args[2]
        """, checks.check_kernel_param_count, checks.BIAS_COUNTED),
    Mistake("bias-divided", "groups.py", "kernel_param_count", """
        return _right_kernel_param_count(*args) + args[2] // args[3]
        """, checks.check_kernel_param_count, checks.BIAS_DIVIDED),
    Mistake("filters-divided", "groups.py", "kernel_param_count", """
        (kh, kw), c_in, filters, groups = args
        return kh * kw * (c_in // groups) * (filters // groups)
        """, checks.check_kernel_param_count, checks.FILTERS_DIVIDED),
]
