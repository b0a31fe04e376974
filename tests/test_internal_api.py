"""Private means private: a leading underscore is used only in its own module.

A helper another module or a page needs is public, documented and tested.
Private modules (``lib/_chunks.py``, ``lib/_validation.py``, ``lib/_gml.py``)
are lib's internal API: other lib modules may import them, but only their
public names, and no page imports or displays them.
"""

import ast
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _lib_module(module, level):
    """Whether an import names a lib module (relative inside lib, or lib.x)."""
    return level > 0 or module == "lib" or (module or "").startswith("lib.")


def private_uses(tree):
    """``(line, what)`` for every private name of lib that `tree` reaches into.

    Counted: ``from <lib module> import _name``, ``import lib._module`` in
    any form, and ``alias._name`` where `alias` was bound by importing lib or
    one of its modules. Inside lib, importing a private module itself
    (``from . import _chunks``) is allowed: :func:`lib_violations` drops it.
    """
    aliases, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _lib_module(node.module, node.level):
            for a in node.names:
                if _private(a.name):
                    found.append((node.lineno, f"imports {a.name}"))
                aliases.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "lib" or a.name.startswith("lib."):
                    aliases.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in aliases:
                found.append((node.lineno, f"uses {ast.unparse(node)}"))
    return found


def private_modules(tree):
    """``(line, module)`` for every private lib module `tree` imports."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _lib_module(node.module, node.level):
            parts = (node.module or "").split(".")
            found += [(node.lineno, node.module) for p in parts if _private(p)]
            found += [(node.lineno, a.name) for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("lib.") and any(
                    _private(p) for p in a.name.split(".")
                ):
                    found.append((node.lineno, a.name))
    return found


def _code(source):
    # IPython magics and shell escapes are not Python.
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def notebook_violations(nb):
    found = []
    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            tree = ast.parse(_code(source))
            found += [(i, w) for _, w in private_uses(tree)]
            found += [(i, f"imports module {m}") for _, m in private_modules(tree)]
        elif cell["cell_type"] == "markdown":
            for path, options in re.findall(
                r"```\{literalinclude\} (\S+)\n((?::[^\n]*\n)*)", source
            ):
                if _private(pathlib.PurePosixPath(path).name):
                    found.append((i, f"displays private module {path}"))
                obj = re.search(r":pyobject: (\S+)", options)
                if obj and any(_private(p) for p in obj.group(1).split(".")):
                    found.append((i, f"displays {obj.group(1)} of {path}"))
    return found


def lib_violations(py):
    """Private names of other lib modules that the lib module `py` uses."""
    tree = ast.parse(py.read_text())
    found = private_uses(tree)
    # `from . import _chunks` binds the module; the names it imports are
    # allowed, so report only what private_uses found beyond that.
    return [
        (line, what)
        for line, what in found
        if not re.fullmatch(r"imports _\w+", what)
        or not _is_module_import(tree, line, what.split()[-1])
    ]


def _is_module_import(tree, line, name):
    """Whether ``from . import name`` at `line` imports lib's module `name`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.lineno == line:
            return node.level > 0 and not node.module and (LIB / f"{name}.py").exists()
    return False


@pytest.mark.parametrize("py", sorted(LIB.glob("*.py")), ids=lambda p: p.name)
def test_lib_modules_use_only_public_names_of_each_other(py):
    found = lib_violations(py)
    assert not found, (
        f"lib/{py.name} uses private names of other modules {found}; make them "
        f"public (no underscore, a docstring, a test) or keep them in one module"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_and_display_only_public_names(nb):
    found = notebook_violations(nb)
    assert not found, (
        f"{nb.name} reaches into lib's private names (cell, what): {found}; "
        f"use or display a public name instead"
    )


def test_the_scan_finds_what_it_should(tmp_path):
    code = (
        "import lib\nfrom lib.lloyd import _update, kmeans\n"
        "from lib import _fetch\nimport numpy as np\n"
        "lib.distances._assign(1)\nnp._private\n"
    )
    found = [w for _, w in private_uses(ast.parse(code))]
    assert found == [
        "imports _update",
        "imports _fetch",
        "uses lib.distances._assign",
    ]
    assert [m for _, m in private_modules(ast.parse("import lib._loops"))] == [
        "lib._loops"
    ]
    nb = tmp_path / "x.ipynb"
    md = "```{literalinclude} ../lib/_gml.py\n:pyobject: read_gml\n```\n"
    md += "```{literalinclude} ../lib/lloyd.py\n:pyobject: _lloyd\n```\n"
    cells = [{"cell_type": "markdown", "source": [md]}]
    nb.write_text(json.dumps({"cells": cells}))
    assert [w for _, w in notebook_violations(nb)] == [
        "displays private module ../lib/_gml.py",
        "displays _lloyd of ../lib/lloyd.py",
    ]
    lib_file = tmp_path / "m.py"
    lib_file.write_text(
        "from . import _chunks\nfrom ._chunks import chunks\n"
        "from .init import _init\n_chunks.map_chunks\n"
    )
    assert [w for _, w in lib_violations(lib_file)] == ["imports _init"]
