"""Figures for chapter 03 (dilation_rate): how the receptive field grows through a stack of
dilated layers.

Same conventions as `convbook.figures` (greys, labelled axes, 0-based indices; a figure drawn
from the reader's code carries Keras's answer for the same input and says when they
disagree; until the reader's code works, it is drawn from Keras's answer alone).

One row of input pixels goes through a stack of 1 x k "valid" layers whose kernels are all
ones, one dilation per layer. Put a single 1 at input pixel i (one image per pixel): after
layer l, output pixel 0 holds the number of paths from pixel i to it, so the pixels with a
count > 0 are its receptive field.

    stacks = [(1, 1, 1, 1), (1, 2, 4, 8)]                     # dilations, layer by layer
    keras_paths = figures_dilation.keras_receptive_paths(stacks)
    with figures.from_your_convlib("Implement dilate_kernel ...",
            keras_figure=lambda missing: figures_dilation.receptive_field_figure(
                stacks, keras=keras_paths, missing=missing)):
        with StudentSession() as student:
            def layer(h, d):
                kernel = student.call("dilation.dilate_kernel",
                                      figures_dilation.ones_kernel(), (1, d))
                return student.call("correlate.conv2d_valid", h, kernel)
            paths = figures_dilation.receptive_paths(layer, stacks)
        figures_dilation.receptive_field_figure(stacks, paths, keras=keras_paths)
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import _finish, _title, _worst

__all__ = ["KERNEL_SIZE", "ones_kernel", "receptive_field", "input_length", "receptive_paths",
           "keras_receptive_paths", "receptive_field_figure"]

KERNEL_SIZE = 3


def ones_kernel(k=KERNEL_SIZE):
    """A 1 x k kernel of ones, (1, k, 1, 1)."""
    return np.ones((1, k, 1, 1), np.float32)


def receptive_field(dilations, k=KERNEL_SIZE):
    """Pixels seen by one output of the stack: 1 + sum over layers of d*(k-1)."""
    return 1 + sum(d * (k - 1) for d in dilations)


def input_length(stacks, k=KERNEL_SIZE):
    """One input long enough for every stack's receptive field."""
    return max(receptive_field(s, k) for s in stacks)


def receptive_paths(layer, stacks, k=KERNEL_SIZE):
    """For each stack, an array (layers, n): row l, the number of paths from each input pixel
    to output pixel 0 after layers 0..l. `layer(h, d)` is one 1 x k "valid" layer of ones with
    dilation (1, d) applied to h, (n, 1, width, 1)."""
    n = input_length(stacks, k)
    result = []
    for dilations in stacks:
        h = np.eye(n, dtype=np.float32).reshape(n, 1, n, 1)    # image i: a 1 at pixel i
        rows = []
        for d in dilations:
            h = np.asarray(layer(h, d), dtype=float)
            if h.ndim != 4 or h.shape[0] != n or h.shape[2] < 1:
                raise ValueError(f"a layer returned shape {h.shape}; expected ({n}, 1, width, 1)")
            rows.append(h[:, 0, 0, 0])
        result.append(np.array(rows))
    return result


def keras_receptive_paths(stacks, k=KERNEL_SIZE):
    """`receptive_paths` with Keras's dilated convolution as the layer."""
    from convbook.checks.padding import keras_conv

    oracle.keras()
    return receptive_paths(lambda h, d: keras_conv(h.astype(np.float32), ones_kernel(k), 1,
                                                   "valid", (1, d)), stacks, k)


def _draw_paths(ax, dilations, paths, k, prefix="", alarm=False):
    paths = np.asarray(paths, dtype=float)
    layers, n = paths.shape
    ax.imshow(np.where(paths > 0, paths, np.nan), cmap="Greys", aspect="auto",
              vmin=-0.4 * max(1.0, float(np.nanmax(paths))),
              vmax=max(1.0, float(np.nanmax(paths))) * 1.1,
              extent=(-0.5, n - 0.5, layers - 0.5, -0.5), interpolation="nearest")
    for l in range(layers):
        seen = np.flatnonzero(paths[l] > 0)
        if seen.size:
            ax.plot([seen[0] - 0.5, seen[-1] + 0.5], [l + 0.42] * 2, color="black", lw=1.2)
            ax.text(seen[-1] + 0.8, l, f"{seen[-1] - seen[0] + 1} px", va="center", fontsize=8)
    ax.set_yticks(range(layers))
    ax.set_yticklabels([f"layer {l}, d={d}" for l, d in enumerate(dilations)], fontsize=8)
    ax.set_xlim(-0.5, n + 4)
    ax.set_xlabel("input pixel index")
    ax.set_xticks(range(0, n, 2))
    ax.tick_params(axis="x", labelsize=7)
    _title(ax, f"{prefix}dilations {tuple(dilations)}: receptive field "
               f"{receptive_field(dilations, k)} px", alarm)


def receptive_field_figure(stacks, paths=None, keras=None, missing=None, k=KERNEL_SIZE):
    """One panel per stack of dilations: after each layer, the input pixels output pixel 0
    depends on (grey: how many paths lead there; the bar and the count: the receptive field).

    paths: yours (`receptive_paths` with your dilate_kernel and conv2d_valid); keras: Keras's
    (`keras_receptive_paths`). When yours disagree, a banner, your panels titled "yours ≠
    Keras", and Keras's panels under them. missing: why yours are not drawn; Keras's are then
    drawn alone, titled "Keras: ...".
    """
    banner, bad = None, set()
    if missing:
        paths = keras
    elif keras is not None:
        banner, bad = _worst("dilate_kernel", {
            i: (f"for the dilations {tuple(s)}", mine, theirs)
            for i, (s, mine, theirs) in enumerate(zip(stacks, paths, keras))}, "stacks")
    rows = [(paths, "Keras: " if missing else "")]
    if bad:
        rows.append((keras, "Keras: "))
    depth = max(len(s) for s in stacks)
    fig, axes = plt.subplots(len(rows), len(stacks), squeeze=False,
                             figsize=(5.2 * len(stacks), (0.45 * depth + 1.3) * len(rows)))
    for r, (source, prefix) in enumerate(rows):
        for c, dilations in enumerate(stacks):
            wrong = source is paths and c in bad
            values = source[c]
            try:
                values = np.asarray(values, dtype=float).reshape(len(dilations), -1)
            except (TypeError, ValueError):
                values = np.zeros((len(dilations), input_length(stacks, k)))
            _draw_paths(axes[r, c], dilations, values, k,
                        "yours ≠ Keras: " if wrong else prefix, alarm=wrong)
    note = (f"1 x {k} kernels, padding=\"valid\": the input pixels that output pixel 0 "
            "depends on, layer by layer (darker: more paths)")
    return _finish(fig, note, [missing or banner], alarm=not missing)
