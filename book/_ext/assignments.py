"""``make assignments``: every exercise page of the book becomes an otter assignment.

An exercise page (``book/*_exercises.ipynb``, ``book/kmeans_from_scratch.ipynb``)
is written once, in otter-grader's notebook format: raw cells (which the site
does not render) mark the questions, their solutions and their tests. For each
page this script runs ``otter assign`` and writes

    _build/assignments/<name>/student/<name>.ipynb    hand this out
    _build/assignments/<name>/autograder/<name>.ipynb the solution notebook
    _build/assignments/<name>/autograder/<name>-autograder_*.zip  for Gradescope

plus ``_build/assignments/README.md``, which says what to hand out and what to
upload. The copy of ``lib`` that otter puts beside each notebook makes the
autograder self-contained; ``requirements.txt`` in the zip pins the packages of
the book's own lock that the grader needs.

Run as ``python book/_ext/assignments.py [name ...]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
OUT = ROOT / "_build" / "assignments"
#: What the grading image needs besides lib, at the versions of the book's lock.
GRADER_PACKAGES = (
    "matplotlib",
    "numpy",
    "pandas",
    "pillow",
    "pooch",
    "requests",
    "scikit-learn",
    "scipy",
    "threadpoolctl",
)
#: And what an assignment that uses lib.deep needs besides.
DEEP_PACKAGES = ("torch", "tqdm", "umap-learn")
CONFIG_MARK = "# ASSIGNMENT CONFIG"
EXERCISE = re.compile(
    r"```\{exercise\}\s*(?P<title>[^\n]*)\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)\n```",
    re.S,
)


def _source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def assignment_config(path):
    """The ``name`` of the assignment a master notebook declares, or None."""
    for cell in json.loads(Path(path).read_text())["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "raw" and text.startswith(CONFIG_MARK):
            match = re.search(r"^name:\s*(\S+)", text, re.M)
            if match is None:
                raise ValueError(f"{path}: the ASSIGNMENT CONFIG cell has no name")
            return match.group(1)
    return None


def masters():
    """``{name: path}`` of every notebook in ``book/`` that is an assignment."""
    found = {}
    for path in sorted(BOOK.glob("*.ipynb")):
        name = assignment_config(path)
        if name is not None:
            if name in found:
                raise ValueError(f"{path} and {found[name]} both declare {name!r}")
            found[name] = path
    return found


def grader_requirements(packages=GRADER_PACKAGES):
    """Pinned lines of the lock (``requirements.txt``) for `packages`."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[match.group(1).lower()] = f"{match.group(1)}=={match.group(2)}"
    missing = [p for p in packages if p not in pins]
    if missing:
        raise RuntimeError(f"requirements.txt pins none of {missing}; run make lock")
    return "\n".join(pins[p] for p in packages) + "\n"


def uses_deep(path):
    """Whether a master notebook's code imports lib.deep (torch and UMAP)."""
    code = "\n".join(
        _source(c)
        for c in json.loads(Path(path).read_text())["cells"]
        if c["cell_type"] == "code"
    )
    return bool(
        re.search(r"from lib import [^\n]*\bdeep\b|import lib\.deep|lib\.deep\b", code)
    )


def plain_markdown(text):
    """MyST exercise boxes as plain Markdown, for Jupyter (which has no MyST).

    >>> plain_markdown("```{exercise} Restarts\\n:label: ex-1\\nRun it.\\n```")
    '**Exercise: Restarts.** Run it.'
    """
    return EXERCISE.sub(
        lambda m: (
            f"**Exercise: {m.group('title').strip()}.** {m.group('body').strip()}"
        ),
        text,
    )


