"""The wrong ideas that convbook/checks/dilation.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import dilation as checks
from . import Mistake

MISTAKES = [
    Mistake("trailing-zeros", "dilation.py", "dilate_kernel", """
        kernel, d = args
        kernel = np.asarray(kernel)
        dh, dw = (d, d) if isinstance(d, int) else d
        kh, kw, c, f = kernel.shape

        out = np.zeros((dh * kh, dw * kw, c, f), kernel.dtype)
        out[::dh, ::dw] = kernel
        return out
        """, checks.check_dilate_kernel, checks.TRAILING_ZEROS),
    Mistake("d-zeros", "dilation.py", "dilate_kernel", """
        kernel, d = args
        kernel = np.asarray(kernel)
        dh, dw = (d, d) if isinstance(d, int) else d
        kh, kw, c, f = kernel.shape

        return _right_dilate_kernel(kernel, (dh + 1, dw + 1))
        """, checks.check_dilate_kernel, checks.D_ZEROS),
    Mistake("hw-swapped", "dilation.py", "dilate_kernel", """
        kernel, d = args
        kernel = np.asarray(kernel)
        dh, dw = (d, d) if isinstance(d, int) else d
        kh, kw, c, f = kernel.shape

        return _right_dilate_kernel(kernel, (dw, dh))
        """, checks.check_dilate_kernel, checks.HW_SWAPPED),
    Mistake("channel-axes", "dilation.py", "dilate_kernel", """
        kernel, d = args
        kernel = np.asarray(kernel)
        dh, dw = (d, d) if isinstance(d, int) else d
        kh, kw, c, f = kernel.shape

        out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, (c - 1) * dh + 1,
                        (f - 1) * dw + 1), kernel.dtype)
        out[::dh, ::dw, ::dh, ::dw] = kernel
        return out
        """, checks.check_dilate_kernel, checks.CHANNEL_AXES),
    Mistake("repeated", "dilation.py", "dilate_kernel", """
        kernel, d = args
        kernel = np.asarray(kernel)
        dh, dw = (d, d) if isinstance(d, int) else d
        kh, kw, c, f = kernel.shape

        full = np.repeat(np.repeat(kernel, dh, axis=0), dw, axis=1)
        return full[:(kh - 1) * dh + 1, :(kw - 1) * dw + 1]
        """, checks.check_dilate_kernel, checks.REPEATED),
    Mistake("length-no-dilation", "output_size.py", "output_length", """
        n, k, s, padding, d = args
        return _right_output_length(n, k, s, padding, 1)
        """, checks.check_output_length_dilated, checks.LENGTH_NO_DILATION),
    Mistake("length-span-kd", "output_size.py", "output_length", """
        n, k, s, padding, d = args
        if padding.lower() == "valid":
            return (n - k * d) // s + 1
        return _right_output_length(*args)
        """, checks.check_output_length_dilated, checks.LENGTH_SPAN_KD),
    Mistake("length-same-span", "output_size.py", "output_length", """
        n, k, s, padding, d = args
        return _right_output_length(n, k, s, "valid", d)
        """, checks.check_output_length_dilated, checks.LENGTH_SAME_SPAN),
    Mistake("conv-not-dilated", "dilation.py", "strided_dilated_conv2d", """
        x, kernel, strides, d = args
        return _right_strided_dilated_conv2d(x, kernel, strides, 1)
        """, checks.check_strided_dilated_conv2d, checks.NOT_DILATED),
    Mistake("conv-not-subsampled", "dilation.py", "strided_dilated_conv2d", """
        x, kernel, strides, d = args
        return _right_strided_dilated_conv2d(x, kernel, 1, d)
        """, checks.check_strided_dilated_conv2d, checks.NOT_SUBSAMPLED),
    Mistake("input-subsampled", "dilation.py", "strided_dilated_conv2d", """
        x, kernel, strides, d = args
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        return _right_strided_dilated_conv2d(np.asarray(x)[:, ::sh, ::sw], kernel, 1, d)
        """, checks.check_strided_dilated_conv2d, checks.INPUT_SUBSAMPLED),
    Mistake("stride-dilation-swapped", "dilation.py", "strided_dilated_conv2d", """
        x, kernel, strides, d = args
        return _right_strided_dilated_conv2d(x, kernel, d, strides)
        """, checks.check_strided_dilated_conv2d, checks.STRIDE_DILATION_SWAPPED),
]
