"""Figures for the chapters, drawn from plain numpy arrays.

The arrays come from the reader's convlib, computed in the child process by
`convbook.harness` (the notebook kernel never imports the reader's convlib); these helpers
only draw, except the `keras_*` ones, which compute Keras's answers in the kernel.
Conventions: one idea per figure, labelled axes, greys, hatching and markers rather than
colour alone, so a figure still reads when printed in black and white.

A figure never misleads. Every figure drawn from the reader's data takes Keras's answer for
the same input (`keras=`, computed in the kernel by the `keras_*` helpers below with the
checks' own oracles). When the two agree the figure is drawn as it always was; when they
do not (`disagreement`), a boxed red banner says so with the largest error, the reader's
panels get neutral, boxed titles ("yours: ... ≠ Keras") instead of the claims the figure
makes, and Keras's answer is drawn beside them in panels titled "Keras".

A figure is there on first reading. Until the reader's function works (a stub, an exception,
an answer the figure cannot draw), `from_your_convlib` prints one line saying what to
implement and draws the figure from Keras's answer alone (`missing=`): the panels that show
an answer are titled "Keras: ...", under a boxed banner "Drawn from Keras's answer — your
correlate2d is not written yet (exercise 0.1): ...". Keras's data is computed in the kernel
before the reader's code runs, so this figure never depends on it.
"""
import contextlib
import re
import textwrap

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from convbook import oracle
from convbook.harness import StudentError

GREY = "0.55"
LIGHT = "0.88"
ALARM = "#b00000"      # dark red: near-black in greyscale, where the box and the bold carry it
# The checks' tolerance (convbook.checking.compare): per element, |yours - keras| <=
# ATOL_FRACTION * max(1, max|keras|) + RTOL * |keras|; integers must match exactly.
RTOL, ATOL_FRACTION = 5e-4, 1e-5


KERAS_ONLY = "Drawn from Keras's answer"
SEE_YOURS = "re-run this cell to see yours beside it"


@contextlib.contextmanager
def from_your_convlib(todo, keras_figure=None):
    """Run a figure cell's body (the reader's code, through the harness, and the figure drawn
    from it). If the reader's convlib cannot provide the data yet (a stub, an exception, an
    answer this figure cannot draw), print one line, why and `todo`, instead of failing the
    cell, and draw `keras_figure(missing=...)`: the figure from Keras's answer alone,
    `missing` being the banner line that says so and why yours is not drawn.

        keras_out = figures.keras_correlate2d(image, kernel)     # before the reader's code
        with figures.from_your_convlib(
                "Implement correlate2d (exercise 0.1), then re-run this cell.",
                keras_figure=lambda missing: figures.window_figure(
                    image[:, :, 0], kernel[:, :, 0], keras=keras_out, missing=missing)):
            out = call_student("correlate.correlate2d", image, kernel)
            figures.window_figure(image[:, :, 0], kernel[:, :, 0], out, keras=keras_out)
    """
    try:
        yield
    except StudentError as err:
        plt.close("all")
        print(f"No figure yet from your convlib: {_what_failed(err)} {todo}")
        missing = _why_missing(err, todo)
    except (TypeError, ValueError, IndexError, KeyError) as err:
        plt.close("all")
        problem = " ".join(f"{type(err).__name__}: {err}".split())
        print(f"No figure yet from your convlib: your functions returned something this "
              f"figure cannot draw ({problem}); the checks below say what. {todo}")
        missing = (f"{KERAS_ONLY} — your code returned something this figure cannot draw "
                   f"(the note above says what): fix it and {SEE_YOURS}")
    else:
        return
    if keras_figure is not None:
        keras_figure(missing=missing)


def _first_line(text):
    return " ".join(str(text).strip().splitlines()[0].split()) if str(text).strip() else ""


def _what_failed(err):
    """The harness's message on one line, without the "(it still raises
    NotImplementedError). Open ... and write it." of a stub: the cell's todo says that."""
    text = _first_line(err)
    if err.kind == "not_implemented":
        text = re.sub(r" \(it still raises NotImplementedError\)\..*$", ".", text)
    return text if text.endswith((".", ")")) else text + "."


