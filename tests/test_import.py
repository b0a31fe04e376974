"""`import lib` stays light: no heavy or optional package is imported."""

import subprocess
import sys

import lib

HEAVY = ("torch", "umap", "sklearn", "PIL", "pooch", "matplotlib", "pandas", "tqdm")


def test_import_lib_pulls_in_nothing_heavy():
    code = "import sys, lib; print(','.join(m for m in %r if m in sys.modules))" % (
        HEAVY,
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"import lib imported {out.stdout.strip()}"


def test_public_names_resolve():
    missing = [name for name in lib.__all__ if not hasattr(lib, name)]
    assert not missing


def test_no_public_name_hides_a_module():
    # `import lib.dbscan as m` binds lib's attribute `dbscan`: when a function
    # shares its module's name, m is the function and m.eps_from_knn fails.
    import importlib
    import pkgutil
    import types

    for info in pkgutil.iter_modules(lib.__path__):
        module = importlib.import_module(f"lib.{info.name}")
        if hasattr(lib, info.name):
            assert getattr(lib, info.name) is module, (
                f"lib.{info.name} is {getattr(lib, info.name)!r}, not the module"
            )
    import lib.density as m

    assert isinstance(m, types.ModuleType) and callable(m.eps_from_knn)
