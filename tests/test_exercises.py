r"""Every solution region of solutions/convlib is an exercise some chapter asks for.

A `### BEGIN SOLUTION` region becomes a stub in the reader's convlib/. If no chapter asked for
it, a reader would meet a function that raises NotImplementedError with nothing telling them
to write it (and a later check or the layer would fail on it). So every region's function must
be named by an exercise of some chapter, in the exercise's heading (`## Exercise N.M —
\`name\``), as a call in a code block of the exercise cell (```` ```python name(...)``` ````)
or as the signature opening a row of the exercise's table (`| \`name(x)\` | ...`), and that
exercise must be followed by a graded check cell before the next exercise.
"""
import json
import re
from pathlib import Path

from convbook.exercises import asks_for, exercises, solution_regions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def test_every_solution_region_is_an_exercise_with_a_check():
    regions = solution_regions()
    assert len(regions) > 40, regions   # the parser found the regions
    found = exercises()
    unassigned, unchecked = [], []
    for module, qualname in sorted(regions):
        asking = [(ch, heading, graded) for ch, heading, text, graded in found
                  if asks_for(qualname, heading, text)]
        if not asking:
            unassigned.append(f"{module}.{qualname}")
        elif not any(graded for *_, graded in asking):
            unchecked.append(f"{module}.{qualname} ({asking[0][0]}: {asking[0][1]})")
    assert not unassigned, ("solution regions no chapter's exercise asks for (make them an "
                            "exercise, or given code without markers): " + ", ".join(unassigned))
    assert not unchecked, "exercises without a graded check after them: " + ", ".join(unchecked)


def test_the_rule_can_fail():
    """asks_for is not a rubber stamp: a heading naming another function does not count."""
    assert asks_for("relu", "## Exercise 5.2 — `relu`", "")
    assert not asks_for("relu", "## Exercise 5.3 — `sigmoid`", "uses `relu` from 5.2")
    assert asks_for("L2.__call__", "## Exercise 8.2 — `L2.__call__`", "")
    assert not asks_for("L2.__call__", "## Exercise 8.1 — `L1.__call__`", "")
    assert asks_for("tanh", "## Exercise 14.1 — the other activations",
                    "```python\ntanh(x)\nelu(x, alpha=1.0)\n```")
    assert not asks_for("tanh", "## Exercise 14.1 — the other activations",
                        "```python\nnp.tanh(x)\n```")
    assert asks_for("elu", "## Exercise 14.1 — the other activations",
                    "| function | formula |\n|---|---|\n| `elu(x, alpha=1.0)` | ... |")
    assert not asks_for("elu", "## Exercise 14.1 — the other activations",
                        "| function | formula |\n|---|---|\n| `selu(x)` | `scale * elu(x)` |")


CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\((hidden=True)?\)")
CHECK_IMPORT = re.compile(r"from convbook\.checks import (\w+) as checks")


def graded_check_calls():
    """{(check module, check function): {"visible", "hidden"}} over every chapter's graded
    cells (each imports its module `as checks`)."""
    calls = {}
    for notebook in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or not meta.get("grade"):
                continue
            module = CHECK_IMPORT.search(source)
            assert module, f"{notebook.name} [{meta.get('grade_id')}] imports no check module"
            for name, hidden in CHECK_CALL.findall(source):
                calls.setdefault((module.group(1), name), set()).add(
                    "hidden" if hidden else "visible")
    return calls


def test_every_check_function_is_called_by_a_graded_cell_visible_and_hidden():
    """A check function no graded cell calls grades nothing; one called without its hidden
    cases is not checked at autograde on fresh cases."""
    import importlib
    import pkgutil

    import convbook.checks

    calls = graded_check_calls()
    defined = set()
    for info in pkgutil.iter_modules(convbook.checks.__path__):
        module = importlib.import_module(f"convbook.checks.{info.name}")
        defined |= {(info.name, name) for name, value in vars(module).items()
                    if name.startswith("check_") and callable(value)
                    and getattr(value, "__module__", "") == module.__name__
                    and hasattr(value, "__wrapped__")}         # the @check decorator's mark
    assert len(defined) > 50, defined
    assert defined - set(calls) == set(), "check functions no graded cell calls"
    assert set(calls) - defined == set(), "graded cells call checks that do not exist"
    half = {key: sorted(kinds) for key, kinds in calls.items() if kinds != {"visible", "hidden"}}
    assert not half, f"called without their visible or hidden cases: {half}"
