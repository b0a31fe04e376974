"""Test-wide settings: offline data, a throw-away cache, headless plots."""

import os
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# The loaders read the offline copies beside the repo when they exist (CI), and
# never write into the developer's real cache during tests.
if "CFS_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["CFS_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("CFS_CACHE_DIR", tempfile.mkdtemp(prefix="cfs-test-cache-"))
