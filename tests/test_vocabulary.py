"""One vocabulary across lib: the public signatures obey the README's table.

The table ("One vocabulary" in the README's contributor section) is written
down once, here, as data, and every public function and result class of every
lib module is checked against it.
"""

import dataclasses
import importlib
import inspect
import pkgutil
import re

import pytest

import lib

# Parameter names that a concept must not use, and the name it uses instead.
RENAMED = {
    "sigma": "bandwidth (a kernel's length scale) or precision (a Mahalanobis matrix)",
    "chunk_size": "working_memory (MiB)",
    "random_state": "seed",
    "n_clusters_": "k",
}
# What a documented `k` may be a number of: clusters, under any of the names
# the chapters give them.
K_MEANS = re.compile(r"cluster|colour|communit|codeword|centroid", re.I)
# Generic names that say nothing at the top level of ``lib``.
GENERIC = {"score", "fit", "run", "predict", "transform", "distance", "cluster"}


def _modules():
    names = [m.name for m in pkgutil.iter_modules(lib.__path__)]
    if importlib.util.find_spec("torch") is None:
        names.remove("deep")
    return [importlib.import_module(f"lib.{name}") for name in sorted(names)]


def _public(kind):
    for module in _modules():
        for name, obj in sorted(vars(module).items()):
            if (
                name.startswith("_")
                or getattr(obj, "__module__", None) != module.__name__
            ):
                continue
            if kind(obj):
                yield f"{module.__name__}.{name}", obj


FUNCTIONS = dict(_public(inspect.isfunction))
CLASSES = dict(_public(inspect.isclass))


def _documented(func, param):
    """The numpydoc description of `param`, or None when it has none."""
    doc = inspect.getdoc(func) or ""
    match = re.search(
        rf"^{param}(?: *,[^:\n]*)? *:[^\n]*\n((?:(?: {{4}}[^\n]*)?\n)*)", doc, re.M
    )
    return None if match is None else match.group(0)


def test_the_scan_sees_the_library():
    # A scan that found nothing would pass everything below.
    assert len(FUNCTIONS) > 80 and "lib.lloyd.kmeans" in FUNCTIONS
    assert "lib.lloyd.KMeansResult" in CLASSES


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_retired_parameter_name(name):
    params = inspect.signature(FUNCTIONS[name]).parameters
    for param in params:
        for old, new in RENAMED.items():
            assert param != old and not param.endswith("_" + old), (
                f"{name}({param}=...): the vocabulary says {new}"
            )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_k_counts_clusters(name):
    func = FUNCTIONS[name]
    params = inspect.signature(func).parameters
    if "k" in params:
        described = _documented(func, "k")
        if described is not None:
            assert K_MEANS.search(described), (
                f"{name}: k must be a number of clusters, but its docstring says "
                f"{described.strip()!r}; neighbours are n_neighbors, eigenvectors "
                f"n_components"
            )
    for param in params:
        described = _documented(func, param) or ""
        if re.search(r"neighbou?rs (returned|per|of each)", described):
            assert param == "n_neighbors", f"{name}({param}=...) counts neighbours"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_seeds_default_to_none(name):
    for param in inspect.signature(FUNCTIONS[name]).parameters.values():
        if param.name == "seed" or param.name.endswith("_seed"):
            assert param.default in (None, inspect.Parameter.empty), (
                f"{name}({param.name}={param.default!r}): every seed defaults to "
                f"None, and the book passes its seeds explicitly"
            )


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_results_are_dataclasses(name):
    cls = CLASSES[name]
    if issubclass(cls, BaseException):
        return
    assert dataclasses.is_dataclass(cls), f"{name} is not a dataclass"
    assert not issubclass(cls, tuple), f"{name} is a tuple (a NamedTuple?)"


def test_top_level_names_are_unambiguous():
    assert not GENERIC & set(lib.__all__), GENERIC & set(lib.__all__)
    # No public function name is defined in two modules: one name, one thing.
    seen = {}
    for qualified in FUNCTIONS:
        short = qualified.rsplit(".", 1)[1]
        assert short not in seen, f"{qualified} and {seen[short]}"
        seen[short] = qualified


def test_the_scan_catches_a_retired_name():
    def bad(X, k, *, sigma=1.0, seed=0):
        """Bad.

        Parameters
        ----------
        k : int
            Neighbours returned per query.
        """

    FUNCTIONS["lib.fake.bad"] = bad
    try:
        for check in (
            test_no_retired_parameter_name,
            test_k_counts_clusters,
            test_seeds_default_to_none,
        ):
            with pytest.raises(AssertionError):
                check("lib.fake.bad")
    finally:
        del FUNCTIONS["lib.fake.bad"]
