"""The book as a website: static HTML pages of `book/`, as a new reader first sees them.

    python -m convbook.site                  # write site/ (what `make site` runs)
    python -m convbook.site --out /tmp/web   # anywhere else
    python -m convbook.site --jobs 1         # one notebook at a time (default: one per core)

How a site is built:
1. Every notebook of `book/` is executed in a temporary copy of the repository's layout
   (`<tmp>/book/NN_name.ipynb` beside `<tmp>/convlib/`, the generated *stubs*, so that
   `convbook.harness.locate_convlib` finds the package in the notebooks' parent folder), with
   nbclient, `allow_errors=True` and a per-cell timeout: figure cells draw Keras's answer
   (labelled so) and say which function to write, check cells say what is not implemented
   yet, which is what a new reader sees. The kernel imports `convbook` from this
   checkout (PYTHONPATH) with TensorFlow's logs silenced, as tests/test_notebooks.py runs them.
   A notebook without code cells (e.g. a contents page) is not executed.
2. nbconvert's HTML exporter ("lab" template; CSS inlined, figures embedded as data URIs)
   writes one page per chapter, with "previous / contents / next" links above and below.
   Links to `*.ipynb` in the text become links to the `*.html` pages.
3. The contents page `index.html` is `book/index.ipynb` when the book has one; otherwise it is
   generated: every chapter, titled by its notebook's first heading.
4. Maths is typeset in the browser by MathJax 3, copied into `site/mathjax/` from the
   `django-static-mathjax` package (the MathJax 3.2.2 distribution, no Django needed): the
   pages load nothing from outside the site, so the book reads offline. Without that package
   the pages are written without MathJax and the TeX stays readable as text.
5. The site is built in a staging folder beside the output and scanned with
   `convbook.layout.leaks`; any solution, hidden-test or mark-scheme marker fails the build
   (exit 1) and nothing is kept. The previous output folder is removed first in any case.
"""
import argparse
import concurrent.futures
import html
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from convbook import layout

ROOT = layout.ROOT
BOOK_DIR = ROOT / layout.BOOK
CONVLIB_DIR = ROOT / layout.PACKAGE          # the generated stubs, never solutions/convlib
DEFAULT_OUT = ROOT / "site"
INDEX = Path(layout.CONTENTS).stem           # book/index.ipynb, the contents page, if any
BOOK_TITLE = "Conv2D from Scratch"
CELL_TIMEOUT = 120                           # seconds per cell, as tests/test_notebooks.py
MATHJAX_DIR = "mathjax"                      # site/mathjax/: the script and its fonts
MATHJAX_SCRIPT = "tex-chtml-full.js"         # TeX input (every extension), CommonHTML output

