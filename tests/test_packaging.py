"""A non-editable install carries all of the tooling: build a wheel of the project, check its
file list, install it into a bare folder and import from there, outside the repository.

Guards against a package list that names `convbook` but not its subpackages (`convbook.checks`
was silently left out of every wheel), and against solutions or tests being shipped.
"""
import json
import os
import shutil
import subprocess
import sys
try:
    import tomllib
except ModuleNotFoundError:      # Python 3.10
    import tomli as tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("convbook", "convlib")                      # what the distribution ships
NOT_SHIPPED = ("solutions", "tests", "book", "benchmarks", "notes", "docs")
# Not copied into the build folder: environments, VCS data, build and editor litter.
LITTER = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "course",
                                "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis",
                                ".ipynb_checkpoints")
TIMEOUT = 120
PIP_ENV = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def _sources(tree, package):
    """Every .py file of a package folder of the project `tree`, recursively, as wheel paths."""
    return {p.relative_to(tree).as_posix() for p in (tree / package).rglob("*.py")
            if not any(part.startswith(".") or part == "__pycache__"
                       for part in p.relative_to(tree).parts)}


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(wheel, the copy of the work tree it was built from). Built offline (no build isolation,
    no index) from a copy, so the build's `build/` and `*.egg-info` never land in the
    repository, and files edited meanwhile cannot make the comparison below flaky."""
    backend = [Requirement(r) for r in
               tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]]
    for req in backend:
        installed = metadata.version(req.name)
        assert req.specifier.contains(installed, prereleases=True), (
            f"the build backend {req} is not installed here ({req.name} {installed}): "
            "run `make test`, or `pip install -e .[test]`")
    src = tmp_path_factory.mktemp("src") / "project"
    shutil.copytree(ROOT, src, ignore=LITTER)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "--quiet", "-w", str(dist), str(src)], env=PIP_ENV)
    (wheel,) = dist.glob("*.whl")
    return wheel, src


def test_wheel_ships_every_module_of_convbook_and_convlib_and_nothing_else(built):
    wheel, src = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        expected = set().union(*(_sources(src, package) for package in PACKAGES))
        assert "convbook/checks/basics.py" in expected  # the subpackage that used to go missing
        missing = sorted(expected - names)
        assert not missing, f"left out of the wheel: {missing}"
        for name in sorted(expected):
            # The shipped convlib is the generated student package, not solutions/convlib.
            assert archive.read(name) == (src / name).read_bytes(), name
    tops = {name.split("/")[0] for name in names}
    assert not tops & set(NOT_SHIPPED), f"shipped: {sorted(tops & set(NOT_SHIPPED))}"
    extra = {top for top in tops if not top.endswith(".dist-info")} - set(PACKAGES)
    assert not extra, f"unexpected top-level entries in the wheel: {sorted(extra)}"
    stray = sorted(n for n in names - expected
                   if not n.split("/")[0].endswith(".dist-info"))
    assert not stray, f"files in the wheel that are not in convbook/ or convlib/: {stray}"


def test_installed_wheel_imports_its_subpackages_outside_the_repository(built, tmp_path):
    wheel, _ = built
    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
          "--target", str(target), str(wheel)], env=PIP_ENV)
    assert (target / "convbook" / "checks" / "basics.py").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    modules = ["convbook.checks.basics", "convbook.checks", "convbook.layout", "convlib"]
    code = ("import importlib, json, sys\n"
            f"print(json.dumps({{m: importlib.import_module(m).__file__ for m in {modules!r}}}))")
    # Not `python -I` (it ignores PYTHONPATH): a plain interpreter, run from a folder outside
    # the repository, with the install folder first on its path.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(target)
    result = _run([sys.executable, "-c", code], cwd=elsewhere, env=env)
    files = json.loads(result.stdout.strip().splitlines()[-1])
    for module, file in files.items():
        assert Path(file).resolve().is_relative_to(target.resolve()), (
            f"{module} was imported from {file}, not from the installed wheel in {target}")
