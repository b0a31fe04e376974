"""The Data appendix describes every data set that a chapter loads.

The chapters call loaders from ``lib.datasets`` and from scikit-learn's
``sklearn.datasets``, and take sample files from Matplotlib with
``cbook.get_sample_data``. Each loader a chapter calls, and each sample file it
names, must appear in the appendix (``book/data.ipynb``), and every data set's
section there must state its licence, or say that it cannot.
"""

import ast
import json
import pathlib
import re

import pytest

import lib.datasets

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
APPENDIX = BOOK / "data.ipynb"
DATA_MODULES = {"lib.datasets", "sklearn.datasets"}
# Attribute calls such as datasets.load_mnist(...) or lib.load_image(...).
DATA_OWNERS = {"datasets", "lib"}
LOADER = re.compile(r"^(load|make|fetch)_\w+$")


def cells(path, kind):
    return [
        "".join(c["source"])
        for c in json.loads(path.read_text())["cells"]
        if c["cell_type"] == kind
    ]


def parse(source):
    # Drop IPython magics and shell escapes, which are not Python.
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def loaders_called(path):
    """The data loaders a notebook calls, and the sample files it asks for."""
    imported, called, files = set(), set(), set()
    trees = [parse(src) for src in cells(path, "code")]
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in DATA_MODULES:
                imported |= {a.asname or a.name for a in node.names}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and f.id in imported and LOADER.match(f.id):
                called.add(f.id)
            elif (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id in DATA_OWNERS
                and LOADER.match(f.attr)
            ):
                called.add(f.attr)
            elif isinstance(f, ast.Attribute) and f.attr == "get_sample_data":
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                files |= {a for a in args if isinstance(a, str)}
    return called, files


def appendix_text():
    return "\n".join(cells(APPENDIX, "markdown"))


CHAPTERS = sorted(BOOK.glob("*.ipynb"))


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_every_loader_a_chapter_calls_is_in_the_data_appendix(nb):
    text = appendix_text()
    called, files = loaders_called(nb)
    missing = sorted(
        name
        for name in called | files
        if not re.search(rf"\b{re.escape(name)}\b", text)
    )
    assert not missing, (
        f"{nb.name} loads data with {missing}, which book/data.ipynb does not "
        f"describe; add its source, licence and citation there"
    )


def test_every_public_loader_of_lib_is_in_the_data_appendix():
    text = appendix_text()
    public = [n for n in dir(lib.datasets) if LOADER.match(n)]
    assert public, "lib.datasets has no loaders?"
    assert not [n for n in public if f"{n}(" not in text and f"`{n}`" not in text]


def test_every_data_set_section_states_a_licence():
    sections = re.split(r"^## ", appendix_text(), flags=re.M)[1:]
    data_sections = [s for s in sections if "**Source" in s]
    assert len(data_sections) >= 7  # MNIST, blogs, photos, Hopper, wine, two synthetic
    no_licence = [s.splitlines()[0] for s in data_sections if "icence" not in s]
    assert not no_licence, f"sections without a licence statement: {no_licence}"


def test_the_scan_finds_what_the_chapters_load():
    # Guard against a scan that silently finds nothing.
    called, files = loaders_called(BOOK / "color_quantization.ipynb")
    assert "load_image" in called and "grace_hopper.jpg" in files
    called, _ = loaders_called(BOOK / "kmeans_math.ipynb")
    assert {"load_image", "load_wine", "make_blobs"} <= called
    called, _ = loaders_called(BOOK / "kmeans_math_exercises.ipynb")
    assert "load_image" in called