TEMPLATE_NAME = "convbook_site.html.j2"
# nbconvert's "lab" page without its CDN scripts (require.js, MathJax 2, mermaid, widgets),
# with MathJax 3 from the site itself and the book's navigation around the notebook.
TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{%- if resources.site_mathjax %}
<script>
window.MathJax = {
  tex: {
    inlineMath: [['$', '$'], ['\\(', '\\)']],
    displayMath: [['$$', '$$'], ['\\[', '\\]']],
    processEscapes: true,
    processEnvironments: true,
    tags: 'ams'
  },
  options: {ignoreHtmlClass: 'tex2jax_ignore', processHtmlClass: 'tex2jax_process'}
};
</script>
<script id="MathJax-script" defer src="{{ resources.site_mathjax }}"></script>
{%- endif %}
{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<link rel="icon" href="data:,">
<style type="text/css">
nav.cb-nav {
  display: grid; grid-template-columns: 1fr auto 1fr; align-items: baseline; gap: 1.5em;
  margin: 0.6em 0; padding: 0.5em 1em;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: 14px;
  border-bottom: 1px solid #ddd;
}
nav.cb-nav.cb-bottom { border-bottom: none; border-top: 1px solid #ddd; }
nav.cb-nav a { text-decoration: none; color: #1a5fb4; }
nav.cb-nav a:hover { text-decoration: underline; }
nav.cb-nav .cb-next { text-align: right; }
nav.cb-nav .cb-contents { font-weight: bold; }
nav.cb-nav .cb-none { color: #999; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.site_nav_top }}
{%- endblock body_header -%}
{%- block body_footer -%}
{{ resources.site_nav_bottom }}
{{ super() }}
{%- endblock body_footer -%}
"""


class SiteError(Exception):
    """The site could not be built (a leak, a notebook that could not run, ...)."""


# ------------------------------------------------------------------ the notebooks
def chapters(book_dir):
    """The chapter notebooks of `book_dir`, in order (the contents page excluded)."""
    return sorted(p for p in Path(book_dir).glob("*.ipynb") if p.stem != INDEX)


def page_name(notebook):
    return Path(notebook).stem + ".html"


def first_heading(nb, fallback):
    """The text of the notebook's first markdown heading (any level), else `fallback`."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if match and match.group(1):
                return match.group(1)
    return fallback


def plain(markdown_text):
    """A heading as plain text (for <title>): inline code marks and emphasis dropped."""
    return re.sub(r"[`*_]", "", markdown_text).strip()


def inline_html(markdown_text):
    """A heading as HTML: escaped, with `code` spans kept as <code>."""
    parts = re.split(r"`([^`]*)`", markdown_text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(parts))


def _kernel_env(root):
    env = dict(os.environ)
    # the kernel imports convbook from this checkout, installed or not (as the tests do)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # several kernels may run at once: one BLAS thread each (see tests/conftest.py)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.pop("NBGRADER_EXECUTION", None)     # a reader's kernel, not a grading one
    return env


def _has_code(nb):
    return any(c.cell_type == "code" and c.source.strip() for c in nb.cells)


def _execute_one(notebook, workdir, logs, env, timeout):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    if not _has_code(nb):
        return nb, 0.0
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            record_timing=False,
                            resources={"metadata": {"path": str(workdir)}})
    # The kernel process's own log (ipykernel's start-up notices) goes to a file, shown only
    # if the notebook cannot run; the cells' stdout and stderr reach the page as outputs.
    kernel_log = logs / f"{notebook.stem}.kernel.log"
    with open(kernel_log, "wb") as log_file:
        try:
            client.execute(env=env, stderr=log_file)
        except Exception as exc:  # noqa: BLE001 -- a dead kernel, a timeout outside a cell
            tail = kernel_log.read_text(errors="replace").strip().splitlines()[-20:]
            raise SiteError(f"{notebook.name} could not be executed: {type(exc).__name__}: "
                            f"{exc}" + "".join(f"\n    {line}" for line in tail)) from exc
    return nb, time.perf_counter() - start


def execute(notebooks, convlib=CONVLIB_DIR, jobs=None, timeout=CELL_TIMEOUT, log=print):
    """Run each notebook (top to bottom, errors kept) as a new reader would: in a temporary
    `book/` beside a copy of the stubs `convlib/`. Returns {name: executed notebook}."""
    notebooks = list(notebooks)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(notebooks) or 1))
    env = _kernel_env(ROOT)
    results = {}
    with tempfile.TemporaryDirectory(prefix="convbook-site-") as tmp:
        book = Path(tmp) / "repo" / layout.BOOK          # <tmp>/repo/{book,convlib}/ only
        book.mkdir(parents=True)
        shutil.copytree(convlib, book.parent / layout.PACKAGE,
                        ignore=shutil.ignore_patterns(*layout.IGNORED_NAMES, "*.pyc", "*.pyo"))
        logs = Path(tmp) / "logs"
        logs.mkdir()
        copies = []
        for notebook in notebooks:
            shutil.copy(notebook, book / notebook.name)
            copies.append(book / notebook.name)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_execute_one, copy, book, logs, env, timeout): copy
                       for copy in copies}
            for future in concurrent.futures.as_completed(futures):
                nb, seconds = future.result()
                name = futures[future].name
                results[name] = nb
                if seconds:
                    log(f"  executed {name} ({seconds:.1f} s)")
    return results


# ------------------------------------------------------------------ pages
_IPYNB_LINK = re.compile(r'(href=")([^"#?:/\\]+)\.ipynb((?:#[^"]*)?")')


