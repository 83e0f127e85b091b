"""The README's first command, `make lab`, really serves the book in JupyterLab: the reader's
workspace (the contents page, the chapters, their own convlib/ and nothing else), opening on
the contents page, with nbgrader's instructor tools switched off."""
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from convbook import reader

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc):
    """End a server started in its own session, and everything it started."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_make_lab_serves_the_book(tmp_path):
    port, token = _free_port(), "conv2d-test-token"
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token}"
    # a throw-away workspace: a developer's own workspace/ is never touched
    env = dict(os.environ, CONVBOOK_WORKSPACE=str(tmp_path / "workspace"))
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.time() + 90
        listing = None
        while time.time() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token={token}"
                with urllib.request.urlopen(url, timeout=5) as response:
                    listing = json.load(response)
                break
            except OSError:
                time.sleep(1)
        assert listing is not None, (
            f"JupyterLab did not answer on port {port}: {proc.stderr.read1().decode()[-2000:]}"
            if proc.poll() is not None else f"JupyterLab did not answer on port {port}")
        served = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (ROOT / "book").glob("*.ipynb")} | {"convlib"}
        assert "index.ipynb" in expected and served == expected     # no solutions/, no tooling
        # the file every exercise names opens in the editor
        url = f"http://127.0.0.1:{port}/api/contents/convlib/correlate.py?token={token}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "def correlate2d(" in json.load(response)["content"]
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/?token={token}", timeout=10)
            location = None
        except urllib.error.HTTPError as redirect:
            location = redirect.headers["Location"]
        assert location and location.split("?")[0].endswith("/lab/tree/index.ipynb"), location
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}",
                                    timeout=10) as response:
            page = response.read().decode()
        assert "JupyterLab" in page
        assert '"@jupyter/nbgrader:formgrader"' in page.split("disabledExtensions")[1][:400]
    finally:
        _stop(proc)


def _start_reader_lab(repo, mode, port, token):
    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)
    return subprocess.Popen(
        [sys.executable, "-m", "convbook.reader", "--repo", str(repo), "lab", "--mode", mode,
         "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)


def _get_json(url, deadline_s=90):
    deadline = time.time() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, None
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(1)


def test_course_mode_lists_the_released_assignment_and_reading_mode_has_no_list(tmp_path):
    """Course mode: the Assignment List's server side answers with the course's released
    assignment (exchange settings in workspace/nbgrader_config.py, as the README says).
    Reading mode: no Assignment List at all (so none of its errors)."""
    from convbook import cli

    course, exchange = tmp_path / "course", tmp_path / "exchange"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["course", "create", str(course), "--exchange", str(exchange)]) == 0
        assert cli.main(["release", "--course", str(course)]) == 0, out.getvalue()
    repo = tmp_path / "repo"
    for name in ("book", "convlib", "jupyter"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    reader.ensure_workspace(repo, lambda _: None)
    (repo / "workspace" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = 'conv2d-from-scratch'\n")
    token = "modes-token"
    for mode, expected in (("course", 200), ("reading", 404)):
        port = _free_port()
        proc = _start_reader_lab(repo, mode, port, token)
        try:
            _get_json(f"http://127.0.0.1:{port}/api/status?token={token}")
            status, body = _get_json(f"http://127.0.0.1:{port}/assignments"
                                     f"?course_id=conv2d-from-scratch&token={token}")
            assert status == expected, (mode, status, body)
            if mode == "course":
                assert body["success"], body
                released = [a for a in body["value"] if a["assignment_id"] == "conv2d"]
                assert released and released[0]["status"] == "released", body
        finally:
            _stop(proc)
