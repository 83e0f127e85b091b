"""The wrong ideas that convbook/checks/training.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import training as checks
from . import Mistake


def wrong_step(reduce="mean", penalties="before", update="convlib"):
    """The body of a train_step with one wrong idea, or none with the defaults."""
    return f"""
        layers, x, labels, optimizer = args
        out = np.asarray(x, np.float32)
        for layer in layers:
            out = layer(out)
        losses, grad = softmax_cross_entropy_per_example(out, labels)
        if {reduce!r} == "sum":
            loss = float(losses.sum())
        else:
            loss = float(losses.mean())
            grad = grad / np.float32(len(losses))
        if {penalties!r} == "before":
            loss += sum(p for layer in layers for p in layer.losses)
        all_grads = []
        for layer in reversed(layers):
            grads = layer.backward(grad)
            all_grads.append((layer, grads))
            grad = grads["input"]
        for layer, grads in all_grads:
            if not len(layer.weights):
                continue
            if {update!r} == "by hand":
                layer.kernel = layer.kernel - np.float32(optimizer.learning_rate) * grads["kernel"]
                layer.bias = layer.bias - np.float32(optimizer.learning_rate) * grads["bias"]
            else:
                optimizer.apply_gradients(layer, grads)
        if {penalties!r} == "after":
            loss += sum(p for layer in layers for p in layer.losses)
        return loss
        """


MISTAKES = [
    Mistake("summed-over-batch", "network.py", "train_step", wrong_step(reduce="sum"),
            checks.check_train_step, checks.SUMMED_OVER_BATCH),
    Mistake("penalties-forgotten", "network.py", "train_step", wrong_step(penalties="never"),
            checks.check_train_step, checks.PENALTIES_FORGOTTEN),
    Mistake("loss-after-update", "network.py", "train_step", wrong_step(penalties="after"),
            checks.check_train_step, checks.LOSS_AFTER_UPDATE),
    Mistake("constraint-ignored", "network.py", "train_step", wrong_step(update="by hand"),
            checks.check_train_step, checks.CONSTRAINT_IGNORED),
]
