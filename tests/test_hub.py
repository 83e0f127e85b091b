"""The course on a real JupyterHub (hub/), end to end, in a real browser.

One scenario on this machine, as root, with everything real and torn down afterwards:

* local accounts the test creates (c2d-inst in c2d-instructors; c2d-s1, c2d-s2 in
  c2d-students) with passwords, a PostgreSQL server of its own for the gradebook
  (tests/pg_support.py), and `hub/setup_hub.py` run into a temp prefix: the shared venv from
  the system python with the project installed from a copy of the repository (non-editable),
  the global configurations, the exchange, the repository's solutions/ and .git closed to all
  but the instructors, and the course directory made by the instructor (`course create
  --group`); then the instructor releases (`convbook.cli release`, run as that user);
* JupyterHub with PAM log-in and configurable-http-proxy on 127.0.0.1 (free ports);
* in Chromium (Playwright, as tests/test_browser_lab.py launches it), student 1 logs in with
  the hub's log-in form, fetches the assignment from the Assignment List, writes correlate2d
  in convlib/correlate.py in the editor, validates chapter 00 and submits; student 2 does
  the same with the kernel flipped;
* the instructor collects, autogrades (bubblewrap sandbox, as a normal user) with the CLI run
  as that user, grades student 1's written answer of chapter 00 by hand in formgrader, in the
  browser, then releases feedback and exports the grades: the CSV holds the automatic points
  (student 1 has correlate2d's, student 2 not) and the hand-given score;
* each student fetches feedback (student 1 in the Assignment List, student 2 with
  `nbgrader fetch_feedback` as that user) and gets their own;
* isolation, tried as the students: no reading another student's home or submission, the
  course directory, solutions/ or .git (and, as a control, the instructor can read them).

Screenshots: test-artifacts/hub-*.png. Skipped, with the reason, when not root or when
chromium, PostgreSQL, configurable-http-proxy, bubblewrap or a system python3 with venv is
missing (in CI, where .ci/run installs them, a missing one is a failure). The venv install
(TensorFlow from pip's cache) takes about a minute; the whole test a few minutes.
"""
import ast
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from pg_support import free_port, pg_bin, postgres_server
from test_browser_lab import CHROMIUM, CHROMIUM_ARGS, require_chromium, set_editor_text

pytestmark = pytest.mark.xdist_group("hub")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SYSTEM_PYTHON = "/usr/bin/python3"

# The course releases the book in parts; the class here works on the first, chapter 00 (the
# whole book, `release` without --chapters, runs the same way: the CLI finds the one assignment).
ASSIGNMENT = "part1"
DEADLINE = "2099-01-01T00:00"
CHAPTER = "00_what_conv2d_computes"
CORRELATE_CHECK = f"{CHAPTER}/ch00-check-01"   # correlate2d's check cell (2 points)
WRITTEN_ANSWER = "ch00-answer"                 # chapter 00's written question (3 points)
MANUAL_SCORE = 2
WRITTEN_TEXT = "Rotating the kernel by 180 degrees turns the correlation into a convolution."

INSTRUCTORS, STUDENTS = "c2d-instructors", "c2d-students"
INSTRUCTOR, STUDENT1, STUDENT2 = "c2d-inst", "c2d-s1", "c2d-s2"
USERS = {INSTRUCTOR: INSTRUCTORS, STUDENT1: STUDENTS, STUDENT2: STUDENTS}
# The repository as an instructor would check it out; the rest is local litter.
NOT_COPIED = {".venv", "workspace", "test-artifacts", "site", "course", "build", ".pytest_cache",
              ".hypothesis", "__pycache__"}


