"""`make site`: the book as a static website (convbook/site.py).

The real book is built once per test run (module fixture, `python -m convbook.site --out`),
executed on the stubs as a new reader sees it; the tests then read the files: a page per
chapter, links that resolve, figures embedded, maths with a local MathJax, no instructor-only
text, nothing loaded from outside the site. A browser (Playwright driving Debian's Chromium)
opens the served site, clicks into the first chapter and checks what a reader sees; its
screenshots are kept in test-artifacts/site/ (their paths are printed; `-s` shows them).
Small synthetic books (markdown only: no kernel) test the generated contents page, the link
rewriting and that a leak fails the build.
"""
import fcntl
import functools
import glob
import html.parser
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from convbook import layout
from convbook import site as site_module

pytestmark = pytest.mark.xdist_group("site")

ROOT = Path(__file__).resolve().parents[1]
BOOK = site_module.chapters(ROOT / "book")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CJK_FONTS = "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The real book's site, built once per test run: the xdist_group keeps this module on
    one worker, and should the tests still be spread (pytest 9.2 with pytest-xdist 3.8 drops
    the groups: pytest-xdist issue 1386), the first worker builds under a lock in the run's
    shared temporary folder and the others reuse its site."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent                   # pytest-of-<user>/pytest-<n>/, one per run
    out, record = shared / "convbook-site" / "site", shared / "convbook-site" / "build.json"
    with open(shared / "convbook-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            record.parent.mkdir(exist_ok=True)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "convbook.site", "--out", str(out)],
                                  cwd=ROOT, capture_output=True, text=True, timeout=1200)
            record.write_text(json.dumps({
                "returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                "seconds": time.perf_counter() - start}))
        built = json.loads(record.read_text())
    print(f"site built in {built['seconds']:.1f} s:\n{built['stdout']}{built['stderr']}")
    assert built["returncode"] == 0, built["stdout"] + built["stderr"]
    assert "warning:" not in built["stderr"], built["stderr"]   # broken links, no MathJax...
    return out


class _Links(html.parser.HTMLParser):
    """Every URL a page refers to, with the tag and attribute it sits in."""

    def __init__(self):
        super().__init__()
        self.found = []        # (tag, attribute, value, attrs)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src", "srcset", "data", "poster", "action"):
            if attrs.get(name) is not None:
                self.found.append((tag, name, attrs[name], attrs))


def links(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def _is_local(target):
    return not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|//", target)


def _nav_targets(page):
    """(rel or class, href) of the links in the page's chapter navigation bars."""
    return [(attrs.get("rel") or attrs.get("class"), value)
            for tag, name, value, attrs in links(page)
            if tag == "a" and (attrs.get("class") or "").startswith("cb-")]


def _title(notebook):
    return site_module.first_heading(nbformat.read(notebook, as_version=4), notebook.stem)


# ------------------------------------------------------------------ the real book
def test_every_chapter_has_a_page(site):
    assert BOOK, "no chapter in book/: run `make build`"
    assert (site / "index.html").is_file()
    for notebook in BOOK:
        page = site / f"{notebook.stem}.html"
        assert page.is_file(), f"no page for {notebook.name}"
        text = page.read_text(encoding="utf-8")
        assert f"<title>{site_module.plain(_title(notebook))}</title>" in text
    assert sorted(p.name for p in site.glob("*.html")) == sorted(
        ["index.html"] + [f"{p.stem}.html" for p in BOOK])


def test_index_links_to_every_chapter_and_every_link_resolves(site):
    index_targets = {value.split("#")[0] for tag, _, value, _ in links(site / "index.html")
                     if tag == "a"}
    for notebook in BOOK:
        assert f"{notebook.stem}.html" in index_targets, f"index does not link {notebook.name}"
    for page in sorted(site.glob("*.html")):
        for tag, name, value, _ in links(page):
            if not _is_local(value) or value.startswith("#"):
                continue
            assert ".ipynb" not in value, f"{page.name}: link to a notebook left: {value}"
            target = (page.parent / value.split("#")[0].split("?")[0]).resolve()
            assert target.is_relative_to(site.resolve()) and target.is_file(), (
                f"{page.name}: <{tag} {name}={value!r}> is not a file of the site")


def test_chapters_have_previous_contents_next(site):
    pages = [f"{p.stem}.html" for p in BOOK]
    for i, name in enumerate(pages):
        targets = _nav_targets(site / name)
        expected = ([("prev", pages[i - 1])] if i else []) + [("cb-contents", "index.html")] + (
            [("next", pages[i + 1])] if i + 1 < len(pages) else [])
        assert targets == expected * 2, f"{name}: navigation {targets}"   # top and bottom
    assert ("next", pages[0]) in _nav_targets(site / "index.html")


def test_a_figure_drawn_from_keras_is_embedded(site):
    """docs/DESIGN.md: a chapter's figure is there on first reading (drawn from Keras or a
    numpy reference in the kernel), so a new reader's pages show at least one."""
    text = "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    assert re.search(r'<img [^>]*src="data:image/png;base64,', text), (
        "no figure embedded in any page: every figure of the book needs the reader's code")


def test_pages_show_the_book_as_a_new_reader_sees_it(site):
    text = "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    # figure cells that need the reader's code say what to write; the checks fail on stubs
    assert "No figure yet" in text
    assert "not implemented yet" in text      # what the check cells say on the stubs
    assert "YOUR ANSWER HERE" in text         # the written answer, unanswered


def test_maths_is_there_with_a_local_mathjax(site):
    first = site / f"{BOOK[0].stem}.html"
    text = first.read_text(encoding="utf-8")
    assert "$$" in text and "\\sum" in text, "TeX source missing from the page"
    scripts = [value for tag, name, value, _ in links(first) if tag == "script"]
    assert scripts == ["mathjax/tex-chtml-full.js"], scripts
    assert (site / scripts[0]).stat().st_size > 500_000
    assert list((site / "mathjax/output/chtml/fonts/woff-v2").glob("MathJax_Main-*.woff"))
    assert (site / "mathjax" / "LICENSE").is_file()


def test_no_solution_or_hidden_test_in_the_site(site):
    assert layout.leaks(site) == []
    text = "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    assert "hidden=True" not in text


def test_nothing_is_loaded_from_outside_the_site(site):
    """No script, style sheet, image, font or frame from a URL: the book reads offline.
    (Ordinary links to other websites in the text would be fine; the book has none.)"""
    for page in sorted(site.glob("*.html")):
        for tag, name, value, attrs in links(page):
            if tag == "a":
                continue
            assert _is_local(value) or value.startswith("data:"), (
                f"{page.name}: <{tag} {name}={value!r}> loads from outside the site")
        text = page.read_text(encoding="utf-8")
        for css_url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
                r"@import\s+['\"]([^'\"]+)", text):
            assert _is_local(css_url) or css_url.startswith("data:"), (
                f"{page.name}: CSS loads {css_url}")


# ------------------------------------------------------------------ in a browser
def _need(what):
    """Skip for want of a system package; in CI (CI set), where .ci/run installs it, fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}: .ci/run must install it")
    pytest.skip(what)


class _Server:
    """The site over HTTP on 127.0.0.1 (a free port), in a thread; records every request."""

    def __init__(self, root):
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, fmt, *args):
                requests.append((self.path, args[1] if len(args) > 1 else ""))

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def test_a_reader_opens_the_site_in_a_browser(site, tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        _need(f"no {CHROMIUM}: install Debian's `chromium` package (apt-get install chromium "
              "fonts-noto-cjk)")
    if not glob.glob(CJK_FONTS):
        _need("no CJK font for the notes' Chinese headings: install Debian's `fonts-noto-cjk`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the python package `playwright` is not installed (pip install -e '.[test]')")

    shots = ROOT / "test-artifacts" / "site"
    shots.mkdir(parents=True, exist_ok=True)
    first = f"{BOOK[0].stem}.html"
    heading = _title(BOOK[0]).replace("`", "")
    outside, failed = [], []
    with _Server(site) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})

            def route(r):        # anything not from our server is refused, and recorded
                if r.request.url.startswith(server.url) or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()
            page.route("**/*", route)
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))

            page.goto(server.url + "index.html")
            page.screenshot(path=shots / "index.png", full_page=True)
            page.locator(f'a[href="{first}"]').first.click()
            page.wait_for_url(server.url + first)
            h1 = page.locator("h1").first
            h1.wait_for(state="visible")
            assert h1.inner_text().strip().startswith(heading.split("（")[0])
            assert "（" not in heading or heading.split("（")[1][:3] in h1.inner_text()
            page.wait_for_selector("mjx-container", timeout=30_000)   # MathJax typeset
            assert page.locator("mjx-container").count() >= 2
            assert page.locator("mjx-merror").count() == 0, "a TeX error in the maths"
            page.screenshot(path=shots / "chapter-top.png")
            page.locator('mjx-container[display="true"]').first.scroll_into_view_if_needed()
            page.screenshot(path=shots / "chapter-maths.png")
            page.locator(".jp-CodeCell", has_text="# Check").first.scroll_into_view_if_needed()
            page.screenshot(path=shots / "chapter-check.png")
            # the navigation works: next chapter (when there is one), back to the contents
            if len(BOOK) > 1:
                page.locator("nav.cb-top a[rel=next]").click()
                page.wait_for_url(server.url + f"{BOOK[1].stem}.html")
                page.wait_for_selector("mjx-container", timeout=30_000)
                page.screenshot(path=shots / "chapter-2.png")
            page.locator("nav.cb-top a.cb-contents").click()
            page.wait_for_url(server.url + "index.html")
        finally:
            browser.close()
    for shot in sorted(shots.glob("*.png")):
        print(f"screenshot: {shot}")
    assert not outside, f"the pages asked for URLs outside the site: {outside}"
    assert not failed, f"requests that failed: {failed}"
    served = {path for path, _ in server.requests}
    assert "/mathjax/tex-chtml-full.js" in served
    assert any(path.endswith(".woff") for path in served), "MathJax's fonts were not loaded"


# ------------------------------------------------------------------ synthetic books
def _notebook(path, *markdown):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(m) for m in markdown])
    nbformat.write(nb, path)


def test_generated_contents_page_and_chapter_links(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    _notebook(book / "00_first.ipynb",
              "# 00 · first（一）\n\nOn to [the next](01_second.ipynb#Part-two).")
    _notebook(book / "01_second.ipynb", "# 01 · `second`", "## Part two\n\n$a^2 + b^2$")
    out = tmp_path / "out"
    assert site_module.main(["--out", str(out), "--book", str(book)]) == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="00_first.html"' in index and 'href="01_second.html"' in index
    assert "00 · first（一）" in index and "<code>second</code>" in index
    first = (out / "00_first.html").read_text(encoding="utf-8")
    assert 'href="01_second.html#Part-two"' in first and ".ipynb" not in first
    assert _nav_targets(out / "01_second.html") == [
        ("prev", "00_first.html"), ("cb-contents", "index.html")] * 2
    assert (out / "mathjax" / "tex-chtml-full.js").is_file()


def test_figures_are_embedded_in_the_page(tmp_path):
    """A chapter's code runs in a kernel beside the stubs, and what it draws is in the page."""
    book = tmp_path / "book"
    book.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 00 · a figure"),
        nbformat.v4.new_code_cell("import os, matplotlib.pyplot as plt\n"
                                  "print(sorted(os.listdir('..')))\n"
                                  "plt.plot([0, 1], [1, 0])\nplt.show()")])
    nbformat.write(nb, book / "00_figure.ipynb")
    out = tmp_path / "out"
    assert site_module.main(["--out", str(out), "--book", str(book), "--jobs", "1"]) == 0
    page = (out / "00_figure.html").read_text(encoding="utf-8")
    assert re.search(r'<img [^>]*src="data:image/png;base64,', page)
    assert "[&#x27;book&#x27;, &#x27;convlib&#x27;]" in page or "['book', 'convlib']" in page


