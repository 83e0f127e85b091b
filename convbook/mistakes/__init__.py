"""The catalogue of known wrong implementations: one `Mistake` per (wrong piece of convlib,
check that must name it), grouped like the check modules (convbook/mistakes/<X>.py holds the
mistakes that convbook/checks/<X>.py recognises).

    from convbook import mistakes
    m = mistakes.CATALOGUE["basics/correlate2d-flipped"]
    text = mistakes.wrong_module_text(reference_text, m.target, m.body, m.params)
    mistakes.apply([m, ...], folder / "convlib")      # a reference convlib made wrong

A mistake's body replaces one function, or one method (target "Class.method"), of a convlib
module; it may call the right one as `_right_<function>` (a function) or `_right(self, ...)`
(a method). The tests (tests/test_checks*.py) prove that each mistake is named by its check;
the demo (convbook.demo) gives them to simulated students.
"""
import dataclasses
import importlib
import textwrap

from ..checking import Misconception

# The chapters' groups, in book order (one module here per module in convbook/checks).
GROUPS = ("basics", "strides", "padding", "dilation", "groups", "bias", "initializers",
          "bias_initializers", "regularizers", "regularizer_gradients", "activity",
          "constraints", "optimizer", "fast_path", "layer", "backward", "training")


@dataclasses.dataclass(frozen=True)
class Mistake:
    """One wrong idea written as code, and the check that must recognise it."""
    name: str                    # unique within its group, e.g. "correlate2d-flipped"
    module: str                  # the convlib file, e.g. "correlate.py"
    target: str                  # "function" or "Class.method"
    body: str                    # the new body (dedented on creation)
    check: object                # the check function, e.g. basics.check_correlate2d
    misconception: Misconception
    params: str = None           # the new definition's parameters (default: see below)

    def __post_init__(self):
        object.__setattr__(self, "body", textwrap.dedent(self.body).strip("\n") + "\n")

    @property
    def group(self):
        return self.check.__module__.rsplit(".", 1)[-1]

    @property
    def key(self):
        return f"{self.group}/{self.name}"

    @property
    def check_name(self):
        """"<check module>.<check function>", e.g. "basics.check_correlate2d"."""
        return f"{self.group}.{self.check.__name__}"

    @property
    def piece(self):
        """What the student got wrong: equal pieces are the same wrong code."""
        return (self.module, self.target, self.params, self.body)


def wrong_module_text(reference_text, target, body, params=None):
    """`reference_text` (a convlib module) with `target` redefined by `body`, appended.

    A function keeps its right version as `_right_<function>`; the new one takes
    `params` (default `*args, **kwargs`). A method `Class.method` keeps its right version as
    `_right_<Class>_<method>` (the body sees it as `_right`); the new function takes `params`
    (default `self, *args, **kwargs`) and is assigned onto the class."""
    code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    owner, _, name = target.rpartition(".")
    if not owner:
        extra = (f"_right_{name} = {name}\n\n\n"
                 f"def {name}({params or '*args, **kwargs'}):\n{code}\n")
    else:
        right, wrong = f"_right_{owner}_{name}", f"_wrong_{owner}_{name}"
        extra = (f"{right} = {owner}.{name}\n\n\n"
                 f"def {wrong}({params or 'self, *args, **kwargs'}):\n"
                 f"    _right = {right}\n{code}\n\n\n{owner}.{name} = {wrong}\n")
    return reference_text.rstrip("\n") + "\n\n\n" + extra


def apply(mistakes, convlib_dir):
    """Rewrite the modules of the convlib at `convlib_dir` so that it makes every mistake
    given (at most one per target)."""
    from pathlib import Path

    targets = [(m.module, m.target) for m in mistakes]
    clashes = sorted({t for t in targets if targets.count(t) > 1})
    if clashes:
        raise ValueError(f"two wrong bodies for one target: {clashes}; give each student at "
                         "most one mistake per function or method")
    for m in mistakes:
        path = Path(convlib_dir) / m.module
        path.write_text(wrong_module_text(path.read_text(), m.target, m.body, m.params))


def table(group):
    """{name: Mistake} of one group (a check module's name), in the catalogue's order."""
    module = importlib.import_module(f"{__name__}.{group}")
    out = {}
    for m in module.MISTAKES:
        if m.name in out:
            raise ValueError(f"mistake {m.key} is defined twice")
        out[m.name] = m
    return out


def catalogue():
    """{key: Mistake} of every group, keys "<group>/<name>", in book order."""
    return {m.key: m for group in GROUPS for m in table(group).values()}


def defined_misconceptions():
    """{id: Misconception} of every misconception the check modules define."""
    out = {}
    for group in GROUPS:
        module = importlib.import_module(f"convbook.checks.{group}")
        out.update({v.id: v for v in vars(module).values() if isinstance(v, Misconception)})
    return out
