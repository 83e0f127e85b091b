"""Checks for chapter 16, training: `network.train_step(layers, x, labels, optimizer)`, one
step of plain SGD through a small network (Conv2D layers, then the given head), against
Keras's `model.train_on_batch` on the same network from the same weights.

The network is described by a `spec` (plain data, so that both sides can build it):
    {"input_shape": (h, w, c), "classes": k, "head": "gap" | "flatten",
     "convs": [{"filters", "kernel_size", "strides", "padding", "groups", "activation",
                "kernel_regularizer", "activity_regularizer", "kernel_constraint"}, ...],
     "dense_regularizer": None | (name, config)}
Regularizers are (name, config) pairs of keras.regularizers; the only constraint used is the
given `optimizers.ClipWeights` (an elementwise clip, `keras.ops.clip` on the Keras side), so
a case never depends on chapter 11's constraints.

Expected values: Keras builds the model (weights drawn by its initializers from a fixed
seed), compiles it with `keras.optimizers.SGD(learning_rate)` and
`SparseCategoricalCrossentropy(from_logits=True)` and runs `train_on_batch` on each batch;
`train_on_batch` returns the loss of the weights before the step, penalties included (model.
losses: activity penalties divided by the batch size, then kernel and bias penalties). The
reader's layers are built in the child with Keras's initial weights (`set_weights`), and the
reader's `train_step` is called on the same batches in the same order.

The answers the misconceptions give are computed the same way, by Keras with one thing
changed: the cross-entropy summed over the batch (reduction="sum"), the constraint left out,
the penalties left out of the returned loss, or the penalties of the updated weights in it.

The first case has no layer at all (`train_step([], logits, labels, optimizer)`: the loss
alone), so an unfinished train_step is reported before anything else of the reader's runs.
When the steps disagree with Keras, the reader's Conv2D (forward, chapter 14; backward with
an L2 penalty, chapter 15) and sgd_step (chapter 12) are tried on a small case of their own; if
one of them disagrees, the feedback names it instead of a misconception of train_step (that
mistake is explained by its own chapter's check). Updating each layer as soon as its own
gradients are known is accepted: every layer's backward has already run by then, so it
gives the same weights (tests/test_checks_training.py shows it). Nothing is random at the
reader's end: no statistical test.
"""
import numpy as np

from convbook import checking, oracle
from convbook.checks import (ATOL_FRACTION, RTOL, Misconception, Outcome, StudentError, case_rng,
                             check, compare_outcomes, student_call, student_session)

DTYPE = np.float32

SUMMED_OVER_BATCH = Misconception(
    "training.summed_over_batch",
    "Your loss (and its gradient) is the SUM of the examples' cross-entropies: Keras's "
    "SparseCategoricalCrossentropy averages over the batch (reduction "
    "\"sum_over_batch_size\"), so the gradient leaving the loss is divided by the batch size.")
PENALTIES_FORGOTTEN = Misconception(
    "training.penalties_forgotten",
    "Your returned loss leaves out the layers' penalties: Keras's training loss is the "
    "cross-entropy PLUS the sum of every layer's `losses` (regularizers).")
LOSS_AFTER_UPDATE = Misconception(
    "training.loss_after_update",
    "Your loss holds the penalties of the UPDATED weights: you read `layer.losses` after the "
    "optimizer had changed the weights. The step's loss is that of the weights its gradients "
    "were computed at: compute the whole loss and every gradient first, then update.")
CONSTRAINT_IGNORED = Misconception(
    "training.constraint_ignored",
    "Your step ignores the layers' constraints (did you update the weights yourself?): "
    "Keras's optimizer projects each weight with its constraint right after the update; "
    "`optimizer.apply_gradients(layer, grads)` does that for you.")


# --------------------------------------------------------------------------- Keras oracle

def _keras_object(module_name, spec):
    if spec is None:
        return None
    keras = oracle.keras()
    name, config = spec
    if name == "ClipWeights":
        low, high = config["min_value"], config["max_value"]
        return lambda v: keras.ops.clip(v, low, high)
    return getattr(getattr(keras, module_name), name)(**config)


