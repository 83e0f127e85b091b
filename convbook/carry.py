"""Carry your convlib from an earlier part of the course into a new one.

    python -m convbook.reader carry ~/part1 ~/part2

A course released in parts gives each part its own folder, with its own `convlib/`. When a
part comes with earlier chapters' functions as stubs (the instructor released it with
--keep-stubs), this brings yours over: every function or method that is still the book's stub
in the new folder, and that you wrote in the earlier one, takes your version. Imports and
helper functions you added come along; a module you added is copied whole. Nothing you have
already written in the new folder is touched, and the book's own changes in the new part
(new functions, new stubs) stay.
"""
import ast
from pathlib import Path

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


class CarryError(Exception):
    """A folder that is not a part of the book; the message says which and why."""


def _definitions(tree):
    """{qualname: node} of every function and method, classes walked."""
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[prefix + child.name] = child
    visit(tree, "")
    return found


def _span(node):
    """0-based [start, end) lines of a definition, its decorators included."""
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    return start, node.end_lineno


def _is_stub(lines, node):
    start, end = _span(node)
    text = "\n".join(line.strip() for line in lines[start:end])
    return all(part in text for part in STUB)


def _top_level_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def carry_module(earlier_text, new_text):
    """(new module text, [qualnames carried]) for one module."""
    old_tree, new_tree = ast.parse(earlier_text), ast.parse(new_text)
    old_lines, new_lines = earlier_text.splitlines(), new_text.splitlines()
    old_defs, new_defs = _definitions(old_tree), _definitions(new_tree)
    replacements, carried = [], []
    for name, node in new_defs.items():
        mine = old_defs.get(name)
        if mine is None or not _is_stub(new_lines, node) or _is_stub(old_lines, mine):
            continue
        start, end = _span(mine)
        replacements.append((_span(node), old_lines[start:end]))
        carried.append(name)
    for (start, end), lines in sorted(replacements, reverse=True):
        new_lines[start:end] = lines
    # what you added at the top level: imports first, then helpers and constants
    present = _top_level_names(new_tree)
    new_imports = {ast.get_source_segment(new_text, n) for n in new_tree.body
                   if isinstance(n, (ast.Import, ast.ImportFrom))}
    imports, helpers = [], []
    for node in old_tree.body:
        segment = ast.get_source_segment(earlier_text, node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if segment not in new_imports:
                imports.append(segment)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name not in present:
                start, end = _span(node)
                helpers.append("\n".join(old_lines[start:end]))
                carried.append(node.name)
    if imports:
        last = max([n.end_lineno for n in new_tree.body
                    if isinstance(n, (ast.Import, ast.ImportFrom))] or [0])
        new_lines[last:last] = imports
    text = "\n".join(new_lines) + "\n"
    if helpers:
        text += "\n\n" + "\n\n\n".join(helpers) + "\n"
    return text, carried


def carry(earlier, new, log=print):
    """Carry every module of `earlier`/convlib into `new`/convlib; returns the number of
    functions carried. Raises CarryError for a folder without convlib/."""
    earlier, new = Path(earlier).expanduser(), Path(new).expanduser()
    for folder in (earlier, new):
        if not (folder / "convlib" / "__init__.py").is_file():
            raise CarryError(f"{folder} has no convlib/ package: give the folders of two parts "
                             "(e.g. ~/part1 ~/part2)")
    if earlier.resolve() == new.resolve():
        raise CarryError("the earlier part and the new part are the same folder")
    total = 0
    for source in sorted((earlier / "convlib").rglob("*.py")):
        rel = source.relative_to(earlier)
        if "__pycache__" in rel.parts:
            continue
        target = new / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())
            log(f"copied   {rel.as_posix()} (your own module)")
            continue
        try:
            text, carried = carry_module(source.read_text(), target.read_text())
        except SyntaxError as exc:
            log(f"skipped  {rel.as_posix()}: line {exc.lineno} does not parse ({exc.msg}); "
                "fix it and carry again")
            continue
        if carried:
            target.write_text(text)
            total += len(carried)
            log(f"carried  {rel.as_posix()}: {', '.join(carried)}")
    log(f"{total} function(s) carried from {earlier} into {new}")
    return total
