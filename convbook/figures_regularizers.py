"""Figures for chapters 08 (kernel_regularizer) and 09 (bias_regularizer), in the style of
`convbook.figures`: greys, dashes and markers rather than colour alone, labelled axes, one
idea per figure.

* `contour_figure` (chapter 08): two weights w = (w1, w2), a quadratic data loss (dashed
  ellipses) and the contours of the L1 penalty (diamonds) and of the L2 penalty (circles);
  the minimum of loss + penalty lands exactly on the w1 axis (w2 = 0) for L1 and off it
  for L2. The penalties are computed by a regularizer (Keras's or the reader's) at every
  grid point, and the minimum is searched for on that grid, then on finer grids around the
  best point (`contour_data`).
* `curves_figure` (chapter 09): the penalty and its derivative along one weight for L1, L2
  and L1L2, the derivative from tf.GradientTape (Keras) or the reader's `gradient`.

Every figure drawn from the reader's data takes Keras's answer for the same input (`keras=`)
and, when they differ, says so in a banner (`convbook.figures.disagreement`); with `missing=`
it is drawn from Keras's answer alone.
"""
import numpy as np
import matplotlib.pyplot as plt

from convbook import oracle
from convbook.figures import GREY, LIGHT, _finish, _title, disagreement

# ------------------------------------------------------------------ chapter 08: contours

# The data loss: 0.5 (w - CENTRE)^T HESSIAN (w - CENTRE), a tilted ellipse with its minimum
# off both axes. With these numbers L1(0.5)'s minimum is on the w1 axis with a clear margin
# (|d loss / d w2| = 0.34 < 0.5 there) and L2(0.3)'s is near (0.95, 0.31).
CENTRE = np.array([1.5, 0.4])
HESSIAN = np.array([[1.0, 0.25], [0.25, 0.6]])
CONTOUR_REGULARIZERS = [("L1", 0.5), ("L2", 0.3)]
# the grid: steps of 0.1 from -1.2 to 2.0, with 0 exactly on it (an axis is a grid line)
GRID = np.arange(-12, 21) / 10.0
ZOOM_STAGES, ZOOM_HALF_WIDTH, ZOOM_FACTOR = 4, 5, 4.0


def data_loss(w1, w2):
    """The quadratic data loss at (w1, w2) (arrays broadcast)."""
    d1, d2 = np.asarray(w1) - CENTRE[0], np.asarray(w2) - CENTRE[1]
    return 0.5 * (HESSIAN[0, 0] * d1 * d1 + 2 * HESSIAN[0, 1] * d1 * d2
                  + HESSIAN[1, 1] * d2 * d2)


def _penalties(regularizer, points):
    """The regularizer called on every 2-vector (float32) of `points`, as floats."""
    values = []
    for point in points:
        value = np.asarray(regularizer(np.asarray(point, np.float32)), dtype=float)
        if value.shape != ():
            raise ValueError(f"a penalty must be one number; got an array of shape "
                             f"{value.shape} for the weights {tuple(point)}")
        values.append(float(value))
    return np.array(values)


def _grid_points(w1, w2):
    W1, W2 = np.meshgrid(w1, w2)
    return W1, W2, np.stack([W1.ravel(), W2.ravel()], axis=1)


