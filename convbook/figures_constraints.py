"""Figures for chapters 11 and 12 (kernel_constraint, bias_constraint), in the style of
`convbook.figures`: greys, hatching and markers rather than colour alone, labelled axes.

* `filter_norms_figure` (chapter 11): the norm of each filter of a conv kernel before and
  after MaxNorm(axis=0) and MaxNorm(axis=[0, 1, 2]): only the second bounds whole filters.
* `norm_trajectory_figure` (chapter 12): the norm of a bias under repeated SGD steps, with no
  constraint, a MaxNorm and a MinMaxNorm applied after every step.

Keras's data come from the `keras_*` helpers (computed in the kernel); the reader's are drawn
over them as black markers, and a disagreement is a banner (`convbook.figures`); with
`missing=` the figure is drawn from Keras's answer alone.
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook.figures import GREY, LIGHT, _finish, _title, _worst

FILTER_AXES = {"axis=0": 0, "axis=[0, 1, 2]": [0, 1, 2]}


def filter_norms(kernel):
    """The Euclidean norm of each filter of a (kh, kw, in, filters) kernel, in float64."""
    kernel = np.asarray(kernel, dtype=np.float64)
    return np.sqrt(np.sum(kernel ** 2, axis=(0, 1, 2)))


def keras_filter_norms(kernel, max_value):
    """{"before": ..., "axis=0": ..., "axis=[0, 1, 2]": ...}: per-filter norms of `kernel`
    and of keras.constraints.MaxNorm(max_value, axis)(kernel) for both axes."""
    from convbook.checks.constraints import keras_constraint

    norms = {"before": filter_norms(kernel)}
    for label, axis in FILTER_AXES.items():
        norms[label] = filter_norms(keras_constraint("MaxNorm", kernel, max_value=max_value,
                                                     axis=axis))
    return norms


def filter_norms_figure(max_value, keras, yours=None, missing=None):
    """Bars: Keras's per-filter norms before (white), after MaxNorm(axis=0) (grey, hatched)
    and after MaxNorm(axis=[0, 1, 2]) (black); a dashed line at max_value. `yours`: {"axis=0":
    norms, "axis=[0, 1, 2]": norms} from the reader's MaxNorm, drawn as markers over the bars;
    `missing`: Keras's alone."""
    banners = []
    bad = set()
    if missing:
        banners = [missing]
    elif yours is not None:
        line, bad = _worst("MaxNorm", {label: (f"the filter norms after MaxNorm({label})",
                                               yours[label], keras[label])
                                       for label in FILTER_AXES}, "axes")
        banners = [line] if line else []
    filters = np.arange(len(keras["before"]))
    width = 0.27
    fig, ax = plt.subplots(figsize=(10, 4.3))
    ax.bar(filters - width, keras["before"], width, color="white", edgecolor="black",
           label="before (Keras's input)")
    ax.bar(filters, keras["axis=0"], width, color=GREY, edgecolor="black", hatch="//",
           label="Keras: MaxNorm(axis=0), the notes' axis")
    ax.bar(filters + width, keras["axis=[0, 1, 2]"], width, color="black",
           label="Keras: MaxNorm(axis=[0, 1, 2]), per filter")
    if yours is not None and not missing:
        for offset, label, marker in ((0, "axis=0", "o"), (width, "axis=[0, 1, 2]", "D")):
            ax.plot(filters + offset, np.asarray(yours[label], float), marker, ms=7,
                    mfc="white", mec="black", mew=1.5, ls="none",
                    label=f"yours: MaxNorm({label})")
    ax.axhline(max_value, color="black", ls="--", lw=1.2)
    ax.annotate(f"max_value = {max_value:g}", (filters[-1] + 0.5, max_value),
                textcoords="offset points", xytext=(-4, 4), ha="right", fontsize=9)
    ax.set_xticks(filters)
    ax.set_xlabel("filter f (last axis of the kernel)")
    ax.set_ylabel("norm of kernel[:, :, :, f]")
    alarm = bool(bad)
    _title(ax, ("Keras: " if missing else "") + "Per-filter norms of a (kh, kw, in, filters) "
           "kernel after MaxNorm" + ("\nyours ≠ Keras" if alarm else ""), alarm=alarm)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.set_ylim(0, max(float(np.max(keras["before"])), max_value) * 1.35)
    return _finish(fig, "axis=0 bounds each column of kh weights; only axis=[0, 1, 2] bounds "
                        "whole filters", banners, alarm=not missing)


