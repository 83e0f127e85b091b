"""The reader's JupyterLab in a real browser (Chromium driven by Playwright), as a reader uses it.

One scenario, in order, on a throw-away copy of the book (so a developer's own workspace is
never touched), started the way `make lab` starts it (`python -m convbook.reader lab`):

 1. the server opens on the contents page, not marked modified once its kernel is up; no news
    pop-up; screenshot 01-contents.png;
 2. a click on the chapter 00 link opens the chapter; 02-chapter.png;
 3. the file browser shows convlib/; a double-click opens convlib/correlate.py in the editor;
    the reader writes a correct correlate2d there, in the browser's editor, and saves; 03-editor.png;
 4. the chapter's check 0.1 is run: it passes ("✓ correlate.correlate2d"); 04-check-passes.png;
 5. the reader makes the classic mistake (flips the kernel), saves, runs the check again: the
    cell shows the misconception's sentence, and no frame of convbook; 05-misconception.png;
 5b. Run All runs every cell (the failing check does not stop it); the stamp figure says (in its banner, and in words under it) that
    the reader's output disagrees with Keras, and draws Keras's beside it; 05b-figure-banner.png;
 6. Validate (nbgrader's toolbar button) runs the chapter and reports the failing check,
    with the feedback and no convbook frame; 06-validate.png.

Screenshots are kept in test-artifacts/browser/ (printed at the end). Chromium comes from
Debian (`apt-get install chromium fonts-noto-cjk`; .ci/run does): missing, the test is skipped
with that reason, except in CI where it fails.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
TOKEN = "browser-test-token"
CHAPTER = "00_what_conv2d_computes.ipynb"

pytestmark = pytest.mark.xdist_group("browser")


def require_chromium():
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = "Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install playwright)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing + "; .ci/run must install it", pytrace=False)
        pytest.skip(missing)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reference_correlate():
    text = (ROOT / "solutions" / "convlib" / "correlate.py").read_text()
    return re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", text, flags=re.MULTILINE)


def flipped_correlate():
    text = reference_correlate()
    start = text.index("def correlate2d(")
    first = text.index("kernel = np.asarray(kernel)", start)
    line_end = text.index("\n", first)
    indent = " " * (first - text.rindex("\n", 0, first) - 1)
    return (text[:line_end + 1] + f"{indent}kernel = kernel[::-1, ::-1]   # my mistake\n"
            + text[line_end + 1:])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_chromium()
    repo = tmp_path_factory.mktemp("reader") / "repo"
    for name in ("book", "convlib", "jupyter"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("NBGRADER_EXECUTION", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "convbook.reader", "--repo", str(repo), "lab", "--no-browser",
         "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={TOKEN}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=5)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab ended: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(1)
    yield {"base": base, "workspace": repo / "workspace"}
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def shot(page, name):
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def set_editor_text(page, text):
    """Replace the whole text of the focused CodeMirror editor, as a reader typing would."""
    editor = page.locator(".jp-FileEditor .cm-content").first
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Control+s")
    page.wait_for_timeout(800)


def run_cell_containing(page, notebook_panel, needle):
    cell = notebook_panel.locator(".jp-CodeCell").filter(has_text=needle).first
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    return cell


def test_reader_writes_a_function_in_the_browser_and_checks_it(lab, page):
    # 1. the contents page
    page.goto(f"{lab['base']}/?token={TOKEN}")
    page.wait_for_url(re.compile(r"/lab/tree/index\.ipynb"))
    contents = page.locator(".jp-NotebookPanel").filter(has_text="Conv2D from Scratch — contents")
    contents.wait_for()
    page.locator(".jp-StatusBar-Widget").filter(has_text="Idle").first.wait_for()  # kernel up
    page.wait_for_timeout(1500)
    assert page.get_by_text("Would you like to get notified").count() == 0    # no news pop-up
    # opening it (and starting its kernel) did not mark the page modified
    tab = page.locator(".lm-TabBar-tab").filter(has_text="index.ipynb").first
    assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), tab.get_attribute("class")
    listing = page.locator(".jp-DirListing-content")
    for name in ("convlib", "index.ipynb", CHAPTER):
        assert listing.get_by_text(name, exact=True).count() == 1, name
    assert listing.get_by_text("solutions").count() == 0
    shot(page, "01-contents.png")

    # 2. the chapter, from its link
    contents.get_by_role("link", name=re.compile("00 · what Conv2D computes")).first.click()
    chapter = page.locator(".jp-NotebookPanel").filter(
        has=page.locator("h1", has_text="00 · what Conv2D computes"))
    chapter.wait_for()
    shot(page, "02-chapter.png")

    # 3. convlib/correlate.py in the editor, from the file browser
    listing.get_by_text("convlib", exact=True).dblclick()
    listing.get_by_text("correlate.py", exact=True).dblclick()
    page.locator(".jp-FileEditor .cm-content").first.wait_for()
    set_editor_text(page, reference_correlate())
    saved = (lab["workspace"] / "convlib" / "correlate.py").read_text()
    assert "raise NotImplementedError" not in saved.split("def conv2d_valid")[0]
    shot(page, "03-editor.png")

    # 4. the check passes
    page.locator(".lm-TabBar-tab").filter(has_text=CHAPTER).first.click()
    cell = run_cell_containing(page, chapter, "checks.check_correlate2d()")
    cell.get_by_text("✓ correlate.correlate2d", exact=False).wait_for(timeout=180_000)
    shot(page, "04-check-passes.png")

    # 5. the classic mistake: the misconception is named, no convbook frame
    page.locator(".lm-TabBar-tab").filter(has_text="correlate.py").first.click()
    set_editor_text(page, flipped_correlate())
    page.locator(".lm-TabBar-tab").filter(has_text=CHAPTER).first.click()
    cell = run_cell_containing(page, chapter, "checks.check_correlate2d()")
    cell.get_by_text("true convolution", exact=False).wait_for(timeout=120_000)
    output = cell.locator(".jp-OutputArea").inner_text()
    assert "✗ correlate.correlate2d" in output and "convbook/" not in output, output
    assert "0 of 2 points" in output, output                   # the points at stake
    assert "Traceback" not in output, output
    shot(page, "05-misconception.png")

    # 5b. Run All: every cell runs (a failing check does not stop it), and the figure drawn
    # from the reader's code says it disagrees with Keras
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    cell = chapter.locator(".jp-CodeCell").filter(has_text="figures.stamp_figure(").first
    cell.get_by_text("disagrees with Keras", exact=False).first.wait_for(timeout=180_000)
    last = chapter.locator(".jp-CodeCell").last
    last.locator(".jp-InputPrompt").filter(has_text=re.compile(r"\[\d+\]")).wait_for(
        timeout=180_000)                                  # Run All reached the last cell
    figure = cell.locator(".jp-OutputArea-output img")
    assert figure.count() == 1                                         # and draws Keras's too
    figure.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)                      # JupyterLab renders cells as they appear
    figure.screenshot(path=str(ARTIFACTS / "05b-figure-banner.png"))
    print(f"screenshot: {ARTIFACTS / '05b-figure-banner.png'}")

    # 6. Validate: the whole chapter as the grader runs it
    chapter.locator(".jp-Toolbar").get_by_text("Validate", exact=True).first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=240_000)
    dialog.get_by_text("true convolution", exact=False).first.wait_for(timeout=240_000)
    text = dialog.inner_text()
    assert "CheckFailure" in text and "convbook/" not in text, text
    shot(page, "06-validate.png")