def keras_model(spec, seed=1601, constraints=True):
    """The spec as a keras.Sequential, weights drawn from `seed` (not compiled)."""
    keras = oracle.keras()
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(tuple(spec["input_shape"]))]
    for conv in spec["convs"]:
        layers.append(keras.layers.Conv2D(
            conv["filters"], conv["kernel_size"], strides=conv.get("strides", 1),
            padding=conv.get("padding", "valid"), groups=conv.get("groups", 1),
            activation=conv.get("activation"),
            kernel_regularizer=_keras_object("regularizers", conv.get("kernel_regularizer")),
            activity_regularizer=_keras_object("regularizers",
                                               conv.get("activity_regularizer")),
            kernel_constraint=(_keras_object("constraints", conv.get("kernel_constraint"))
                               if constraints else None)))
    layers.append(keras.layers.GlobalAveragePooling2D() if spec["head"] == "gap"
                  else keras.layers.Flatten())
    layers.append(keras.layers.Dense(
        spec["classes"],
        kernel_regularizer=_keras_object("regularizers", spec.get("dense_regularizer"))))
    return keras.Sequential(layers)


def _weight_penalties(model):
    """Sum of the kernel and bias penalties of the model's current weights."""
    keras = oracle.keras()
    total = 0.0
    for layer in model.layers:
        for attribute in ("kernel", "bias"):
            regularizer = getattr(layer, f"{attribute}_regularizer", None)
            if regularizer is not None and getattr(layer, attribute, None) is not None:
                total += float(keras.ops.convert_to_numpy(
                    regularizer(getattr(layer, attribute))))
    return total


def keras_training(spec, weights, batches, learning_rate, reduction="sum_over_batch_size",
                   constraints=True):
    """Keras's run: for each (x, labels) of `batches`, one train_on_batch.

    Returns {"loss": [...], "cross_entropy": [...] (the mean cross-entropy alone),
    "weight_penalties_before": [...], "weight_penalties_after": [...],
    "weights": [[kernel, bias] per layer with weights, after the last step]}."""
    keras = oracle.keras()
    model = keras_model(spec, constraints=constraints)
    model.set_weights([np.asarray(w, DTYPE) for w in weights])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                 reduction=reduction),
                  run_eagerly=True)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    run = {"loss": [], "cross_entropy": [], "weight_penalties_before": [],
           "weight_penalties_after": []}
    for x, labels in batches:
        run["weight_penalties_before"].append(_weight_penalties(model))
        run["cross_entropy"].append(float(cross_entropy(np.asarray(labels),
                                                        model(np.asarray(x, DTYPE)))))
        run["loss"].append(float(model.train_on_batch(np.asarray(x, DTYPE),
                                                      np.asarray(labels))))
        run["weight_penalties_after"].append(_weight_penalties(model))
    run["weights"] = [[np.asarray(w) for w in layer.get_weights()] for layer in model.layers
                      if layer.weights]
    return run


def keras_initial_weights(spec, seed=1601):
    """Keras's freshly drawn weights for the spec, as model.get_weights() lists them."""
    return keras_model(spec, seed).get_weights()


# ------------------------------------------------------------------- the reader's network

def _child_object(session, spec):
    """What the reader's layer receives for a (name, config) pair: a handle on the given
    ClipWeights made in the child, or the serialize dict of a regularizer/constraint."""
    if spec is None:
        return None
    name, config = spec
    if name == "ClipWeights":
        return session.new("optimizers.ClipWeights", config["min_value"], config["max_value"])
    return {"class_name": name, "config": dict(config)}


# The reader's layers are built with the given Ones initializer and then receive Keras's
# weights: the initializers (chapters 06-07) play no part in this chapter's cases.
GIVEN_INITIALIZERS = {"kernel_initializer": "ones", "bias_initializer": "ones"}


def student_network(session, spec, weights):
    """The spec built in the child from the reader's Conv2D and the given head, holding
    `weights` (Keras's list). Returns (every layer's handle, the handles with weights)."""
    layers, shape = [], (1, *spec["input_shape"])
    for conv in spec["convs"]:
        layer = session.new(
            "layer.Conv2D", conv["filters"], conv["kernel_size"],
            strides=conv.get("strides", 1), padding=conv.get("padding", "valid"),
            groups=conv.get("groups", 1), activation=conv.get("activation"),
            kernel_regularizer=_child_object(session, conv.get("kernel_regularizer")),
            activity_regularizer=_child_object(session, conv.get("activity_regularizer")),
            kernel_constraint=_child_object(session, conv.get("kernel_constraint")),
            **GIVEN_INITIALIZERS)
        layer.call("build", shape)
        shape = tuple(layer.call("compute_output_shape", shape))
        layers.append(layer)
    layers.append(session.new("network.GlobalAveragePooling2D" if spec["head"] == "gap"
                              else "network.Flatten"))
    features = shape[-1] if spec["head"] == "gap" else int(np.prod(shape[1:]))
    dense = session.new("network.Dense", spec["classes"], kernel_regularizer=_child_object(
        session, spec.get("dense_regularizer")), **GIVEN_INITIALIZERS)
    dense.call("build", (1, features))
    layers.append(dense)
    with_weights = [layer for layer in layers
                    if layer.type_name.rsplit(".", 1)[-1] in ("Conv2D", "Dense")]
    for layer, index in zip(with_weights, range(0, len(weights), 2)):
        layer.call("set_weights", [weights[index], weights[index + 1]])
    return layers, with_weights