# --------------------------------------------------------------------------- requirements
def missing(reason):
    if os.environ.get("CI"):
        pytest.fail(reason + " (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def require_machine():
    if os.geteuid() != 0:
        pytest.skip("the hub test creates system users and runs JupyterHub: it needs root")
    require_chromium()
    pg_bin("initdb")
    if not shutil.which("configurable-http-proxy"):
        missing("configurable-http-proxy is not installed (npm install -g configurable-http-proxy)")
    if not shutil.which("bwrap"):
        missing("bubblewrap is not installed: autograde as a normal user needs it")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import venv, ensurepip"], capture_output=True)
    if probe.returncode != 0:
        missing(f"{SYSTEM_PYTHON} with venv and ensurepip is needed (apt-get install python3-venv)")


# --------------------------------------------------------------------------- helpers
def run(cmd, check=True, timeout=600, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    if check:
        assert done.returncode == 0, (f"{' '.join(map(str, cmd))} -> {done.returncode}\n"
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def as_user(user, *cmd, check=True, timeout=600, path_first=(), env=None):
    """Run a command as `user` in their home, with a clean login-like environment."""
    home = f"/home/{user}"
    variables = {"HOME": home, "USER": user, "LOGNAME": user,
                 "PATH": os.pathsep.join([str(p) for p in path_first] + ["/usr/bin", "/bin"]),
                 **(env or {})}
    return run(["runuser", "-u", user, "--", "env", "-i"]
               + [f"{k}={v}" for k, v in variables.items()] + list(cmd),
               check=check, timeout=timeout, cwd=home)


def denied(user, *cmd):
    """`cmd` as `user` fails with "Permission denied"; returns its message."""
    done = as_user(user, *cmd, check=False)
    assert done.returncode != 0 and "Permission denied" in done.stderr, (
        f"{user} could run {' '.join(map(str, cmd))}: rc={done.returncode}\n{done.stdout[:500]}"
        f"\n{done.stderr[:500]}")
    return done.stderr.strip()


def remove_account(user):
    if run(["id", "-u", user], check=False).returncode == 0:
        run(["userdel", "-r", "-f", user], check=False)


def remove_group(group):
    if run(["getent", "group", group], check=False).returncode == 0:
        run(["groupdel", group], check=False)


def kill_user_processes(users):
    """What the hub started as the test's users (servers, kernels) and left behind."""
    import psutil

    procs = [p for p in psutil.process_iter(["username"]) if p.info["username"] in users]
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


def copy_repository(dest):
    def ignore(folder, names):
        top = Path(folder) == ROOT
        return {n for n in names if n in ("__pycache__",) or n.endswith(".egg-info")
                or (top and n in NOT_COPIED)}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


def function_span(text, name):
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return node.lineno - 1, node.end_lineno


def answer_correlate(stub):
    """The released correlate.py with correlate2d's body from solutions/ (others left stubs)."""
    solution = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "",
                      (ROOT / "solutions" / "convlib" / "correlate.py").read_text(),
                      flags=re.MULTILINE)
    start, end = function_span(solution, "correlate2d")
    body = solution.splitlines(keepends=True)[start:end]
    lines = stub.splitlines(keepends=True)
    start, end = function_span(stub, "correlate2d")
    return "".join(lines[:start] + body + lines[end:])


def flipped_correlate(stub):
    """The same with the classic mistake: the kernel flipped (a true convolution)."""
    text = answer_correlate(stub)
    at = text.index("kernel = np.asarray(kernel)", text.index("def correlate2d("))
    line_end = text.index("\n", at)
    indent = " " * (at - text.rindex("\n", 0, at) - 1)
    return text[:line_end + 1] + f"{indent}kernel = kernel[::-1, ::-1]   # my mistake\n" + text[line_end + 1:]


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"hub-{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def scratch_space():
    """Where the temp prefix goes: RAM (/dev/shm) when it has room, because deleting the
    venv's ~1.5 GB from a disk mounted with `discard` takes minutes; else the temp folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 6 * 2**30:
        return str(shm)
    return None


class Timer:
    def __init__(self):
        self.start = self.last = time.monotonic()

    def __call__(self, what):
        now = time.monotonic()
        print(f"[hub test] {what}: {now - self.last:.1f} s (total {now - self.start:.1f} s)",
              flush=True)
        self.last = now


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def site():
    """Accounts, PostgreSQL, hub/setup_hub.py into a temp prefix, the course released."""
    require_machine()
    timer = Timer()
    for user in USERS:
        remove_account(user)
    for group in (INSTRUCTORS, STUDENTS):
        remove_group(group)
    top = Path(tempfile.mkdtemp(prefix="c2d-hub-", dir=scratch_space()))
    top.chmod(0o755)                      # users reach the venv, the exchange, the course
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    try:
        for group in (INSTRUCTORS, STUDENTS):
            run(["groupadd", group])
        for user, group in USERS.items():
            run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, user])
        run(["chpasswd"], input="".join(f"{u}:{p}\n" for u, p in passwords.items()))
        repo = top / "repo"
        copy_repository(repo)
        with postgres_server("conv2d_gradebook") as pg:
            timer("accounts, repository copy, PostgreSQL")
            setup = [SYSTEM_PYTHON, repo / "hub" / "setup_hub.py", "--prefix", top / "opt",
                     "--repo", repo, "--instructors-group", INSTRUCTORS,
                     "--students-group", STUDENTS, "--exchange", top / "exchange",
                     "--course", top / "srv" / "course", "--instructor", INSTRUCTOR,
                     "--db-url", pg["url"], "--bind-url", f"http://127.0.0.1:{free_port()}",
                     "--no-npm"]
            print(run(setup, timeout=1200).stdout)
            timer("hub/setup_hub.py (shared venv, config, exchange, course)")
            again = run(setup, timeout=300).stdout                     # idempotent
            assert "up to date" in again and "exists (left as it is)" in again, again
            venv = top / "opt" / "venv"
            info = {"top": top, "repo": repo, "prefix": top / "opt", "venv": venv,
                    "python": venv / "bin" / "python", "exchange": top / "exchange",
                    "course": top / "srv" / "course", "passwords": passwords, "pg": pg,
                    "timer": timer,
                    "settings": json.loads((top / "opt" / "etc" / "conv2d_hub.json").read_text())}
            out = instructor_cli(info, "release", "--assignment", ASSIGNMENT,
                                 "--chapters", CHAPTER[:2], "--deadline", DEADLINE)
            assert out.returncode == 0, out.stdout + out.stderr
            assert f"Released {ASSIGNMENT}: 1 notebooks ({CHAPTER})" in out.stdout, out.stdout
            timer("release (as the instructor)")
            yield info
    finally:
        kill_user_processes(set(USERS))
        for user in USERS:
            remove_account(user)
        for group in (INSTRUCTORS, STUDENTS):
            remove_group(group)
        shutil.rmtree(top, ignore_errors=True)
        timer("clean-up (servers, PostgreSQL, accounts, files)")


def instructor_cli(site, *args, timeout=900):
    """`python -m convbook.cli ...` as the instructor, in the environment the hub gives the
    instructor's terminal (the shared venv first on PATH, the course in $CONVBOOK_COURSE)."""
    return as_user(INSTRUCTOR, site["python"], "-m", "convbook.cli", *args, check=False,
                   timeout=timeout, path_first=[site["venv"] / "bin"],
                   env={"TF_CPP_MIN_LOG_LEVEL": "3", "CONVBOOK_COURSE": site["course"]})


@pytest.fixture(scope="module")
def hub(site):
    """JupyterHub (and its proxy) started as an instructor would, stopped with its servers."""
    port = int(site["settings"]["bind_url"].rsplit(":", 1)[1])
    log = open(site["top"] / "jupyterhub.log", "w")
    proc = subprocess.Popen(
        [site["venv"] / "bin" / "jupyterhub", "-f", site["prefix"] / "etc" / "jupyterhub_config.py",
         f"--JupyterHub.hub_port={free_port()}",
         f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}"],
        cwd=site["prefix"] / "var", stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/hub/api", timeout=5)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                pytest.fail("JupyterHub did not start:\n"
                            + (site["top"] / "jupyterhub.log").read_text()[-3000:])
            time.sleep(1)
    site["timer"]("JupyterHub up")
    yield {"base": base, "log": site["top"] / "jupyterhub.log"}
    proc.send_signal(signal.SIGTERM)        # the hub stops the proxy and every user's server
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(site["top"] / "jupyterhub.log", ARTIFACTS / "hub-jupyterhub.log")


@pytest.fixture(scope="module")
def browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------- browser steps
def log_in(browser, hub, site, user, name):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{hub['base']}/hub/login")
    page.fill("input#username_input", user)
    page.fill("input#password_input", site["passwords"][user])
    shot(page, f"{name}-login")
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=180_000)
    page.locator(".jp-DirListing-content").wait_for()
    return page


def open_assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item:visible").filter(has_text="Assignment List").click()
    panel = page.locator("#released_assignments_list")
    panel.wait_for()
    return page


def row(page, list_id, text):
    return page.locator(f"#{list_id} .list_item").filter(has_text=text).first


def fetch_assignment(page, name):
    open_assignment_list(page)
    row(page, "released_assignments_list", ASSIGNMENT).get_by_role("button", name="Fetch").click()
    row(page, "fetched_assignments_list", ASSIGNMENT).wait_for()
    shot(page, f"{name}-fetched")


def open_in_browser(page, *parts):
    """Double-click through the file browser from the home folder."""
    page.locator(".jp-BreadCrumbs-home").first.click()
    listing = page.locator(".jp-DirListing-content")
    for part in parts:
        listing.get_by_text(part, exact=True).first.dblclick()
        page.wait_for_timeout(400)


def write_correlate(page, text, name):
    open_in_browser(page, ASSIGNMENT, "convlib", "correlate.py")
    page.locator(".jp-FileEditor .cm-content").first.wait_for()
    set_editor_text(page, text)
    shot(page, f"{name}-editor")


def open_chapter(page):
    open_in_browser(page, ASSIGNMENT, f"{CHAPTER}.ipynb")
    notebook = page.locator(".jp-NotebookPanel").filter(
        has=page.locator("h1", has_text="00 · what Conv2D computes"))
    notebook.wait_for()
    return notebook


def write_answer(page, notebook, text):
    """The chapter's written question: edit its answer cell, render it, save."""
    cell = notebook.locator(".jp-MarkdownCell").filter(has_text="YOUR ANSWER HERE").first
    cell.scroll_into_view_if_needed()
    cell.dblclick()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(800)


def validate_chapter(page, notebook, name):
    notebook.locator(".jp-Toolbar").get_by_text("Validate", exact=True).first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=300_000)
    dialog.locator(".jp-Dialog-content").filter(has_text=re.compile(r"\S")).wait_for()
    page.wait_for_timeout(500)
    text = dialog.inner_text()
    shot(page, f"{name}-validate")
    dialog.get_by_role("button").last.click()
    return text