def rewrite_links(page_html, pages):
    """`href="NN_name.ipynb[#anchor]"` -> `href="NN_name.html[#anchor]"` for every notebook
    that has a page in the site (`pages`: names of the .html files)."""
    def swap(match):
        target = match.group(2) + ".html"
        if target not in pages:
            return match.group(0)
        return match.group(1) + target + match.group(3)
    return _IPYNB_LINK.sub(swap, page_html)


def nav(prev, nxt, where, contents=True, next_label=""):
    """The "previous / contents / next" bar; `prev` and `nxt` are (page, title) or None."""
    def link(item, cls, before, after, rel):
        if item is None:
            return f'<span class="{cls} cb-none"></span>'
        page, title = item
        return (f'<a class="{cls}" rel="{rel}" href="{html.escape(page)}">'
                f"{before}{inline_html(title)}{after}</a>")
    return (f'<nav class="cb-nav cb-{where}" aria-label="chapters">'
            + link(prev, "cb-prev", "&larr; ", "", "prev")
            + ('<a class="cb-contents" href="index.html">Contents</a>' if contents
               else '<span class="cb-contents cb-none"></span>')
            + link(nxt, "cb-next", next_label, " &rarr;", "next")
            + "</nav>")


def _exporter():
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", template_file=TEMPLATE_NAME,
                            extra_loaders=[jinja2.DictLoader({TEMPLATE_NAME: TEMPLATE})])
    # nbconvert warns "Alternative text is missing" for every matplotlib figure; the pages'
    # figures are the notebooks' own outputs, described by the text around them
    quiet = logging.getLogger("convbook.site.nbconvert")
    quiet.setLevel(logging.ERROR)
    exporter.log = quiet
    return exporter


def render(exporter, nb, title, nav_top="", nav_bottom="", mathjax=None):
    nb.metadata["title"] = plain(title)
    body, _ = exporter.from_notebook_node(nb, resources={
        "site_nav_top": nav_top, "site_nav_bottom": nav_bottom,
        "site_mathjax": mathjax or ""})
    return body


def contents_notebook(titles):
    """The generated contents page: the book's title and every chapter, linked."""
    import nbformat

    lines = [f"# {BOOK_TITLE}", "",
             "Rebuild `keras.layers.Conv2D` in numpy, one argument per chapter, every "
             "exercise checked against Keras. These pages show the book as a new reader "
             "first sees it: the check cells fail until you write the code, in "
             "`convlib/`, with the notebooks open in JupyterLab (`make lab`).", "",
             "## Chapters", ""]
    lines += [f"1. [{title}]({name})" for name, title in titles]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("\n".join(lines))])


