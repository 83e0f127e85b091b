r"""Which chapter asks for which piece of convlib.

Every `### BEGIN SOLUTION` region of solutions/convlib is an exercise of some chapter: the
function is named in the exercise's heading (`## Exercise N.M — \`name\``), called in a code
block of the exercise cell, or opens a row of the exercise's table of signatures. The book in
parts (convbook.parts) uses this to know whose code a part's release may give, and
tests/test_exercises.py to prove that no region is left without an exercise and a check.
"""
import ast
import json
import re
from pathlib import Path

from .layout import SOLUTIONS

BEGIN = "### BEGIN SOLUTION"


def solution_regions(solutions=SOLUTIONS):
    """{(module, qualname)} of every function or method holding a solution region."""
    found = set()
    for path in sorted((Path(solutions) / "convlib").glob("*.py")):
        text = path.read_text()
        if BEGIN not in text:
            continue
        lines = text.splitlines()
        marked = {i + 1 for i, line in enumerate(lines) if line.strip() == BEGIN}
        tree = ast.parse(text)

        def visit(node, prefix):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef):
                    visit(child, prefix + child.name + ".")
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if any(child.lineno <= n <= child.end_lineno for n in marked):
                        found.add((path.stem, prefix + child.name))
        visit(tree, "")
    return found


HEADING = re.compile(r"^## Exercise\b.*$", re.MULTILINE)


def exercises(solutions=SOLUTIONS):
    """[(chapter, heading line, text from the heading on, followed by a graded cell?)]."""
    result = []
    for notebook in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        for i, cell in enumerate(cells):
            heading = HEADING.search("".join(cell["source"]))
            if cell["cell_type"] != "markdown" or heading is None:
                continue
            text = "".join(cell["source"])[heading.start():]
            graded = False
            for later in cells[i + 1:]:
                if later["cell_type"] == "markdown" and HEADING.search("".join(later["source"])):
                    break
                meta = later.get("metadata", {}).get("nbgrader", {})
                if later["cell_type"] == "code" and meta.get("grade") and meta.get("points"):
                    graded = True
                    break
            result.append((notebook.stem, heading.group(0), text, graded))
    return result


def asks_for(qualname, heading, text):
    """Does this exercise cell ask for `qualname` (a function, or Class.method)?"""
    if re.search(r"`" + re.escape(qualname) + r"`", heading):
        return True
    if re.search(r"^\|\s*`" + re.escape(qualname) + r"\(", text, re.MULTILINE):
        return True                                     # a table of signatures, one per row
    blocks = re.findall(r"```(?:python)?\n(.*?)```", text, re.DOTALL)
    short = qualname.rsplit(".", 1)[-1]
    call = re.compile(r"(?<![\w.])" + re.escape(qualname) + r"\(")
    if "." in qualname and short != "__call__":   # a method: `def gradient(` in a block
        method = re.compile(r"\bdef " + re.escape(short) + r"\(")
        owner = qualname.rsplit(".", 1)[0]
        return any(call.search(b) or (owner in text and method.search(b)) for b in blocks)
    return any(call.search(b) for b in blocks)


def region_chapters(solutions=SOLUTIONS):
    """{(module, qualname): the number ("00".."16") of the first chapter whose exercise asks
    for it}; regions no exercise asks for are left out (a test forbids them)."""
    found = exercises(solutions)
    chapters = {}
    for module, qualname in solution_regions(solutions):
        asking = sorted(ch[:2] for ch, heading, text, _ in found
                        if asks_for(qualname, heading, text))
        if asking:
            chapters[module, qualname] = asking[0]
    return chapters