def minimise(regularizer, penalty_grid):
    """The lowest point of data_loss + penalty: first on GRID (whose penalties are
    `penalty_grid`), then on finer grids (ZOOM_STAGES of them, each ZOOM_FACTOR times finer,
    11 x 11 points) centred on the best point so far. The grids are symmetric about their
    centre, so a best point on an axis keeps that axis on every finer grid. Returns the point
    and the penalty there."""
    W1, W2, _ = _grid_points(GRID, GRID)
    objective = data_loss(W1, W2) + penalty_grid
    best = np.unravel_index(int(np.argmin(objective)), objective.shape)
    centre = np.array([W1[best], W2[best]])
    penalty = float(penalty_grid[best])
    step = GRID[1] - GRID[0]
    offsets = np.arange(-ZOOM_HALF_WIDTH, ZOOM_HALF_WIDTH + 1)
    for _ in range(ZOOM_STAGES):
        step /= ZOOM_FACTOR
        w1, w2 = centre[0] + step * offsets, centre[1] + step * offsets
        w1[ZOOM_HALF_WIDTH], w2[ZOOM_HALF_WIDTH] = centre          # the centre, exactly
        Z1, Z2, points = _grid_points(w1, w2)
        values = data_loss(Z1, Z2) + _penalties(regularizer, points).reshape(Z1.shape)
        best = np.unravel_index(int(np.argmin(values)), values.shape)
        centre = np.array([Z1[best], Z2[best]])
        penalty = float(values[best] - data_loss(*centre))
    return centre, penalty


def contour_data(make_regularizer):
    """For each (name, factor) of CONTOUR_REGULARIZERS: the penalty on GRID (rows: w2,
    columns: w1) and the minimum of loss + penalty. `make_regularizer(name, factor)` returns a
    callable regularizer (Keras's, or a handle on the reader's in the child process)."""
    _, _, points = _grid_points(GRID, GRID)
    data = {}
    for name, factor in CONTOUR_REGULARIZERS:
        regularizer = make_regularizer(name, factor)
        grid = _penalties(regularizer, points).reshape(GRID.size, GRID.size)
        minimum, penalty_there = minimise(regularizer, grid)
        data[name] = {"penalty": grid, "minimum": minimum, "penalty_at_minimum": penalty_there}
    return data


def keras_contour_data():
    """`contour_data` from keras.regularizers.L1 / L2."""
    keras = oracle.keras()

    def make(name, factor):
        regularizer = getattr(keras.regularizers, name)(factor)
        return lambda x: keras.ops.convert_to_numpy(regularizer(x))

    return contour_data(make)


def _contour_panel(ax, name, factor, entry, who, alarm=False):
    W1, W2 = np.meshgrid(GRID, GRID)
    loss = data_loss(W1, W2)
    ax.axhline(0, color=LIGHT, lw=1, zorder=0)
    ax.axvline(0, color=LIGHT, lw=1, zorder=0)
    ax.contour(W1, W2, loss, levels=[0.05, 0.2, 0.5, 1.0, 1.6], colors=GREY, linestyles="--",
               linewidths=1)
    penalty = np.asarray(entry["penalty"], float)
    top = float(np.max(penalty))
    if top > 0:
        lines = ax.contour(W1, W2, penalty, levels=np.linspace(0, top, 9)[1:-1],
                           colors="black", linewidths=0.8)
        ax.clabel(lines, fontsize=7, fmt="%.2g")
    w1, w2 = entry["minimum"]
    at_minimum = float(data_loss(w1, w2))
    ax.contour(W1, W2, loss, levels=[at_minimum], colors=GREY, linestyles="--", linewidths=2.5)
    if entry["penalty_at_minimum"] > 0:     # the penalty's contour through the minimum
        ax.contour(W1, W2, penalty, levels=[entry["penalty_at_minimum"]], colors="black",
                   linewidths=2.5)
    ax.plot(*CENTRE, "x", color="black", ms=9, mew=2, label="minimum of the loss alone")
    ax.plot(w1, w2, "o", color="black", ms=8, label="minimum of loss + penalty")
    ax.annotate(f"({w1:.3f}, {w2:.3f})", (w1, w2), textcoords="offset points",
                xytext=(-30, -18 if w2 == 0 else 9), fontsize=9, fontweight="bold",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})
    formula = "l1·(|w1| + |w2|)" if name == "L1" else "l2·(w1² + w2²)"
    _title(ax, f"{who}{name}({factor:g}): {formula}" + ("\nyours ≠ Keras" if alarm else ""),
           alarm=alarm)
    ax.set_xlabel("weight w1")
    ax.set_ylabel("weight w2")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower left")


