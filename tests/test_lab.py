"""Browser test of the learner's path: the chapters run in JupyterLab.

``make lab`` serves book/ with JupyterLab; here the test starts its own
JupyterLab from the venv, headless Chromium opens two chapters, runs all their
cells as a learner would (Run > Run All Cells), and checks that no cell raises,
that the ipywidgets controls render, and that moving the k-means stepper
redraws its figure.

Nothing of the repository or of the user is touched: the server serves copies
of the notebooks from a throw-away folder (the chapters read no file relative
to themselves, and ``lib`` is installed editable), autosave is off, and
JupyterLab's config, data, runtime, settings and workspaces folders and the
IPython profile are throw-away folders too.
"""

import contextlib
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = ["kmeans.ipynb", "color_quantization.ipynb"]
# Seconds for one chapter to run all its cells (measured on 2 busy cores:
# kmeans 15-26 s, color_quantization 45-103 s).
RUN_TIMEOUT = float(os.environ.get("CFS_LAB_TIMEOUT", "480"))

pytestmark = pytest.mark.lab
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# User settings for the throw-away JupyterLab: never save, keep every cell in
# the DOM (so off-screen outputs can be inspected), ask nothing of the internet.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def timings(request):
    """Seconds per step, written to the terminal at the end of the module."""
    found, start = {}, time.monotonic()
    yield found
    found["whole module"] = time.monotonic() - start
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for step, seconds in found.items():
                reporter.write_line(f"test_lab: {step}: {seconds:.1f} s")


@pytest.fixture(scope="module")
def lab(timings):
    """A JupyterLab serving copies of the chapters; always shut down afterwards."""
    start = time.monotonic()
    checkpoints_before = (BOOK / ".ipynb_checkpoints").exists()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="cfs-lab-"))
    root = tmp / "book"
    root.mkdir()
    for name in CHAPTERS:
        shutil.copy2(BOOK / name, root / name)
    settings_dir = tmp / "user-settings"
    for plugin, values in SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    port, token = free_port(), secrets.token_hex(16)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "MPLBACKEND")
    }
    env.update(
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        PATH=os.pathsep.join(
            [str(pathlib.Path(sys.executable).parent), env.get("PATH", "")]
        ),
    )
    env.setdefault(
        "CFS_CACHE_DIR", str(tmp / "cache")
    )  # conftest sets it; CFS_DATA_DIR passes through
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.allow_root=True",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--ServerApp.shutdown_no_activity_timeout=1800",
        "--MappingKernelManager.cull_idle_timeout=0",
    ]
    log_path = tmp / "jupyter.log"
    log = open(log_path, "w")
    # A session of its own, so that kernels left behind can be killed with the server.
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with code {proc.returncode}:\n"
                    f"{log_path.read_text()}"
                )
            try:
                with urllib.request.urlopen(
                    f"{url}/api/status?token={token}", timeout=5
                ) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer on {url} within 90 s:\n"
                    f"{log_path.read_text()}"
                )
            time.sleep(0.5)
        timings["server start"] = time.monotonic() - start
        yield {
            "url": url,
            "token": token,
            "root": root,
            "log": log_path,
            "checkpoints_before": checkpoints_before,
        }
    finally:
        proc.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # any kernel that outlived it
        except (ProcessLookupError, PermissionError):
            pass
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


# The notebook panel of `path`, found among JupyterLab's main-area widgets.
FIND_PANEL = """path => {
    const app = window.jupyterapp;
    for (const w of app.shell.widgets('main')) {
        if (w.context && w.context.path === path &&
            w.content && w.sessionContext) return w;
    }
    return null;
}"""

# Where the run stands: per code cell its execution count, outputs and source.
STATE = (
    """path => {
    const find = """
    + FIND_PANEL
    + """;
    const panel = find(path);
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = [];
    panel.content.widgets.forEach((cell, index) => {
        if (cell.model.type !== 'code') return;
        const prompt = cell.node.querySelector('.jp-InputPrompt');
        cells.push({index, count: cell.model.executionCount,
                    busy: !!(prompt && prompt.textContent.includes('*')),
                    outputs: cell.model.outputs.toJSON(),
                    source: cell.model.sharedModel.getSource()});
    });
    return {status: kernel ? kernel.status : 'none', cells};
}"""
)


