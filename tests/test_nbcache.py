"""Each notebook executes once, and the execution cache knows about lib.

``book/_ext/nbcache.py`` is both a pytest plugin (nbval's run fills the cache)
and a Sphinx extension (the cache is emptied when lib changes). The end-to-end
test builds a one-page book in a temporary folder whose notebook prints a file
of its own ``lib/``: the page must show the new value after ``lib`` changes.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXT = ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT))
import nbcache  # noqa: E402


def notebook(*sources):
    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "metadata": {},
            "source": s,
            "outputs": [],
            "execution_count": None,
        }
        for i, s in enumerate(sources)
    ]
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "markdown",
                    "id": "m",
                    "metadata": {},
                    "source": "# A page",
                }
            ]
            + cells,
            "metadata": {
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3",
                    "language": "python",
                }
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


@pytest.fixture
def book(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "value.py").write_text("VALUE = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "_config.yml").write_text(
        "title: t\nonly_build_toc_files: true\n"
        "exclude_patterns: [_build, lib, pytest.ini]\n"
        "execute:\n  execute_notebooks: cache\n"
        f"sphinx:\n  local_extensions:\n    nbcache: {EXT}\n"
        "  config:\n    nb_execution_raise_on_error: false\n"
    )
    (tmp_path / "page.ipynb").write_text(
        notebook('print("lib says", open("lib/value.py").read().strip())')
    )
    return tmp_path


def run(args, cwd, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "CFS_REQUIRE_CACHED"}
    full_env.update(PYTHONPATH=str(EXT), **env)
    return subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True)


def nbval(book, *names):
    return run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "nbcache",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "-q",
            *names,
        ],
        book,
    )


def build(book, **env):
    jb = pathlib.Path(sys.executable).with_name("jupyter-book")
    result = run([str(jb), "build", "-W", "-n", "--keep-going", "."], book, **env)
    html = book / "_build" / "html" / "page.html"
    page = html.read_text() if html.is_file() else ""
    return result, result.stdout + result.stderr, page


def test_fingerprint_follows_lib_and_the_lock_file(book):
    before = nbcache.fingerprint(book)
    (book / "page.ipynb").write_text(notebook("1 + 1"))
    assert nbcache.fingerprint(book) == before
    (book / "lib" / "value.py").write_text("VALUE = 2\n")
    after = nbcache.fingerprint(book)
    assert after != before
    (book / "requirements.txt").write_text("numpy==2\n")
    assert nbcache.fingerprint(book) != after


def test_open_cache_empties_a_cache_of_another_lib(book):
    import nbformat

    nb = nbformat.reads(notebook("1 + 1"), as_version=4)
    nb.cells[1].outputs = []
    nb.cells[1].execution_count = 1
    nbformat.write(nb, book / "page.ipynb")
    nbcache.store_run(book / "page.ipynb", [[]], book)
    with nbcache.open_cache(book / nbcache.CACHE, book) as cache:
        assert nbcache.cached_at(cache, nb) is not None
    (book / "lib" / "value.py").write_text("VALUE = 2\n")
    with nbcache.open_cache(book / nbcache.CACHE, book) as cache:
        assert nbcache.cached_at(cache, nb) is None
        assert not cache.list_cache_records()


def test_store_run_refuses_outputs_of_another_notebook(book):
    with pytest.raises(ValueError, match="2 executed cells for 1 code cells"):
        nbcache.store_run(book / "page.ipynb", [[], []], book)


@pytest.mark.slow
def test_build_renders_the_test_run_and_reexecutes_after_a_lib_change(book):
    # nbval executes the notebook and fills the cache ...
    tested = nbval(book, "page.ipynb")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # ... so the build executes nothing and shows that run.
    result, log, page = build(book, CFS_REQUIRE_CACHED="1")
    assert result.returncode == 0, log
    assert "Using cached notebook" in log and "Executing notebook" not in log, log
    assert "lib says VALUE = 1" in page
    # The kernel's language_info came along: code is highlighted as ipython3,
    # as on a page whose notebook the build executed.
    assert "highlight-ipython3" in page and "highlight-python " not in page

    # A change in lib empties the cache: the build executes the page again.
    (book / "lib" / "value.py").write_text("VALUE = 2\n")
    result, log, page = build(book)
    assert result.returncode == 0, log
    assert "Executing notebook" in log, log
    assert "lib says VALUE = 2" in page and "VALUE = 1" not in page

    # Nothing changed: nothing executes.
    result, log, page = build(book)
    assert result.returncode == 0 and "Executing notebook" not in log, log
    assert "lib says VALUE = 2" in page

    # In make test's mode a notebook without a tested run fails the build.
    (book / "lib" / "value.py").write_text("VALUE = 3\n")
    result, log, _ = build(book, CFS_REQUIRE_CACHED="1")
    assert result.returncode != 0
    assert "page.ipynb has no cached run from the test run" in log, log


@pytest.mark.slow
def test_a_failing_cell_is_reported_and_not_cached(book):
    (book / "page.ipynb").write_text(notebook("x = 1", "raise ValueError('boom')"))
    tested = nbval(book, "page.ipynb")
    assert tested.returncode == 1
    report = book / "_build" / "html" / "reports" / "page.err.log"
    text = report.read_text()
    assert "page.ipynb::Cell 1 failed" in text and "ValueError: boom" in text
    assert "raise ValueError('boom')" in text  # the cell's source
    with nbcache.open_cache(book / nbcache.CACHE, book) as cache:
        assert not cache.list_cache_records()


def test_outputs_an_output_widget_captures_leave_the_cell():
    """As nbclient does: what an Output widget captures is not a cell output."""

    def msg(kind, parent="cell", **content):
        return {
            "msg_type": kind,
            "parent_header": {"msg_id": parent},
            "content": content,
        }

    capturing = {}
    opened = msg(
        "comm_open", comm_id="w", data={"state": {"_model_name": "OutputModel"}}
    )
    nbcache._route_output_widgets(capturing, opened)
    before = msg("display_data", data={})
    nbcache._route_output_widgets(capturing, before)
    assert before["parent_header"]["msg_id"] == "cell"  # not capturing yet

    nbcache._route_output_widgets(
        capturing, msg("comm_msg", comm_id="w", data={"state": {"msg_id": "cell"}})
    )
    figure = msg("display_data", data={"image/png": "..."})
    nbcache._route_output_widgets(capturing, figure)
    assert figure["parent_header"]["msg_id"] == "output-widget"

    nbcache._route_output_widgets(
        capturing, msg("comm_msg", comm_id="w", data={"state": {"msg_id": ""}})
    )
    after = msg("stream", name="stdout", text="x")
    nbcache._route_output_widgets(capturing, after)
    assert after["parent_header"]["msg_id"] == "cell"