def test_book_index_notebook_is_the_contents_page(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    _notebook(book / "00_first.ipynb", "# 00 · first")
    _notebook(book / "index.ipynb", "# My contents\n\n* [first](00_first.ipynb)")
    out = tmp_path / "out"
    assert site_module.main(["--out", str(out), "--book", str(book)]) == 0
    assert sorted(p.name for p in out.glob("*.html")) == ["00_first.html", "index.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>My contents</title>" in index and 'href="00_first.html"' in index


def test_a_leak_fails_the_build_and_leaves_nothing(tmp_path, capsys):
    book = tmp_path / "book"
    book.mkdir()
    _notebook(book / "00_first.ipynb",
              "# 00 · first\n\n### BEGIN SOLUTION\nanswer\n### END SOLUTION")
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("an old site")
    assert site_module.main(["--out", str(out), "--book", str(book)]) == 1
    assert "BEGIN SOLUTION" in capsys.readouterr().err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["book"], "staging folder left behind"


def test_a_folder_that_is_not_a_site_is_not_replaced(tmp_path, capsys):
    book = tmp_path / "book"
    book.mkdir()
    _notebook(book / "00_first.ipynb", "# 00 · first")
    (tmp_path / "notes.txt").write_text("mine")
    assert site_module.main(["--out", str(tmp_path), "--book", str(book)]) == 1
    assert "not a site" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"
