"""Figures for chapter 10 (activity_regularizer), in the style of `convbook.figures`: greys,
dashes and markers rather than colour alone, labelled axes, one idea per figure.

* `batch_size_figure`: the activity penalty of the same per-example output against the batch
  size, as Keras 3.14+ records it (divided by the batch: flat), as Keras 3.0-3.13 did
  (undivided: a straight line through the origin), and from your `activity_penalty`.

Keras's data comes from `keras_batch_sweep` (a real Conv2D with relu and an activity
regularizer, called on 1, 2, ... copies of one image). A figure drawn from the reader's
data takes Keras's answer (`keras=`) and, when they differ, says so in a banner
(`convbook.figures.disagreement`); with `missing=` it is drawn from Keras's answer alone.
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import GREY, LIGHT, _finish, _title, disagreement


def keras_batch_sweep(image, kernel, bias, batch_sizes, l2=0.01):
    """A Keras Conv2D (relu, activity_regularizer=L2(l2), the given kernel and bias) called
    on `b` copies of `image` (height, width, channels) for each b in `batch_sizes`.

    Returns (outputs, divided, undivided): the layer's activated output for one copy,
    shape (1, h, w, filters); `layer.losses` after each call (Keras >= 3.14: divided by b);
    and L2(l2) of the whole batch's output, what Keras 3.0 to 3.13 added instead."""
    keras = oracle.keras()
    image = np.asarray(image, np.float32)[None]
    regularizer = keras.regularizers.L2(l2)
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], activation="relu",
                                activity_regularizer=regularizer)
    layer.build(image.shape)
    layer.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    divided, undivided, outputs = [], [], None
    for batch in batch_sizes:
        y = layer(np.repeat(image, batch, axis=0))
        divided.append(float(keras.ops.convert_to_numpy(layer.losses[0])))
        undivided.append(float(keras.ops.convert_to_numpy(regularizer(y))))
        if outputs is None:
            outputs = keras.ops.convert_to_numpy(y)[:1]
    return outputs, np.array(divided), np.array(undivided)


def batch_size_figure(batch_sizes, keras_divided, keras_undivided, yours=None, missing=None):
    """The penalty against the batch size: Keras >= 3.14 (thick grey), Keras 3.0-3.13 (black
    dots, undivided) and yours (black dashes with circles). `yours` that disagrees with the
    divided curve gets a banner with the largest error; `missing`: Keras's curves alone."""
    batch_sizes = np.asarray(batch_sizes)
    banners = []
    bad = False
    if missing:
        banners = [missing]
    elif yours is not None:
        line = disagreement(yours, keras_divided, "activity_penalty",
                            "for the batch sizes drawn (index i: the (i+1)-th size)")
        if line:
            banners, bad = [line], True
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    ax.plot(batch_sizes, keras_undivided, ":", color="black", lw=1.8, marker="s", ms=3,
            markevery=max(1, len(batch_sizes) // 16),
            label="Keras 3.0–3.13: L2(y), not divided")
    ax.plot(batch_sizes, keras_divided, color=GREY, lw=5, solid_capstyle="butt",
            label="Keras ≥ 3.14: L2(y) / batch (layer.losses)")
    if yours is not None and not missing:
        ax.plot(batch_sizes, np.asarray(yours, dtype=float), "--", color="black", lw=1.5,
                marker="o", ms=4, markevery=max(1, len(batch_sizes) // 12),
                label="yours: activity_penalty(L2, y)")
    ax.axhline(0, color=LIGHT, lw=1, zorder=0)
    ax.annotate(f"{float(np.mean(keras_divided)):.3g} at every batch size",
                (batch_sizes.max(), float(keras_divided[-1])), xytext=(0, 8),
                textcoords="offset points", ha="right", va="bottom", fontsize=9)
    ax.set_xlim(0, batch_sizes.max() + 1)
    ax.set_xlabel("batch size (copies of the same image)")
    ax.set_ylabel("activity penalty added to the loss")
    title = "The same per-example output, growing batches"
    if missing:
        title = "Keras: " + title
    _title(ax, title + ("\nyours ≠ Keras" if bad else ""), alarm=bad)
    ax.legend(fontsize=9, loc="upper left")
    note = "Dividing by the batch keeps the penalty's weight independent of the batch size"
    return _finish(fig, note, banners, alarm=not missing)


# ------------------------------------------------------------ going further: L1 vs L2 pull

def pull_on_outputs(targets, activity_gradient, steps=30, step=0.5):
    """What an activity penalty does to outputs that are free to move, as training would
    move them if the layer could produce any output: minimise
        mean over the batch of 0.5 * sum((y - targets)**2)  +  the activity penalty
    over non-negative y (relu outputs), starting from y = targets (targets >= 0). Each step
    is a data step v = y - step * (y - targets), then a penalty step from v with
    `activity_gradient(v)` (d penalty / d v: Keras's, or the reader's
    activity_penalty_gradient; the batch's 1/N is undone so the step is per example),
    then the relu clamp max(., 0). With L1 the penalty step moves every positive value by
    the same amount towards 0 and the clamp stops it there: small outputs become exactly 0.
    Returns the final outputs."""
    targets = np.asarray(targets, np.float32)
    batch = targets.shape[0]
    y = targets.copy()
    for _ in range(steps):
        v = (y - step * (y - targets)).astype(np.float32)
        penalty_step = step * batch * np.asarray(activity_gradient(v), np.float32)
        y = np.maximum(v - penalty_step, 0).astype(np.float32)
    return y


def sparsity_figure(targets, pulled, keras=None, missing=None):
    """One panel per penalty: the histogram of the outputs after `pull_on_outputs`, with the
    fraction that is exactly 0 in the title. pulled: {label: outputs} from your gradient;
    keras: the same from Keras's gradient (a banner when they differ); `missing`: drawn
    from `keras` alone."""
    banners, bad = [], set()
    if missing:
        banners, pulled = [missing], keras
    elif keras is not None:
        for label in pulled:
            line = disagreement(pulled[label], keras[label], "activity_penalty_gradient",
                                f"for {label}")
            if line:
                banners.append(line)
                bad.add(label)
    fig, axes = plt.subplots(1, len(pulled) + 1, figsize=(3.6 * (len(pulled) + 1), 3.6),
                             sharex=True)
    top = float(np.max(targets))
    bins = np.linspace(0, top, 31)
    panels = [("targets (no penalty: y = targets)", targets)] + list(pulled.items())
    for ax, (label, values) in zip(axes, panels):
        values = np.asarray(values, float).ravel()
        zeros = float(np.mean(values == 0))
        ax.hist(values[values != 0], bins=bins, color=GREY, edgecolor="black",
                label="y > 0")
        if zeros:
            ax.bar(0, np.count_nonzero(values == 0), width=bins[1] - bins[0], align="edge",
                   color="black", edgecolor="black", label="y exactly 0")
        ax.legend(fontsize=8, loc="upper right")
        prefix = ("Keras: " if missing else "your gradient: ") if label in pulled else ""
        alarm = label in bad
        _title(ax, f"{prefix}{label}\n{zeros:.0%} exactly 0" + ("\nyours ≠ Keras" if alarm
                                                                 else ""), alarm=alarm)
        ax.set_xlabel("output value y")
        ax.set_ylabel("number of outputs")
    note = "An L1 activity penalty sets small outputs to exactly 0; L2 only shrinks them"
    return _finish(fig, note, banners, alarm=not missing)
