"""Set-up stays true: dependencies declared once and mirrored, README's commands, CI."""
import ast
import os
import re
import sys
try:
    import tomllib
except ModuleNotFoundError:      # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

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


def _conda_python_satisfies(pin, requires_python):
    """Whether every Python a conda pin such as `python=3.11` or `python==3.11.7` may install is
    allowed by pyproject's `requires-python`. `python=3.11` means the series 3.11.*: its first
    and a late patch release must both be allowed."""
    name, _, version = pin.replace(" ", "").partition("=")
    version = version.lstrip("=")
    if name != "python" or not version or any(c in version for c in "<>!*,|"):
        raise ValueError(f"environment.yml must pin one Python version (python=X.Y); got {pin!r}")
    try:
        pinned = Version(version)
    except InvalidVersion:
        raise ValueError(f"not a Python version: {pin!r}") from None
    allowed = SpecifierSet(requires_python)
    candidates = [pinned]
    if len(pinned.release) == 2 and not pin.replace(" ", "").startswith("python=="):
        candidates.append(Version(f"{version}.999"))
    return all(allowed.contains(v) for v in candidates)


@pytest.mark.parametrize("pin, requires_python, ok", [
    ("python=3.11", ">=3.10,<3.14", True),
    ("python=3.13", ">=3.10,<3.14", True),
    ("python=3.9", ">=3.10,<3.14", False),       # below the floor
    ("python=3.14", ">=3.10,<3.14", False),      # above the ceiling
    ("python=3.11", ">=3.11.4", False),          # 3.11.0 .. 3.11.3 would be installable
    ("python==3.11.7", ">=3.11.4,<3.12", True),
    ("python==3.11.2", ">=3.11.4", False),
    ("python=3.12", ">=3.10,!=3.12.*", False),
])
def test_conda_python_check_can_fail(pin, requires_python, ok):
    assert _conda_python_satisfies(pin, requires_python) is ok


@pytest.mark.parametrize("pin", ["python", "python>=3.10", "python=3.*", "pythonx=3.11"])
def test_conda_python_check_wants_one_version(pin):
    with pytest.raises(ValueError):
        _conda_python_satisfies(pin, ">=3.10")


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
    pythons = [d for d in env["dependencies"]
               if isinstance(d, str) and re.match(r"python\b", d)]
    assert len(pythons) == 1, f"environment.yml must pin Python once; found {pythons}"
    requires_python = _pyproject()["project"]["requires-python"]
    assert _conda_python_satisfies(pythons[0], requires_python), (
        f"environment.yml's {pythons[0]} is outside pyproject's requires-python {requires_python}")


def test_test_extra_carries_the_build_backend():
    """`make test` installs `.[test]`; tests/test_packaging.py then builds a wheel without
    build isolation (offline), so the [build-system] requirements must be in that extra."""
    pyproject = _pyproject()
    test_extra = {Requirement(r).name.lower(): Requirement(r).specifier
                  for r in pyproject["project"]["optional-dependencies"]["test"]}
    for text in pyproject["build-system"]["requires"]:
        req = Requirement(text)
        assert test_extra.get(req.name.lower()) == req.specifier, (
            f"the test extra must require {req} (the build backend)")


def test_grading_critical_versions_are_pinned():
    declared = _declared_requirements()
    assert declared["keras"] == "<3.16,>=3.15"  # activity loss / batch semantics of >= 3.14
    assert declared["nbgrader"] == "==0.9.6"  # the nbgrader facts in docs/DESIGN.md
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
    for target in ("lab", "test", "build", "check-build", "bench", "demo"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_convlib_is_pure_numpy():
    """The reference package imports nothing but numpy and the standard library
    (no TensorFlow, Keras, SciPy, torch or jax)."""
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    paths = sorted((ROOT / "solutions" / "convlib").rglob("*.py")) + sorted(
        (ROOT / "convlib").rglob("*.py"))
    assert any(p.name == "conv.py" for p in paths), "no convlib sources found"
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.relative_to(ROOT)} imports {name}"


def test_docs_stay_inside_the_repository():
    """The design ships with the project: README.md, docs/ and notes/ link only to files that
    exist in the repository, and every `../` path in them names one (no design brief kept
    beside the clone)."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
            *sorted((ROOT / "notes").glob("*.md"))]
    assert ROOT / "docs" / "DESIGN.md" in docs
    assert "docs/DESIGN.md" in (ROOT / "README.md").read_text()
    for doc in docs:
        text = doc.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:|#", target):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{doc.name}: broken link {target}"
        for token in re.findall(r"(?:\.\./)+[\w.-]*", text):
            path = (doc.parent / token).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), (
                f"{doc.relative_to(ROOT)} points outside the repository: {token}")


def test_ci_runs_the_tests_that_need_system_packages():
    """In CI nothing may be skipped for want of a package .ci/run installs: bubblewrap (the
    sandbox's strongest mode) and PostgreSQL (the gradebook test)."""
    if not os.environ.get("CI"):
        pytest.skip("outside CI (CI=true) these packages are optional")
    import glob
    import shutil

    assert shutil.which("bwrap"), ".ci/run must install bubblewrap"
    assert glob.glob("/usr/lib/postgresql/*/bin/initdb"), ".ci/run must install postgresql"


def test_an_xdist_group_runs_on_one_worker(tmp_path):
    """`make test` runs `-n 2 --dist loadgroup` so that each expensive module fixture (the demo
    course, the instructor course, the site, the browser session) is built once per run: every
    test of an xdist_group must land on the same worker."""
    import subprocess

    (tmp_path / "test_grouped.py").write_text(
        "import os, pytest\n"
        "pytestmark = pytest.mark.xdist_group('expensive')\n"
        "@pytest.mark.parametrize('i', range(8))\n"
        "def test_worker(i):\n"
        "    with open(os.path.join(os.path.dirname(__file__), 'workers.txt'), 'a') as fh:\n"
        "        fh.write(os.environ['PYTEST_XDIST_WORKER'] + '\\n')\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup",
                           "-p", "no:cacheprovider", "-q", "test_grouped.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    workers = (tmp_path / "workers.txt").read_text().split()
    assert len(workers) == 8 and len(set(workers)) == 1, workers
