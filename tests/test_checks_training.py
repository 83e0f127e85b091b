"""Chapter 16's check (convbook/checks/training.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes, visible and hidden, one line each, nothing on stderr;
* the generated stubs fail cleanly, saying `network.train_step` is not implemented;
* a fake convlib whose train_step holds one known wrong idea is told that idea;
* a right train_step over a wrong Conv2D (an earlier chapter's mistake) is told which piece
  disagrees with Keras, not blamed for an idea of its own;
* updating each layer as soon as its gradients are known gives the right answer here (every
  layer's backward has run before its own update), and the check accepts it.
No check here is statistical (the cases are fixed arrays), so no false-failure rate applies.
"""

import pytest

from check_support import (SOLUTIONS, assert_every_misconception_tested,
                           assert_mistake_named, assert_reference_passes,
                           assert_stubs_fail_cleanly, fake_convlib, patched)
from convbook import mistakes
from convbook.mistakes.training import wrong_step
from convbook.checking import CheckFailure
from convbook.checks import training as checks


def test_reference_passes(monkeypatch, capfd):
    assert_reference_passes(checks.check_train_step, monkeypatch, capfd)


def test_stubs_fail_cleanly(monkeypatch, capfd):
    assert_stubs_fail_cleanly(checks.check_train_step, "network.train_step", monkeypatch, capfd)


# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/training.py (a body may call the reference as `_right_<function>`).
MISCONCEPTIONS = mistakes.table("training")


@pytest.mark.parametrize("entry", MISCONCEPTIONS.values(), ids=list(MISCONCEPTIONS))
def test_misconception_is_named(entry, tmp_path, monkeypatch, capfd):
    assert_mistake_named(entry, tmp_path, monkeypatch, capfd)


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_the_reference_step_is_right_as_a_wrong_step_without_its_wrong_idea(
        tmp_path, monkeypatch, capfd):
    """wrong_step() with no wrong idea passes: the fakes above differ by that idea alone."""
    monkeypatch.chdir(fake_convlib(tmp_path, "network.py", patched("train_step", wrong_step())))
    checks.check_train_step()
    assert "agree with Keras" in capfd.readouterr().out


def test_updating_layer_by_layer_is_accepted(tmp_path, monkeypatch, capfd):
    body = """
        layers, x, labels, optimizer = args
        out = np.asarray(x, np.float32)
        for layer in layers:
            out = layer(out)
        losses, grad = softmax_cross_entropy_per_example(out, labels)
        loss = float(losses.mean()) + sum(p for layer in layers for p in layer.losses)
        grad = grad / np.float32(len(losses))
        for layer in reversed(layers):
            grads = layer.backward(grad)
            if len(layer.weights):
                optimizer.apply_gradients(layer, grads)
            grad = grads["input"]
        return loss
        """
    monkeypatch.chdir(fake_convlib(tmp_path, "network.py", patched("train_step", body)))
    checks.check_train_step()
    assert "agree with Keras" in capfd.readouterr().out


def test_a_wrong_conv2d_is_named_not_blamed_on_the_step(tmp_path, monkeypatch, capfd):
    # a Conv2D whose kernel gradient forgets the penalty (chapter 8's idea, not this one's)
    code = """

_right_backward = Conv2D.backward


def _backward_without_penalty(self, grad_output):
    grads = _right_backward(self, grad_output)
    if self.kernel_regularizer is not None:
        grads["kernel"] = grads["kernel"] - regularizers.penalty_gradient(
            self.kernel_regularizer, self.kernel)
    return grads


Conv2D.backward = _backward_without_penalty
"""
    monkeypatch.chdir(fake_convlib(tmp_path, "layer.py", code))
    with pytest.raises(CheckFailure) as info:
        checks.check_train_step()
    message = str(info.value)
    assert "train_step cannot agree with Keras yet" in message, message
    assert info.value.record.misconception is None
    _, err = capfd.readouterr()
    assert err == ""


def test_the_reference_pieces_agree_with_keras_on_the_probes(monkeypatch):
    """The probes that look for an earlier chapter's mistake find none in the reference (else
    a wrong train_step would be told its Conv2D is wrong), for several draws."""
    import numpy as np
    from convbook.harness import StudentSession

    monkeypatch.chdir(SOLUTIONS)
    with StudentSession() as session:
        for seed in range(5):
            assert checks._dependencies_fail(session, np.random.default_rng(seed)) is None


def test_a_wrong_sgd_step_is_named_not_blamed_on_the_step(tmp_path, monkeypatch, capfd):
    body = """
        weight, grad, learning_rate, *rest = args
        return _right_sgd_step(weight, grad, 2 * learning_rate, *rest, **kwargs)
        """
    monkeypatch.chdir(fake_convlib(tmp_path, "optimizers.py", patched("sgd_step", body)))
    with pytest.raises(CheckFailure) as info:
        checks.check_train_step()
    assert "optimizers.sgd_step does not match" in str(info.value), str(info.value)
    assert capfd.readouterr().err == ""


def test_unfinished_initializers_are_not_charged_to_the_step(tmp_path, monkeypatch, capfd):
    """The layers receive Keras's weights: chapters 06-07's initializers play no part."""
    code = """


def _unfinished(self, *args, **kwargs):
    raise NotImplementedError


Zeros.__call__ = _unfinished
VarianceScaling.__call__ = _unfinished
"""
    monkeypatch.chdir(fake_convlib(tmp_path, "initializers.py", code))
    checks.check_train_step()
    out, err = capfd.readouterr()
    assert "agree with Keras" in out and err == ""
