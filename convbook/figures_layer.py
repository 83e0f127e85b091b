"""Figures for chapter 14 (the whole layer), in the style of `convbook.figures`: greys,
labelled axes, one idea per figure.

* `pipeline_figure` (no data): the layer's steps, x -> conv -> + bias -> activation -> y,
  with the activity penalty read off y, and each step's convlib piece and chapter.
* `your_convlib_or_a_note`: for cells that print (not draw) your convlib's answers: one line
  saying what to implement instead of an error, while your code is not written yet.
* `feature_maps_figure`: a photograph through a Conv2D with four hand-made filters (two edge
  detectors, a Laplacian, a blur): the input, then each filter's map from Keras's layer and,
  below, from the reader's layer. With `missing=` (the banner `figures.from_your_convlib`
  passes while the reader's layer is not written) it is drawn from Keras's maps alone; when
  the reader's maps differ, a banner gives the largest error (`figures.disagreement`).
"""
import contextlib

import numpy as np
import matplotlib.pyplot as plt

from convbook.figures import GREY, LIGHT, _finish, _title, _what_failed, disagreement
from convbook.harness import StudentError

FILTER_NAMES = ("vertical edges (Sobel x)", "horizontal edges (Sobel y)",
                "Laplacian (spots, corners)", "3x3 blur")


def sample_photo(size=(96, 128)):
    """scikit-learn's sample photograph (a temple in China), shrunk by block averaging to
    about `size` pixels, as float32 RGB in [0, 1], shape (height, width, 3)."""
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg").astype(np.float32) / 255.0
    fh, fw = photo.shape[0] // size[0], photo.shape[1] // size[1]
    photo = photo[:size[0] * fh, :size[1] * fw]
    return photo.reshape(size[0], fh, size[1], fw, 3).mean(axis=(1, 3)).astype(np.float32)


def hand_made_kernel():
    """(3, 3, 3, 4) kernel: each filter applies one 3x3 stencil to the luminance
    (0.299 R + 0.587 G + 0.114 B), so the maps are easy to read."""
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    blur = np.full((3, 3), 1 / 9, np.float32)
    stencils = np.stack([sobel_x, sobel_x.T, laplacian, blur], axis=-1)      # (3, 3, 4)
    luminance = np.array([0.299, 0.587, 0.114], np.float32)
    return (stencils[:, :, None, :] * luminance[None, None, :, None]).astype(np.float32)


def keras_feature_maps(photo, kernel, bias, **arguments):
    """keras.layers.Conv2D(filters, kernel_size, **arguments) with weights (kernel, bias), on
    one photograph (height, width, channels): its output for that image, (h', w', filters)."""
    from convbook import oracle

    keras = oracle.keras()
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], **arguments)
    x = np.asarray(photo, np.float32)[None]
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    return keras.ops.convert_to_numpy(layer(x))[0]


def _show(ax, image, title, alarm=False):
    if image.ndim == 3:
        ax.imshow(np.clip(image, 0, 1))
    else:
        ax.imshow(image, cmap="gray")
    _title(ax, title, alarm)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.tick_params(labelsize=7)


def feature_maps_figure(photo, keras_maps, yours=None, missing=None, names=FILTER_NAMES,
                        layer_text="Conv2D(4, 3, padding=\"same\", activation=\"relu\")"):
    """The photo and each filter's output map: Keras's row, then the reader's (`yours`, the
    same layer's output) below it; `missing`: the banner, Keras's row alone."""
    filters = keras_maps.shape[-1]
    rows = 1 if yours is None else 2
    fig, axes = plt.subplots(rows, filters + 1, figsize=(2.6 * (filters + 1), 2.5 * rows + 0.4),
                             squeeze=False)
    banner = [missing] if missing else []
    problem = None
    if yours is not None:
        yours = np.asarray(yours)
        problem = disagreement(yours, keras_maps, "Conv2D", "on this photograph")
        if problem:
            banner.append(problem)
    _show(axes[0, 0], photo, "input photograph")
    for f in range(filters):
        _show(axes[0, f + 1], keras_maps[..., f], f"Keras: {names[f]}")
    if yours is not None:
        axes[1, 0].axis("off")
        axes[1, 0].text(0.5, 0.5, "your convlib\nConv2D, the same\nweights and input",
                        ha="center", va="center", fontsize=10, color=GREY)
        if yours.shape == keras_maps.shape:
            for f in range(filters):
                _show(axes[1, f + 1], yours[..., f], f"yours: {names[f]}", alarm=bool(problem))
        else:
            for f in range(filters):
                axes[1, f + 1].axis("off")
            axes[1, 1].text(0, 0.5, f"your output has shape {yours.shape}", fontsize=10)
    note = f"{layer_text}: four hand-made filters on the luminance; bright = large output"
    fig.patch.set_facecolor("white")
    axes[0, 0].set_facecolor(LIGHT)
    return _finish(fig, note, banner, alarm=not missing)


def pipeline_figure():
    """The layer's forward pass as boxes and arrows: which piece computes each step."""
    fig, ax = plt.subplots(figsize=(11, 3.0))
    steps = [("x", "input\n(batch, h, w, c)", None),
             ("conv2d", "z = conv(x, kernel)\nstrides, padding,\ndilation, groups", "ch. 00-04"),
             ("add_bias", "z = z + bias[f]\n(channel axis)\nif use_bias", "ch. 05"),
             ("activation", "y = activation(z)\nfloat32", "ch. 05, 14.1"),
             ("y", "output\n(batch, h', w', filters)", None)]
    xs = np.linspace(0.08, 0.92, len(steps))
    for (name, text, chapter), x in zip(steps, xs):
        boxed = chapter is not None
        ax.text(x, 0.62, f"{name}\n{text}", ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.5", "facecolor": LIGHT if boxed else "white",
                      "edgecolor": "black", "linestyle": "-" if boxed else "--"})
        if chapter:
            ax.text(x, 0.22, chapter, ha="center", fontsize=8, color=GREY)
    for a, b in zip(xs[:-1], xs[1:]):
        ax.annotate("", xy=(b - 0.075, 0.62), xytext=(a + 0.075, 0.62),
                    arrowprops={"arrowstyle": "->", "lw": 1.5})
    ax.annotate("activity_penalty(regularizer, y)\n= r(y) / batch  -> layer.losses (ch. 10)",
                xy=(xs[-1], 0.40), xytext=(xs[-2] - 0.02, 0.02), fontsize=8, ha="center",
                arrowprops={"arrowstyle": "<-", "lw": 1.2, "linestyle": "--"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return _finish(fig, "Conv2D.__call__: y = activation(conv(x) + bias); the activity "
                        "penalty sees y, after the activation")


@contextlib.contextmanager
def your_convlib_or_a_note(todo):
    """Run a cell's body that prints the reader's convlib's answers; if the reader's code
    cannot provide them yet (a stub, an exception, an answer the cell cannot print), print one
    line, what failed and `todo`, instead of failing the cell."""
    try:
        yield
    except StudentError as err:
        print(f"Not yet from your convlib: {_what_failed(err)} {todo}")
    except (TypeError, ValueError, IndexError, KeyError) as err:
        problem = " ".join(f"{type(err).__name__}: {err}".split())
        print(f"Not yet from your convlib: your code returned something this cell cannot "
              f"print ({problem}). {todo}")