def describe_spec(spec):
    """One line: "8x8x1 → Conv2D(8, 3, padding='same', relu, ...) → ... → Flatten →
    Dense(10)"."""
    parts = ["x".join(str(n) for n in spec["input_shape"])]
    for conv in spec["convs"]:
        extras = [f"strides={conv['strides']}" if conv.get("strides", 1) != 1 else "",
                  f"padding={conv['padding']!r}" if conv.get("padding", "valid") != "valid"
                  else "",
                  f"groups={conv['groups']}" if conv.get("groups", 1) != 1 else "",
                  conv.get("activation") or ""]
        for key, label in (("kernel_regularizer", "kernel_regularizer"),
                           ("activity_regularizer", "activity_regularizer"),
                           ("kernel_constraint", "kernel_constraint")):
            if conv.get(key):
                name, config = conv[key]
                extras.append(f"{label}={name}({', '.join(f'{v:g}' for v in config.values())})")
        arguments = [str(conv["filters"]), str(conv["kernel_size"])] + [e for e in extras if e]
        parts.append(f"Conv2D({', '.join(arguments)})")
    parts.append("GlobalAveragePooling2D" if spec["head"] == "gap" else "Flatten")
    dense = f"Dense({spec['classes']}"
    if spec.get("dense_regularizer"):
        name, config = spec["dense_regularizer"]
        dense += f", kernel_regularizer={name}({', '.join(f'{v:g}' for v in config.values())})"
    parts.append(dense + ")")
    return " → ".join(parts)


# ------------------------------------------------------------------------------ the cases

def _regularizer(rng):
    kind = rng.choice(["L2", "L1"])
    factor = round(float(rng.uniform(0.005, 0.05)), 4)
    return (str(kind), {"l2" if kind == "L2" else "l1": factor})


def _cases(rng, hidden):
    """[(spec, learning_rate, batch, steps)]. Every case has a penalty and a constraint, so
    each misconception changes every case's answer."""
    clip = ("ClipWeights", {"min_value": -0.25, "max_value": 0.25})
    if not hidden:
        return [
            ({"input_shape": (6, 6, 1), "classes": 3, "head": "gap",
              "convs": [{"filters": 4, "kernel_size": 3, "padding": "same",
                         "activation": "relu", "kernel_regularizer": ("L2", {"l2": 0.01}),
                         "kernel_constraint": clip}],
              "dense_regularizer": None}, 0.5, 4, 2),
            ({"input_shape": (7, 7, 2), "classes": 4, "head": "flatten",
              "convs": [{"filters": 4, "kernel_size": 3, "activation": "relu",
                         "kernel_constraint": clip},
                        {"filters": 4, "kernel_size": 2, "groups": 2, "activation": "tanh",
                         "activity_regularizer": ("L1", {"l1": 0.01})}],
              "dense_regularizer": ("L2", {"l2": 0.02})}, 0.3, 5, 2),
        ]
    cases = []
    for i in range(4):
        channels = int(rng.choice([1, 2, 4]))
        size = int(rng.integers(6, 11))
        first = {"filters": int(rng.choice([4, 6, 8])), "kernel_size": int(rng.choice([2, 3])),
                 "padding": str(rng.choice(["valid", "same"])), "activation": "relu",
                 "kernel_regularizer": _regularizer(rng),
                 "kernel_constraint": ("ClipWeights", {"min_value": -0.2, "max_value": 0.2})}
        second = {"filters": 2 * int(rng.integers(2, 5)), "kernel_size": 3,
                  "padding": "same", "groups": int(rng.choice([1, 2])),
                  "activation": ["relu", "tanh", None][int(rng.integers(3))],
                  "activity_regularizer": ("L2", {"l2": 0.01}) if i % 2 else None}
        spec = {"input_shape": (size, size, channels), "classes": int(rng.integers(3, 11)),
                "head": "gap" if i % 2 == 0 else "flatten", "convs": [first, second],
                "dense_regularizer": _regularizer(rng) if i >= 2 else None}
        cases.append((spec, round(float(rng.uniform(0.2, 0.8)), 3), int(rng.integers(3, 9)),
                      3))
    return cases


