"""Figures for chapter 06 (kernel_initializer), in the style of `convbook.figures`: greys,
dashes and markers rather than colour alone, labelled axes, one idea per figure.

* `glorot_histogram_figure`: your GlorotNormal and GlorotUniform draws on a conv kernel over
  Keras's, with the cut at +-2 stddev (or the uniform's limit) and the notes' claims marked.
* `depth_figure` (Keras only): the size of the activations through a deep stack of Conv2D
  layers, one line per initializer, without and with relu.

A figure drawn from the reader's draws takes Keras's draws of the same initializer and shape
(`keras=`) and, when the two samples differ by more than the checks allow
(`convbook.checks.initializers.sample_problem`), says so in a banner; with `missing=` (the
banner `figures.from_your_convlib` passes while the reader's code is not written yet) it is
drawn from Keras's draws alone.
"""
import math

import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import GREY, _finish, _title

GLOROT = ("GlorotNormal", "GlorotUniform")
HISTOGRAM_SHAPE = (3, 3, 64, 128)        # fan_in = 576, fan_out = 1152


def glorot_fans(shape):
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def keras_glorot_draws(shape=HISTOGRAM_SHAPE, seed=6):
    """Keras's GlorotNormal and GlorotUniform on `shape` (one draw each, flattened), and
    the laws they draw from: ({name: values}, {name: Law})."""
    from convbook.checks import initializers as checks

    draws = {name: checks.keras_draws(name, {}, shape, [seed]) for name in GLOROT}
    laws = {name: checks.keras_law(checks.keras_initializer(name, {}, seed), shape)
            for name in GLOROT}
    return draws, laws


