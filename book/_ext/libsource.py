"""Pages show code, not docstrings: ``literalinclude`` with a folded docstring.

A chapter displays lib's real source with ``literalinclude`` and ``:pyobject:``.
The numpydoc docstring of a public function is written for ``help()`` and the
tests (60 lines for ``lib.kmeans``), and on a page it pushes the code a screen
down. This Sphinx extension replaces the built-in ``literalinclude``: when
``:pyobject:`` is given, every docstring in the displayed object keeps its
summary paragraph and ends with one line that says how many lines were folded
and in which file to read them. ``:docstring: full`` shows a docstring whole.
"""

from __future__ import annotations

import ast
import pathlib
import textwrap

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.directives.code import LiteralInclude

#: A docstring at most this many lines longer than its summary stays whole.
KEEP_EXTRA_LINES = 2


def _summary_end(doc_lines):
    """Index just past the summary paragraph of a docstring's lines."""
    for i, line in enumerate(doc_lines[1:], start=1):
        if not line.strip() or line.strip() in ('"""', "'''"):
            return i
    return len(doc_lines)


def fold_docstrings(source, where):
    """`source` (one def or class) with each long docstring cut to its summary.

    `where` names the file where the reader finds the rest, e.g.
    ``"lib/lloyd.py"``. Code lines are untouched, so the displayed
    body is exactly lib's.

    >>> src = "def f(x):\\n    \'\'\'Double x.\\n\\n    More.\\n    Even more.\\n"
    >>> src += "    And more.\\n    \'\'\'\\n    return 2 * x\\n"
    >>> print(fold_docstrings(src, "f.py"))
    def f(x):
        \'\'\'Double x.
    <BLANKLINE>
        [4 more lines of docstring in f.py]
        \'\'\'
        return 2 * x
    <BLANKLINE>
    """
    lines = source.splitlines(keepends=True)
    tree = ast.parse(textwrap.dedent(source))
    spans = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = node.body[0] if node.body else None
        if not (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            continue
        spans.append((first.lineno - 1, first.end_lineno))  # 0-based, end exclusive
    for start, end in sorted(spans, reverse=True):
        doc = lines[start:end]
        keep = _summary_end(doc)
        folded = end - start - keep - 1  # the closing quotes stay
        if folded <= KEEP_EXTRA_LINES or not doc[-1].strip().endswith(('"""', "'''")):
            continue
        indent = doc[0][: len(doc[0]) - len(doc[0].lstrip())]
        quotes = doc[-1].strip()[-3:]
        note = f"{indent}[{folded} more lines of docstring in {where}]\n"
        lines[start:end] = doc[:keep] + ["\n", note, f"{indent}{quotes}\n"]
    return "".join(lines)


def _module_name(path):
    parts = pathlib.Path(path).with_suffix("").parts
    if "lib" in parts:
        parts = parts[len(parts) - parts[::-1].index("lib") - 1 :]
    return ".".join(parts)


class FoldedLiteralInclude(LiteralInclude):
    """``literalinclude`` whose ``:pyobject:`` display folds long docstrings."""

    option_spec = dict(
        LiteralInclude.option_spec,
        docstring=lambda arg: directives.choice(arg, ("short", "full")),
    )

    def run(self):
        result = super().run()
        obj = self.options.get("pyobject")
        if not obj or self.options.get("docstring", "short") == "full":
            return result
        # The file: a reader can open it beside the page.
        where = f"{_module_name(self.arguments[0]).replace('.', '/')}.py"
        for node in result:
            for block in node.findall(nodes.literal_block):
                text = fold_docstrings(block.astext(), where)
                block.rawsource = text
                block.children = [nodes.Text(text)]
        return result


def setup(app):
    app.add_directive("literalinclude", FoldedLiteralInclude, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
