"""Chapter 16's experiments and figures: a small network trained side by side with Keras on
scikit-learn's 8x8 digits, and a kernel learned from input/output pairs.

Keras's side runs in the kernel (`keras_digits_run`, `keras_edge_run`); the reader's side runs
in the child through the harness (`your_digits_run`, `your_edge_run`), with the reader's
Conv2D, the given head of convlib/network.py and the reader's `network.train_step`. The
figures take Keras's data first and the reader's when there is some (`yours=`), and say so
when the two disagree (convbook.figures' banners).

The tolerance of the side-by-side run (`SIDE_BY_SIDE_TOLERANCE`): after the run, every
weight must be within 1e-4 * max|Keras's weight| of Keras's, elementwise. Measured drift of
the reference convlib over the 45 steps of this chapter's network: at most about 3.4e-6 of
the scale (tests/test_training.py checks the bound), so the bound has a margin of about 30,
while a sum instead of a mean misses it by a factor of more than 100 after a single step
(tests/test_training.py).
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.checks import training
from convbook.checks.padding import keras_conv
from convbook.figures import KERAS_ONLY, _finish, _title

DTYPE = np.float32
SIDE_BY_SIDE_TOLERANCE = 1e-4

DIGITS_SPEC = {
    "input_shape": (8, 8, 1), "classes": 10, "head": "flatten",
    "convs": [
        {"filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu",
         "kernel_regularizer": ("L2", {"l2": 1e-3}),
         "kernel_constraint": ("ClipWeights", {"min_value": -0.3, "max_value": 0.3})},
        {"filters": 16, "kernel_size": 3, "strides": 2, "padding": "same",
         "activation": "relu", "kernel_regularizer": ("L2", {"l2": 1e-3})},
    ],
    "dense_regularizer": ("L2", {"l2": 1e-3}),
}

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=DTYPE)


# ------------------------------------------------------------------------------- the data

def digits(count=300):
    """The first `count` of scikit-learn's 8x8 digits: images (count, 8, 8, 1) in [0, 1]
    (the pixel counts 0..16 divided by 16) and their labels (count,)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images[:count] / 16.0).astype(DTYPE)[..., None]
    return images, data.target[:count].astype(np.int64)


def ordered_batches(images, labels, batch_size, epochs):
    """The mini-batches of `epochs` passes over the data, in order (no shuffling): what
    model.fit(..., batch_size=batch_size, shuffle=False) feeds its steps."""
    return [(images[start:start + batch_size], labels[start:start + batch_size])
            for _ in range(epochs) for start in range(0, len(images), batch_size)]


# ------------------------------------------------------------------------ side by side

def keras_digits_run(batches, learning_rate, spec=DIGITS_SPEC):
    """Keras's model trained with train_on_batch on `batches`. Returns {"initial_weights",
    "loss" (one per step), "weights" ([kernel, bias] per layer with weights, at the end)}."""
    weights = training.keras_initial_weights(spec)
    run = training.keras_training(spec, weights, batches, learning_rate)
    run["initial_weights"] = weights
    return run


def your_digits_run(session, initial_weights, batches, learning_rate, spec=DIGITS_SPEC):
    """The same run with the reader's layers and train_step, in the child. Returns
    {"loss": [...], "weights": [[kernel, bias], ...]}."""
    layers, with_weights = training.student_network(session, spec, initial_weights)
    optimizer = session.new("optimizers.SGD", learning_rate)
    losses = [float(session.call("network.train_step", layers, x, labels, optimizer))
              for x, labels in batches]
    return {"loss": losses, "weights": [layer.call("get_weights") for layer in with_weights]}


def weight_drift(yours, keras, names=None):
    """[(name, largest |yours - keras| / max|keras|)] for every weight array; `yours` and
    `keras` are lists of [kernel, bias] per layer with weights (names: one per layer)."""
    rows = []
    names = names or [f"layer {n + 1}" for n in range(len(keras))]
    for name, mine, theirs in zip(names, yours, keras):
        for what, a, b in zip(("kernel", "bias"), mine, theirs):
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            scale = max(float(np.abs(b).max()), 1e-12)
            drift = np.inf if a.shape != b.shape else float(np.abs(a - b).max()) / scale
            rows.append((f"{name} {what} {tuple(b.shape)}", drift))
    return rows