def submit(page, name):
    page.locator(".lm-TabBar-tab").filter(has_text="Assignments").first.click()
    row(page, "fetched_assignments_list", ASSIGNMENT).get_by_role("button", name="Submit").click()
    row(page, "submitted_assignments_list", ASSIGNMENT).wait_for(timeout=120_000)
    shot(page, f"{name}-submitted")


def student_works(browser, hub, site, user, name, make_answer, written=None):
    page = log_in(browser, hub, site, user, name)
    fetch_assignment(page, name)
    fetched = Path(f"/home/{user}") / ASSIGNMENT / "convlib" / "correlate.py"
    assert fetched.is_file(), f"the Assignment List did not fetch into {fetched.parent.parent}"
    write_correlate(page, make_answer(fetched.read_text()), name)
    assert "kernel" in fetched.read_text() and "NotImplementedError()\n\n\ndef conv2d_valid" \
        not in fetched.read_text(), "the editor did not save correlate2d"
    notebook = open_chapter(page)
    if written:
        write_answer(page, notebook, written)
    report = validate_chapter(page, notebook, name)
    submit(page, name)
    return page, report


def grade_by_hand(browser, hub, site):
    """The instructor's formgrader: student 1's written answer of chapter 00, by hand."""
    from playwright.sync_api import expect

    page = log_in(browser, hub, site, INSTRUCTOR, "instructor")
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    menu = page.locator(".lm-Menu-item:visible")
    assert menu.filter(has_text="Formgrader").count() >= 1
    assert menu.filter(has_text="Assignment List").count() == 0     # not an instructor's tool
    shot(page, "instructor-menu")
    page.keyboard.press("Escape")
    # JupyterHub forbids framing a user's server (CSP frame-ancestors 'none'), so the menu's
    # in-JupyterLab tab stays blank: formgrader is used in a browser tab of its own.
    page.goto(f"{hub['base']}/user/{INSTRUCTOR}/formgrader/manage_students/{STUDENT1}/{ASSIGNMENT}")
    chapter = page.get_by_role("link", name=CHAPTER).first
    chapter.wait_for()                                   # the student's notebooks are listed
    shot(page, "instructor-formgrader")
    chapter.click()
    answer = page.locator(f"input.score#{WRITTEN_ANSWER}")
    answer.wait_for()
    page.wait_for_load_state("networkidle")              # the grades are loaded, then typed over
    answer.scroll_into_view_if_needed()
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                              and r.request.method == "PUT") as saved:
        answer.fill(str(MANUAL_SCORE))
        answer.press("Tab")                              # formgrader saves on change
    assert saved.value.ok, saved.value.status
    page.wait_for_timeout(500)
    shot(page, "instructor-manual-grade")
    page.reload()                                        # and it is still there
    expect(answer).to_have_value(str(MANUAL_SCORE))
    return page


