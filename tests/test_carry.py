"""`python -m convbook.reader carry EARLIER NEW`: a student's functions from an earlier part's
folder into a new part's convlib (a part released with --keep-stubs)."""
import shutil
from pathlib import Path

import pytest

from convbook import reader
from convbook.carry import carry_module
from convbook.checks import basics

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

MY_HELPER = '''

def my_window_sum(window, kernel):
    return float(np.sum(window * kernel))
'''


def part_folder(tmp_path, name):
    folder = tmp_path / name
    shutil.copytree(ROOT / "convlib", folder / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_carry_brings_written_functions_helpers_and_imports_and_nothing_else(tmp_path, capsys):
    earlier, new = part_folder(tmp_path, "part1"), part_folder(tmp_path, "part2")
    mine = (SOLUTIONS / "convlib" / "correlate.py").read_text()
    mine = mine.replace("import numpy as np", "import math\nimport numpy as np", 1) + MY_HELPER
    (earlier / "convlib" / "correlate.py").write_text(mine)
    (earlier / "convlib" / "my_utils.py").write_text("def twice(x):\n    return 2 * x\n")
    # in the new part the student already wrote pad_spatial their own way: never touched
    padding = (new / "convlib" / "padding.py").read_text()
    assert "raise NotImplementedError()" in padding
    written = padding.replace("# YOUR CODE HERE\n    raise NotImplementedError()",
                              "return 'my own pad'", 1)
    (new / "convlib" / "padding.py").write_text(written)
    (earlier / "convlib" / "padding.py").write_text(
        (SOLUTIONS / "convlib" / "padding.py").read_text())

    assert reader.main(["carry", str(earlier), str(new)]) == 0
    out = capsys.readouterr().out
    assert "carried  convlib/correlate.py: correlate2d, conv2d_valid, my_window_sum" in out, out
    assert "copied   convlib/my_utils.py" in out
    text = (new / "convlib" / "correlate.py").read_text()
    assert "raise NotImplementedError()" not in text and "import math" in text
    assert "def my_window_sum" in text
    assert (new / "convlib" / "my_utils.py").is_file()
    assert "'my own pad'" in (new / "convlib" / "padding.py").read_text()
    # the untouched modules stay the new part's own
    assert (new / "convlib" / "layer.py").read_text() == (ROOT / "convlib" / "layer.py").read_text()


def test_carried_functions_pass_their_check(tmp_path, monkeypatch, capsys):
    earlier, new = part_folder(tmp_path, "part1"), part_folder(tmp_path, "part2")
    shutil.copy2(SOLUTIONS / "convlib" / "correlate.py", earlier / "convlib" / "correlate.py")
    reader.main(["carry", str(earlier), str(new)])
    monkeypatch.chdir(new)
    basics.check_correlate2d()
    assert "agree with Keras" in capsys.readouterr().out


def test_a_new_function_of_the_book_stays_a_stub():
    """The new part's module gained a function the earlier part did not have: it stays."""
    earlier = "import numpy as np\n\n\ndef f(x):\n    return x + 1\n"
    new = ("import numpy as np\n\n\ndef f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
           "\n\ndef g(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    text, carried = carry_module(earlier, new)
    assert carried == ["f"]
    assert "return x + 1" in text and text.count("raise NotImplementedError()") == 1
    compile(text, "m.py", "exec")


@pytest.mark.parametrize("bad", ["nowhere", "same"])
def test_carry_says_what_is_wrong(tmp_path, capsys, bad):
    new = part_folder(tmp_path, "part2")
    earlier = new if bad == "same" else tmp_path / "nowhere"
    assert reader.main(["carry", str(earlier), str(new)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error: ") and "Traceback" not in out