def contour_figure(yours=None, keras=None, missing=None):
    """One panel per regularizer: its penalty's contours (solid), the data loss's (dashed; the
    thick one passes through the minimum of loss + penalty), the loss's own minimum (x) and
    the minimum of loss + penalty (dot, with its coordinates). `yours`, `keras`: from
    `contour_data`. When your penalties disagree with Keras's, a banner, your panels titled
    "yours ≠ Keras" and Keras's panels under them; `missing`: drawn from Keras's alone."""
    banners, bad = [], set()
    if missing:
        yours, banners = keras, [missing]
    elif keras is not None:
        for name, factor in CONTOUR_REGULARIZERS:
            line = disagreement(yours[name]["penalty"], keras[name]["penalty"], f"{name}",
                                f"for {name}({factor:g}) on the grid of (w1, w2)")
            if line:
                banners.append(line)
                bad.add(name)
    rows = [(yours, "Keras: " if missing else "")] + ([(keras, "Keras: ")] if bad else [])
    fig, axes = plt.subplots(len(rows), len(CONTOUR_REGULARIZERS),
                             figsize=(5.4 * len(CONTOUR_REGULARIZERS), 5.2 * len(rows)),
                             squeeze=False)
    for row, (data, who) in enumerate(rows):
        for col, (name, factor) in enumerate(CONTOUR_REGULARIZERS):
            _contour_panel(axes[row, col], name, factor, data[name],
                           who, alarm=row == 0 and name in bad)
    note = ("At the minimum of loss + penalty (dot) a loss contour touches a penalty contour "
            "(both thick).\nL1's diamond touches at a corner, on the w1 axis: w2 is exactly 0. "
            "L2's circle has no corner: w2 is shrunk, not zeroed")
    return _finish(fig, note, banners, alarm=not missing)


# --------------------------------------------------------------- chapter 09: the curves

CURVE_REGULARIZERS = [("L1", {"l1": 0.5}), ("L2", {"l2": 0.25}),
                      ("L1L2", {"l1": 0.5, "l2": 0.25})]
# one weight from -2 to 2 in steps of 0.05, with 0 exactly on it
WEIGHT = (np.arange(-40, 41) / 20.0).astype(np.float32)


def _signature(name, factors):
    return f"{name}({', '.join(f'{k}={v:g}' for k, v in factors.items())})"


def curve_data(make_regularizer):
    """For each entry of CURVE_REGULARIZERS: (penalty, gradient) along one weight w =
    WEIGHT: the penalty of the one-element array [w] for every w, and the derivative on the
    array WEIGHT itself (for these regularizers each element's derivative depends on that
    element alone). `make_regularizer(name, factors)` returns (penalty function, gradient
    function)."""
    data = []
    for name, factors in CURVE_REGULARIZERS:
        penalty_of, gradient_of = make_regularizer(name, factors)
        penalty = _penalties(penalty_of, WEIGHT[:, None])
        gradient = np.asarray(gradient_of(WEIGHT), dtype=float)
        if gradient.shape != WEIGHT.shape:
            raise ValueError(f"the gradient of {_signature(name, factors)} on {WEIGHT.size} "
                             f"weights has shape {gradient.shape}, not {WEIGHT.shape}")
        data.append((penalty, gradient))
    return data


def keras_curve_data():
    """`curve_data` from keras.regularizers, the derivative from tf.GradientTape."""
    from convbook.checks.regularizer_gradients import keras_penalty_gradient

    keras = oracle.keras()

    def make(name, factors):
        regularizer = getattr(keras.regularizers, name)(**factors)
        return (lambda x: keras.ops.convert_to_numpy(regularizer(x)),
                lambda x: keras_penalty_gradient(name, x, **factors))

    return curve_data(make)