# --------------------------------------------------------------------------- the scenario
@pytest.mark.hub
def test_course_on_a_real_jupyterhub(site, hub, browser):
    timer = site["timer"]
    course, exchange, repo = site["course"], site["exchange"], site["repo"]

    # -- what setup_hub.py made: who may read what
    assert oct(course.stat().st_mode & 0o7777) == "0o2770", oct(course.stat().st_mode)
    assert oct(exchange.stat().st_mode & 0o7777) == "0o1777", oct(exchange.stat().st_mode)
    assert (repo / "solutions").stat().st_mode & 0o007 == 0

    # -- two students, in the browser
    page1, report1 = student_works(browser, hub, site, STUDENT1, "s1", answer_correlate,
                                     written=WRITTEN_TEXT)
    assert "✗ correlate.correlate2d" not in report1 and "conv2d_valid" in report1, report1
    assert "You did not provide a response" not in report1, report1     # the answer is saved
    timer("student 1: log in, fetch, edit, validate, submit")
    page2, report2 = student_works(browser, hub, site, STUDENT2, "s2", flipped_correlate)
    assert "true convolution" in report2, report2
    timer("student 2: the same, kernel flipped")

    # -- the instructor's CLI, as the instructor
    for step in (["collect", "--exchange"], ["autograde", "--jobs", "2"]):
        out = instructor_cli(site, *step)
        assert out.returncode == 0, f"{step}: {out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        print(out.stdout)
    assert "2 graded, 0 failed" in out.stdout, out.stdout
    timer("collect --exchange, autograde (as the instructor)")

    # -- formgrader in the browser: one written answer graded by hand
    grade_by_hand(browser, hub, site)
    timer("formgrader: a written answer graded by hand")

    out = instructor_cli(site, "feedback", "--release")
    assert out.returncode == 0, out.stdout + out.stderr
    csv_path = Path(f"/home/{INSTRUCTOR}/grades.csv")
    out = instructor_cli(site, "grades", "--csv", csv_path)
    assert out.returncode == 0, out.stdout + out.stderr
    with open(csv_path) as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {STUDENT1, STUDENT2}, rows.keys()
    assert float(rows[STUDENT1][CORRELATE_CHECK]) == 2, rows[STUDENT1]
    assert float(rows[STUDENT2][CORRELATE_CHECK]) == 0, rows[STUDENT2]
    assert float(rows[STUDENT1][f"{CHAPTER}/{WRITTEN_ANSWER}"]) == MANUAL_SCORE, rows[STUDENT1]
    assert float(rows[STUDENT1]["written"]) == MANUAL_SCORE
    assert rows[STUDENT2][f"{CHAPTER}/{WRITTEN_ANSWER}"] in ("", "0", "0.0"), rows[STUDENT2]
    assert rows[STUDENT1]["sandbox"] == "bwrap", rows[STUDENT1]["sandbox"]
    timer("feedback --release, grades --csv")

    # -- feedback: student 1 in the Assignment List, student 2 with nbgrader in a shell
    page1.locator(".lm-TabBar-tab").filter(has_text="Assignments").first.click()
    page1.locator("#refresh_assignments_list").click()
    submitted = row(page1, "submitted_assignments_list", ASSIGNMENT)
    submitted.get_by_role("button", name="Fetch Feedback").click()
    submitted.get_by_text("view feedback").wait_for(timeout=120_000)
    shot(page1, "s1-feedback")
    out = as_user(STUDENT2, site["venv"] / "bin" / "nbgrader", "fetch_feedback", ASSIGNMENT,
                  check=False, path_first=[site["venv"] / "bin"],
                  env={"JUPYTER_CONFIG_PATH": site["prefix"] / "etc" / "jupyter" / "students"})
    assert out.returncode == 0, out.stdout + out.stderr
    pages = {}
    for user in (STUDENT1, STUDENT2):
        found = sorted(Path(f"/home/{user}/{ASSIGNMENT}/feedback").glob(f"*/{CHAPTER}.html"))
        assert len(found) == 1, (user, found)            # one submission, one set of pages
        pages[user] = found[0].read_text()
    assert "✓ correlate.correlate2d" in pages[STUDENT1] and "true convolution" not in pages[STUDENT1]
    assert "true convolution" in pages[STUDENT2] and "✓ correlate.correlate2d" not in pages[STUDENT2]
    timer("feedback fetched by each student")

    # -- isolation, tried as the users themselves
    s2_copy = f"/home/{STUDENT2}/{ASSIGNMENT}/convlib/correlate.py"
    denied(STUDENT1, "cat", s2_copy)
    inbound = exchange / "conv2d-from-scratch" / "inbound"
    denied(STUDENT1, "ls", inbound)                       # submissions cannot be listed
    collected = course / "submitted" / STUDENT2 / ASSIGNMENT / "convlib" / "correlate.py"
    assert collected.is_file()
    for student in (STUDENT1, STUDENT2):
        denied(student, "ls", course)
        denied(student, "cat", collected)
        denied(student, "cat", repo / "solutions" / "convlib" / "correlate.py")
        denied(student, "ls", repo / ".git")
    as_user(INSTRUCTOR, "cat", repo / "solutions" / "convlib" / "correlate.py")   # the control
    as_user(INSTRUCTOR, "ls", course / "submitted")
    timer("isolation checks")