def _normal_pdf(x, sigma):
    return np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def glorot_histogram_figure(shape, yours=None, keras=None, laws=None, missing=None):
    """Two panels, GlorotNormal and GlorotUniform on a kernel of `shape`: Keras's draws
    (grey bars) and yours (black outline), the law's bounds (dashed), and, dotted, what the
    notes say: for GlorotNormal a plain normal of variance 2 / (fan_in + fan_out), for
    GlorotUniform a uniform of variance 6 / (fan_in + fan_out).
    yours, keras: {name: values}; laws: {name: checks.Law}."""
    from convbook.checks import initializers as checks

    fan_in, fan_out = glorot_fans(shape)
    target = math.sqrt(2 / (fan_in + fan_out))          # the std Glorot aims for
    banners, bad = [], set()
    if missing:
        banners = [missing]
    else:
        for name in GLOROT:
            problem = checks.sample_problem(yours[name], keras[name], laws[name],
                                            laws[name].bounds())
            if problem is not None:
                banners.append(f"Your {name} disagrees with Keras on this figure's draws: "
                               f"{problem.detail}")
                bad.add(name)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
    for ax, name in zip(axes, GLOROT):
        law = laws[name]
        edge = 3.2 * target
        bins = np.linspace(-edge, edge, 81)
        counts, _, _ = ax.hist(keras[name], bins=bins, density=True, color="0.75",
                               edgecolor="0.75", label="Keras")
        if not missing:
            ax.hist(np.asarray(yours[name], float).ravel(), bins=bins, density=True,
                    histtype="step", color="black", lw=1.5, label="yours")
        top = 1.6 * float(np.max(counts))
        ax.set_ylim(0, top)
        grid = np.linspace(-edge, edge, 400)
        low, high = law.bounds()
        for x in (low, high):
            ax.axvline(x, color="black", ls="--", lw=1.2)
        if name == "GlorotNormal":
            ax.plot(grid, _normal_pdf(grid, target), ":", color="black", lw=2,
                    label="the notes: N(0, 2/(fan_in+fan_out))")
            cut = f"Keras's cut: ±2·stddev = ±{high:.4f}\n(values beyond are redrawn)"
        else:
            wide = math.sqrt(3 * 6 / (fan_in + fan_out))      # uniform with variance 6/(...)
            ax.plot([-wide, -wide, wide, wide], [0, 1 / (2 * wide), 1 / (2 * wide), 0], ":",
                    color="black", lw=2, label="the notes: variance 6/(fan_in+fan_out)")
            cut = f"Keras's limit √(6/(fan_in+fan_out))\n= ±{high:.4f}"
        ax.text(high, 0.45 * top, " " + cut.replace("\n", "\n "), fontsize=8, va="center",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        stats = [] if missing else [
            f"std yours: {np.std(np.asarray(yours[name], float)):.4f}"]
        stats += [f"std Keras: {np.std(keras[name]):.4f}", f"√(2/(in+out)) {target:.4f}"]
        ax.text(0.02, 0.97, "\n".join(stats),
                transform=ax.transAxes, fontsize=7, va="top", family="monospace",
                bbox={"facecolor": "white", "edgecolor": GREY})
        prefix = "Keras: " if missing else ""
        _title(ax, f"{prefix}{name}{shape}: fan_in={fan_in}, fan_out={fan_out}"
                   + ("\nyours ≠ Keras" if name in bad else ""), alarm=name in bad)
        ax.set_xlabel("weight value")
        ax.set_ylabel("density")
        ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    return _finish(fig, None, banners, alarm=not missing)


# ------------------------------------------------------------------ the deep stack (Keras)

DEPTH_INITIALIZERS = (("RandomNormal(stddev=0.05)", "RandomNormal", {"stddev": 0.05}),
                      ("GlorotUniform", "GlorotUniform", {}),
                      ("HeNormal", "HeNormal", {}))
STYLES = ({"ls": "-", "marker": "o", "color": "black"},
          {"ls": "--", "marker": "s", "color": GREY},
          {"ls": ":", "marker": "^", "color": "black"})


def keras_depth_profiles(depth=20, channels=64, size=46, batch=1, seed=0):
    """Root mean square of the activations after each of `depth` Keras Conv2D layers (3x3,
    `channels` filters, padding "valid", so no border of zeros shrinks the
    signal, no bias), for each initializer of
    DEPTH_INITIALIZERS, with activation None and "relu": {activation: {label: rms}}, each
    rms of length depth + 1 (the input first)."""
    keras = oracle.keras()
    x = np.random.default_rng(seed).standard_normal((batch, size, size, channels))
    x = x.astype("float32")
    profiles = {}
    for activation in (None, "relu"):
        profiles[activation] = {}
        for label, class_name, kwargs in DEPTH_INITIALIZERS:
            h, rms = x, [float(np.sqrt(np.mean(x ** 2)))]
            for layer_index in range(depth):
                init = getattr(keras.initializers, class_name)(**kwargs, seed=seed + layer_index)
                layer = keras.layers.Conv2D(channels, 3, padding="valid", use_bias=False,
                                            activation=activation, kernel_initializer=init)
                h = layer(h)
                rms.append(float(np.sqrt(np.mean(keras.ops.convert_to_numpy(h) ** 2))))
            profiles[activation][label] = np.array(rms)
    return profiles


def depth_figure(profiles, channels=64):
    """Two panels (no activation, relu): the RMS of the activations against the layer
    index, log scale, one line per initializer."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    fan_in = 9 * channels
    for ax, (activation, lines) in zip(axes, profiles.items()):
        for (label, rms), style in zip(lines.items(), STYLES):
            ax.semilogy(np.arange(len(rms)), rms, label=label, ms=4, lw=1.5, **style)
        ax.axhline(1.0, color=GREY, lw=0.8, zorder=0)
        _title(ax, f"activation={activation!r}: {len(rms) - 1} Conv2D layers, 3x3, "
                   f"{channels} filters (fan_in = {fan_in})")
        ax.set_xlabel("layer (0 = the input)")
        ax.set_xticks(range(0, len(rms), 2))
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("RMS of the activations (log scale)")
    return _finish(fig)


# ------------------------------------------------- going further: your kernels in the stack

STACK_INITIALIZERS = (("GlorotUniform", {}), ("HeNormal", {}))


def keras_stack_rms(kernels, activation="relu", size=46, seed=0):
    """RMS of the activations through Keras Conv2D layers (padding "valid", no bias) whose
    kernels are set to `kernels` (a list of (3, 3, c, c) arrays), input first."""
    keras = oracle.keras()
    channels = np.shape(kernels[0])[2]
    h = np.random.default_rng(seed).standard_normal((1, size, size, channels)).astype("float32")
    rms = [float(np.sqrt(np.mean(h ** 2)))]
    for kernel in kernels:
        layer = keras.layers.Conv2D(channels, 3, padding="valid", use_bias=False,
                                    activation=activation)
        layer.build(h.shape)
        layer.set_weights([np.asarray(kernel, "float32")])
        h = keras.ops.convert_to_numpy(layer(h))
        rms.append(float(np.sqrt(np.mean(h ** 2))))
    return np.array(rms)


def keras_stack_kernels(depth=20, channels=64, seed=100):
    """Keras's kernels for `stack_comparison_figure`: {label: [kernel per layer]}."""
    keras = oracle.keras()
    return {name: [keras.ops.convert_to_numpy(getattr(keras.initializers, name)(
                **kwargs, seed=seed + i)((3, 3, channels, channels))) for i in range(depth)]
            for name, kwargs in STACK_INITIALIZERS}


def stack_comparison_figure(yours=None, keras=None, missing=None):
    """A relu stack with your kernels and with Keras's: the RMS of the activations against
    the layer, one pair of lines per initializer. yours, keras: {label: rms}."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for (label, theirs), style in zip(keras.items(), STYLES):
        ax.semilogy(np.arange(len(theirs)), theirs, color=GREY, lw=4, alpha=0.7,
                    marker=style["marker"], ms=5, label=f"Keras's {label}")
        if not missing:
            ax.semilogy(np.arange(len(yours[label])), yours[label], "--", color="black",
                        lw=1.5, marker=style["marker"], ms=4, mfc="white",
                        label=f"your {label}")
    ax.axhline(1.0, color=GREY, lw=0.8, zorder=0)
    _title(ax, ("Keras: " if missing else "") + "activation='relu', 3x3 Conv2D layers, "
               "64 filters: kernels from each initializer")
    ax.set_xlabel("layer (0 = the input)")
    ax.set_xticks(range(0, len(next(iter(keras.values()))), 2))
    ax.set_ylabel("RMS of the activations (log scale)")
    ax.legend(fontsize=8, loc="lower left")
    return _finish(fig, None, [missing] if missing else [], alarm=False)
