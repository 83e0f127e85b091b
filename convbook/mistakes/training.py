"""The wrong ideas that convbook/checks/training.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import training as checks
from . import Mistake

MISTAKES = [
    Mistake("summed-over-batch", "network.py", "train_step", """
        layers, x, labels, optimizer = args
        out = np.asarray(x, np.float32)
        for layer in layers:
            out = layer(out)
        losses, grad = softmax_cross_entropy_per_example(out, labels)
        if 'sum' == "sum":
            loss = float(losses.sum())
        else:
            loss = float(losses.mean())
            grad = grad / np.float32(len(losses))
        if 'before' == "before":
            loss += sum(p for layer in layers for p in layer.losses)
        all_grads = []
        for layer in reversed(layers):
            grads = layer.backward(grad)
            all_grads.append((layer, grads))
            grad = grads["input"]
        for layer, grads in all_grads:
            if not len(layer.weights):
                continue
            if 'convlib' == "by hand":
                layer.kernel = layer.kernel - np.float32(optimizer.learning_rate) * grads["kernel"]
                layer.bias = layer.bias - np.float32(optimizer.learning_rate) * grads["bias"]
            else:
                optimizer.apply_gradients(layer, grads)
        if 'before' == "after":
            loss += sum(p for layer in layers for p in layer.losses)
        return loss
        """, checks.check_train_step, checks.SUMMED_OVER_BATCH),
    Mistake("penalties-forgotten", "network.py", "train_step", """
        layers, x, labels, optimizer = args
        out = np.asarray(x, np.float32)
        for layer in layers:
            out = layer(out)
        losses, grad = softmax_cross_entropy_per_example(out, labels)
        if 'mean' == "sum":
            loss = float(losses.sum())
        else:
            loss = float(losses.mean())
            grad = grad / np.float32(len(losses))
        if 'never' == "before":
            loss += sum(p for layer in layers for p in layer.losses)
        all_grads = []
        for layer in reversed(layers):
            grads = layer.backward(grad)
            all_grads.append((layer, grads))
            grad = grads["input"]
        for layer, grads in all_grads:
            if not len(layer.weights):
                continue
            if 'convlib' == "by hand":
                layer.kernel = layer.kernel - np.float32(optimizer.learning_rate) * grads["kernel"]
                layer.bias = layer.bias - np.float32(optimizer.learning_rate) * grads["bias"]
            else:
                optimizer.apply_gradients(layer, grads)
        if 'never' == "after":
            loss += sum(p for layer in layers for p in layer.losses)
        return loss
        """, checks.check_train_step, checks.PENALTIES_FORGOTTEN),
    Mistake("loss-after-update", "network.py", "train_step", """
        layers, x, labels, optimizer = args
        out = np.asarray(x, np.float32)
        for layer in layers:
            out = layer(out)
        losses, grad = softmax_cross_entropy_per_example(out, labels)
        if 'mean' == "sum":
            loss = float(losses.sum())
        else:
            loss = float(losses.mean())
            grad = grad / np.float32(len(losses))
        if 'after' == "before":
            loss += sum(p for layer in layers for p in layer.losses)
        all_grads = []
        for layer in reversed(layers):
            grads = layer.backward(grad)
            all_grads.append((layer, grads))
            grad = grads["input"]
        for layer, grads in all_grads:
            if not len(layer.weights):
                continue
            if 'convlib' == "by hand":
                layer.kernel = layer.kernel - np.float32(optimizer.learning_rate) * grads["kernel"]
                layer.bias = layer.bias - np.float32(optimizer.learning_rate) * grads["bias"]
            else:
                optimizer.apply_gradients(layer, grads)
        if 'after' == "after":
            loss += sum(p for layer in layers for p in layer.losses)
        return loss
        """, checks.check_train_step, checks.LOSS_AFTER_UPDATE),
    Mistake("constraint-ignored", "network.py", "train_step", """
        layers, x, labels, optimizer = args
        out = np.asarray(x, np.float32)
        for layer in layers:
            out = layer(out)
        losses, grad = softmax_cross_entropy_per_example(out, labels)
        if 'mean' == "sum":
            loss = float(losses.sum())
        else:
            loss = float(losses.mean())
            grad = grad / np.float32(len(losses))
        if 'before' == "before":
            loss += sum(p for layer in layers for p in layer.losses)
        all_grads = []
        for layer in reversed(layers):
            grads = layer.backward(grad)
            all_grads.append((layer, grads))
            grad = grads["input"]
        for layer, grads in all_grads:
            if not len(layer.weights):
                continue
            if 'by hand' == "by hand":
                layer.kernel = layer.kernel - np.float32(optimizer.learning_rate) * grads["kernel"]
                layer.bias = layer.bias - np.float32(optimizer.learning_rate) * grads["bias"]
            else:
                optimizer.apply_gradients(layer, grads)
        if 'before' == "after":
            loss += sum(p for layer in layers for p in layer.losses)
        return loss
        """, checks.check_train_step, checks.CONSTRAINT_IGNORED),
]
