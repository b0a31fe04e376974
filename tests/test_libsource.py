"""The pages' literalinclude folds docstrings and changes no line of code."""

import ast
import json
import pathlib
import re
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from libsource import fold_docstrings  # noqa: E402

DISPLAYED = sorted(
    {
        (path, obj)
        for nb in (ROOT / "book").glob("*.ipynb")
        for cell in json.loads(nb.read_text())["cells"]
        if cell["cell_type"] == "markdown"
        for path, obj in re.findall(
            r"```\{literalinclude\} \.\./(\S+)\n(?::[^\n]*\n)*?:pyobject: (\S+)",
            "".join(cell["source"]),
        )
    }
)


def _object_source(path, obj):
    """The lines that Sphinx's :pyobject: shows for `obj`."""
    from sphinx.pycode import ModuleAnalyzer

    tags = ModuleAnalyzer.for_file(str(ROOT / path), "").find_tags()
    _, start, end = tags[obj]
    lines = (ROOT / path).read_text().splitlines(keepends=True)
    return "".join(lines[start - 1 : end])


def _without_docstrings(source):
    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def test_the_chapters_display_lib_code():
    assert len(DISPLAYED) > 40


@pytest.mark.parametrize("path,obj", DISPLAYED, ids=lambda v: str(v))
def test_folding_keeps_the_code_and_the_summary(path, obj):
    source = _object_source(path, obj)
    folded = fold_docstrings(source, f"help({obj})")
    assert _without_docstrings(folded) == _without_docstrings(source)
    assert len(folded.splitlines()) <= len(source.splitlines())
    assert "----------" not in folded, "a numpydoc section survived the fold"
    doc = ast.get_docstring(ast.parse(textwrap.dedent(source)).body[0])
    if doc:
        first = doc.splitlines()[0]
        assert first in folded, "the summary line is gone"


def test_short_docstrings_stay_whole():
    src = 'def f():\n    """One line.\n\n    Two.\n    """\n    return 1\n'
    assert fold_docstrings(src, "help(f)") == src