# ------------------------------------------------------------------------ chapter 12

# (label, constraint spec for convbook.checks.optimizer, line style, marker)
TRAJECTORIES = [
    ("no constraint", None, ":", "s"),
    ("MaxNorm(max_value=1.5)", ("MaxNorm", {"max_value": 1.5, "axis": 0}), "-", "o"),
    ("MinMaxNorm(min_value=0.5, max_value=1.0)",
     ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "rate": 1.0, "axis": 0}), "--", "D"),
]


def drifting_gradients(filters=8, steps=40, seed=12):
    """(initial bias, [gradient per step]): a small bias and gradients that keep pushing it
    outwards (a constant direction plus noise), so the unconstrained norm grows."""
    rng = np.random.default_rng(seed)
    bias = (rng.standard_normal(filters) * 0.05).astype(np.float32)
    drift = rng.standard_normal(filters)
    drift = -0.6 * drift / np.linalg.norm(drift)
    grads = [(drift + 0.3 * rng.standard_normal(filters)).astype(np.float32)
             for _ in range(steps)]
    return bias, grads


def keras_norm_trajectories(bias, grads, learning_rate):
    """{label: norm of the bias after 0, 1, ..., len(grads) steps} for each of TRAJECTORIES,
    from keras.optimizers.SGD on a variable with that constraint."""
    from convbook.checks.optimizer import keras_sgd_steps

    return {label: np.array([np.linalg.norm(bias)] + [
        np.linalg.norm(w) for w in keras_sgd_steps(bias, grads, learning_rate, spec)])
        for label, spec, _, _ in TRAJECTORIES}


def norm_trajectory_figure(keras, yours=None, missing=None):
    """The bias norm against the step, one line per entry of TRAJECTORIES (Keras's in grey),
    yours as black markers over them; the band [0.5, 1.0] of the MinMaxNorm shaded."""
    banners, bad = [], set()
    if missing:
        banners = [missing]
    elif yours is not None:
        line, bad = _worst("sgd_step", {label: (f"with {label}", yours[label], keras[label])
                                        for label, *_ in TRAJECTORIES}, "trajectories")
        banners = [line] if line else []
    fig, ax = plt.subplots(figsize=(10, 4.3))
    ax.axhspan(0.5, 1.0, color=LIGHT, zorder=0, label="MinMaxNorm's band [0.5, 1.0]")
    for label, _, style, marker in TRAJECTORIES:
        steps = np.arange(len(keras[label]))
        ax.plot(steps, keras[label], style, color=GREY, lw=3, label=f"Keras: {label}")
        if yours is not None and not missing:
            ax.plot(steps, np.asarray(yours[label], float), marker, color="black", ms=4,
                    mfc="white", ls="none", markevery=2, label=f"yours: {label}")
    ax.axhline(1.5, color="black", lw=0.8, ls="-.")
    ax.set_xlabel("SGD step t (the constraint applied after each update)")
    ax.set_ylabel("norm of the bias after step t")
    _title(ax, ("Keras: " if missing else "") + "A bias under SGD, learning_rate=0.1"
           + ("\nyours ≠ Keras" if bad else ""), alarm=bool(bad))
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    return _finish(fig, "The constraint acts after every step: the norm never leaves its "
                        "bounds once a step has been taken", banners, alarm=not missing)
