"""Figures for chapter 05 (use_bias and activation), in the style of `convbook.figures`:
greys, dashes and markers rather than colour alone, labelled axes, one idea per figure.

* `activation_curves_figure`: your relu, sigmoid and gelu drawn over Keras's curves.
* `collapse_figure`: two stacked linear Conv2D against one Conv2D with the merged kernel.
* `ramp_figure` (Keras only): a ramp through two stacked 1x1 layers, with and without relu
  between them: biases shift a straight line, only the activation bends it.

Every figure drawn from the reader's data takes Keras's answer for the same input (`keras=`)
and, when they differ, says so in a banner (`convbook.figures.disagreement`); with `missing=`
(the banner `figures.from_your_convlib` passes while the reader's code is not written yet)
it is drawn from Keras's answer alone.
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook.figures import GREY, LIGHT, _finish, _title, disagreement

# (name, keras.activations keyword arguments, panel title)
CURVES = [("relu", {}, "relu(x) = max(x, 0)"),
          ("sigmoid", {}, "sigmoid(x) = 1 / (1 + exp(-x))"),
          ("gelu", {}, "gelu(x) = x Φ(x)  (exact, erf)"),
          ("gelu", {"approximate": True}, "gelu(x, approximate=True)  (tanh)")]


def keras_activation_curves(x):
    """Keras's curves for `activation_curves_figure`: one array per entry of CURVES."""
    from convbook.checks import bias

    return [bias.keras_activation(name, x, **kwargs) for name, kwargs, _ in CURVES]


def activation_curves_figure(x, yours=None, keras=None, missing=None):
    """One panel per entry of CURVES: Keras's curve (thick grey) and yours (black dashes,
    with markers) over x. A panel whose curve disagrees with Keras's is titled "yours ≠
    Keras" and a banner gives the largest error; `missing`: drawn from Keras's alone."""
    banners, bad = [], set()
    if missing:
        banners = [missing]
    elif keras is not None:
        for k, ((name, kwargs, _), mine, theirs) in enumerate(zip(CURVES, yours, keras)):
            where = f"for {name}({', '.join(['x'] + [f'{a}={v}' for a, v in kwargs.items()])})"
            line = disagreement(mine, theirs, name, where)
            if line:
                banners.append(line)
                bad.add(k)
    fig, axes = plt.subplots(1, len(CURVES), figsize=(4.0 * len(CURVES), 3.7), sharex=True)
    for k, (ax, (name, kwargs, title)) in enumerate(zip(axes, CURVES)):
        ax.axhline(0, color=LIGHT, lw=1, zorder=0)
        ax.axvline(0, color=LIGHT, lw=1, zorder=0)
        ax.plot(x, keras[k], color=GREY, lw=5, label="Keras", solid_capstyle="butt")
        if not missing:
            ax.plot(x, np.asarray(yours[k], dtype=float), "--", color="black", lw=1.5,
                    marker="o", markevery=max(1, len(x) // 12), ms=3.5, label="yours")
        prefix = "Keras: " if missing else ""
        _title(ax, prefix + title + ("\nyours ≠ Keras" if k in bad else ""), alarm=k in bad)
        ax.set_xlabel("pre-activation x = conv + bias")
        ax.set_ylabel("activation output")
        ax.legend(fontsize=8, loc="best")
    return _finish(fig, None, banners, alarm=not missing)


def collapse_figure(image, stacked, merged, keras_merged=None, missing=None):
    """Two stacked linear convolutions are one: the input, Keras's two stacked Conv2D
    (no activation), one Conv2D whose kernel and bias come from your compose_linear_convs,
    and the difference between the two. keras_merged: the one-conv output with the kernel
    read off Keras's stack; `missing`: drawn with that one instead of yours."""
    banners = []
    source = "your merged kernel"
    if missing:
        merged, source, banners = keras_merged, "the kernel read off Keras's stack", [missing]
    elif keras_merged is not None:
        line = disagreement(merged, keras_merged, "compose_linear_convs",
                            "for the one-conv output")
        banners = [line] if line else []
    difference = np.abs(np.asarray(stacked, float) - np.asarray(merged, float))
    differs = bool(banners) and not missing
    panels = [("input", image, "gray", False),
              ("Keras: conv2(conv1(x) + b1) + b2", stacked, "gray", False),
              (f"one Conv2D with {source}" + ("\n≠ Keras" if differs else ""), merged, "gray",
               differs)]
    if differs:     # Keras's one-conv answer beside yours
        panels.append(("Keras: one Conv2D with the kernel\nread off Keras's stack",
                       keras_merged, "gray", False))
    panels.append((f"|stack - {'yours' if differs else 'one Conv2D'}|, largest "
                   f"{difference.max():.1g}", difference, "gray_r", False))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.75 * len(panels), 4.1))
    for ax, (title, values, cmap, alarm) in zip(axes, panels):
        values = np.asarray(values, float)
        if cmap == "gray_r":
            shown = ax.imshow(values, cmap=cmap, vmin=0, vmax=max(1e-3, float(values.max())))
            fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
        else:
            ax.imshow(values, cmap=cmap)
        _title(ax, title, alarm=alarm)
        ax.set_xlabel("column j")
        ax.set_ylabel("row i")
    note = ("Without an activation between them, two convolutions with biases are one "
            "convolution with a bias")
    return _finish(fig, note, banners, alarm=not missing)