# ------------------------------------------------------------------ MathJax
def mathjax_source():
    """The folder holding MathJax 3's `es5/` distribution, or None when not installed."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / MATHJAX_SCRIPT).is_file():
            return es5
    return None


def copy_mathjax(es5, site):
    """The script, its CommonHTML fonts and the licence: all a page needs, ~1.7 MB."""
    dest = site / MATHJAX_DIR
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    (dest / fonts).mkdir(parents=True)
    shutil.copy(es5 / MATHJAX_SCRIPT, dest / MATHJAX_SCRIPT)
    for font in sorted((es5 / fonts).glob("*.woff")):
        shutil.copy(font, dest / fonts / font.name)
    licence = es5.parent / "LICENSE"
    if licence.is_file():
        shutil.copy(licence, dest / "LICENSE")
    return f"{MATHJAX_DIR}/{MATHJAX_SCRIPT}"


# ------------------------------------------------------------------ the site
_RELATIVE_LINK = re.compile(r'(?:href|src)="([^"]*)"')


def broken_links(site):
    """`<page>: <target>` for each link of a page that is neither external, a fragment, a
    data URI nor a file of the site."""
    found = []
    for page in sorted(Path(site).glob("*.html")):
        for target in _RELATIVE_LINK.findall(page.read_text(encoding="utf-8")):
            target = html.unescape(target)
            if not target or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|#", target):
                continue
            path = (page.parent / target.split("#")[0].split("?")[0]).resolve()
            if not path.is_relative_to(Path(site).resolve()) or not path.is_file():
                found.append(f"{page.name}: {target}")
    return found


def build(out=DEFAULT_OUT, book_dir=BOOK_DIR, convlib=CONVLIB_DIR, jobs=None,
          timeout=CELL_TIMEOUT, log=print):
    """Write the site into `out` (replaced). Raises SiteError, leaving no `out`, on a leak."""
    out, book_dir = Path(out).resolve(), Path(book_dir).resolve()
    notebooks = chapters(book_dir)
    if not notebooks:
        raise SiteError(f"no chapter notebooks in {book_dir}; run `make build`")
    index_nb = book_dir / f"{INDEX}.ipynb"
    sources = notebooks + ([index_nb] if index_nb.is_file() else [])
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / "index.html").is_file()):
            raise SiteError(f"{out} exists and is not a site (no index.html): not replacing it")
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)                     # mkdtemp's 0700 would hide it from a web server
    try:
        es5 = mathjax_source()
        if es5 is None:
            log("warning: MathJax not found (pip package django-static-mathjax): maths is "
                "left as TeX", file=sys.stderr)
            mathjax = None
        else:
            mathjax = copy_mathjax(es5, staging)

        log(f"Executing {len(sources)} notebook(s) of {book_dir} on the stubs of {convlib}")
        executed = execute(sources, convlib=convlib, jobs=jobs, timeout=timeout, log=log)

        titles = [(page_name(p), first_heading(executed[p.name], p.stem)) for p in notebooks]
        pages = {name for name, _ in titles} | {"index.html"}
        exporter = _exporter()
        for i, (name, title) in enumerate(titles):
            prev = titles[i - 1] if i > 0 else None
            nxt = titles[i + 1] if i + 1 < len(titles) else None
            body = render(exporter, executed[notebooks[i].name], title,
                          nav(prev, nxt, "top"), nav(prev, nxt, "bottom"), mathjax)
            (staging / name).write_text(rewrite_links(body, pages), encoding="utf-8")

        if index_nb.is_file():
            index = executed[index_nb.name]
            index_title = first_heading(index, BOOK_TITLE)
        else:
            index, index_title = contents_notebook(titles), BOOK_TITLE
        first = titles[0]
        body = render(exporter, index, index_title, "",
                      nav(None, first, "bottom", contents=False, next_label="Start reading: "),
                      mathjax)
        (staging / "index.html").write_text(rewrite_links(body, pages), encoding="utf-8")
        index_html = (staging / "index.html").read_text(encoding="utf-8")
        unlinked = [name for name, _ in titles if f'href="{name}' not in index_html]
        if unlinked:
            log(f"warning: the contents page does not link to {', '.join(unlinked)}",
                file=sys.stderr)
        for problem in broken_links(staging):
            log(f"warning: link to a file not in the site: {problem}", file=sys.stderr)

        leaks = layout.leaks(staging)
        if leaks:
            raise SiteError("the site would leak instructor-only text (nothing written):\n  "
                            + "\n  ".join(leaks))
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convbook.site",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder to write the site into, replaced (default: site/)")
    parser.add_argument("--book", type=Path, default=BOOK_DIR,
                        help="folder of the student notebooks (default: book/)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="notebooks executed at once (default: one per CPU core)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT,
                        help=f"seconds per cell (default: {CELL_TIMEOUT})")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    def log(*parts, file=sys.stdout):
        print(*parts, file=file, flush=True)

    try:
        out = build(args.out, args.book, jobs=args.jobs, timeout=args.timeout, log=log)
    except SiteError as exc:
        print(f"site failed: {exc}", file=sys.stderr)
        return 1
    pages = len(list(out.glob("*.html")))
    print(f"Wrote {pages} pages to {out} ({time.perf_counter() - start:.1f} s); "
          f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    # as in convbook.build: jsonschema's optional `rfc3987_syntax` costs ~5 s at import and
    # serves a format the notebook schema does not use
    sys.modules.setdefault("rfc3987_syntax", None)
    sys.exit(main())