def _function_name(err):
    """The reader's function that failed: the stub that raised, else the one called."""
    found = re.search(r"`([\w.]+)`,? (?:which )?is not implemented yet", str(err))
    target = found.group(1) if found else (err.target or "")
    parts = target.split(".")
    if len(parts) >= 2 and parts[-2][:1].isupper():  # a method: keep its class, L2.__call__
        return ".".join(parts[-2:])
    return parts[-1] or "convlib"


def _why_missing(err, todo):
    """The banner of the figure drawn from Keras's answer alone: why yours is not there."""
    name = _function_name(err)
    if err.kind == "not_implemented":
        found = re.search(r"exercises? \d+(?:\.\d+)?(?:(?:,| and| to) \d+(?:\.\d+)?)*", todo)
        exercise = f" ({found.group(0)})" if found else ""
        names_functions = re.search(r"Implement (?!exercises?\b)\w", todo)
        if names_functions and name.rsplit(".", 1)[0] not in todo:
            exercise = " (an exercise this one builds on)"  # not one this figure names
        return (f"{KERAS_ONLY} — your {name} is not written yet{exercise}: implement it and "
                f"{SEE_YOURS}")
    if err.kind == "exception" and err.exc_type:
        return f"{KERAS_ONLY} — your {name} raised {err.exc_type}: fix it and {SEE_YOURS}"
    return (f"{KERAS_ONLY} — your {name} could not run (the note above says why): fix it and "
            f"{SEE_YOURS}")


# ------------------------------------------------------------------ yours against Keras's

def _numbers(value):
    """`value` as a numeric array, or None when it is not numbers (None, text, ragged)."""
    if value is None or isinstance(value, str):
        return None
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None
    return arr if arr.dtype.kind in "biuf" else None


def _describe(value):
    arr = _numbers(value)
    if arr is not None:
        return f"an array of shape {tuple(arr.shape)}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _compare(yours, keras):
    """None when `yours` is Keras's answer within the checks' tolerance; else (the largest
    error, what differs), the error being inf for an answer of the wrong type or shape."""
    expected = np.asarray(keras)
    actual = _numbers(yours)
    if actual is None:
        return np.inf, f"you returned {_describe(yours)}, Keras {_describe(expected)}"
    if actual.shape != expected.shape:
        return np.inf, (f"your answer has shape {tuple(actual.shape)}, Keras's has shape "
                        f"{tuple(expected.shape)}")
    mine, theirs = actual.astype(float), expected.astype(float)
    if expected.dtype.kind in "biu":
        allowed = 0.0                                       # integers: exactly
    else:
        scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
        allowed = ATOL_FRACTION * max(1.0, scale) + RTOL * np.abs(theirs)
    with np.errstate(invalid="ignore"):
        error = np.nan_to_num(np.abs(mine - theirs), nan=np.inf)
    error = np.where(error > allowed, error, 0.0)
    if not np.any(error):
        return None
    index = np.unravel_index(int(np.argmax(error)), error.shape)
    worst = float(error[index])
    if actual.ndim == 1 and actual.size <= 4:      # a pair of amounts: show both whole
        return worst, (f"largest error {worst:.3g}: yours {_tuple(mine)}, Keras "
                       f"{_tuple(theirs)}")
    at = f" at ({', '.join(str(int(i)) for i in index)})" if index else ""
    return worst, (f"largest error {worst:.3g}{at}: yours {mine[index]:g}, Keras "
                   f"{theirs[index]:g}")


def _tuple(values):
    return "(" + ', '.join(f"{v:g}" for v in values) + ")"


def _sentence(function, where, detail):
    place = f", {where}" if where else ""
    return f"Your {function} disagrees with Keras on this figure's input{place}: {detail}"


