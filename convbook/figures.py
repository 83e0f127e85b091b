"""Figures for the chapters, drawn from plain numpy arrays.

The arrays come from the reader's convlib, computed in the child process by
`convbook.harness` (the notebook kernel never imports the reader's convlib); these helpers
only draw. Conventions: one idea per figure, labelled axes, greys, hatching and markers
rather than colour alone, so a figure still reads when printed in black and white.
"""
import contextlib

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from convbook.harness import StudentError

GREY = "0.55"
LIGHT = "0.88"


@contextlib.contextmanager
def from_your_convlib(todo):
    """Run a figure cell's body; if the reader's convlib cannot provide the data yet (a stub,
    an exception, an answer of the wrong type or shape), print why and `todo` instead of
    failing the cell.

        with figures.from_your_convlib("Implement correlate2d (exercise 0.1), then re-run."):
            out = call_student("correlate.correlate2d", image, kernel)
            figures.window_figure(image, kernel, out)
    """
    try:
        yield
    except StudentError as err:
        plt.close("all")
        print(f"No figure yet: {err}\n{todo}")
    except (TypeError, ValueError, IndexError, KeyError) as err:
        plt.close("all")
        print(f"No figure: your functions returned something this figure cannot draw "
              f"({type(err).__name__}: {err}).\nRun the checks below to find out what; {todo}")


def _show_grid(ax, values, title, annotate=True, vmax=None):
    """A small 2-D array as a grid of grey cells (darker = larger), numbers written in."""
    values = np.asarray(values, dtype=float)
    limit = vmax if vmax is not None else (float(np.max(np.abs(values))) or 1.0)
    vmin = -limit if values.min() < 0 else 0.0
    ax.imshow(values, cmap="gray_r", vmin=vmin, vmax=limit)
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            dark = (v - vmin) / (limit - vmin) > 0.6
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.tick_params(labelsize=8)
    ax.set_aspect("equal")


def _outline(ax, top, left, height, width, **style):
    style = {"fill": False, "linewidth": 3, "edgecolor": "black", **style}
    limits = ax.get_xlim(), ax.get_ylim()
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])


def window_figure(image, kernel, output, at=(1, 2)):
    """One output pixel of a valid, stride-1 cross-correlation: the window it comes from.

    image: (H, W); kernel: (kh, kw); output: (H-kh+1, W-kw+1), all 2-D (one channel).
    """
    image, kernel, output = (np.asarray(a, dtype=float) for a in (image, kernel, output))
    i, j = at
    kh, kw = kernel.shape
    window = image[i:i + kh, j:j + kw]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2),
                             gridspec_kw={"width_ratios": [image.shape[1], kw + 2,
                                                           output.shape[1] + 1]})
    _show_grid(axes[0], image, f"input image {image.shape}")
    _outline(axes[0], i, j, kh, kw, linestyle="--")
    _show_grid(axes[1], kernel, f"kernel {kernel.shape}")
    _show_grid(axes[2], output, f"output {output.shape}")
    _outline(axes[2], i, j, 1, 1)
    terms = " + ".join(f"{w:g}·{k:g}" if k >= 0 else f"{w:g}·({k:g})"
                       for w, k in zip(window.ravel()[:3], kernel.ravel()[:3]))
    fig.suptitle(f"out[{i}, {j}] = sum(dashed window × kernel) = {terms} + … = "
                 f"{output[i, j]:g}", fontsize=11)
    fig.tight_layout()
    return fig