def first_visible_case():
    """(spec, learning_rate, batch, steps) of the check's first visible network case."""
    return _cases(None, hidden=False)[0]


def _batches(rng, spec, batch, steps):
    shape = (batch, *spec["input_shape"])
    return [(rng.standard_normal(shape).astype(DTYPE),
             rng.integers(0, spec["classes"], batch)) for _ in range(steps)]


# ------------------------------------------------------------------ what train_step needs

# The Conv2D settings train_step's cases use, each with penalties of the kinds they use.
_PROBES = (
    {"filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu",
     "kernel_regularizer": ("L2", {"l2": 0.05}), "activity_regularizer": ("L1", {"l1": 0.02})},
    {"filters": 4, "kernel_size": 2, "padding": "valid", "groups": 2, "activation": "tanh",
     "kernel_regularizer": ("L1", {"l1": 0.03}), "activity_regularizer": ("L2", {"l2": 0.02})},
)


def _conv2d_disagrees(session, rng, conv):
    """A sentence when the reader's Conv2D with the settings `conv` disagrees with Keras's
    (forward, or the gradients of sum(y * grad_y) + sum(losses)), else None."""
    keras, tf = oracle.keras(), oracle.tf()
    x = rng.standard_normal((2, 5, 5, 2)).astype(DTYPE)
    layer = keras.layers.Conv2D(
        conv["filters"], conv["kernel_size"], padding=conv["padding"],
        groups=conv.get("groups", 1), activation=conv["activation"],
        kernel_regularizer=_keras_object("regularizers", conv["kernel_regularizer"]),
        activity_regularizer=_keras_object("regularizers", conv["activity_regularizer"]))
    layer.build(x.shape)
    kernel = (rng.standard_normal(layer.kernel.shape) * 0.5).astype(DTYPE)
    bias = rng.standard_normal(conv["filters"]).astype(DTYPE)
    layer.set_weights([kernel, bias])
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xv)
        grad_y = rng.standard_normal(tuple(y.shape)).astype(DTYPE)
        total = tf.reduce_sum(y * grad_y) + tf.add_n(layer.losses)
    grads = [g.numpy() for g in tape.gradient(total, [xv, layer.kernel, layer.bias])]
    expected = {"output": y.numpy(), "input": grads[0], "kernel": grads[1], "bias": grads[2]}
    try:
        mine = session.new(
            "layer.Conv2D", conv["filters"], conv["kernel_size"], padding=conv["padding"],
            groups=conv.get("groups", 1), activation=conv["activation"],
            kernel_regularizer=_child_object(session, conv["kernel_regularizer"]),
            activity_regularizer=_child_object(session, conv["activity_regularizer"]),
            **GIVEN_INITIALIZERS)
        mine.call("build", x.shape)
        mine.call("set_weights", [kernel, bias])
        got = {"output": mine(x)}
        got.update(mine.call("backward", grad_y))
    except StudentError:
        return ("your Conv2D does not run yet (its forward pass, chapter 14, or its backward "
                "pass, chapter 15): their checks say why.")
    for key, value in expected.items():
        if not checking.matches(got.get(key), value, RTOL, ATOL_FRACTION):
            what = "forward pass" if key == "output" else f"gradient for the {key}"
            chapter = "chapter 14" if key == "output" else "chapter 15"
            settings = describe_spec({"input_shape": x.shape[1:], "convs": [conv],
                                      "head": None, "classes": 0}).split(" → ")[1]
            return (f"your Conv2D's {what} does not match Keras's yet for {settings} "
                    f"({chapter}): its checks say why.")
    return None


def _dependencies_fail(session, rng):
    """A sentence when the reader's Conv2D or sgd_step disagrees with Keras on a small case
    of its own (or is unfinished), else None."""
    from convbook.checks.optimizer import keras_sgd_step

    for conv in _PROBES:
        problem = _conv2d_disagrees(session, rng, conv)
        if problem:
            return problem
    weight = rng.standard_normal((3, 4)).astype(DTYPE)
    grad = rng.standard_normal((3, 4)).astype(DTYPE)
    spec = ("ClipWeights", {"min_value": -0.5, "max_value": 0.5})
    try:
        clip = session.new("optimizers.ClipWeights", -0.5, 0.5)
        stepped = session.call("optimizers.sgd_step", weight, grad, 0.1, clip)
    except StudentError:
        stepped = None
    if not checking.matches(stepped, keras_sgd_step(weight, grad, 0.1, spec), RTOL,
                            ATOL_FRACTION):
        return ("your optimizers.sgd_step does not match Keras's SGD yet (exercise 12.1): its "
                "check says why.")
    return None