def print_weight_drift(yours, keras, tolerance=SIDE_BY_SIDE_TOLERANCE,
                       names=("Conv2D 1", "Conv2D 2", "Dense")):
    """A table: each weight's largest difference, as a fraction of Keras's largest weight."""
    rows = weight_drift(yours, keras, list(names))
    width = max(len(name) for name, _ in rows)
    for name, drift in rows:
        verdict = "ok" if drift <= tolerance else "TOO FAR"
        print(f"{name:<{width}}  {drift:9.2e}  {verdict}")
    worst = max(drift for _, drift in rows)
    print(f"largest: {worst:.2e} of the weight's scale (allowed {tolerance:g})")
    return worst


def learning_curves_figure(keras_losses, yours=None, steps_per_epoch=None, missing=None,
                           tolerance=SIDE_BY_SIDE_TOLERANCE):
    """Both runs' training loss per step in one plot, and the gap between them."""
    keras_losses = np.asarray(keras_losses, np.float64)
    steps = np.arange(1, len(keras_losses) + 1)
    fig, (ax, gap_ax) = plt.subplots(1, 2, figsize=(11, 3.8),
                                     gridspec_kw={"width_ratios": [3, 2]})
    ax.plot(steps, keras_losses, color="0.2", linewidth=3, label="Keras")
    banner = []
    if yours is not None:
        yours = np.asarray(yours, np.float64)
        ax.plot(steps[:len(yours)], yours, color="white", linewidth=1.2, linestyle="--",
                marker="o", markersize=3, markeredgecolor="0.1", label="yours (convlib)")
        if yours.shape == keras_losses.shape:
            gap = np.abs(yours - keras_losses) / np.maximum(np.abs(keras_losses), 1e-12)
            gap_ax.semilogy(steps, np.maximum(gap, 1e-12), color="0.2", marker=".")
            gap_ax.axhline(tolerance, color="0.5", linestyle=":", label=f"{tolerance:g}")
            gap_ax.legend(loc="upper left", fontsize=9)
            if np.max(gap) > tolerance:
                banner.append(f"Your training loss leaves Keras's: largest relative gap "
                              f"{np.max(gap):.3g} (allowed {tolerance:g})")
        else:
            banner.append(f"Your run has {len(yours)} losses, Keras's {len(keras_losses)}")
    if steps_per_epoch:
        for boundary in range(steps_per_epoch, len(steps), steps_per_epoch):
            ax.axvline(boundary + 0.5, color="0.8", linewidth=1)
    ax.set_xlabel("step (mini-batch)")
    ax.set_ylabel("training loss (cross-entropy + penalties)")
    ax.legend()
    _title(ax, "Keras and convlib, same weights, same batches" if yours is not None
           else "Keras's training loss")
    gap_ax.set_xlabel("step (mini-batch)")
    gap_ax.set_ylabel("|yours - Keras| / Keras")
    _title(gap_ax, "the gap between the two losses")
    if yours is None:
        gap_ax.text(0.5, 0.5, "drawn once your train_step runs", ha="center", va="center",
                    transform=gap_ax.transAxes, color="0.4")
        banner.append(missing or "")
    return _finish(fig, banner=banner, alarm=yours is not None)


def kernels_figure(keras_kernel, yours=None, initial=None, missing=None,
                   tolerance=SIDE_BY_SIDE_TOLERANCE):
    """The (kh, kw, 1, filters) kernels as images, one column per filter: the initial ones
    (when given), Keras's after training, and the reader's under them."""
    rows = [] if initial is None else [("start", np.asarray(initial))]
    rows.append(("Keras", np.asarray(keras_kernel)))
    banner = [missing] if yours is None and missing else []
    if yours is not None:
        rows.append(("yours", np.asarray(yours)))
        drift = weight_drift([[yours]], [[keras_kernel]])[0][1]
        if drift > tolerance:
            banner.append(f"Your first-layer kernels differ from Keras's by {drift:.3g} of "
                          f"their scale (allowed {tolerance:g})")
    filters = rows[-1][1].shape[-1]
    fig, axes = plt.subplots(len(rows), filters, figsize=(1.3 * filters, 1.5 * len(rows) + 0.4),
                             squeeze=False)
    limit = max(float(np.abs(kernel).max()) for _, kernel in rows) or 1.0
    for r, (who, kernel) in enumerate(rows):
        for f in range(filters):
            ax = axes[r, f]
            ax.imshow(kernel[:, :, 0, f], cmap="gray", vmin=-limit, vmax=limit)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{who} {f}", fontsize=9)
    note = f"first-layer kernels, black = {-limit:.2f}, white = {limit:.2f}"
    return _finish(fig, note=note, banner=banner, alarm=yours is not None)


