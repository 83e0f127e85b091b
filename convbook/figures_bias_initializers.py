"""Figures for chapter 07 (bias_initializer), in the style of `convbook.figures`: greys,
dashes and markers rather than colour alone, labelled axes, one idea per figure.

* `starting_bias_figure`: the bias a Conv2D starts with under four bias_initializers
  ('zeros', Constant(0.1), RandomNormal(stddev=0.05) and None, which means glorot_uniform);
  Keras's, and yours beside it.
* `dead_units_figure`: a relu Conv2D with a constant bias b: the share of its outputs that are
  0, and the share of its filters that are 0 on the whole batch ("dead"), as b goes negative.

Every figure drawn from the reader's data takes Keras's answer for the same input (`keras=`)
and, when they differ, says so in a banner: value by value for the constant initializers
(`convbook.figures.disagreement`), by the chapter's statistical tests for the random ones
(`convbook.checks.bias_initializers.sample_disagreement`: random draws never agree value by
value). With `missing=` (the banner `figures.from_your_convlib` passes while the reader's
code is not written yet) the figure is drawn from Keras's answer alone.
"""
import math

import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import GREY, LIGHT, _finish, _title, disagreement

FILTERS = 64           # the starting-bias figure's layer
NORMAL_STDDEV = 0.05
CONSTANT = 0.1

# (key, panel title); the keys are the identifiers of `keras_bias_initializer`
STARTS = [("zeros", "bias_initializer='zeros'\n(the default)"),
          ("constant", f"bias_initializer=Constant({CONSTANT})"),
          ("random_normal", f"bias_initializer=RandomNormal(\nstddev={NORMAL_STDDEV})"),
          ("none", "bias_initializer=None\n(= glorot_uniform)")]


def glorot_limit(filters):
    """glorot_uniform's limit on a (filters,) shape: fan_in = fan_out = filters, so
    sqrt(6 / (fan_in + fan_out)) = sqrt(3 / filters)."""
    return math.sqrt(6.0 / (2 * filters))


def keras_bias_initializer(key, random_state=7):
    """The bias_initializer argument a key of STARTS stands for, as Keras objects."""
    keras = oracle.keras()
    return {"zeros": "zeros",
            "constant": keras.initializers.Constant(CONSTANT),
            "random_normal": keras.initializers.RandomNormal(stddev=NORMAL_STDDEV,
                                                             seed=random_state),
            "none": None}[key]


def keras_starting_biases(filters=FILTERS, random_state=7):
    """{key of STARTS: the bias of a keras.layers.Conv2D(filters, 3, bias_initializer=...)
    built on 3 input channels}."""
    from convbook.checks.bias_initializers import keras_layer_bias

    return {key: keras_layer_bias(keras_bias_initializer(key, random_state), filters)[0]
            for key, _ in STARTS}


def _verdicts(yours, keras, filters):
    """{key: the banner line when yours disagrees with Keras's} for starting_bias_figure."""
    from convbook.checks.bias_initializers import Normal, Uniform, sample_disagreement

    found = {}
    for key, _ in STARTS:
        mine, theirs = yours[key], keras[key]
        arr = np.asarray(mine) if mine is not None else None
        if arr is None or arr.dtype.kind not in "biuf" or arr.shape != np.shape(theirs):
            found[key] = disagreement(mine, theirs, "initializer", f"for {key}")
            continue
        if key in ("zeros", "constant"):
            line = disagreement(mine, theirs, "initializer", f"for {key}")
        else:
            limit = glorot_limit(filters)
            target = (Normal(0.0, NORMAL_STDDEV) if key == "random_normal"
                      else Uniform(-limit, limit))
            why = sample_disagreement(arr, theirs, target)
            line = None if why is None else (
                f"Your {key} bias does not look like Keras's {target}: {why}")
        if line:
            found[key] = line
    return found


