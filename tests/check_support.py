"""What every chapter's check tests do: the reference passes, the stubs fail cleanly, a fake
convlib holding one wrong idea is told that idea. Used by tests/test_checks*.py.

The check functions run in the pytest process, as in a notebook kernel; the student's convlib
is found by the harness in the current directory, so each helper chdirs to a folder holding
the convlib under test. The wrong implementations live in the catalogue, convbook.mistakes;
`convlib_with` applies one the way the demo's students do.
"""
import shutil
from pathlib import Path

import pytest

from convbook.checking import CheckFailure
from convbook.mistakes import wrong_module_text

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def assert_reference_passes(check, monkeypatch, capfd):
    """solutions/convlib passes, visible and hidden cases: one line each, nothing on stderr."""
    monkeypatch.chdir(SOLUTIONS)
    check()
    check(hidden=True)
    out, err = capfd.readouterr()
    assert err == "", f"{check.__name__} wrote to stderr: {err!r}"
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all("agree with Keras" in line for line in lines), out


def assert_stubs_fail_cleanly(check, first_stub, monkeypatch, capfd):
    """The generated stubs fail with "`<first_stub>` is not implemented", no traceback."""
    assert (ROOT / "convlib" / "__init__.py").exists(), "run `python -m convbook.build` first"
    monkeypatch.chdir(ROOT)
    with pytest.raises(CheckFailure) as info:
        check()
    message = str(info.value)
    assert first_stub in message, message
    assert "not implemented" in message and "Traceback" not in message, message
    assert info.value.record.kind == "not_implemented", info.value.record
    out, err = capfd.readouterr()
    assert err == "", f"{check.__name__} wrote to stderr: {err!r}"


def patched(name, body):
    """Code that redefines function `name`; the new body may call `_right_<name>`."""
    return wrong_module_text("", name, body)


def fake_convlib(tmp_path, module, code):
    """A copy of the reference convlib in `tmp_path` with `code` appended to
    convlib/<module>; returns `tmp_path`."""
    shutil.copytree(SOLUTIONS / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "convlib" / module
    path.write_text(path.read_text() + code)
    return tmp_path


def convlib_with(tmp_path, module, target, body, params=None):
    """A copy of the reference convlib in `tmp_path` whose `target` (function or
    Class.method) of convlib/<module> is replaced by `body` (convbook.mistakes's rule)."""
    return fake_convlib(tmp_path, module, wrong_module_text("", target, body, params))


def assert_misconception_named(check, misconception, module, function, body, tmp_path,
                               monkeypatch, capfd, params=None):
    """A copy of the reference with `function` (or Class.method) of convlib/`module` replaced
    by `body` fails `check`, and the feedback (text and record) names `misconception`."""
    monkeypatch.chdir(convlib_with(tmp_path, module, function, body, params))
    with pytest.raises(CheckFailure) as info:
        check()
    text = getattr(misconception, "text", misconception)
    assert text in str(info.value), f"feedback was\n{info.value}"
    record = info.value.record
    if hasattr(misconception, "id"):
        assert record.misconception == misconception.id, record
    assert record.check and record.case, record
    out, err = capfd.readouterr()
    assert err == "", f"wrote to stderr: {err!r}"
    return info.value


def assert_mistake_named(mistake, tmp_path, monkeypatch, capfd):
    """A catalogue entry (convbook.mistakes.Mistake) is named by its check."""
    return assert_misconception_named(mistake.check, mistake.misconception, mistake.module,
                                      mistake.target, mistake.body, tmp_path, monkeypatch,
                                      capfd, params=mistake.params)


def assert_every_misconception_tested(checks_module, misconceptions):
    """Each Misconception a check module defines is the last item of some test entry."""
    from convbook.checking import Misconception

    named = {getattr(entry, "misconception", None) or entry[-1]
             for entry in misconceptions.values()}
    named = {m.id for m in named}
    defined = {v.id for v in vars(checks_module).values() if isinstance(v, Misconception)}
    assert named == defined, defined ^ named