# ---------------------------------------------------------------- learning an edge kernel

def edge_pairs(images):
    """(inputs, targets): the images and Keras's "valid" convolution of them with SOBEL_X
    (the checks' reference convolution, convbook.checks.padding.keras_conv)."""
    targets = keras_conv(np.asarray(images, DTYPE), SOBEL_X[:, :, None, None])
    return np.asarray(images, DTYPE), targets.astype(DTYPE)


def edge_start_kernel(seed=1603):
    """The kernel both learners start from: small random numbers, a fixed seed."""
    return (np.random.default_rng(seed).standard_normal((3, 3, 1, 1)) * 0.1).astype(DTYPE)


def keras_edge_run(inputs, targets, learning_rate, steps):
    """Keras's Conv2D(1, 3, use_bias=False) fitted to the pairs with the mean squared error
    and plain SGD, one full batch per step. Returns (kernel after each step, losses)."""
    keras = oracle.keras()
    model = keras.Sequential([keras.Input(inputs.shape[1:]),
                              keras.layers.Conv2D(1, 3, use_bias=False)])
    model.set_weights([edge_start_kernel()])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse", run_eagerly=True)
    losses = [float(model.train_on_batch(inputs, targets)) for _ in range(steps)]
    return model.get_weights()[0], losses


def your_edge_run(session, inputs, targets, learning_rate, steps):
    """The same fit with the reader's Conv2D and SGD, in the child: the loss mean((y - t)^2)
    has gradient 2 (y - t) / size with respect to y, which goes into layer.backward."""
    layer = session.new("layer.Conv2D", 1, 3, use_bias=False, kernel_initializer="ones")
    layer.call("build", inputs.shape)
    layer.call("set_weights", [edge_start_kernel()])
    optimizer = session.new("optimizers.SGD", learning_rate)
    losses = []
    for _ in range(steps):
        outputs = np.asarray(layer(inputs), np.float32)
        error = outputs - targets
        losses.append(float(np.mean(error ** 2)))
        grads = layer.call("backward", (2 * error / error.size).astype(DTYPE))
        optimizer.call("apply_gradients", layer, grads)
    return layer.call("get_weights")[0], losses


def edge_kernel_figure(keras_kernel, keras_losses, yours=None, your_losses=None,
                       missing=None):
    """The Sobel kernel, Keras's learned kernel, the reader's, and the two loss curves."""
    panels = [("Sobel (the target)", SOBEL_X), ("Keras learned", keras_kernel[:, :, 0, 0])]
    if yours is not None:
        panels.append(("yours learned", np.asarray(yours)[:, :, 0, 0]))
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(3 * (len(panels) + 1) + 1, 3.2))
    for ax, (title, kernel) in zip(axes, panels):
        ax.imshow(kernel, cmap="gray", vmin=-2.2, vmax=2.2)
        for (i, j), value in np.ndenumerate(kernel):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if value < 0 else "black")
        ax.set_xticks(range(3))
        ax.set_yticks(range(3))
        ax.set_xlabel("kernel column")
        ax.set_ylabel("kernel row")
        _title(ax, title)
    curve = axes[-1]
    curve.semilogy(np.arange(1, len(keras_losses) + 1), keras_losses, color="0.2", linewidth=3,
                   label="Keras")
    if your_losses is not None:
        curve.semilogy(np.arange(1, len(your_losses) + 1), your_losses, color="white",
                       linestyle="--", linewidth=1.2, marker="o", markersize=2,
                       markeredgecolor="0.1", label="yours")
    curve.set_xlabel("step")
    curve.set_ylabel("mean squared error")
    curve.legend()
    _title(curve, "fitting the pairs")
    banner = [missing] if yours is None and missing else []
    return _finish(fig, banner=banner, alarm=False)


__all__ = ["DIGITS_SPEC", "SOBEL_X", "SIDE_BY_SIDE_TOLERANCE", "KERAS_ONLY", "digits",
           "ordered_batches", "keras_digits_run", "your_digits_run", "weight_drift",
           "print_weight_drift", "learning_curves_figure", "kernels_figure", "edge_pairs",
           "edge_start_kernel", "keras_edge_run", "your_edge_run", "edge_kernel_figure"]
