"""A small, tolerant reader for GML (Graph Modelling Language) files.

Strict readers (networkx's ``read_gml``) reject ``polblogs.gml`` because it
repeats edges without declaring ``multigraph 1``. This reader only turns the
text into nodes and edge records; what to do with repeats and self-loops is
decided by the caller.
"""

from __future__ import annotations

import html
import re

from .datafiles import CorruptDataError

# GML tokens: a bracket, a quoted string (may span lines), a number, a key.
_TOKEN = re.compile(
    r'\s*(?:(\[)|(\])|"([^"]*)"|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)'
    r"|([A-Za-z_][A-Za-z0-9_]*)|(#[^\n]*))",
)


def _tokens(text, path):
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                return
            line = text.count("\n", 0, pos) + 1
            raise CorruptDataError(
                f"{path}: cannot read GML at line {line}: {text[pos : pos + 30]!r}"
            )
        pos = m.end()
        open_, close, string, number, key, comment = m.groups()
        if comment is not None:
            continue
        if open_:
            yield "[", None
        elif close:
            yield "]", None
        elif string is not None:
            yield "value", html.unescape(string)
        elif number is not None:
            yield (
                "value",
                float(number) if any(c in number for c in ".eE") else int(number),
            )
        elif key is not None:
            yield "key", key


def _parse_list(tokens, path, depth):
    """Read ``key value`` pairs until a closing bracket (or the end)."""
    items = []
    for kind, value in tokens:
        if kind == "]":
            if depth == 0:
                raise CorruptDataError(f"{path}: unbalanced ']' in GML")
            return items
        if kind != "key":
            raise CorruptDataError(f"{path}: expected a GML key, found {value!r}")
        key = value
        kind, value = next(tokens, ("eof", None))
        if kind == "[":
            items.append((key, _parse_list(tokens, path, depth + 1)))
        elif kind == "value":
            items.append((key, value))
        else:
            raise CorruptDataError(f"{path}: GML key {key!r} has no value")
    if depth:
        raise CorruptDataError(f"{path}: GML ends inside an open '[' (truncated?)")
    return items


def read_gml(path):
    """Nodes and edges of the first ``graph`` in a GML file.

    Parameters
    ----------
    path : path-like
        The GML file (ASCII or Latin-1; ``&#38;``-style entities are decoded).

    Returns
    -------
    nodes : list of dict
        One dict of attributes per ``node`` record, in file order.
    edges : list of tuple of (id, id)
        ``(source, target)`` for every ``edge`` record, repeats included.
    directed : bool
        The header's ``directed`` flag.
    """
    with open(path, encoding="latin-1") as f:
        text = f.read()
    top = _parse_list(_tokens(text, path), path, 0)
    graphs = [value for key, value in top if key == "graph" and isinstance(value, list)]
    if not graphs:
        raise CorruptDataError(f"{path}: no 'graph [ ... ]' block in GML")
    nodes, edges, directed = [], [], False
    for key, value in graphs[0]:
        if key == "node" and isinstance(value, list):
            nodes.append(dict(value))
        elif key == "edge" and isinstance(value, list):
            record = dict(value)
            if "source" not in record or "target" not in record:
                raise CorruptDataError(
                    f"{path}: GML edge without source/target: {record}"
                )
            edges.append((record["source"], record["target"]))
        elif key == "directed":
            directed = bool(value)
    return nodes, edges, directed
