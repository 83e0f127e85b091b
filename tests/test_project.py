"""Set-up stays true: dependencies declared once and mirrored, README's commands, CI."""
import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LINUX_X86 = {"platform_machine": "x86_64", "sys_platform": "linux", "platform_system": "Linux"}


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _declared_requirements():
    """pyproject's requirements (core + extras), as seen on the x86-64 Linux conda target."""
    project = _pyproject()["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith(project["name"])]
    found = {}
    for text in reqs:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate(LINUX_X86):
            found[req.name.lower()] = str(req.specifier)
    return found


def test_environment_yml_agrees_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    mirrored = {}
    for text in pip_section:
        if text.startswith("-e"):
            continue
        req = Requirement(text)
        mirrored[req.name.lower()] = str(req.specifier)
    assert mirrored == _declared_requirements()
    assert "-e ." in pip_section, "environment.yml must install the project itself"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    version = python.split("=")[1]
    assert _pyproject()["project"]["requires-python"], version


def test_grading_critical_versions_are_pinned():
    declared = _declared_requirements()
    assert declared["keras"] == "<3.16,>=3.15"  # activity loss / batch semantics of >= 3.14
    assert declared["nbgrader"] == "==0.9.6"  # the nbgrader facts in DESIGN.md
    assert declared["tensorflow-cpu"] == "<2.22,>=2.21"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash)?\n(.*?)```", readme, re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make lab", "make test"]
    assert readme.index("```") < 200, "the commands must be at the top of the README"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.MULTILINE)


def test_makefile_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test", "build", "check-build", "bench"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_convlib_is_pure_numpy():
    """The reference package imports nothing but numpy and the standard library
    (no TensorFlow, Keras, SciPy, torch or jax)."""
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    for path in (ROOT / "solutions" / "convlib").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
