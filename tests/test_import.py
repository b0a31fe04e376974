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