def starting_bias_figure(keras, yours=None, missing=None, filters=FILTERS):
    """One panel per entry of STARTS: the starting bias of each of the layer's filters,
    Keras's (large grey dots) and yours (black crosses; random draws differ value by value,
    only their spread should agree). Dashed lines: +-2 stddev for RandomNormal, the glorot
    limit sqrt(3 / filters) for None. `missing`: Keras's alone."""
    banners, bad = [], {}
    if missing:
        banners = [missing]
    elif yours is not None:
        bad = _verdicts(yours, keras, filters)
        banners = list(bad.values())
    index = np.arange(filters)
    limit = glorot_limit(filters)
    fig, axes = plt.subplots(1, len(STARTS), figsize=(15, 3.9), sharey=True)
    for ax, (key, title) in zip(axes, STARTS):
        ax.axhline(0, color=LIGHT, lw=1, zorder=0)
        band = {"random_normal": (2 * NORMAL_STDDEV, "±2·stddev"),
                "none": (limit, f"±sqrt(3/{filters}) = ±{limit:.3f}")}.get(key)
        if band:
            for sign in (-1, 1):
                ax.axhline(sign * band[0], color="black", ls="--", lw=1,
                           label=band[1] if sign > 0 else None)
        ax.plot(index, np.asarray(keras[key], float), "o", color=GREY, ms=6, label="Keras")
        if yours is not None and not missing:
            mine = np.asarray(yours[key], float).ravel()
            ax.plot(np.arange(mine.size), mine, "x", color="black", ms=5, label="yours")
        prefix = "Keras: " if missing else ""
        _title(ax, prefix + title + ("\nyours ≠ Keras" if key in bad else ""),
               alarm=key in bad)
        ax.set_xlabel(f"filter f (0 to {filters - 1})")
        ax.set_ylim(-0.3, 0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("starting bias b[f]")
    note = (f"The bias of a Conv2D with {filters} filters, as it starts: one number per "
            f"filter")
    return _finish(fig, note, banners, alarm=not missing)


# ----------------------------------------------------------------- dead relu units

def relu_layer_inputs(filters=32, channels=8, random_state=3):
    """(images, kernel): 8 random 16x16 images with `channels` standard-normal channels, and
    the glorot_uniform kernel of a Conv2D(filters, 3) on them (Keras, int random state)."""
    keras = oracle.keras()
    images = np.random.default_rng(random_state).standard_normal(
        (8, 16, 16, channels)).astype(np.float32)
    kernel = np.asarray(keras.ops.convert_to_numpy(
        keras.initializers.GlorotUniform(seed=random_state)((3, 3, channels, filters))))
    return images, kernel


def keras_constant_biases(values, filters=32):
    """[keras.initializers.Constant(b)((filters,)) for b in values]."""
    keras = oracle.keras()
    return [np.asarray(keras.ops.convert_to_numpy(keras.initializers.Constant(float(b))(
        (filters,)))) for b in values]


def keras_relu_layer_stats(images, kernel, bias_vectors):
    """For each bias vector: (share of the outputs of keras.layers.Conv2D(filters, 3,
    activation="relu") with that kernel and bias that are 0, share of its filters whose
    output is 0 everywhere on the batch)."""
    keras = oracle.keras()
    layer = keras.layers.Conv2D(kernel.shape[-1], 3, activation="relu")
    layer.build(images.shape)
    zero, dead = [], []
    for bias in bias_vectors:
        layer.set_weights([kernel, np.asarray(bias, np.float32)])
        out = np.asarray(keras.ops.convert_to_numpy(layer(images)))
        zero.append(float(np.mean(out == 0)))
        dead.append(float(np.mean(np.all(out == 0, axis=(0, 1, 2)))))
    return np.array(zero), np.array(dead)


def dead_units_figure(values, keras, yours=None, keras_biases=None, your_biases=None,
                      missing=None):
    """keras / yours: (share of zero outputs, share of dead filters) for each constant bias
    in `values` (yours: with the bias vectors your Constant made). keras_biases /
    your_biases: the bias vectors themselves, compared value by value for the banner."""
    banners = [missing] if missing else []
    differs = False
    if not missing and yours is not None and keras_biases is not None:
        for b, mine, theirs in zip(values, your_biases, keras_biases):
            line = disagreement(mine, theirs, "Constant", f"for Constant({b:g})")
            if line:
                banners, differs = [line], True
                break
    fig, ax = plt.subplots(figsize=(8, 4.3))
    ax.axvline(0, color=LIGHT, lw=1, zorder=0)
    ax.plot(values, keras[0], "-", color=GREY, lw=5, label="Keras: outputs that are 0",
            solid_capstyle="butt")
    ax.plot(values, keras[1], "-", color="black", lw=2.5,
            label="Keras: filters dead on the whole batch")
    if yours is not None and not missing:
        ax.plot(values, yours[0], "o", color="black", ms=5, mfc="white",
                label="yours: outputs that are 0")
        ax.plot(values, yours[1], "s", color="black", ms=4, label="yours: dead filters")
    ax.annotate("'zeros': about half the outputs are 0,\nno filter is dead",
                xy=(0, float(np.interp(0, values, keras[0]))), xytext=(0.33, 0.22),
                textcoords="axes fraction", fontsize=9,
                arrowprops={"arrowstyle": "->", "color": "black"})
    ax.set_xlabel("constant bias b (bias_initializer=Constant(b))")
    ax.set_ylabel("share (0 to 1)")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8, loc="upper right")
    title = ("Keras: " if missing else "") + ("a relu Conv2D (32 filters, 3x3, glorot_uniform "
                                             "kernel) on 8 random images")
    _title(ax, title + ("\nyours ≠ Keras" if differs else ""), alarm=differs)
    note = "A negative starting bias switches relu units off; below about -2 whole filters die"
    return _finish(fig, note, banners, alarm=not missing)