def ramp_figure(x, linear_outputs, relu_outputs):
    """Keras only. x: the ramp fed to the layers (one pixel per value); linear_outputs and
    relu_outputs: for each random draw of weights, the stack's output without and with relu
    after the first layer. Straight lines on the left, bent ones on the right."""
    styles = ["-", "--", ":", "-."]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for ax, outputs, title in [
            (axes[0], linear_outputs, "no activation: Conv2D → Conv2D, both with biases"),
            (axes[1], relu_outputs, 'activation="relu" on the first Conv2D')]:
        for k, y in enumerate(outputs):
            ax.plot(x, y, styles[k % len(styles)], color=("black", GREY)[k % 2], lw=2,
                    label=f"weights draw {k}")
        ax.axhline(0, color=LIGHT, lw=1, zorder=0)
        _title(ax, title)
        ax.set_xlabel("input pixel value x")
        ax.set_ylabel("output of the second Conv2D")
        ax.legend(fontsize=8)
    return _finish(fig, "The biases move and tilt a straight line; only the activation bends it")


def keras_blur_stack(layers):
    """Keras's merged kernels of 1..`layers` stacked 3x3 box blurs (weights 1/9, bias 0),
    each read off Keras's stack of the previous merged kernel and one more blur."""
    from convbook.checks import bias

    box = np.full((3, 3, 1, 1), 1 / 9, np.float32)
    zero = np.zeros(1, np.float32)
    kernels = [box[:, :, 0, 0]]
    kernel = box
    for _ in range(layers - 1):
        kernel, _ = bias.keras_merged_kernel(kernel, zero, box, zero)
        kernels.append(kernel[:, :, 0, 0])
    return kernels


def blur_stack_figure(kernels=None, keras=None, missing=None):
    """Left: the centre row of the merged kernel of L stacked 3x3 box blurs, L = 1, 2, ...
    (yours black dashes over Keras's thick grey); right: the largest merged kernel as an
    image. `missing`: Keras's alone."""
    banners, bad = [], set()
    if missing:
        kernels, banners = keras, [missing]
    elif keras is not None:
        for k, (mine, theirs) in enumerate(zip(kernels, keras)):
            line = disagreement(mine, theirs, "compose_linear_convs",
                                f"for {k + 1} stacked blurs")
            if line and not banners:
                banners.append(line)
            if line:
                bad.add(k)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    ax = axes[0]
    for k, theirs in enumerate(keras):
        row = np.asarray(theirs, float)[len(theirs) // 2]
        offsets = np.arange(row.size) - row.size // 2
        ax.plot(offsets, row, color=GREY, lw=4, label="Keras" if k == 0 else None)
        if not missing:
            mine = np.asarray(kernels[k], float)
            mine_row = mine[mine.shape[0] // 2]
            ax.plot(np.arange(mine_row.size) - mine_row.size // 2, mine_row, "--",
                    color="black", marker="o", ms=3, lw=1.2,
                    label="yours" if k == 0 else None)
        ax.annotate(f"L={k + 1}", (offsets[-1], row[-1]), textcoords="offset points",
                    xytext=(4, 6), fontsize=8)
    _title(ax, ("Keras: " if missing else "") + "centre row of the merged kernel, L stacked "
               "3×3 blurs" + ("\nyours ≠ Keras" if bad else ""), alarm=bool(bad))
    ax.set_xlabel("column offset from the kernel's centre")
    ax.set_ylabel("weight")
    ax.legend(fontsize=8)
    last = np.asarray((keras if missing or bad else kernels)[-1], float)
    axes[1].imshow(last, cmap="gray_r")
    _title(axes[1], f"{'Keras: ' if missing or bad else ''}merged kernel, L={len(keras)} "
                    f"({last.shape[0]}×{last.shape[1]})")
    axes[1].set_xlabel("column")
    axes[1].set_ylabel("row")
    return _finish(fig, "Stacked blurs are one wider blur, and its profile tends to a Gaussian",
                   banners, alarm=not missing)