@contextlib.contextmanager
def chapter(browser, lab, name, timings):
    """A page with the chapter open in JupyterLab and its kernel idle.

    On failure, a full-page screenshot and the page's HTML go to the temp folder;
    afterwards the page is closed (without saving) and the kernel shut down.
    """
    start = time.monotonic()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # JupyterLab and its kernels are all on our own server; nothing else is fetched.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(lab["url"])
            or route.request.url.startswith(("data:", "blob:"))
            else route.abort()
        ),
    )
    try:
        # ?reset: a fresh workspace, so that the chapter opened before does not
        # reopen here.
        page.goto(
            f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}",
            wait_until="load",
        )
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell", timeout=60000
        )
        page.wait_for_function(
            f"path => ({FIND_PANEL})(path) !== null", arg=name, timeout=60000
        )
        page.evaluate(
            f"""async path => {{
            const panel = ({FIND_PANEL})(path);
            await panel.context.ready;
            await panel.sessionContext.ready;
            window.jupyterapp.shell.activateById(panel.id);
        }}""",
            name,
        )
        page.wait_for_function(
            f"""path => {{
            const s = ({FIND_PANEL})(path).sessionContext;
            return s.session && s.session.kernel && s.session.kernel.status === 'idle';
        }}""",
            arg=name,
            timeout=90000,
        )
        timings[f"{name} open, kernel idle"] = time.monotonic() - start
        yield page
        assert not page.errors, f"{name}: errors in the page {page.errors}"
    except Exception:
        shot = (
            pathlib.Path(tempfile.gettempdir())
            / f"cfs-lab-{pathlib.Path(name).stem}-failed.png"
        )
        try:
            page.screenshot(path=str(shot), full_page=True)
            shot.with_suffix(".html").write_text(page.content())
            print(
                f"{name}: screenshot of the failure in {shot}, "
                "the page's HTML beside it"
            )
        except Exception as e:  # the page may be gone; the original failure matters
            print(f"{name}: no screenshot ({e})")
        print("--- end of the JupyterLab log:\n" + lab["log"].read_text()[-5000:])
        raise
    finally:
        page.close()  # no beforeunload: nothing is saved
        shut_kernels(lab)


def error_outputs(state):
    """(cell index, source, message) for every output of type error."""
    found = []
    for cell in state["cells"]:
        for out in cell["outputs"]:
            if out.get("output_type") == "error":
                tb = ANSI.sub("", "\n".join(out.get("traceback", [])[-3:]))
                found.append(
                    (
                        cell["index"],
                        cell["source"],
                        f"{out.get('ename')}: {out.get('evalue')}\n{tb}",
                    )
                )
    return found


def run_all(page, name, timings):
    """Run > Run All Cells; wait until every code cell has run, or one has raised."""
    start = time.monotonic()
    # Not awaited: the command's promise resolves only when the last cell is done.
    page.evaluate(
        f"""path => {{
        const panel = ({FIND_PANEL})(path);
        window.jupyterapp.shell.activateById(panel.id);
        window.jupyterapp.commands.execute('notebook:run-all-cells');
    }}""",
        name,
    )
    # Run All stops at a cell that raises: the later cells are never run.
    page.wait_for_function(
        f"""path => {{
        const panel = ({FIND_PANEL})(path);
        const kernel = panel.sessionContext.session &&
            panel.sessionContext.session.kernel;
        if (!kernel || kernel.status !== 'idle') return false;
        const code = panel.content.widgets.filter(c => c.model.type === 'code');
        const raised = code.some(c => [...Array(c.model.outputs.length).keys()]
            .some(i => c.model.outputs.get(i).type === 'error'));
        const busy = c => (c.node.querySelector('.jp-InputPrompt') ||
            {{textContent: ''}}).textContent.includes('*');
        return raised || code.every(c => c.model.executionCount !== null && !busy(c));
    }}""",
        arg=name,
        timeout=RUN_TIMEOUT * 1000,
        polling=500,
    )
    timings[f"{name} run all cells"] = time.monotonic() - start
    state = page.evaluate(STATE, name)
    errors = error_outputs(state)
    if errors:
        pytest.fail(
            f"{name}: a cell raised in JupyterLab\n"
            + "\n\n".join(
                f"cell {i} raised {msg}\n--- its code:\n{src}" for i, src, msg in errors
            )
        )
    not_run = [c["index"] for c in state["cells"] if c["count"] is None]
    assert not not_run, f"{name}: cells {not_run} did not run"
    # Text on stderr is a warning, not an error: reported in pytest's summary.
    for cell in state["cells"]:
        for out in cell["outputs"]:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                warnings.warn(
                    f"{name}, cell {cell['index']} wrote to stderr: "
                    f"{out['text'].strip()[:500]}",
                    stacklevel=2,
                )
    return state


def widget_stderr(page):
    """Text a widget's output area shows on stderr (a traceback from its
    callback, say)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
        '.widget-output [data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.textContent)"""
    )


def control(page, kind, description):
    """The widget of class `kind` whose label reads exactly `description`."""
    label = re.compile(rf"^\s*{re.escape(description)}\s*$")
    return page.locator(kind).filter(has=page.locator(".widget-label", has_text=label))


