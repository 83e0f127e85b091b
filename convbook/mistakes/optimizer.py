"""The wrong ideas that convbook/checks/optimizer.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import optimizer as checks
from . import Mistake

MISTAKES = [
    Mistake("constraint-first", "optimizers.py", "sgd_step", """
        weight, grad, learning_rate, *rest = args
        constraint = rest[0] if rest else kwargs.get("constraint")
        if constraint is not None:
            weight = constraint(np.asarray(weight, np.float32))
        return _right_sgd_step(weight, grad, learning_rate)
        """, checks.check_sgd_step, checks.CONSTRAINT_FIRST),
    Mistake("constraint-ignored", "optimizers.py", "sgd_step", """
        weight, grad, learning_rate, *rest = args
        return _right_sgd_step(weight, grad, learning_rate)
        """, checks.check_sgd_step, checks.CONSTRAINT_IGNORED),
    Mistake("gradient-added", "optimizers.py", "sgd_step", """
        weight, grad, learning_rate, *rest = args
        return _right_sgd_step(weight, -np.asarray(grad), learning_rate, *rest, **kwargs)
        """, checks.check_sgd_step, checks.GRADIENT_ADDED),
]
