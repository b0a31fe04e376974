"""The site shows an exercise page's solution code without otter's markers.

An exercise page is also an otter-grader master: its solution code carries
``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines and ``# SOLUTION`` line
endings, which tell ``otter assign`` what to strip from the student notebook.
A reader of the site needs neither; this Sphinx extension removes them from the
displayed code cells (the notebook, and what it executes, are unchanged).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

BLOCK = re.compile(r"^\s*# (BEGIN|END) (SOLUTION|PROMPT)( NO PROMPT)?\s*$")
LINE_END = re.compile(r"\s*# SOLUTION( NO PROMPT)?\s*$")


def strip_markers(code):
    """`code` without otter's solution markers.

    >>> code = "x = 1  # SOLUTION\\n# BEGIN SOLUTION\\ny = 2\\n# END SOLUTION"
    >>> print(strip_markers(code))
    x = 1
    y = 2
    """
    kept = [
        LINE_END.sub("", line) for line in code.split("\n") if not BLOCK.match(line)
    ]
    return "\n".join(kept)


class StripOtterMarkers(SphinxTransform):
    default_priority = 700

    def apply(self):
        for block in self.document.findall(nodes.literal_block):
            parent = block.parent
            if parent is None or "cell_input" not in parent.get("classes", []):
                continue
            text = block.astext()
            clean = strip_markers(text)
            if clean != text:
                block.rawsource = clean
                block.children = [nodes.Text(clean)]


def setup(app):
    app.add_transform(StripOtterMarkers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