def disagreement(yours, keras, function="code", where=None):
    """None when `yours` (what the reader's code returned for this figure's input) is
    `keras` (Keras's answer for the same input) within the checks' tolerance; else the
    figure's banner line, e.g. "Your correlate2d disagrees with Keras on this figure's input:
    largest error 3 at (2, 3): yours 0, Keras 3", or the two shapes when they differ.
    `where` names the part of the input ("for n=5, kernel_size=4, ...")."""
    found = _compare(yours, keras)
    return None if found is None else _sentence(function, where, found[1])


def _worst(function, items, noun):
    """items: {key: (where, yours, keras)}. Returns the banner line for the largest
    disagreement (None when all agree) and the keys of the items that disagree."""
    found = {key: (where, _compare(yours, keras)) for key, (where, yours, keras) in items.items()}
    bad = {key: (where, result) for key, (where, result) in found.items() if result is not None}
    if not bad:
        return None, set()
    where, (_, detail) = max(bad.values(), key=lambda item: item[1][0])
    line = _sentence(function, where, detail)
    if len(bad) > 1:
        line += f" ({len(bad)} of {len(items)} {noun} disagree)"
    return line, set(bad)


def _title(ax, text, alarm=False):
    """A panel title; `alarm`: the reader's panel that disagrees with Keras, in a dashed box
    (which survives greyscale), bold and red."""
    if alarm:
        ax.set_title(text, fontsize=10, color=ALARM, fontweight="bold",
                     bbox={"boxstyle": "square,pad=0.3", "facecolor": "white",
                           "edgecolor": ALARM, "linewidth": 1.5, "linestyle": "--"})
    else:
        ax.set_title(text, fontsize=10)


def _wrap(text, width):
    """Lines of at most `width` characters, never broken inside parentheses: "(2, 1)"."""
    keep = re.sub(r"\([^()]*\)", lambda m: m.group(0).replace(" ", "\u00a0"), text)
    return textwrap.fill(keep, width, break_on_hyphens=False).replace("\u00a0", " ")


def _finish(fig, note=None, banner=(), alarm=True):
    """Lay the figure out. Without banner lines: `note` as the suptitle, then tight_layout,
    as every figure always did. With banner lines: the panels are laid out the same way,
    then the figure grows at the top to make room for the banner (the suptitle: bold, in a
    box; red for a disagreement (`alarm`), black on light grey for a figure drawn from
    Keras's answer alone) and, under it, the note in black."""
    banner = [line for line in banner if line]
    if not banner:
        if note:
            fig.suptitle(note, fontsize=11)
        fig.tight_layout()
        return fig
    if alarm:
        # in words as well, under the cell: searchable, read by a screen reader, and there
        # even when the image is not looked at
        print("\n".join(f"⚠ {line}" for line in banner))
    fig.tight_layout()
    width, old = fig.get_figwidth(), fig.get_figheight()
    text = "\n".join(_wrap(line, max(40, int(width * 8.5))) for line in banner)
    note = _wrap(note, max(40, int(width * 10.5))) if note else ""
    per_point = 1.3 / 72                        # inches of line height per point of font size
    margin = 0.15
    banner_in = (text.count("\n") + 1) * 12 * per_point + 0.3      # with the box's padding
    note_in = (note.count("\n") + 1) * 11 * per_point + 0.15 if note else 0.0
    height = old + margin + banner_in + note_in
    fig.set_figheight(height)
    for ax in fig.axes:                         # the panels keep their size and place
        box = ax.get_position(original=True)
        ax.set_position([box.x0, box.y0 * old / height, box.width, box.height * old / height])
    colour, face = (ALARM, "white") if alarm else ("black", LIGHT)
    fig.suptitle(text, y=1 - (margin + 0.1) / height, va="top", fontsize=12, fontweight="bold",
                 color=colour, bbox={"boxstyle": "square,pad=0.5", "facecolor": face,
                                     "edgecolor": colour, "linewidth": 2.5})
    if note:
        fig.text(0.5, 1 - (margin + banner_in + 0.05) / height, note, ha="center", va="top",
                 fontsize=11)
    return fig


# ------------------------------------------------------------------------------ drawing