def _rewrite_markdown(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = plain_markdown(_source(cell))
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def build(name, master, out=OUT):
    """Run ``otter assign`` for one master; return the assignment's folder."""
    work = out / ".work" / name
    dest = out / name
    for folder in (work, dest):
        shutil.rmtree(folder, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(master, work / f"{name}.ipynb")
    shutil.copytree(
        ROOT / "lib", work / "lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    packages = GRADER_PACKAGES + (DEEP_PACKAGES if uses_deep(master) else ())
    (work / "requirements.txt").write_text(grader_requirements(packages))
    otter = Path(sys.executable).with_name("otter")
    done = subprocess.run(
        [
            str(otter),
            "assign",
            "--no-run-tests",
            "--no-pdfs",
            f"{name}.ipynb",
            str(dest),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"otter assign failed for {master.name}:\n{done.stdout}\n{done.stderr}"
        )
    for notebook in (
        dest / "student" / f"{name}.ipynb",
        dest / "autograder" / f"{name}.ipynb",
    ):
        _rewrite_markdown(notebook)
    return dest


def autograder_zip(dest):
    """The one autograder zip that ``otter assign`` wrote into `dest`."""
    (zip_path,) = (dest / "autograder").glob("*-autograder_*.zip")
    return zip_path


def grade(zip_path, notebook, folder, attempts=3):
    """Grade `notebook` with otter's autograder `zip_path`, like ``otter run``.

    Runs otter in this process (one Python start-up and one import of otter for
    many submissions, where ``otter run`` pays both each time: about 3 s of the
    10 s of a small assignment). Writes ``results.json`` into `folder` and returns
    ``{question: (score, max_score, output)}``. otter changes the working folder
    while it grades, so call it from one thread per process (a process pool).

    A kernel that never starts is retried, up to `attempts` times: Jupyter
    picks a free TCP port for each kernel socket and the kernel binds it a
    moment later, and on a busy machine another process (a Dask worker, another
    kernel) can take the port in between. The kernel then dies ("Address already
    in use") and otter reports "Kernel didn't respond in 60 seconds". That says
    nothing about the submission, so grading it again is right; any other
    failure is raised at once.
    """
    import contextlib
    import io

    import otter.run

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    for _ in range(attempts):
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                otter.run.main(
                    str(notebook),
                    autograder=str(zip_path),
                    output_dir=str(folder),
                    no_logo=True,
                )
        except Exception as error:  # reported with otter's own output below
            log.write(f"\n{type(error).__name__}: {error}")
        if results.exists() or "Kernel didn't respond" not in log.getvalue():
            break
    if not results.exists():
        raise RuntimeError(f"otter crashed on {notebook}:\n{log.getvalue()}")
    tests = json.loads(results.read_text())["tests"]
    return {
        t["name"]: (t["score"], t["max_score"], t.get("output", ""))
        for t in tests
        if "max_score" in t and t["name"] != "Public Tests"
    }


README = """\
# Assignments of Clustering from Scratch

Built by `make assignments` from the book's exercise pages; see the book's page
"For instructors" for how it works. For each assignment:

| Assignment | Hand out | Upload to Gradescope (autograder) | Solutions |
|---|---|---|---|
{rows}

Grade a submission locally, without docker:
`otter run -a <name>/autograder/<zip> -o <folder> <submission.ipynb>`.
"""


def write_readme(built, out=OUT):
    rows = "\n".join(
        f"| {name} | `{name}/student/` (the notebook and `lib/`) | "
        f"`{name}/autograder/{autograder_zip(dest).name}` | "
        f"`{name}/autograder/{name}.ipynb` |"
        for name, dest in sorted(built.items())
    )
    (out / "README.md").write_text(README.format(rows=rows))


def main(names=()):
    found = masters()
    unknown = set(names) - set(found)
    if unknown:
        raise SystemExit(
            f"no assignment named {sorted(unknown)}; known: {sorted(found)}"
        )
    chosen = {n: p for n, p in found.items() if not names or n in names}
    with ThreadPoolExecutor(max_workers=2) as pool:
        dests = dict(zip(chosen, pool.map(lambda item: build(*item), chosen.items())))
    write_readme(dests)
    for name, dest in sorted(dests.items()):
        print(f"{name}: {dest.relative_to(ROOT)}")
    return dests


if __name__ == "__main__":
    main(sys.argv[1:])
