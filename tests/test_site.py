"""Browser test of the built site: headless Chromium opens every page.

Run after `jupyter-book build` (``make test`` does both). Each page must load
with no console errors, no failed requests, every image decoded and every
formula typeset by the MathJax that the site serves itself. Every figure in
a page's text has an alt text, for readers who cannot see it, and every figure
cell of a notebook shows up on its page.
"""

import functools
import http.server
import json
import os
import pathlib
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# CFS_SITE=<folder> checks a site built elsewhere (a clean clone, say).
HTML = pathlib.Path(os.environ.get("CFS_SITE", ROOT / "_build" / "html"))
PAGES = (
    sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )
    if HTML.is_dir()
    else []
)

pytestmark = pytest.mark.site


def test_site_was_built():
    assert (HTML / "book" / "intro.html").is_file(), (
        "run `make book` (or make test) first"
    )
    assert len(PAGES) >= 3


def figure_cells(page_path):
    """Code cells of the page's notebook that carry an alt text: one figure each."""
    notebook = ROOT / pathlib.Path(page_path).with_suffix(".ipynb")
    if not notebook.is_file():
        return 0
    cells = json.loads(notebook.read_text())["cells"]
    return sum(
        1
        for c in cells
        if c.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    )


@pytest.fixture(scope="module")
def server():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("page_path", PAGES)
def test_page_renders_offline(server, browser, page_path):
    page = browser.new_page()
    errors, failed = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None
        ),
    )
    # Anything not served by our own server is a request the offline site must not make.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(server)
            or route.request.url.startswith("data:")
            else route.abort()
        ),
    )
    # Generous limits: a loaded machine (other work on its 2 cores) can take more
    # than Playwright's default 30 s to settle a page with many figures.
    page.goto(f"{server}/{page_path}", wait_until="load", timeout=120_000)
    page.wait_for_load_state("networkidle", timeout=120_000)

    n_math = page.locator(".math").count()
    if n_math:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            " && document.querySelectorAll('mjx-container').length > 0",
            timeout=20000,
        )
        page.evaluate("() => MathJax.startup.promise")
        n_rendered = page.locator(".math mjx-container, mjx-container").count()
        assert n_rendered >= n_math, (
            f"{page_path}: {n_math} formulas, {n_rendered} typeset"
        )
        assert page.locator("mjx-merror").count() == 0, (
            f"{page_path}: MathJax reported a TeX error"
        )

    broken = page.evaluate("""() => [...document.images]
        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)""")
    # Animation frames (matplotlib's to_jshtml) are swapped by a script under
    # controls of their own; every other image in the article needs words.
    # Without an alt text docutils writes the file's path there instead.
    no_alt = page.evaluate("""() => [...document.querySelectorAll("article img")]
        .filter(img => !img.id.startsWith("_anim_img"))
        .filter(img => /^\\s*$|\\.(png|jpe?g|gif|svg)\\s*$/i.test(img.alt || ""))
        .map(img => img.src.split("/").pop())""")
    n_figures = page.locator("article img:not([id^='_anim_img'])").count()
    page.close()
    assert not failed, f"{page_path}: failed requests {failed}"
    assert not errors, f"{page_path}: console errors {errors}"
    assert not broken, f"{page_path}: images that did not load {broken}"
    assert not no_alt, (
        f"{page_path}: figures without alt text {no_alt}; give the cell "
        f'metadata {{"mystnb": {{"image": {{"alt": "..."}}}}}}'
    )
    # A figure that never reached the page (say, a non-inline matplotlib
    # backend during the build) must fail here rather than pass unseen.
    expected = figure_cells(page_path)
    assert n_figures >= expected, (
        f"{page_path}: {expected} figure cells but {n_figures} images"
    )


@pytest.mark.parametrize("page_path", [p for p in PAGES if p.startswith("book/")])
def test_pages_show_code_not_plumbing(page_path):
    """No glue call, no numpydoc section of a displayed lib function, no otter
    marker and no hidden test: the reader sees code."""
    import re

    html = (HTML / page_path).read_text()
    code = " ".join(
        re.sub(r"<[^>]+>", "", block)
        for block in re.findall(
            r'<div class="highlight[^"]*"><pre>(.*?)</pre>', html, re.S
        )
    )
    for plumbing in (
        "glue(",
        "----------",
        "# BEGIN SOLUTION",
        "# SOLUTION",
        "def test_q",
    ):
        assert plumbing not in code, f"{page_path} shows {plumbing!r} in its code"