def _show_grid(ax, values, title, annotate=True, vmax=None, alarm=False):
    """A small 2-D array as a grid of grey cells (darker = larger), numbers written in."""
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    limit = vmax if vmax is not None else (float(finite.max()) if finite.size else 0.0) or 1.0
    vmin = -limit if np.any(values < 0) else 0.0
    ax.imshow(values, cmap="gray_r", vmin=vmin, vmax=limit)
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            dark = (v - vmin) / (limit - vmin) > 0.6
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    _title(ax, title, alarm)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.tick_params(labelsize=8)
    ax.set_aspect("equal")


def _cannot_draw(ax, values, title, alarm):
    """In place of a reader's answer that is not a 2-D array of numbers: what it is."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"nothing to draw:\nyou returned\n{_describe(values)}", ha="center",
            va="center", transform=ax.transAxes, fontsize=10,
            bbox={"boxstyle": "square,pad=0.6", "facecolor": LIGHT, "edgecolor": "black",
                  "linestyle": "--"})
    _title(ax, title, alarm)


def _drawable(values):
    arr = _numbers(values)
    return arr is not None and arr.ndim == 2 and arr.size > 0


def _show_answer(ax, values, title, alarm=False, **grid):
    """The reader's answer as a grid, or (not a 2-D array of numbers) a note of what it is.
    True when drawn as a grid."""
    if _drawable(values):
        _show_grid(ax, values, title, alarm=alarm, **grid)
        return True
    _cannot_draw(ax, values, title, alarm)
    return False


def _outline(ax, top, left, height, width, **style):
    style = {"fill": False, "linewidth": 3, "edgecolor": "black", **style}
    limits = ax.get_xlim(), ax.get_ylim()
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])


def window_figure(image, kernel, output=None, at=(1, 2), keras=None, missing=None):
    """One output pixel of a valid, stride-1 cross-correlation: the window it comes from.

    image: (H, W); kernel: (kh, kw); output: (H-kh+1, W-kw+1), all 2-D (one channel).
    keras: Keras's output for the same image and kernel (`keras_correlate2d`). When `output`
    disagrees with it: a banner, your output titled "≠ Keras", Keras's output beside it, and
    the sum written with Keras's value.
    missing: why your output is not drawn (the banner line `from_your_convlib` passes); the
    figure is then drawn from `keras` alone, its output titled "Keras: output ...".
    """
    image, kernel = (np.asarray(a, dtype=float) for a in (image, kernel))
    i, j = at
    kh, kw = kernel.shape
    window = image[i:i + kh, j:j + kw]
    terms = " + ".join(f"{w:g}·{k:g}" if k >= 0 else f"{w:g}·({k:g})"
                       for w, k in zip(window.ravel()[:3], kernel.ravel()[:3]))
    equation = f"out[{i}, {j}] = sum(dashed window × kernel) = {terms} + … = "
    if missing:
        output = keras
    banner = None if keras is None or missing else disagreement(output, keras, "correlate2d")
    if banner is None:
        output = np.asarray(output, dtype=float)
        who = "Keras: " if missing else ""
        fig, axes = plt.subplots(1, 3, figsize=(12, 4.2),
                                 gridspec_kw={"width_ratios": [image.shape[1], kw + 2,
                                                               output.shape[1] + 1]})
        _show_grid(axes[0], image, f"input image {image.shape}")
        _outline(axes[0], i, j, kh, kw, linestyle="--")
        _show_grid(axes[1], kernel, f"kernel {kernel.shape}")
        _show_grid(axes[2], output, f"{who}output {output.shape}")
        _outline(axes[2], i, j, 1, 1)
        return _finish(fig, f"{who}{equation}{output[i, j]:g}", [missing], alarm=False)

    keras = np.asarray(keras, dtype=float)
    drawable = _drawable(output)
    yours = np.asarray(output, dtype=float) if drawable else None
    fig, axes = plt.subplots(1, 4, figsize=(15.5, 4.2), gridspec_kw={"width_ratios": [
        image.shape[1], kw + 2, (yours if drawable else keras).shape[1] + 1, keras.shape[1] + 1]})
    _show_grid(axes[0], image, f"input image {image.shape}")
    _outline(axes[0], i, j, kh, kw, linestyle="--")
    _show_grid(axes[1], kernel, f"kernel {kernel.shape}")
    shape = f" {yours.shape}" if drawable else ""
    _show_answer(axes[2], output, f"your output{shape} ≠ Keras", alarm=True)
    has_ij = drawable and i < yours.shape[0] and j < yours.shape[1]
    if has_ij:
        _outline(axes[2], i, j, 1, 1)
    _show_grid(axes[3], keras, f"Keras: output {keras.shape}")
    _outline(axes[3], i, j, 1, 1)
    yours_there = f"; yours has {yours[i, j]:g} there" if has_ij else ""
    return _finish(fig, f"Keras: {equation}{keras[i, j]:g}{yours_there}", [banner])


def stamp_figure(image, kernel, correlated=None, convolved=None, keras=None, missing=None):
    """Cross-correlation vs convolution on an image of isolated bright pixels: each bright
    pixel is replaced by a copy of the kernel, upside-down for the correlation.

    correlated, convolved: your correlate2d of the image with the kernel, and with the
    kernel flipped. keras: Keras's (correlated, convolved) for the same image
    (`keras_correlate2d` of the kernel and of the kernel flipped). When yours disagree: a
    banner, your panels titled by what they are (your correlate2d of ...) rather than by
    what they should show, and Keras's two panels, titled "Keras: ...", under them.
    missing: why yours are not drawn (the banner line `from_your_convlib` passes); the figure
    is then drawn from `keras` alone, its two panels titled "Keras: ...".
    """
    note = ("Around every bright pixel the cross-correlation draws the kernel rotated by 180°; "
            "the convolution draws it upright")
    who = ""
    if missing:
        (correlated, convolved), who = keras, "Keras: "
    banner, bad = None, set()
    if keras is not None and not missing:
        banner, bad = _worst("correlate2d", {
            0: ("with the kernel", correlated, keras[0]),
            1: ("with the kernel flipped", convolved, keras[1])}, "panels")
    if banner is None:
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.9),
                                 gridspec_kw={"width_ratios": [4, 1.6, 4, 4]})
        _show_grid(axes[0], image, "input: isolated bright pixels", annotate=False)
        _show_grid(axes[1], kernel, f"kernel {np.shape(kernel)}")
        _show_grid(axes[2], correlated, f"{who}Conv2D (cross-correlation)", annotate=False)
        _show_grid(axes[3], convolved, f"{who}true convolution (kernel flipped)",
                   annotate=False)
        return _finish(fig, note, [missing], alarm=False)

    fig, axes = plt.subplots(2, 4, figsize=(14, 7.6), gridspec_kw={"width_ratios": [4, 1.6, 4, 4]})
    _show_grid(axes[0, 0], image, "input: isolated bright pixels", annotate=False)
    _show_grid(axes[0, 1], kernel, f"kernel {np.shape(kernel)}")
    for column, (what, yours) in enumerate([("kernel", correlated),
                                            ("kernel flipped", convolved)]):
        differs = column in bad
        _show_answer(axes[0, column + 2], yours, f"yours: correlate2d(input, {what})"
                     + ("\n≠ Keras" if differs else ""), alarm=differs, annotate=False)
    _show_grid(axes[1, 2], keras[0], "Keras: Conv2D (cross-correlation)", annotate=False)
    _show_grid(axes[1, 3], keras[1], "Keras: true convolution (kernel flipped)", annotate=False)
    for ax in axes[1, :2]:
        ax.set_visible(False)
    return _finish(fig, f"Keras, bottom row: {note[0].lower()}{note[1:]}", [banner])


def _show_image(ax, values, title, alarm=False):
    """A greyscale image whose grey scale stops at its 99th percentile."""
    values = np.asarray(values, dtype=float)
    ax.imshow(values, cmap="gray", vmin=float(values.min()),
              vmax=float(np.percentile(values, 99)))
    _title(ax, title, alarm)
    ax.set_xlabel("column")
    ax.set_ylabel("row")


def images_figure(panels, suptitle=None, keras=None, function="code", missing=None):
    """Side-by-side greyscale images: panels is a list of (title, 2-D array). The grey scale
    of each panel stops at its 99th percentile, so that a few very bright pixels do not
    leave the rest of the image black.

    keras: one entry per panel, Keras's array for a panel drawn from your `function` and None
    for the others (e.g. the input). When one disagrees: a banner, your panels titled
    "yours: ...", and a second row with Keras's arrays, titled "Keras: ...".
    missing: why yours are not drawn (the banner line `from_your_convlib` passes); the panels
    with a Keras array then draw it, titled "Keras: ..." (their own arrays may be None).
    """
    if missing:
        panels = [(title, values) if theirs is None else (f"Keras: {title}", theirs)
                  for (title, values), theirs in zip(panels, keras)]
    banner, bad = None, set()
    if keras is not None and not missing:
        banner, bad = _worst(function, {
            k: (f"for {title!r}", values, theirs) for k, ((title, values), theirs)
            in enumerate(zip(panels, keras)) if theirs is not None}, "panels")
    if banner is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4))
        for ax, (title, values) in zip(np.atleast_1d(axes), panels):
            _show_image(ax, values, title)
        return _finish(fig, suptitle, [missing], alarm=False)

    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 8.6), squeeze=False)
    for k, ((title, values), theirs) in enumerate(zip(panels, keras)):
        if theirs is None:
            _show_image(axes[0, k], values, title)
            axes[1, k].set_visible(False)
            continue
        label = f"yours: {title}" + (" ≠ Keras" if k in bad else "")
        if _drawable(values):
            _show_image(axes[0, k], values, label, alarm=k in bad)
        else:
            _cannot_draw(axes[0, k], values, label, alarm=True)
        _show_image(axes[1, k], theirs, f"Keras: {title}")
    return _finish(fig, suptitle, [banner])


def _setting(case):
    return (f"n={case['n']}, kernel_size={case['k']}, strides={case['s']}, "
            f"dilation_rate={case['d']}")


def _draw_windows(ax, case, prefix="", alarm=False):
    """One axis of padding="same": the padded line (its zeros hatched) and, above it, the
    taps of every window: filled dots on pixels, open dots on zeros, crosses off the line."""
    n, k, s, d = case["n"], case["k"], case["s"], case["d"]
    out = -(-n // s)
    before, after = (int(v) for v in case["amounts"])
    padded = np.asarray(case["padded"], dtype=float)
    for p, v in enumerate(padded):
        x = p - before
        is_pad = v == 0
        ax.add_patch(Rectangle((x - 0.5, -0.5), 1, 1, facecolor="white" if is_pad else LIGHT,
                               edgecolor="black", hatch="///" if is_pad else None, lw=1))
        ax.text(x, 0, f"{v:g}", ha="center", va="center", fontsize=9,
                backgroundcolor="white" if is_pad else LIGHT)
    end = len(padded) - before                 # one past the line's last position
    windows = [np.array([w * s - before + a * d for a in range(k)]) for w in range(out)]
    left = min([-before] + [int(t[0]) for t in windows])
    right = max([end] + [int(t[-1]) + 1 for t in windows])
    for w, taps in enumerate(windows):
        y = 1.2 + w
        on_line = (taps >= -before) & (taps < end)
        values = np.zeros(k)
        values[on_line] = padded[taps[on_line] + before]
        on_pixel = on_line & (values != 0)
        on_zero = on_line & (values == 0)
        ax.plot([taps[0], taps[-1]], [y, y], color=GREY, lw=1, zorder=1)
        ax.plot(taps[on_pixel], [y] * int(on_pixel.sum()), "o", color="black", ms=6)
        ax.plot(taps[on_zero], [y] * int(on_zero.sum()), "o", mfc="white", mec="black", ms=6)
        if not on_line.all():
            ax.plot(taps[~on_line], [y] * int((~on_line).sum()), "x", color=ALARM, ms=7, mew=2)
        ax.text(left - 0.8, y, f"window {w}", ha="right", va="center", fontsize=8)
    ax.set_xlim(left - 2.6, right - 0.4)
    ax.set_ylim(-0.7, out + 0.9)
    ax.set_xticks(range(left, right))
    ax.set_yticks([])
    ax.set_xlabel("pixel index (hatched: the zeros of the padding)", fontsize=9)
    _title(ax, f"{prefix}{_setting(case)}:   out={out}, P={before + after}, (before, after) = "
               f"({before}, {after})", alarm)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def same_windows_figure(cases=None, keras=None, missing=None):
    """padding="same" along one axis, one panel per case.

    Each case is a dict with n, k, s, d (input length, kernel taps, stride, dilation),
    `amounts` = (before, after) and `padded`: the padded line (the pixels numbered 1..n, the
    pads 0). Draws the padded line (pads hatched) and, above it, the taps of every window:
    filled dots on pixels, open dots on padding.

    keras: Keras's cases for the same settings (`keras_same_windows`). A case whose amounts
    disagree with Keras's (or, with the right amounts, whose padded line does) is titled
    "yours ≠ Keras: ..." with Keras's case drawn under it, and a banner says so.
    missing: why yours are not drawn (the banner line `from_your_convlib` passes); Keras's
    cases are then drawn alone, titled "Keras: ...".
    """
    banners, bad = [], set()
    if missing:
        cases, banners = keras, [missing]
    elif keras is not None:
        amounts, bad = _worst("same_padding_amounts", {
            i: (f"for {_setting(c)}", c["amounts"], theirs["amounts"])
            for i, (c, theirs) in enumerate(zip(cases, keras))}, "settings")
        lines, bad_lines = _worst("pad_spatial", {
            i: (f"for {_setting(c)}", c["padded"], theirs["padded"])
            for i, (c, theirs) in enumerate(zip(cases, keras)) if i not in bad}, "settings")
        banners, bad = [amounts, lines], bad | bad_lines
    rows = []                                   # (case, prefix, alarm)
    for i, c in enumerate(cases):
        rows.append((c, "Keras: " if missing else "yours ≠ Keras: " if i in bad else "",
                     i in bad))
        if i in bad:
            rows.append((keras[i], "Keras: ", False))
    outs = [-(-c["n"] // c["s"]) for c, _, _ in rows]
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 0.9 * len(rows) + 0.33 * sum(outs)),
                             gridspec_kw={"height_ratios": [o + 2.5 for o in outs]},
                             squeeze=False)
    for ax, (c, prefix, alarm) in zip(axes[:, 0], rows):
        _draw_windows(ax, c, prefix, alarm)
    return _finish(fig, None, banners, alarm=not missing)


def _draw_sweep(ax, lengths, amounts, title, alarm=False, wrong=()):
    amounts = np.asarray(amounts)
    ax.bar(lengths, amounts[:, 0], color=GREY, edgecolor="black", label="before (top/left)")
    ax.bar(lengths, amounts[:, 1], bottom=amounts[:, 0], color="white", edgecolor="black",
           hatch="///", label="after (bottom/right)")
    for index in wrong:                         # the lengths where you disagree with Keras
        ax.text(lengths[index], amounts[index].sum() + 0.1, "≠", ha="center", va="bottom",
                color=ALARM, fontweight="bold", fontsize=12)
    _title(ax, title, alarm)
    ax.set_xlabel("input length n")
    ax.set_xticks(lengths[::2])


def padding_sweep_figure(lengths, amounts_by_label, kernel_size, keras=None, missing=None):
    """(before, after) against the input length, one panel per stride/dilation setting.

    amounts_by_label: {"strides=2": [(before, after) for n in lengths], ...}.
    keras: Keras's amounts, the same dict (`keras_padding_sweep`). When yours disagree: a
    banner, one row per setting, yours (each wrong length marked ≠) beside Keras's.
    missing: why yours are not drawn (the banner line `from_your_convlib` passes); Keras's
    amounts are then drawn alone (`amounts_by_label` may be None), titled "Keras: ...".
    """
    who = ""
    if missing:
        amounts_by_label, who = keras, "Keras: "
    labels = list(amounts_by_label)
    lengths = np.asarray(lengths)
    banner, bad = None, set()
    if keras is not None and not missing:
        banner, bad = _worst("same_padding_amounts", {
            (label, index): (f"for kernel_size={kernel_size}, {label}, n={n}",
                             amounts_by_label[label][index], keras[label][index])
            for label in labels for index, n in enumerate(lengths)}, "amounts")
    if banner is None:
        columns = 2 if len(labels) > 1 else 1
        rows = -(-len(labels) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.2 * rows),
                                 sharey=True, squeeze=False)
        for ax in axes.ravel()[len(labels):]:
            ax.set_visible(False)
        for ax, label in zip(axes.ravel(), labels):
            _draw_sweep(ax, lengths, amounts_by_label[label],
                        f"{who}kernel_size={kernel_size}, {label}")
    else:
        fig, axes = plt.subplots(len(labels), 2, figsize=(10.4, 3.2 * len(labels)),
                                 sharey=True, squeeze=False)
        for (yours, theirs), label in zip(axes, labels):
            wrong = sorted(index for key, index in bad if key == label)
            _draw_sweep(yours, lengths, amounts_by_label[label],
                        f"yours: kernel_size={kernel_size}, {label}"
                        + (" ≠ Keras" if wrong else ""), alarm=bool(wrong), wrong=wrong)
            _draw_sweep(theirs, lengths, keras[label], f"Keras: kernel_size={kernel_size}, {label}")
    for ax in axes[:, 0]:
        ax.set_ylabel("zeros added")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    return _finish(fig, None, [missing or banner], alarm=not missing)


# ------------------------------------------------- Keras's answers, for the `keras=` argument
# Computed in the notebook kernel with the checks' own oracles (Keras, never the reader's
# code); imported when first used, so that drawing alone does not load TensorFlow.

def keras_correlate2d(image, kernel):
    """What correlate2d(image, kernel) should return, from Keras: keras.ops.conv with
    padding="valid" and stride 1 (the reference of check 0.1). image: (H, W, C); kernel:
    (kh, kw, C), one filter. Returns (H - kh + 1, W - kw + 1)."""
    from convbook.checks import basics

    x = np.asarray(image, dtype=np.float32)[None]
    k = np.asarray(kernel, dtype=np.float32)[..., None]
    return basics._keras_valid(x, k)[0, :, :, 0]


def keras_same_windows(settings):
    """Keras's cases for `same_windows_figure`, one per (n, k, s, d): the amounts of Keras's
    own "same" padding (`padding.keras_same_padding`) and the pixels numbered 1..n padded
    with them by ZeroPadding2D (`padding.keras_zero_padding`)."""
    from convbook.checks import padding

    oracle.keras()          # Keras imported quietly before padding's oracle reaches into it
    cases = []
    for n, k, s, d in settings:
        amounts = padding.keras_same_padding(n, k, s, d)
        numbered = np.arange(1, n + 1, dtype=np.float32).reshape(1, n, 1, 1)
        padded = padding.keras_zero_padding(numbered, (amounts, (0, 0)), "channels_last")
        cases.append(dict(n=n, k=k, s=s, d=d, amounts=amounts, padded=padded[0, :, 0, 0]))
    return cases


def keras_padding_sweep(lengths, settings, kernel_size):
    """Keras's amounts for `padding_sweep_figure`: {label: [(before, after) for n in
    lengths]} for settings {label: (stride, dilation_rate)}."""
    from convbook.checks import padding

    oracle.keras()          # Keras imported quietly before padding's oracle reaches into it
    return {label: [padding.keras_same_padding(n, kernel_size, s, d) for n in lengths]
            for label, (s, d) in settings.items()}
