"""Figures for chapter 04 (groups): which input channels each output channel reads.

Same conventions as `convbook.figures` (greys, labelled axes, 0-based indices; a figure drawn
from the reader's code carries Keras's answer for the same input and says when they disagree;
until the reader's code works, it is drawn from Keras's answer alone).

The connectivity comes from a trick: `in_channels` images of one pixel, image c lit at
channel c only, through a 1x1 grouped convolution with a kernel of ones; output channel o of
image c is 1 exactly when o reads channel c.

    settings = [(8, 8, 1), (8, 8, 2), (8, 8, 4), (8, 8, 8)]   # (in_channels, filters, groups)
    keras_links = figures_groups.keras_connectivity(settings)     # Keras, in the kernel
    with figures.from_your_convlib("Implement grouped_conv2d (exercise 4.1) ...",
            keras_figure=lambda missing: figures_groups.connectivity_figure(
                settings, keras=keras_links, missing=missing)):
        with StudentSession() as student:
            links = [figures_groups.links_from_output(student.call(
                         "groups.grouped_conv2d", *figures_groups.probe(*s)))
                     for s in settings]
        figures_groups.connectivity_figure(settings, links, keras=keras_links)
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import _finish, _title, _worst

__all__ = ["probe", "links_from_output", "keras_connectivity", "connectivity_figure"]


def probe(in_channels, filters, groups):
    """(x, kernel, groups) for the trick: x (in_channels, 1, 1, in_channels), image c lit at
    channel c; a 1x1 kernel of ones (1, 1, in_channels // groups, filters)."""
    x = np.eye(in_channels, dtype=np.float32).reshape(in_channels, 1, 1, in_channels)
    kernel = np.ones((1, 1, in_channels // groups, filters), np.float32)
    return x, kernel, groups


def links_from_output(out):
    """(filters, in_channels): links[o, c] = output channel o of the image lit at channel c."""
    out = np.asarray(out, dtype=float)
    if out.ndim != 4:
        raise ValueError(f"expected a 4-D array, got shape {out.shape}")
    return out[:, 0, 0, :].T


def keras_connectivity(settings):
    """For each (in_channels, filters, groups): Keras's links (`links_from_output` of Keras's
    grouped convolution of the probe)."""
    keras = oracle.keras()
    links = []
    for setting in settings:
        x, kernel, _ = probe(*setting)
        out = keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, padding="valid"))
        links.append(links_from_output(out))
    return links


def _draw(ax, c_in, filters, groups, links, prefix="", alarm=False):
    links = np.asarray(links, dtype=float)
    ax.imshow(links != 0, cmap="gray_r", vmin=0, vmax=1.6, aspect="equal",
              extent=(-0.5, c_in - 0.5, filters - 0.5, -0.5))
    cg, fg = c_in // groups, filters // groups
    for g in range(1, groups):                   # the group boundaries, dashed
        ax.axvline(g * cg - 0.5, color="black", lw=0.8, ls="--")
        ax.axhline(g * fg - 0.5, color="black", lw=0.8, ls="--")
    weights = c_in // groups * filters
    read = int(np.count_nonzero(links))
    _title(ax, f"{prefix}groups={groups}: each output reads {c_in // groups}\n"
               f"{read} links = 1x1 kernel {(1, 1, c_in // groups, filters)}, {weights} weights",
           alarm)
    ax.set_xticks(range(c_in))
    ax.set_yticks(range(filters))
    ax.set_xlabel("input channel c")
    ax.set_ylabel("output channel o")
    ax.tick_params(labelsize=8)


def connectivity_figure(settings, links=None, keras=None, missing=None):
    """One panel per (in_channels, filters, groups): a dark cell where output channel o reads
    input channel c; dashed lines at the group boundaries. The blocks on the diagonal are
    the groups.

    links: yours (`links_from_output` of your grouped_conv2d of `probe(*setting)`); keras:
    Keras's (`keras_connectivity`). When yours disagree: a banner, your panels titled
    "yours ≠ Keras", and a second row with Keras's panels. missing: why yours are not drawn
    (the banner line `from_your_convlib` passes); Keras's are then drawn alone, titled
    "Keras: ...".
    """
    banner, bad = None, set()
    if missing:
        links = keras
    elif keras is not None:
        banner, bad = _worst("grouped_conv2d", {
            i: (f"for in_channels={c}, filters={f}, groups={g}", mine, theirs)
            for i, ((c, f, g), mine, theirs) in enumerate(zip(settings, links, keras))},
            "settings")
    rows = [(links, "Keras: " if missing else "")]
    if bad:
        rows.append((keras, "Keras: "))
    fig, axes = plt.subplots(len(rows), len(settings), squeeze=False,
                             figsize=(3.3 * len(settings), 3.9 * len(rows)))
    for r, (source, prefix) in enumerate(rows):
        for i, (c_in, filters, groups) in enumerate(settings):
            wrong = r == 0 and i in bad
            values = source[i]
            try:
                values = np.asarray(values, dtype=float).reshape(filters, c_in)
            except (TypeError, ValueError):
                values = np.zeros((filters, c_in))
            _draw(axes[r, i], c_in, filters, groups, values,
                  "yours ≠ Keras: " if wrong else prefix, alarm=wrong)
    note = ("Which input channels each output channel reads (dark: it does): the groups are "
            "the blocks on the diagonal")
    return _finish(fig, note, [missing or banner], alarm=not missing)