def widget_image(cell):
    """The src of the figure in the widget output of `cell` (a data: URL of a PNG)."""
    img = cell.locator(".widget-output img").first
    img.wait_for(state="visible", timeout=30000)
    assert img.evaluate("i => i.complete && i.naturalWidth > 0"), (
        "the widget's figure did not load"
    )
    return img.get_attribute("src")


def wait_for_new_image(page, cell, before, timeout=60000):
    """Wait until the widget output of `cell` shows a figure other than `before`.

    The output widget clears and renders anew, so the <img> is a new element:
    found again at each poll by a mark on its cell.
    """
    mark = secrets.token_hex(4)
    cell.evaluate("(c, mark) => c.setAttribute('data-cfs-test', mark)", mark)
    page.wait_for_function(
        """([mark, before]) => {
        const img = document
            .querySelector(`[data-cfs-test="${mark}"] .widget-output img`);
        return img && img.complete && img.naturalWidth > 0 && img.src !== before;
    }""",
        arg=[mark, before],
        timeout=timeout,
    )
    return widget_image(cell)


def shut_kernels(lab):
    """Free the kernel's memory and CPU before the next chapter."""
    base = f"{lab['url']}/api/sessions"
    headers = {"Authorization": f"token {lab['token']}"}
    with urllib.request.urlopen(
        urllib.request.Request(base, headers=headers), timeout=10
    ) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(
            f"{base}/{s['id']}", headers=headers, method="DELETE"
        )
        urllib.request.urlopen(req, timeout=30).close()


def test_kmeans_runs_and_stepper_redraws(lab, browser, timings):
    name = "kmeans.ipynb"
    with chapter(browser, lab, name, timings) as page:
        run_all(page, name, timings)
        stepper = control(page, ".widget-slider", "iteration")
        stepper.wait_for(state="visible", timeout=30000)
        readout = stepper.locator(".widget-readout")
        assert readout.inner_text().strip() == "0"
        cell = page.locator(".jp-CodeCell").filter(has=stepper)
        before = widget_image(cell)
        assert before.startswith("data:image/png;base64,"), before[:80]

        # A learner's step: the slider's handle has the focus, one press of the
        # right arrow.
        handle = stepper.locator(".noUi-handle")
        handle.focus()
        handle.press("ArrowRight")
        after = wait_for_new_image(page, cell, before)
        assert after != before, "moving the stepper did not redraw the figure"
        assert readout.inner_text().strip() == "1"
        assert not widget_stderr(page), (
            f"{name}: the widget output shows {widget_stderr(page)}"
        )
        cell.scroll_into_view_if_needed()
        page.screenshot(
            path=str(pathlib.Path(tempfile.gettempdir()) / "cfs-lab-kmeans.png")
        )


def test_color_quantization_runs_and_widgets_render(lab, browser, timings):
    name = "color_quantization.ipynb"
    with chapter(browser, lab, name, timings) as page:
        run_all(page, name, timings)
        k = control(page, ".widget-slider", "k")
        k.wait_for(state="visible", timeout=30000)
        assert k.locator(".widget-readout").inner_text().strip() == "12"
        metric = control(page, ".widget-toggle-buttons", "metric")
        metric.wait_for(state="visible", timeout=30000)
        labels = [t.strip() for t in metric.locator("button").all_inner_texts()]
        assert labels == ["L2", "L1"], labels
        cell = page.locator(".jp-CodeCell").filter(has=k)
        before = widget_image(cell)
        # The toggle redraws too: L1 quantizes the flower again (about a second).
        metric.locator("button", has_text="L1").click()
        wait_for_new_image(page, cell, before)
        assert not widget_stderr(page), (
            f"{name}: the widget output shows {widget_stderr(page)}"
        )


def test_book_untouched(lab):
    """The runs wrote nothing into book/ (the chapters are committed without
    outputs)."""
    for name in CHAPTERS:
        cells = json.loads((BOOK / name).read_text())["cells"]
        assert not any(
            c.get("outputs") or c.get("execution_count")
            for c in cells
            if c["cell_type"] == "code"
        ), f"book/{name} has outputs"
    if not lab["checkpoints_before"]:
        assert not (BOOK / ".ipynb_checkpoints").exists(), (
            "a checkpoint was saved in book/"
        )
    copies = {
        name: json.loads((lab["root"] / name).read_text())["cells"] for name in CHAPTERS
    }
    assert all(
        not c.get("outputs")
        for cells in copies.values()
        for c in cells
        if c["cell_type"] == "code"
    ), "autosave wrote outputs even into the copies"
