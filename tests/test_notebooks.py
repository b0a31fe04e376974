"""Repository hygiene for the chapters."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
LIB = ROOT / "lib"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(nb):
    cells = json.loads(nb.read_text())["cells"]
    dirty = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, (
        f"{nb.name}: cells {dirty} have outputs; clear them before committing"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_second_copy_of_lib(nb):
    """A notebook never defines a function that lib already defines."""
    lib_names = set()
    for py in LIB.glob("*.py"):
        lib_names |= set(re.findall(r"^def (\w+)\(", py.read_text(), flags=re.M))
    cells = json.loads(nb.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    defined = set(re.findall(r"^\s*def (\w+)\(", code, flags=re.M))
    assert not defined & lib_names, (
        f"{nb.name} redefines lib functions {defined & lib_names}"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_literalinclude_targets_exist(nb):
    """Every :pyobject: the page displays exists in the file it names."""
    cells = json.loads(nb.read_text())["cells"]
    text = "\n".join(
        "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
    )
    for path, obj in re.findall(
        r"```\{literalinclude\} (\S+)\n(?::[^\n]*\n)*?:pyobject: (\S+)", text
    ):
        source = (nb.parent / path).read_text()
        name = obj.split(".")[-1]
        assert re.search(rf"^\s*(def|class) {name}\b", source, flags=re.M), (
            f"{nb.name}: {obj} not in {path}"
        )


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    missing = [nb.stem for nb in NOTEBOOKS if f"book/{nb.stem}" not in toc]
    assert not missing, f"add {missing} to _toc.yml"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_glue_is_plumbing_in_hidden_cells(nb):
    """Compute visibly, glue and assert hidden: no page shows a glue call."""
    cells = json.loads(nb.read_text())["cells"]
    shown = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code"
        and "remove-cell" not in c.get("metadata", {}).get("tags", [])
        and re.search(r"\bglue\b", "".join(c["source"]))
    ]
    assert not shown, (
        f"{nb.name}: cells {shown} are shown and call or import glue; move the "
        f"glue lines into the hidden (remove-cell) check cell that follows"
    )
