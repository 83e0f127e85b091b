"""The README's first command, `make lab`, really serves the book in JupyterLab: the reader's
workspace (the contents page, the chapters, their own convlib/ and nothing else), opening on
the contents page, with nbgrader's instructor tools switched off."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_make_lab_serves_the_book():
    port, token = _free_port(), "conv2d-test-token"
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token}"
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT,
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
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
