"""Figures for chapter 01 (strides): how many strided windows read each input pixel.

Same conventions as `convbook.figures` (greys, hatching, labelled axes, 0-based indices; a
figure drawn from the reader's code carries Keras's answer for the same input and says when
they disagree; until the reader's code works, it is drawn from Keras's answer alone).

    settings = [(11, 2, 1), (11, 2, 2), ...]                     # (n, k, s), padding "valid"
    keras_counts = figures_strides.keras_window_counts(settings)       # Keras, in the kernel
    stride1 = figures_strides.stride1_window_hits(settings)            # Keras, stride 1
    with figures.from_your_convlib("Implement subsample (exercise 1.2) ...",
            keras_figure=lambda missing: figures_strides.window_counts_figure(
                settings, keras=keras_counts, missing=missing)):
        with StudentSession() as student:
            counts = [figures_strides.counts_from_hits(
                          student.call("dilation.subsample", hits, (1, s)))
                      for hits, (n, k, s) in zip(stride1, settings)]
        figures_strides.window_counts_figure(settings, counts, keras=keras_counts)
"""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from convbook import oracle
from convbook.figures import GREY, LIGHT, _finish, _title, _worst

DARK = "0.3"          # read by three or more windows

__all__ = ["keras_window_counts", "stride1_window_hits", "counts_from_hits",
           "window_counts_figure", "never_read"]


def _impulses(n):
    """n images of one row of n pixels, image i lit at pixel i: (n, 1, n, 1)."""
    return np.eye(n, dtype=np.float32).reshape(n, 1, n, 1)


def stride1_window_hits(settings):
    """For each (n, k, s): Keras's stride-1 "valid" conv of the n impulses with a 1 x k
    kernel of ones, (n, 1, n - k + 1, 1): hits[i, 0, w, 0] is 1 when stride-1 window w reads
    pixel i. The stride is not used here: subsample it to get the strided windows."""
    from convbook.checks.padding import keras_conv

    return [keras_conv(_impulses(n), np.ones((1, k, 1, 1), np.float32), 1, "valid")
            for n, k, _ in settings]


def counts_from_hits(hits):
    """How many windows read each pixel: the sum over the windows of each impulse."""
    hits = np.asarray(hits, dtype=float)
    if hits.ndim != 4:
        raise ValueError(f"expected a 4-D array, got shape {hits.shape}")
    return hits.sum(axis=(1, 2, 3))


def keras_window_counts(settings):
    """For each (n, k, s): how many windows of Keras's strided "valid" convolution read each
    of the n pixels (Keras's strided conv of the impulses with a kernel of ones)."""
    from convbook.checks.padding import keras_conv

    oracle.keras()
    return [counts_from_hits(keras_conv(_impulses(n), np.ones((1, k, 1, 1), np.float32),
                                        (1, s), "valid"))
            for n, k, s in settings]


def never_read(counts):
    """The pixels no window reads."""
    return [int(i) for i in np.flatnonzero(np.asarray(counts) == 0)]


def _setting(n, k, s):
    return f"n={n}, kernel_size={k}, strides={s}"


def _draw_counts(ax, n, k, s, counts, prefix="", alarm=False):
    counts = np.asarray(counts, dtype=float)
    top = max(3.0, float(counts.max()) if counts.size else 0.0)
    for i, c in enumerate(counts):
        if c == 0:      # never read: a hatched column, so it shows in greyscale too
            ax.add_patch(Rectangle((i - 0.45, 0), 0.9, top + 0.4, facecolor="white",
                                   edgecolor=GREY, hatch="xx", lw=0.8))
            ax.text(i, top + 0.15, "0", ha="center", va="center", fontsize=8,
                    backgroundcolor="white")
        else:
            ax.bar(i, c, width=0.9, color=LIGHT if c == 1 else GREY if c == 2 else DARK,
                   edgecolor="black")
    skipped = never_read(counts)
    windows = int(round(counts.sum() / k)) if k else 0
    what = ", ".join(map(str, skipped)) if skipped else "none"
    _title(ax, f"{prefix}k={k}, strides={s}: {windows} windows\nnever read: {what}", alarm)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, top + 0.5)
    ax.set_xticks(range(n))
    ax.set_yticks(range(int(top) + 1))
    ax.set_xlabel("input pixel index")
    ax.tick_params(labelsize=8)


def window_counts_figure(settings, counts=None, keras=None, missing=None):
    """How many windows of a strided "valid" convolution read each input pixel; one panel per
    (n, k, s) setting, laid out with one row per kernel size and one column per stride.
    Hatched columns: pixels no window reads (the gaps when k < s, the tail).

    counts: yours, one array of n counts per setting (`counts_from_hits` of your subsample of
    `stride1_window_hits`). keras: Keras's (`keras_window_counts`). When yours disagree: a
    banner, your panels titled "yours ≠ Keras", each followed by a row of Keras's panels.
    missing: why yours are not drawn (the banner line `from_your_convlib` passes); Keras's
    counts are then drawn alone, titled "Keras: ...".
    """
    ks = sorted({k for _, k, _ in settings})
    ss = sorted({s for _, _, s in settings})
    banner, bad = None, set()
    if missing:
        counts = keras
    elif keras is not None:
        banner, bad = _worst("subsample", {
            i: (f"for {_setting(*setting)}", mine, theirs)
            for i, (setting, mine, theirs) in enumerate(zip(settings, counts, keras))},
            "settings")
    rows = []                           # (k, source, prefix)
    for k in ks:
        rows.append((k, counts, "Keras: " if missing else ""))
        if any(settings[i][1] == k for i in bad):
            rows.append((k, keras, "Keras: "))
    n_max = max(n for n, _, _ in settings)
    fig, axes = plt.subplots(len(rows), len(ss), figsize=(0.42 * n_max * len(ss) + 1.2,
                                                           2.6 * len(rows)),
                             squeeze=False, sharey="row")
    for r, (k, source, prefix) in enumerate(rows):
        for c, s in enumerate(ss):
            ax = axes[r, c]
            index = next((i for i, st in enumerate(settings) if st[1:] == (k, s)), None)
            if index is None:
                ax.set_visible(False)
                continue
            n = settings[index][0]
            wrong = source is counts and index in bad
            values = source[index]
            try:
                values = np.asarray(values, dtype=float).reshape(n)
            except (TypeError, ValueError):
                values = np.zeros(n)
            _draw_counts(ax, n, k, s, values,
                         "yours ≠ Keras: " if wrong else prefix, alarm=wrong)
        axes[r, 0].set_ylabel("windows that read it")
    note = ('padding="valid": how many windows read each pixel (hatched: never read, '
            "the gaps when k < s and the tail)")
    return _finish(fig, note, [missing or banner], alarm=not missing)