def stamp_figure(image, kernel, correlated, convolved):
    """Cross-correlation vs convolution on an image of isolated bright pixels: each bright
    pixel is replaced by a copy of the kernel, upside-down for the correlation."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.9),
                             gridspec_kw={"width_ratios": [4, 1.6, 4, 4]})
    _show_grid(axes[0], image, "input: isolated bright pixels", annotate=False)
    _show_grid(axes[1], kernel, f"kernel {np.shape(kernel)}")
    _show_grid(axes[2], correlated, "Conv2D (cross-correlation)", annotate=False)
    _show_grid(axes[3], convolved, "true convolution (kernel flipped)", annotate=False)
    fig.suptitle("Around every bright pixel the cross-correlation draws the kernel rotated "
                 "by 180°; the convolution draws it upright", fontsize=11)
    fig.tight_layout()
    return fig


def images_figure(panels, suptitle=None):
    """Side-by-side greyscale images: panels is a list of (title, 2-D array). The grey scale
    of each panel stops at its 99th percentile, so that a few very bright pixels do not
    leave the rest of the image black."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4))
    for ax, (title, values) in zip(np.atleast_1d(axes), panels):
        values = np.asarray(values, dtype=float)
        ax.imshow(values, cmap="gray", vmin=float(values.min()),
                  vmax=float(np.percentile(values, 99)))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def same_windows_figure(cases):
    """padding="same" along one axis, one panel per case.

    Each case is a dict with n, k, s, d (input length, kernel taps, stride, dilation),
    `amounts` = (before, after) and `padded`: the padded line (the pixels numbered 1..n, the
    pads 0). Draws the padded line (pads hatched) and, above it, the taps of every window:
    filled dots on pixels, open dots on padding.
    """
    outs = [-(-c["n"] // c["s"]) for c in cases]
    fig, axes = plt.subplots(len(cases), 1, figsize=(9, 0.9 * len(cases) + 0.33 * sum(outs)),
                             gridspec_kw={"height_ratios": [o + 2.5 for o in outs]},
                             squeeze=False)
    for ax, c, out in zip(axes[:, 0], cases, outs):
        n, k, s, d = c["n"], c["k"], c["s"], c["d"]
        before, after = (int(v) for v in c["amounts"])
        padded = np.asarray(c["padded"], dtype=float)
        for p, v in enumerate(padded):
            x = p - before
            is_pad = not 0 <= x < n
            ax.add_patch(Rectangle((x - 0.5, -0.5), 1, 1, facecolor="white" if is_pad else LIGHT,
                                   edgecolor="black", hatch="///" if is_pad else None, lw=1))
            ax.text(x, 0, f"{v:g}", ha="center", va="center", fontsize=9,
                    backgroundcolor="white" if is_pad else LIGHT)
        for w in range(out):
            taps = np.array([w * s - before + a * d for a in range(k)])
            y = 1.2 + w
            on_pixel = (taps >= 0) & (taps < n)
            ax.plot([taps[0], taps[-1]], [y, y], color=GREY, lw=1, zorder=1)
            ax.plot(taps[on_pixel], [y] * int(on_pixel.sum()), "o", color="black", ms=6)
            ax.plot(taps[~on_pixel], [y] * int((~on_pixel).sum()), "o", mfc="white",
                    mec="black", ms=6)
            ax.text(-before - 0.8, y, f"window {w}", ha="right", va="center", fontsize=8)
        ax.set_xlim(-before - 2.6, n + after - 0.4)
        ax.set_ylim(-0.7, out + 0.9)
        ax.set_xticks(range(-before, n + after))
        ax.set_yticks([])
        ax.set_xlabel("pixel index (hatched: the zeros of the padding)", fontsize=9)
        ax.set_title(f"n={n}, kernel_size={k}, strides={s}, dilation_rate={d}:   "
                     f"out={out}, P={before + after}, (before, after) = ({before}, {after})",
                     fontsize=10)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def padding_sweep_figure(lengths, amounts_by_label, kernel_size):
    """(before, after) against the input length, one panel per stride/dilation setting.

    amounts_by_label: {"strides=2": [(before, after) for n in lengths], ...}.
    """
    labels = list(amounts_by_label)
    columns = 2 if len(labels) > 1 else 1
    rows = -(-len(labels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.2 * rows), sharey=True,
                             squeeze=False)
    lengths = np.asarray(lengths)
    for ax in axes.ravel()[len(labels):]:
        ax.set_visible(False)
    for ax, label in zip(axes.ravel(), labels):
        amounts = np.asarray(amounts_by_label[label])
        ax.bar(lengths, amounts[:, 0], color=GREY, edgecolor="black", label="before (top/left)")
        ax.bar(lengths, amounts[:, 1], bottom=amounts[:, 0], color="white", edgecolor="black",
               hatch="///", label="after (bottom/right)")
        ax.set_title(f"kernel_size={kernel_size}, {label}", fontsize=10)
        ax.set_xlabel("input length n")
        ax.set_xticks(lengths[::2])
    for ax in axes[:, 0]:
        ax.set_ylabel("zeros added")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
