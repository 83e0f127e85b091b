"""The wrong ideas that convbook/checks/activity.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import activity as checks
from . import Mistake

MISTAKES = [
    Mistake("penalty-not-divided", "activity.py", "activity_penalty", """
        regularizer, outputs = args
        return float(regularizer(np.asarray(outputs)))
        """, checks.check_activity_penalty, checks.NOT_DIVIDED),
    Mistake("penalty-divided-by-size", "activity.py", "activity_penalty", """
        regularizer, outputs = args
        outputs = np.asarray(outputs)
        return float(regularizer(outputs)) / outputs.size
        """, checks.check_activity_penalty, checks.DIVIDED_BY_SIZE),
    Mistake("gradient-not-divided", "activity.py", "activity_penalty_gradient", """
        regularizer, outputs = args
        return penalty_gradient(regularizer, np.asarray(outputs))
        """, checks.check_activity_penalty_gradient, checks.GRADIENT_NOT_DIVIDED),
    Mistake("gradient-divided-twice", "activity.py", "activity_penalty_gradient", """
        regularizer, outputs = args
        outputs = np.asarray(outputs)
        return penalty_gradient(regularizer, outputs) / outputs.shape[0] ** 2
        """, checks.check_activity_penalty_gradient, checks.GRADIENT_DIVIDED_TWICE),
    Mistake("gradient-divided-by-size", "activity.py", "activity_penalty_gradient", """
        regularizer, outputs = args
        outputs = np.asarray(outputs)
        return penalty_gradient(regularizer, outputs) / outputs.size
        """, checks.check_activity_penalty_gradient, checks.GRADIENT_DIVIDED_BY_SIZE),
]