def your_curve_data(student):
    """`curve_data` from the reader's regularizers, created and called in the child process
    of `student` (a convbook.harness.StudentSession)."""
    def make(name, factors):
        regularizer = student.new(f"regularizers.{name}", **factors)
        return regularizer, lambda x: regularizer.call("gradient", x)

    return curve_data(make)


def your_contour_data(student):
    """`contour_data` from the reader's L1 and L2, in the child process of `student`."""
    return contour_data(lambda name, factor: student.new(f"regularizers.{name}", factor))


def _plot_gradient(ax, x, g, **style):
    """A derivative with a jump at 0: the two sides as lines, the value at 0 as a dot."""
    x, g = np.asarray(x, float), np.asarray(g, float)
    zero = x == 0
    label = style.pop("label", None)
    for side in (x < 0, x > 0):
        ax.plot(x[side], g[side], label=label, **style)
        label = None
    ax.plot(x[zero], g[zero], "o", color=style.get("color", "black"),
            ms=style.get("ms", 6) + (3 if style.get("lw", 1) > 3 else 0), zorder=5)


def curves_figure(yours=None, keras=None, missing=None):
    """Top row: the penalty of one weight w for L1, L2 and L1L2; bottom row: its derivative,
    with the value at w = 0 as a dot (0 for L1: TensorFlow's sign(0)). Keras's curves thick
    grey, yours black dashes. `missing`: Keras's alone; a panel whose curve disagrees with
    Keras's is titled "yours ≠ Keras" and a banner gives the largest error."""
    banners, bad = [], set()
    if missing:
        banners = [missing]
    elif keras is not None:
        for k, ((name, factors), mine, theirs) in enumerate(zip(CURVE_REGULARIZERS, yours,
                                                                 keras)):
            for part, what in ((0, "penalty"), (1, "gradient")):
                function = f"{name}." + ("__call__" if part == 0 else "gradient")
                line = disagreement(mine[part], theirs[part], function,
                                    f"for {_signature(name, factors)}, the {what} along w")
                if line:
                    banners.append(line)
                    bad.add((k, part))
    fig, axes = plt.subplots(2, len(CURVE_REGULARIZERS), figsize=(4.3 * len(CURVE_REGULARIZERS),
                                                                  7.2), sharex=True)
    x = WEIGHT.astype(float)
    for k, (name, factors) in enumerate(CURVE_REGULARIZERS):
        for part in (0, 1):
            ax = axes[part, k]
            ax.axhline(0, color=LIGHT, lw=1, zorder=0)
            ax.axvline(0, color=LIGHT, lw=1, zorder=0)
            theirs = np.asarray(keras[k][part], float)
            if part == 0:
                ax.plot(x, theirs, color=GREY, lw=5, label="Keras", solid_capstyle="butt")
            else:
                _plot_gradient(ax, x, theirs, color=GREY, lw=5, ms=6,
                               label="Keras (GradientTape)")
            if not missing:
                mine = np.asarray(yours[k][part], float)
                if part == 0:
                    ax.plot(x, mine, "--", color="black", lw=1.5, marker="o", markevery=8,
                            ms=3.5, label="yours")
                else:
                    _plot_gradient(ax, x, mine, linestyle="--", color="black", lw=1.5, ms=4,
                                   label="yours (gradient)")
            who = "Keras: " if missing else ""
            what = "penalty of one weight" if part == 0 else "d penalty / d w"
            alarm = (k, part) in bad
            _title(ax, f"{who}{_signature(name, factors)}\n{what}"
                   + ("  — yours ≠ Keras" if alarm else ""), alarm=alarm)
            ax.set_xlabel("weight w")
            ax.set_ylabel("penalty" if part == 0 else "derivative")
            ax.legend(fontsize=8, loc="upper center" if part == 0 else "upper left")
    note = ("L1 pulls every non-zero weight with the same force l1 (0 at w = 0 exactly); "
            "L2's pull 2·l2·w fades as the weight shrinks")
    return _finish(fig, note, banners, alarm=not missing)