# --------------------------------------------------------------------------- course create --group
def test_course_create_group_shares_the_course_with_that_group_only(tmp_path):
    """`course create --group G`: group-owned, setgid, 2770, the secret group-readable; the
    default stays 0700; an unknown group is refused in one line. (Any user: their own group.)"""
    import grp

    from test_instructor import make_tiny_source, run_cli

    group = grp.getgrgid(os.getgid()).gr_name
    source = make_tiny_source(tmp_path / "src")
    code, out = run_cli("course", "create", tmp_path / "shared", "--group", group, "--source", source)
    assert code == 0, out
    assert f"mode 2770, group {group}" in out
    shared = tmp_path / "shared"
    assert shared.stat().st_mode & 0o7777 == 0o2770 and shared.stat().st_gid == os.getgid()
    assert (shared / ".convbook-secret").stat().st_mode & 0o777 == 0o640
    assert (shared / "source").stat().st_gid == os.getgid()          # setgid: inherited

    code, out = run_cli("course", "create", tmp_path / "private", "--source", source)
    assert code == 0 and (tmp_path / "private").stat().st_mode & 0o7777 == 0o700, out

    code, out = run_cli("course", "create", tmp_path / "nope", "--group", "c2d-no-such-group",
                        "--source", source)
    assert code == 2 and out.startswith("error: there is no group 'c2d-no-such-group'"), out
    assert "Traceback" not in out and not (tmp_path / "nope").exists()
