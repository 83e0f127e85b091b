"""Figures for chapter 15 (the backward pass), in the style of `convbook.figures`: greys,
hatching and numbers rather than colour alone, labelled axes, one idea per figure.

* `transposed_conv_figure`: why the input gradient is a convolution. Left, the forward pass
  on the padded input: each pixel is labelled with how many output pixels read it (the
  stride leaves gaps, the padding is hatched). Middle, the same numbers as a convolution:
  d y (all ones) spread by the stride (zeros inserted), padded by k - 1, swept by the flipped
  kernel. Right, the input gradient for d y = 1 and a kernel of ones, cropped: exactly those
  counts, from Keras (GradientTape) and from your `input_gradient`.

Keras's answer is computed in the kernel (`keras_coverage`); the reader's comes through the
harness, and a disagreement is said in a banner (`convbook.figures.disagreement`).
"""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from convbook.figures import GREY, LIGHT, _finish, _title, disagreement


def coverage_case(input_size, kernel_size, strides, padding):
    """The arrays of the figure's case (one channel, one filter, batch 1): a kernel of ones,
    d y of ones, and the padding. Returns (x_shape, kernel, grad_output, pads, padded_shape)."""
    from convbook.checks import backward

    kernel = np.ones((*kernel_size, 1, 1), np.float32)
    x_shape = (1, *input_size, 1)
    out_shape = backward.keras_conv_output_shape(x_shape, kernel.shape, strides, padding,
                                                 (1, 1))
    pads = backward.conv_pads(input_size, kernel_size, strides, padding, (1, 1))
    padded_shape = (1, input_size[0] + sum(pads[0]), input_size[1] + sum(pads[1]), 1)
    return x_shape, kernel, np.ones(out_shape, np.float32), pads, padded_shape


def keras_coverage(input_size, kernel_size, strides, padding):
    """(counts on the padded input, input gradient): GradientTape's gradient of sum(conv) for
    a kernel of ones, with respect to the padded input (every pixel: how many windows read
    it) and to the input itself (the same, cropped)."""
    from convbook.checks import backward

    x_shape, kernel, grad_output, pads, padded_shape = coverage_case(
        input_size, kernel_size, strides, padding)
    padded_counts, _ = backward.keras_conv_gradients(
        np.zeros(padded_shape, np.float32), kernel, grad_output, strides, "valid", 1)
    grad_x, _ = backward.keras_conv_gradients(
        np.zeros(x_shape, np.float32), kernel, grad_output, strides, padding, 1)
    return padded_counts[0, :, :, 0], grad_x[0, :, :, 0]


def _grid(ax, values, *, shade=None, hatch=None, fmt="{:g}", outline=None):
    """Draw a 2-D array as labelled squares. `shade`: bool mask of dark cells; `hatch`: mask
    of hatched cells; `outline`: (row, col, h, w) rectangle drawn thick."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            dark = shade is not None and shade[i, j]
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=GREY if dark else "white",
                                   edgecolor="black", lw=0.8,
                                   hatch="///" if hatch is not None and hatch[i, j] else None))
            ax.text(j + 0.5, i + 0.5, fmt.format(values[i, j]), ha="center", va="center",
                    fontsize=9, color="white" if dark else "black")
    if outline is not None:
        r, c, h, w = outline
        ax.add_patch(Rectangle((c, r), w, h, fill=False, edgecolor="black", lw=3,
                               linestyle="--"))
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(j) for j in range(cols)], fontsize=8)
    ax.set_yticks(np.arange(rows) + 0.5, [str(i) for i in range(rows)], fontsize=8)
    ax.set_xlabel("column")
    ax.set_ylabel("row")


def transposed_conv_figure(input_size, kernel_size, strides, padding, keras, yours=None,
                           missing=None):
    """The three panels described in the module docstring. `keras`: keras_coverage's pair;
    `yours`: your input_gradient for coverage_case's arrays (2-D, the one channel), or None
    with `missing` (the banner when yours is not there yet)."""
    padded_counts, keras_grad = keras
    _, _, grad_output, pads, _ = coverage_case(input_size, kernel_size, strides, padding)
    (sh, sw), (kh, kw) = strides, kernel_size
    oh, ow = grad_output.shape[1:3]
    spread = np.zeros(((oh - 1) * sh + 1 + 2 * (kh - 1), (ow - 1) * sw + 1 + 2 * (kw - 1)))
    spread[kh - 1:kh - 1 + (oh - 1) * sh + 1:sh, kw - 1:kw - 1 + (ow - 1) * sw + 1:sw] = 1
    banners, bad = ([missing] if missing else []), False
    if yours is not None and not missing:
        line = disagreement(yours, keras_grad, "input_gradient",
                            f"for d y = 1, a {kh}x{kw} kernel of ones, strides={strides}, "
                            f"padding={padding!r}")
        if line:
            banners.append(line)
            bad = True
    panels = 3 if (missing or yours is None or not bad) else 4
    fig, axes = plt.subplots(1, panels, figsize=(4.3 * panels, 4.6))
    (top, bottom), (left, right) = pads
    is_pad = np.ones(padded_counts.shape, bool)
    is_pad[top:padded_counts.shape[0] - bottom, left:padded_counts.shape[1] - right] = False
    _grid(axes[0], padded_counts, shade=padded_counts == 0, hatch=is_pad,
          outline=(0, 0, kh, kw))
    _title(axes[0], f"forward: how many of the {oh}x{ow} outputs read\neach padded input "
                    f"pixel (hatched: padding; dark: none)")
    _grid(axes[1], spread, shade=spread == 1, outline=(0, 0, kh, kw))
    _title(axes[1], f"backward: d y (dark) spread by strides {strides}\n"
                    f"(zeros inserted), padded by k - 1; flipped kernel (dashed)")
    _grid(axes[2], keras_grad)
    _title(axes[2], ("Keras: " if missing or yours is None or bad else "")
           + "d loss / d x, cropped\n(= the counts inside the padding)")
    if yours is not None and not missing:
        target = axes[3] if bad else axes[2]
        if bad:
            _grid(target, np.asarray(yours, float))
            _title(target, "yours: input_gradient ≠ Keras", alarm=True)
        else:
            _title(target, "yours = Keras: d loss / d x, cropped\n(= the counts inside the "
                           "padding)")
    note = (f"Input {input_size[0]}x{input_size[1]}, kernel {kh}x{kw} of ones, "
            f"strides={strides}, padding={padding!r}, loss = sum(y)")
    fig = _finish(fig, note, banners, alarm=not missing)
    if not banners:
        fig.tight_layout(rect=(0, 0, 1, 0.93))      # room for the note above the titles
    return fig