def _logits_only_case(session, rng, name):
    """train_step([], logits, labels, optimizer): no layer at all, the loss alone."""
    keras = oracle.keras()
    logits = (rng.standard_normal((6, 5)) * 2).astype(DTYPE)
    labels = rng.integers(0, 5, 6)
    optimizer = session.new("optimizers.SGD", 0.1)
    case = f"train_step([], {checking.describe_case(x=logits, labels=labels)}, SGD(0.1))"
    loss = student_call(session, name, [], logits, labels, optimizer, case=case)
    per_example = keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True)).astype(np.float64)
    return Outcome(f"{case}: the loss returned (a network of no layers: x are the logits)",
                   _as_number(loss), per_example.mean(),
                   {SUMMED_OVER_BATCH: per_example.sum()})


def _run_cases(session, rng, hidden, name):
    outcomes = [_logits_only_case(session, rng, name)]
    for spec, learning_rate, batch, steps in _cases(rng, hidden):
        batches = _batches(rng, spec, batch, steps)
        weights = keras_initial_weights(spec)
        right = keras_training(spec, weights, batches, learning_rate)
        summed = keras_training(spec, weights, batches, learning_rate, reduction="sum")
        unconstrained = keras_training(spec, weights, batches, learning_rate,
                                       constraints=False)
        case = (f"train_step on {describe_spec(spec)}, SGD(learning_rate={learning_rate}), "
                f"{steps} batches of {batch}")
        try:
            layers, with_weights = student_network(session, spec, weights)
        except StudentError as err:
            checking.fail(name, "" if err.kind == "not_implemented" else case,
                          "not_implemented" if err.kind == "not_implemented" else "exception",
                          f"building the network with your layers failed:\n{err}")
        optimizer = session.new("optimizers.SGD", learning_rate)
        for step, (x, labels) in enumerate(batches):
            loss = student_call(session, name, layers, x, labels, optimizer,
                                case=f"{case}, step {step + 1}")
            wrong = {
                SUMMED_OVER_BATCH: summed["loss"][step],
                PENALTIES_FORGOTTEN: right["cross_entropy"][step],
                LOSS_AFTER_UPDATE: (right["loss"][step] - right["weight_penalties_before"][step]
                                    + right["weight_penalties_after"][step]),
                CONSTRAINT_IGNORED: unconstrained["loss"][step],
            }
            outcomes.append(Outcome(f"{case}: the loss returned at step {step + 1}",
                                    _as_number(loss), np.float64(right["loss"][step]),
                                    {m: np.float64(v) for m, v in wrong.items()}))
        for number, (layer, expected) in enumerate(zip(with_weights, right["weights"])):
            got = layer.call("get_weights")
            for index, what in enumerate(("kernel", "bias")):
                outcomes.append(Outcome(
                    f"{case}: the {what} of "
                    + (f"Conv2D {number + 1}" if number < len(spec["convs"]) else "Dense")
                    + " after the last step",
                    got[index] if isinstance(got, list) and len(got) > index else got,
                    expected[index],
                    {SUMMED_OVER_BATCH: summed["weights"][number][index],
                     PENALTIES_FORGOTTEN: expected[index],
                     LOSS_AFTER_UPDATE: expected[index],
                     CONSTRAINT_IGNORED: unconstrained["weights"][number][index]}))
    return outcomes


@check
def check_train_step(hidden=False):
    """Exercise 16.1: `network.train_step(layers, x, labels, optimizer)` against Keras's
    train_on_batch, step by step: the returned loss and every weight after the steps."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1601)
    name = "network.train_step"
    with student_session() as session:
        try:
            compare_outcomes(name, _run_cases(session, rng, hidden, name))
        except checking.CheckFailure as failure:
            if failure.record.kind == "not_implemented":
                raise
            # a wrong answer may come from a piece of an earlier chapter: say which
            problem = _dependencies_fail(session, case_rng(False, 1602))
            if problem is None:
                raise
            checking.fail(name, failure.record.case, "error",
                          "train_step cannot agree with Keras yet: " + problem
                          + " Once it does, run this check again.")


def _as_number(value):
    try:
        return np.float64(value)
    except (TypeError, ValueError):
        return value
