"""Figures for chapter 13 (the fast path, im2col), in the style of `convbook.figures`: greys,
dashes and markers rather than colour alone, labelled axes, one idea per figure.

* `columns_figure`: a small image with one (strided, dilated) window outlined, and the column
  matrix, one row per output pixel, that window's row outlined.
* `timing_figure`: the time of one convolution by Keras, by chapter 00's loops and by the
  im2col path, for a few image sizes, on a log scale.

Every figure drawn from the reader's data takes Keras's answer for the same input (`keras=`)
and, when they differ, says so in a banner (`convbook.figures.disagreement`); with `missing=`
(the banner `figures.from_your_convlib` passes while the reader's code is not written yet)
it is drawn from Keras's answer alone.
"""
import time

import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import GREY, LIGHT, _finish, _outline, _show_grid, _title, disagreement


# ------------------------------------------------------------------ the column matrix

def keras_columns(image, kernel_size, strides, dilation_rate):
    """Keras's column matrix of one single-channel image (no padding), (out_h*out_w, kh*kw):
    row i*out_w + j holds the taps of output pixel (i, j), in the kernel's order."""
    from convbook.checks import fast_path

    cols = fast_path.keras_columns(np.asarray(image, "float32")[None, :, :, None], kernel_size,
                                   strides, dilation_rate)
    return cols.reshape(cols.shape[1] * cols.shape[2], -1)


def columns_figure(image, kernel_size, strides, dilation_rate, cols=None, at=(1, 1),
                   keras=None, missing=None):
    """Left: the image, the taps of output pixel `at` outlined (dashed: the window's span).
    Right: the column matrix (yours, or Keras's with `missing`), the row of `at` outlined."""
    image = np.asarray(image, float)
    banners, bad = [], False
    if missing:
        cols, banners = keras, [missing]
    elif keras is not None:
        line = disagreement(cols, keras, "im2col", "for the column matrix of this image")
        if line:
            banners, bad = [line], True
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    out_w = (image.shape[1] - dw * (kw - 1) - 1) // sw + 1
    i, j = at
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1, 1.5]})
    _show_grid(axes[0], image, f"input {image.shape[0]}×{image.shape[1]}: the taps of output "
               f"pixel ({i}, {j})")
    _outline(axes[0], i * sh, j * sw, dh * (kh - 1) + 1, dw * (kw - 1) + 1, linestyle="--",
             linewidth=1.5)
    for a in range(kh):
        for b in range(kw):
            _outline(axes[0], i * sh + a * dh, j * sw + b * dw, 1, 1, linewidth=3)
    shown = np.asarray(keras if bad or cols is None else cols, float)
    prefix = "Keras: " if missing or bad else ""
    _show_grid(axes[1], shown, f"{prefix}column matrix, {shown.shape[0]} output pixels × "
               f"{shown.shape[1]} taps" + ("\nyours ≠ Keras (Keras's drawn)" if bad else ""),
               annotate=shown.size <= 120, vmax=float(np.abs(image).max()) or 1.0, alarm=bad)
    axes[1].set_xlabel("column: tap (a, b), numbered a*kw + b")
    axes[1].set_ylabel("row: output pixel (i, j), numbered i*out_w + j")
    _outline(axes[1], i * out_w + j, 0, 1, shown.shape[1], linewidth=3)
    note = (f"kernel {kh}×{kw}, strides ({sh}, {sw}), dilation ({dh}, {dw}): each output "
            f"pixel's taps become one row")
    return _finish(fig, note, banners, alarm=not missing)


# ------------------------------------------------------------------------ timings

def timing_input(side, batch=2, channels=8, filters=8, kernel_size=3, seed=0):
    """The input and kernel timed at one image size."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, side, side, channels)).astype("float32")
    kernel = rng.standard_normal((kernel_size, kernel_size, channels, filters)).astype("float32")
    return x, kernel


def best_time_ms(run, repeats=3):
    """The fastest of `repeats` runs of `run()`, in milliseconds (the least disturbed by the
    other programs on the machine), and the last run's result."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return 1000 * best, result


def keras_timings(sides, repeats=3, **sizes):
    """Keras's time (ms) for `keras.ops.conv(x, kernel)` ("valid", stride 1) at each side,
    and its answers, for `timing_figure`. One untimed call first: Keras builds its graph."""
    keras = oracle.keras()
    times, answers = [], []
    for side in sides:
        x, kernel = timing_input(side, **sizes)
        keras.ops.conv(x, kernel)
        ms, y = best_time_ms(lambda: keras.ops.convert_to_numpy(keras.ops.conv(x, kernel)),
                             repeats)
        times.append(ms)
        answers.append(y)
    return times, answers


def timing_figure(sides, keras_ms, loops_ms=None, im2col_ms=None, errors=None, missing=None):
    """Milliseconds per convolution against the image side, log scale: Keras (thick grey),
    chapter 00's loops (black dashes, squares) and the im2col path (black, circles).
    `errors`: a banner line when your answers disagree with Keras's."""
    banners = [missing] if missing else [line for line in (errors or []) if line]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.plot(sides, keras_ms, color=GREY, lw=5, marker="D", ms=7, label="Keras (keras.ops.conv)")
    if not missing:
        if loops_ms is not None:
            ax.plot(sides, loops_ms, "--", color="black", marker="s", lw=1.5,
                    label="your chapter-00 loops (correlate.conv2d_valid)")
        if im2col_ms is not None:
            ax.plot(sides, im2col_ms, "-", color="black", marker="o", lw=1.5,
                    label="your im2col (conv.conv2d)")
            for side, fast, slow in zip(sides, im2col_ms, loops_ms or []):
                ax.annotate(f"×{slow / fast:.0f}", (side, fast), textcoords="offset points",
                            xytext=(0, -14), ha="center", fontsize=8)
    ax.set_yscale("log")
    shown = [ms for series in (keras_ms, None if missing else loops_ms,
                               None if missing else im2col_ms) if series for ms in series]
    # whole decades, so that the axis is labelled 10^k even when only Keras's line is drawn
    ax.set_ylim(10 ** np.floor(np.log10(min(shown) / 1.5)),
                10 ** np.ceil(np.log10(max(shown) * 1.5)))
    ax.set_xticks(list(sides))
    ax.set_xlabel("image side (pixels); batch 2, 8 → 8 channels, 3×3 kernel")
    ax.set_ylabel("milliseconds per call (log scale)")
    ax.grid(True, which="both", color=LIGHT, lw=0.6)
    _title(ax, ("Keras: " if missing else "") + "one convolution, three ways")
    ax.legend(fontsize=8, loc="upper left")
    return _finish(fig, "Same input, same answer: loops over pixels against one matrix product",
                   banners, alarm=not missing)
