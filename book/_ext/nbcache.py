"""Execute every notebook once, and a cache that knows about ``lib``.

The site build (``execute_notebooks: cache`` in ``_config.yml``) takes each
notebook's outputs from a jupyter-cache, keyed on the notebook's code. This
module makes that cache right and fills it from the test run:

* **A pytest plugin** (``pytest -p nbcache``, as ``make test`` runs it). While
  nbval executes a notebook, it keeps the outputs that nbval received for
  every cell. When every cell of a notebook passed, it stores the executed
  notebook in the cache, so that ``jupyter-book build`` finds a hit and
  executes nothing: the site shows the very run whose hidden checks passed.
  A cell that fails stores nothing and writes its traceback to
  ``_build/html/reports/<chapter>.err.log``.
* **A Sphinx extension** (``sphinx.local_extensions`` in ``_config.yml``). The
  cache key covers the notebook only, so on its own the cache would serve
  outputs computed by an older ``lib``. The cache therefore carries a stamp,
  a hash of ``lib/`` and of the lock file; a build that finds another stamp
  empties the cache and re-executes. A notebook whose cached run is newer
  than the page Sphinx last read is read again. With ``CFS_REQUIRE_CACHED=1``
  (``make test``) a notebook without a cached run fails the build instead of
  being executed a second time.

Run as a script, ``python book/_ext/nbcache.py reports`` prints the failure
reports of the last run.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import os
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
# jupyter-book's default cache folder (execute.cache is unset in _config.yml),
# and where myst-nb writes its failure reports; both relative to the book root.
CACHE = pathlib.Path("_build", ".jupyter_cache")
REPORTS = pathlib.Path("_build", "html", "reports")
STAMP = "lib.sha256"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours of nbval's and IPython's tracebacks
# What the outputs depend on besides the notebook itself.
FINGERPRINTED = ("lib", "requirements.txt")


def fingerprint(root: pathlib.Path = ROOT) -> str:
    """Hash of every Python file under ``lib/`` and of the lock file."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.relative_to(root).as_posix().encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def open_cache(cache_path: pathlib.Path, root: pathlib.Path = ROOT):
    """The jupyter-cache at ``cache_path``, emptied first if ``lib`` changed.

    Held under a file lock: the two pytest-xdist workers write to it at once.
    """
    from jupyter_cache import get_cache

    cache_path = pathlib.Path(cache_path)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    with open(cache_path.parent / (cache_path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = fingerprint(root)
        stamp = cache_path / STAMP
        if not stamp.is_file() or stamp.read_text().strip() != current:
            if cache_path.exists():
                get_cache(str(cache_path)).clear_cache()
            cache_path.mkdir(parents=True)
            stamp.write_text(current + "\n")
        yield get_cache(str(cache_path))


def cached_at(cache, nb) -> float | None:
    """When the cache stored a run of notebook ``nb`` (POSIX seconds), or None."""
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        return None
    created = record.created
    if created.tzinfo is None:  # jupyter-cache writes UTC; sqlite drops the zone
        created = created.replace(tzinfo=datetime.timezone.utc)
    return created.timestamp()


def store_run(nb_path, outputs, root=ROOT, seconds=None, language_info=None):
    """Cache notebook ``nb_path`` with ``outputs``, one list per code cell."""
    import nbformat
    from jupyter_cache.base import CacheBundleIn

    nb = nbformat.read(str(nb_path), as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if len(code) != len(outputs):
        raise ValueError(
            f"{nb_path}: {len(outputs)} executed cells for {len(code)} code cells"
        )
    # The kernel numbers executions 1, 2, ... as nbclient would record them.
    for count, (cell, outs) in enumerate(zip(code, outputs), start=1):
        cell.outputs = [nbformat.from_dict(dict(out)) for out in outs]
        cell.execution_count = count
    if language_info:
        nb.metadata.language_info = language_info
    nbformat.validate(nb)
    with open_cache(root / CACHE, root) as cache:
        cache.cache_notebook_bundle(
            CacheBundleIn(
                nb,
                str(pathlib.Path(nb_path).resolve()),
                data={"execution_seconds": seconds, "executed_by": "nbval"},
            ),
            check_validity=False,
            overwrite=True,
        )


def report_path(nb_path, root=ROOT) -> pathlib.Path:
    """Where the site build writes a notebook's failure report; nbval's go there too."""
    rel = pathlib.Path(nb_path).resolve().relative_to(root).with_suffix(".err.log")
    return root / REPORTS / rel


def print_reports(root=ROOT):
    """Print which notebook and cell failed, from the reports of the last run."""
    logs = sorted((root / REPORTS).rglob("*.err.log"))
    for log in logs:
        print(f"\n=== {log.relative_to(root)} ===")
        lines = log.read_text(encoding="utf8").splitlines()
        print("\n".join(lines[:60]))
        if len(lines) > 60:
            print(f"... ({len(lines) - 60} more lines in {log})")
    return len(logs)


# --- pytest plugin -----------------------------------------------------------


class _Run:
    """Outputs of one notebook's cells as nbval executes them."""

    def __init__(self, item):
        self.outputs, self.failed = [], False
        self.started = datetime.datetime.now().timestamp()
        self.root = item.config.rootpath
        self.report = report_path(item.path, self.root)
        self.report.unlink(missing_ok=True)  # from an earlier run


_runs: dict = {}


def _is_cell(item):
    return type(item).__name__ == "IPyNbCell"


def pytest_runtest_setup(item):
    if _is_cell(item) and item.parent.nodeid not in _runs:
        _runs[item.parent.nodeid] = _Run(item)


try:
    from pytest import hookimpl
except ImportError:  # loaded as a Sphinx extension, where pytest may be absent

    def hookimpl(**_):
        return lambda hook: hook


@hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each passing cell's outputs; a failure also writes a report."""
    outcome = yield
    report = outcome.get_result()
    run = _runs.get(item.parent.nodeid) if _is_cell(item) else None
    if run is None:  # not a cell, or its notebook is done (the last teardown)
        return
    if report.when == "call" and report.passed:
        run.outputs.append(list(item.test_outputs or []))
    elif report.failed or report.skipped:
        # A skipped cell would still run in the build: do not cache that notebook.
        run.failed = True
        if report.failed:
            run.report.parent.mkdir(parents=True, exist_ok=True)
            with run.report.open("a", encoding="utf8") as log:
                log.write(f"{item.nodeid} failed ({report.when})\n\n")
                log.write(ANSI.sub("", report.longreprtext) + "\n\n")


def pytest_configure(config):
    """Route what an ipywidgets Output widget captures away from the cell.

    nbclient, which the build would execute with, hands such outputs to the
    widget (a figure drawn by ``widgets.interactive``, say); nbval would keep
    them as cell outputs, and the page would show them. Messages captured by an
    Output widget are relabelled here, so that nbval's loop skips them.
    """
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: nothing to route
        return
    if getattr(IPyNbFile.get_kernel_message, "routes_output_widgets", False):
        return
    receive = IPyNbFile.get_kernel_message

    def get_kernel_message(self, timeout=None, stream="iopub"):
        msg = receive(self, timeout=timeout, stream=stream)
        if stream == "iopub":
            _route_output_widgets(self.__dict__.setdefault("_output_widgets", {}), msg)
        return msg

    get_kernel_message.routes_output_widgets = True
    IPyNbFile.get_kernel_message = get_kernel_message


OUTPUT_TYPES = ("display_data", "execute_result", "stream", "error", "clear_output")


def _route_output_widgets(capturing, msg):
    """Track Output widgets (comm id -> the msg_id they capture) and relabel."""
    content = msg.get("content", {})
    if msg["msg_type"] in ("comm_open", "comm_msg"):
        state = content.get("data", {}).get("state", {})
        comm = content.get("comm_id")
        if state.get("_model_name") == "OutputModel":
            capturing.setdefault(comm, "")
        if comm in capturing and "msg_id" in state:
            capturing[comm] = state["msg_id"]
    elif msg["msg_type"] in OUTPUT_TYPES:
        parent = msg["parent_header"].get("msg_id")
        if parent and parent in capturing.values():
            msg["parent_header"] = {**msg["parent_header"], "msg_id": "output-widget"}


def pytest_addoption(parser):
    parser.addoption(
        "--nb-first",
        action="append",
        default=[],
        metavar="NAME",
        help="run the notebook NAME.ipynb before every other test (a long one, so "
        "that the other xdist worker runs the rest meanwhile); repeatable",
    )


def pytest_collection_modifyitems(session, config, items):
    first = config.getoption("nb_first", default=[])
    if first:
        # A stable sort: the named notebooks' cells first, in their own order.
        items.sort(key=lambda item: item.path.stem not in first)


def _language_info(kernel, timeout=10):
    """The kernel's language_info, which nbclient would store in the notebook.

    The page's code highlighting (ipython3) comes from it.
    """
    msg_id = kernel.kc.kernel_info()
    while True:
        reply = kernel.kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["language_info"]


@hookimpl(tryfirst=True)  # before pytest's own teardown stops nbval's kernel
def pytest_runtest_teardown(item, nextitem):
    if not _is_cell(item):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return
    run = _runs.pop(item.parent.nodeid, None)
    if run is None or run.failed:
        return
    seconds = datetime.datetime.now().timestamp() - run.started
    info = _language_info(item.parent.kernel)
    store_run(item.path, run.outputs, run.root, seconds, language_info=info)


# --- Sphinx extension --------------------------------------------------------


def _cache_path(app) -> pathlib.Path:
    return pathlib.Path(app.env.mystnb_config.execution_cache_path)


def _notebooks(env, docnames):
    for docname in docnames:
        path = pathlib.Path(env.doc2path(docname))
        if path.suffix == ".ipynb":
            yield docname, path


def _start_build(app):
    """Empty the cache if lib changed, and drop the reports of an earlier build."""
    with open_cache(_cache_path(app), pathlib.Path(app.srcdir)):
        pass
    shutil.rmtree(pathlib.Path(app.outdir) / "reports", ignore_errors=True)


def _outdated(app, env, added, changed, removed):
    """Pages whose notebook has no cached run, or a newer one than Sphinx read."""
    import nbformat

    stale = []
    with open_cache(_cache_path(app), pathlib.Path(app.srcdir)) as cache:
        for docname, path in _notebooks(env, env.found_docs - added - changed):
            when = cached_at(cache, nbformat.read(str(path), as_version=4))
            read_at = env.all_docs.get(docname, 0) / 1e6  # microseconds
            if when is None or when > read_at:
                stale.append(docname)
    return stale


def _require_cached(app, env, docnames):
    if os.environ.get("CFS_REQUIRE_CACHED") != "1":
        return
    import nbformat
    from sphinx.errors import ExtensionError

    with open_cache(_cache_path(app), pathlib.Path(app.srcdir)) as cache:
        missing = [
            str(path.relative_to(app.srcdir))
            for _, path in _notebooks(env, docnames)
            if cached_at(cache, nbformat.read(str(path), as_version=4)) is None
        ]
    if missing:
        raise ExtensionError(
            f"CFS_REQUIRE_CACHED=1 but {', '.join(missing)} has no cached run from "
            "the test run (nbval with `-p nbcache`), so the build would execute "
            "it a second time; run the notebook tests first, or unset "
            "CFS_REQUIRE_CACHED to let the build execute it"
        )


def setup(app):
    # After myst-nb (priority 500) has set the cache path.
    app.connect("builder-inited", _start_build, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _require_cached)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if sys.argv[1:] != ["reports"]:
        sys.exit("usage: python book/_ext/nbcache.py reports")
    if not print_reports():
        print(f"no failure reports in {REPORTS}")
